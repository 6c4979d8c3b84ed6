"""Grooming lexicons: one data file and one Aho-Corasick automaton per language.

A lexicon (``haris/detect/data/grooming/<lang>.yaml``) has one section per *stage* of
grooming (contact, age_signal, isolation, requests, compensation, meeting, commercial)
and a few *cue* sections that are not stages but tell the detector who is who:

- ``threat``: coercion ("or i'll send the photo to everyone"); counts as ``requests``
  and marks sextortion.
- ``minor_self`` / ``adult_self``: the sender is probably a minor ("my mom", "homework")
  or an adult ("my wife", "at work").
- ``age_question``: asks the other party's age or grade.
- ``age_self`` / ``age_other``: followed by a number, the sender's own age ("i'm",
  "j'ai", "عمري") or the addressee's ("you're only", "t'as", "عمرك").
- ``grade``: a school grade that implies a minor ("7th grade", "en 5e", "ثاني متوسط").
- ``third_party``: the ages and grades of the message are someone else's ("my son",
  "she's", "ابني"), not the sender's.
- ``second_person``: the message speaks to someone ("you", "tu", "انت"): a grade in it is
  the addressee's.
- ``reciprocal``: "and you?", "et toi ?", "وانت؟": what came before was about the sender.
- ``family`` / ``institution``: a family relationship ("mom", "uncle") or a school or club
  one ("teacher", "coach", "miss").
- ``protective``: transparency and safety talk ("ask your parents", "permission slip",
  "never send pictures to strangers").
- ``numbers``: number words (thirteen, treize, ثلاثطعش) with their values.

Entries are matched on the matching key of :func:`haris.text.normalize.for_matching`
(case, accents, Arabic letter variants, leetspeak and spacing folded), as whole words:
an entry ending in ``*`` may continue with any letters (``photo*`` matches "photos");
an Arabic entry may carry the usual proclitics (و ف ب ل ك and the article: "ولا تقول",
"بالفندق"). An entry with an apostrophe also matches without it ("don't" → "dont").
``{a-b}`` expands to every number in the range ("grade {5-12}"). When two hits overlap,
the longer one wins ("don't tell your parents" is one hit, not also "don't tell"), except
context cues, which only say whose age a message gives and are always kept.

>>> lex = lexicon_for("en")
>>> [(h.section, h.term) for h in lex.match("ok but don't tell your parents")]
[('isolation', "don't tell your parents"), ('second_person', 'your')]
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import ahocorasick
import yaml

from haris.errors import ConfigError
from haris.text.normalize import for_matching

DATA_DIR = Path(__file__).resolve().parent.parent / "data" / "grooming"

STAGES = ("contact", "age_signal", "isolation", "requests", "compensation", "meeting", "commercial")
CUES = ("threat", "minor_self", "adult_self", "age_question", "age_self", "age_other", "grade",
        "third_party", "second_person", "reciprocal", "family", "institution", "protective")
# Context cues only say whose age or grade a message gives; they are never hidden by a longer
# hit ("you're" inside "you're the best" still tells that the message speaks to someone).
CONTEXT = frozenset({"age_self", "age_other", "third_party", "second_person", "reciprocal", "number"})
SECTIONS = STAGES + CUES

_RANGE = re.compile(r"\{(\d+)-(\d+)\}")
# Arabic proclitics in front of a word: conjunction (و ف), preposition (ب ل ك), article (ال, لل).
_ARABIC_PREFIX = re.compile(r"^(?:[وف])?(?:[بلك])?(?:ال|ل)?$")
_ARABIC = re.compile(r"[\u0600-\u06ff]")


@dataclass(slots=True, frozen=True)
class Hit:
    """A lexicon entry found in a matching key: [start, end) are offsets in that key."""

    section: str
    term: str
    start: int
    end: int
    weight: float = 1.0
    value: int | None = None   # for number words


@dataclass(slots=True, frozen=True)
class _Entry:
    section: str
    term: str
    prefix: bool      # "*" at the end: any word continuation
    arabic: bool
    weight: float
    value: int | None


def _expand(term: str) -> list[str]:
    m = _RANGE.search(term)
    if not m:
        return [term]
    lo, hi = int(m.group(1)), int(m.group(2))
    out: list[str] = []
    for n in range(lo, hi + 1):
        out.extend(_expand(term[:m.start()] + str(n) + term[m.end():]))
    return out


def _is_word_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


class GroomingLexicon:
    """The entries of one language, compiled into one automaton (built once, then shared)."""

    def __init__(self, lang: str, sections: dict[str, list], numbers: dict[str, int], source: str = "?"):
        self.lang = lang
        self.source = source
        self._automaton = ahocorasick.Automaton()
        keys: dict[str, list[_Entry]] = {}
        for section, entries in sections.items():
            if section not in SECTIONS:
                raise ConfigError(f"{source}: unknown section {section!r}; expected one of {', '.join(SECTIONS)}")
            for raw in entries or []:
                term, weight = (raw, 1.0) if isinstance(raw, str) else (raw.get("term"), float(raw.get("w", 1.0)))
                if not isinstance(term, str) or not term.strip():
                    raise ConfigError(f"{source}: section {section}: an entry is a string or {{term: ..., w: ...}}")
                self._add_term(keys, section, term, weight, None)
        for word, value in (numbers or {}).items():
            self._add_term(keys, "number", str(word), 1.0, int(value))
        for key, entries in keys.items():
            self._automaton.add_word(key, (len(key), tuple(entries)))
        if not keys:
            raise ConfigError(f"{source}: the lexicon is empty")
        self._automaton.make_automaton()
        self.size = len(keys)

    @staticmethod
    def _add_term(keys: dict[str, list[_Entry]], section: str, term: str, weight: float, value: int | None) -> None:
        prefix = term.endswith("*")
        base = term[:-1] if prefix else term
        for t in _expand(base):
            key = for_matching(t).text.strip()
            if not key:
                continue
            variants = {key, key.replace("'", ""), key.replace("'", " ")} if "'" in key else {key}
            for v in variants:
                entries = keys.setdefault(v, [])
                if not any(e.section == section for e in entries):
                    entries.append(_Entry(section, t, prefix, bool(_ARABIC.match(v[0])), weight, value))

    def match(self, key: str) -> list[Hit]:
        """Every entry found in ``key`` (a matching key), longest-first on overlaps, in text order."""
        found: list[Hit] = []
        n = len(key)
        for end_index, (length, entries) in self._automaton.iter(key):
            start, end = end_index - length + 1, end_index + 1
            left_ok = start == 0 or not _is_word_char(key[start - 1])
            right_ok = end == n or not _is_word_char(key[end])
            for e in entries:
                if not left_ok and not (e.arabic and _arabic_prefix_ok(key, start)):
                    continue
                if not right_ok and not e.prefix:
                    continue
                found.append(Hit(e.section, e.term, start, end, e.weight, e.value))
        return _longest(found)


def _arabic_prefix_ok(key: str, start: int) -> bool:
    i = start
    while i > 0 and start - i < 4 and _is_word_char(key[i - 1]):
        i -= 1
    if i > 0 and _is_word_char(key[i - 1]):
        return False
    return bool(_ARABIC_PREFIX.match(key[i:start]))


def _longest(hits: list[Hit]) -> list[Hit]:
    """Drop hits strictly inside a longer hit (context cues excepted); keep equal spans of every section."""
    if len(hits) < 2:
        return hits
    hits.sort(key=lambda h: (h.start, -(h.end - h.start)))
    out: list[Hit] = []
    cover_start, cover_end = -1, -1
    for h in hits:
        if h.section in CONTEXT:
            out.append(h)
            continue
        if h.start >= cover_start and h.end <= cover_end and (h.start, h.end) != (cover_start, cover_end):
            continue
        if h.end > cover_end:
            cover_start, cover_end = h.start, h.end
        out.append(h)
    out.sort(key=lambda h: (h.start, -(h.end - h.start)))
    return out


def supported_languages() -> tuple[str, ...]:
    """Languages with a grooming lexicon (one file each): adding a language is adding a file."""
    return tuple(sorted(p.stem for p in DATA_DIR.glob("*.yaml")))


@lru_cache(maxsize=None)
def lexicon_for(lang: str) -> GroomingLexicon:
    """The compiled lexicon of ``lang``; raises ConfigError when there is none."""
    path = DATA_DIR / f"{lang}.yaml"
    if not path.is_file():
        raise ConfigError(f"no grooming lexicon for language {lang!r} (looked for {path})")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a lexicon is a mapping with 'stages', 'cues' and 'numbers'")
    sections = {**(data.get("stages") or {}), **(data.get("cues") or {})}
    return GroomingLexicon(lang, sections, data.get("numbers") or {}, source=str(path))
