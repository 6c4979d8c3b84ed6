"""Loading of the extraction data files and building of patterns from word lists.

The data lives in ``haris/text/data/extract`` (one YAML file per language under ``lang/``,
``currencies.tsv``, ``urls.yaml``) and ``haris/text/data/gazetteer``. Adding a language means
adding ``lang/xx.yaml`` with the same keys as ``en.yaml``; no code changes.

Every word is folded with :func:`haris.text.extract._prep.fold` when loaded, so patterns and
the text being searched use the same matching key.
"""
from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from haris.errors import ConfigError
from haris.text.extract._prep import fold

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
EXTRACT_DIR = DATA_DIR / "extract"
GAZETTEER_DIR = DATA_DIR / "gazetteer"

# Word boundaries that work for Latin and Arabic script alike: no LETTER on that side (a digit
# may touch a word: "12yo", "usd500", "5k").
WORD_START = r"(?<![^\W\d_])"
WORD_END = r"(?![^\W\d_])"
# Arabic proclitics that may stick to the front of a word (و "and", ف "so").
AR_CONJ = r"(?:(?<![^\W\d_])|(?<=(?<![^\W\d_])[وف]))"


def load_yaml(path: Path) -> dict[str, Any]:
    try:
        with path.open(encoding="utf-8") as fh:
            data = yaml.safe_load(fh)
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read extraction data: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    return data


def read_tsv(path: Path) -> list[dict[str, str]]:
    """Rows of a tab-separated file with a header; lines starting with '#' are comments."""
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            lines = [line for line in fh if line.strip() and not line.startswith("#")]
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from exc
    reader = csv.DictReader(lines, delimiter="\t", quoting=csv.QUOTE_NONE)
    rows = []
    for lineno, row in enumerate(reader, start=2):
        if None in row or any(v is None for v in row.values()):
            raise ConfigError(f"{path}: data line {lineno}: wrong number of columns "
                              f"(expected {len(reader.fieldnames or [])})")
        rows.append({k: v.strip() for k, v in row.items()})
    return rows


def _trie_regex(words: Iterable[str]) -> str:
    """A regex matching any of ``words``, factored as a trie so that the engine tests one
    character class per position instead of trying every word (hundreds of words stay fast).
    Longer words are tried first; a space matches 1-3 spaces and "-" matches "-" or a space."""
    trie: dict = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def emit(node: dict) -> str:
        alts = []
        for ch in sorted(k for k in node if k):
            piece = r"\s{1,3}" if ch == " " else r"[-\s]" if ch == "-" else re.escape(ch)
            alts.append(piece + emit(node[ch]))
        if not alts:
            return ""
        body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
        if "" in node:
            body = "(?:" + body + ")?"
        return body

    return emit(trie)


def alternation(words: Iterable[str], *, bounded: bool = True, left: bool = True) -> str:
    """A regex matching any of the (already folded) literal ``words``, longest first.

    With ``bounded``, words containing a letter or digit may not touch a letter on either side;
    words made only of symbols ("$", "€", "/") need no boundary. Spaces inside a word match 1-3
    spaces, and "-" matches "-" or a space ("year-old", "year old"). ``left=False`` leaves the
    left boundary to the caller (e.g. :data:`AR_CONJ`, which also allows a glued و or ف).
    """
    unique = {w for w in words if w}
    if not unique:
        return "(?!)"
    wordy = sorted(w for w in unique if any(ch.isalnum() for ch in w))
    symbols = sorted(w for w in unique if not any(ch.isalnum() for ch in w))
    parts = []
    if wordy:
        body = "(?:" + _trie_regex(wordy) + ")"
        parts.append((WORD_START if left else "") + body + WORD_END if bounded else body)
    if symbols:
        parts.append("(?:" + "|".join(re.escape(w) for w in sorted(symbols, key=len, reverse=True)) + ")")
    return "(?:" + "|".join(parts) + ")"


@dataclass(slots=True)
class Language:
    """The folded lexicon of one language (see ``data/extract/lang/en.yaml`` for the keys)."""

    code: str
    numbers: dict[str, int] = field(default_factory=dict)
    multipliers: dict[str, int] = field(default_factory=dict)
    ordinals: dict[str, int] = field(default_factory=dict)
    amount_joiners: list[str] = field(default_factory=list)
    ages: dict[str, Any] = field(default_factory=dict)
    prices: dict[str, Any] = field(default_factory=dict)
    handles: dict[str, list[str]] = field(default_factory=dict)
    places: dict[str, Any] = field(default_factory=dict)
    phone_regions: list[str] = field(default_factory=list)


def _fold_tree(value: Any) -> Any:
    """Fold every string (and mapping key) in a loaded YAML tree."""
    if isinstance(value, str):
        return fold(value)
    if isinstance(value, list):
        return [_fold_tree(v) for v in value]
    if isinstance(value, dict):
        return {(fold(k) if isinstance(k, str) else k): _fold_tree(v) for k, v in value.items()}
    return value


@cache
def languages() -> dict[str, Language]:
    """All languages under ``data/extract/lang``, by code."""
    out: dict[str, Language] = {}
    for path in sorted((EXTRACT_DIR / "lang").glob("*.yaml")):
        raw = load_yaml(path)
        code = str(raw.get("lang") or path.stem)
        phones = raw.get("phones") or {}
        raw = _fold_tree({k: v for k, v in raw.items() if k not in ("lang", "phones")})
        try:
            out[code] = Language(
                code=code,
                numbers={str(k): int(v) for k, v in (raw.get("numbers") or {}).items()},
                multipliers={str(k): int(v) for k, v in (raw.get("multipliers") or {}).items()},
                ordinals={str(k): int(v) for k, v in (raw.get("ordinals") or {}).items()},
                amount_joiners=[str(w) for w in raw.get("amount_joiners") or []],
                ages=raw.get("ages") or {},
                prices=raw.get("prices") or {},
                handles=(raw.get("handles") or {}).get("cues") or {},
                places=raw.get("places") or {},
                phone_regions=[str(r).upper() for r in phones.get("regions") or []],
            )
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{path}: invalid value: {exc}") from exc
    if not out:
        raise ConfigError(f"{EXTRACT_DIR / 'lang'}: no language files found")
    return out


def gather(key_path: str) -> list[str]:
    """Union over all languages of a list found at a dotted path, e.g. "ages.persons"."""
    words: list[str] = []
    for lang in languages().values():
        node: Any = lang
        for i, part in enumerate(key_path.split(".")):
            node = getattr(node, part) if i == 0 else (node or {}).get(part)
        if isinstance(node, dict):
            words.extend(str(k) for k in node)
        elif node:
            words.extend(str(w) for w in node)
    return words


def gather_map(key_path: str) -> dict[str, Any]:
    """Union over all languages of a mapping found at a dotted path, e.g. "numbers"."""
    merged: dict[str, Any] = {}
    for lang in languages().values():
        node: Any = lang
        for i, part in enumerate(key_path.split(".")):
            node = getattr(node, part) if i == 0 else (node or {}).get(part)
        merged.update(node or {})
    return merged
