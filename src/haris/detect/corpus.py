"""Labelled message files: the JSONL that `haris train` and `haris eval` read.

One JSON object per line::

    {"id": "en-tr-0001", "lang": "en", "labels": ["trafficking"], "text": "..."}

``labels`` lists the policies the message violates (empty: benign). ``kind`` (positive,
hard_negative, easy_negative), ``family`` (the scenario) and ``sublabels`` are optional; when
present, evaluation reports per kind and training groups its folds by family. Conversation files
(lines with ``messages`` instead of ``text``) are recognised by :func:`is_conversation_file`.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from haris.detect.base import POLICIES
from haris.errors import InputError

# Hard negatives that REPORT, STUDY, WARN ABOUT or CONDEMN the content (the brief's "news, NGO
# and counter-speech" negatives). The repo's corpus declares them per family (`"framing": true`
# in each record); for files without that field they are guessed from these words in the family name.
FRAMING_FAMILY_WORDS = ("news", "research", "ngo", "awareness", "counter", "police", "prevention",
                        "rebuttal", "report")


# No file of the repository grows past 5 MB: a corpus split larger than this is written in parts.
MAX_SPLIT_FILE_BYTES = 4_000_000


def split_paths(directory: Path, split: str) -> list[Path]:
    """The files of one corpus split, in order: ``<split>.jsonl``, then ``<split>.2.jsonl``, ``<split>.3.jsonl``…

    >>> [p.name for p in split_paths(Path("data/corpus/messages"), "test")]
    ['test.jsonl']
    """
    parts = [p for p in directory.glob(f"{split}.*.jsonl") if p.name.split(".")[1].isdigit()]
    return [directory / f"{split}.jsonl", *sorted(parts, key=lambda p: int(p.name.split(".")[1]))]


@dataclass(slots=True)
class Labelled:
    id: str
    text: str
    labels: frozenset[str]
    lang: str | None = None
    kind: str | None = None
    family: str | None = None
    sublabels: list[str] = field(default_factory=list)
    line: int = 0
    framing: bool | None = None   # declared by the record; None: guessed from the family's name

    @property
    def framing_negative(self) -> bool:
        """A benign message that reports, studies, warns about or condemns (news/NGO/counter-speech)."""
        if self.labels:
            return False
        if self.framing is not None:
            return self.framing
        if not self.family:
            return False
        fam = self.family.lower()
        return any(w in fam for w in FRAMING_FAMILY_WORDS)


def _lines(path: Path):
    try:
        fh = open(path, encoding="utf-8")
    except OSError as exc:
        raise InputError(str(path), f"cannot open: {exc.strerror or exc}") from None
    with fh:
        try:
            for lineno, line in enumerate(fh, 1):
                if line.strip():
                    yield lineno, line
        except UnicodeDecodeError as exc:
            raise InputError(str(path), "not UTF-8 text", offset=exc.start, expected="UTF-8 JSONL") from None


def _object(path: Path, lineno: int, line: str) -> dict:
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise InputError(str(path), f"invalid JSON ({exc.msg} at column {exc.colno})", line=lineno,
                         expected="one JSON object per line") from None
    if not isinstance(obj, dict):
        raise InputError(str(path), f"a JSON {type(obj).__name__}", line=lineno, expected="a JSON object")
    return obj


def is_conversation_file(path: Path) -> bool:
    """True when the file's first record has ``messages`` (a conversation) instead of ``text``."""
    for lineno, line in _lines(Path(path)):
        obj = _object(Path(path), lineno, line)
        return "messages" in obj and "text" not in obj
    return False


def read_labelled(path: str | Path) -> list[Labelled]:
    """Every record of a labelled message file; a bad line raises InputError naming it."""
    path = Path(path)
    out: list[Labelled] = []
    seen: set[str] = set()
    for lineno, line in _lines(path):
        obj = _object(path, lineno, line)
        text = obj.get("text")
        if not isinstance(text, str):
            raise InputError(str(path), "no \"text\" string", line=lineno,
                             expected='{"id", "lang", "labels": [...], "text"}')
        labels = obj.get("labels", [])
        if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
            raise InputError(str(path), f"\"labels\" is {labels!r}", line=lineno,
                             expected=f"a list of policy ids from {list(POLICIES)} (empty: benign)")
        unknown = set(labels) - set(POLICIES)
        if unknown:
            raise InputError(str(path), f"unknown label(s) {sorted(unknown)}", line=lineno,
                             expected=f"policy ids from {list(POLICIES)}")
        ident = str(obj.get("id", f"line-{lineno}"))
        if ident in seen:
            raise InputError(str(path), f"duplicate id {ident!r}", line=lineno, expected="unique ids")
        seen.add(ident)
        out.append(Labelled(id=ident, text=text, labels=frozenset(labels),
                            lang=obj.get("lang") if isinstance(obj.get("lang"), str) else None,
                            kind=obj.get("kind"), family=obj.get("family"),
                            sublabels=list(obj.get("sublabels") or []), line=lineno,
                            framing=obj["framing"] if isinstance(obj.get("framing"), bool) else None))
    if not out:
        raise InputError(str(path), "no records", expected="one labelled JSON object per line")
    return out
