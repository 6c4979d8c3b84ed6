"""Places from the gazetteer (``data/gazetteer/places.tsv``), found by the Aho-Corasick scan.

A name counts where it stands as a whole word. Arabic names may carry the proclitics و ف ب ل ك
("والرقة", "بالموصل"), and "لل" + the name without its article ("للرقة"). Names that are
also common words carry a marker in the data and need more evidence (see
``data/gazetteer/README.md``): ``case`` (capitalised and not the first word of a sentence, or
after a place cue: "Nice weather" is not a place, "a hotel in Nice" is), ``cue`` (after a
place cue word) and ``strong`` (after a settlement word: "مدينة الباب", "city of").
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from haris.errors import ConfigError
from haris.text.extract import _lexicon as lex
from haris.text.extract._prep import Prepared, fold

_MARKER = re.compile(r"\[(case|cue|strong)\]\s*$")
_SENTENCE_END = ".!?\n…؟"
_OPENERS = " \t\"'«»“”‘’(-*•"
_APOSTROPHES = "'’`"


@dataclass(frozen=True, slots=True)
class Place:
    id: str
    kind: str
    country: str | None
    admin: str | None
    lat: float
    lon: float
    name: str
    names: dict[str, str]


@dataclass(frozen=True, slots=True)
class PlaceName:
    """One way of writing a place, as stored in the automaton."""

    place: Place
    level: str          # "", "case", "cue" or "strong"
    arabic: bool
    article_stem: bool  # the name without its Arabic article, valid only after "لل"


@dataclass(frozen=True, slots=True)
class PlaceMatch:
    start: int
    end: int
    place: Place
    level: str


def _is_arabic(ch: str) -> bool:
    return "\u0600" <= ch <= "\u06ff" or "\u0750" <= ch <= "\u077f" or "\ufb50" <= ch <= "\ufeff"


@cache
def gazetteer() -> list[Place]:
    path = lex.GAZETTEER_DIR / "places.tsv"
    places = []
    for i, row in enumerate(lex.read_tsv(path), start=1):
        try:
            names = {lang: _MARKER.sub("", row[f"name_{lang}"]).strip() for lang in ("en", "fr", "ar")}
            places.append(Place(
                id=row["id"], kind=row["kind"], country=row["country"] or None,
                admin=row["admin"] or None, lat=float(row["lat"]), lon=float(row["lon"]),
                name=names["en"], names=names))
        except (KeyError, ValueError) as exc:
            raise ConfigError(f"{path}: place row {i} ({row.get('id')}): {exc}") from exc
    return places


def _variants(name: str) -> set[str]:
    """Spellings of one folded name that people use interchangeably."""
    out = {name}
    for old, new in (("-", " "), (" ", "-"), ("'", ""), ("’", ""), ("’", "'"), ("-", "")):
        out |= {v.replace(old, new) for v in list(out)}
    return {v for v in out if v.strip()}


@cache
def place_keys() -> dict[str, list[PlaceName]]:
    """Folded name → the place names written that way."""
    rows = lex.read_tsv(lex.GAZETTEER_DIR / "places.tsv")
    keys: dict[str, list[PlaceName]] = {}
    ar_article = fold(str(lex.languages()["ar"].places.get("article", "ال"))) \
        if "ar" in lex.languages() else "ال"
    for place, row in zip(gazetteer(), rows):
        written = [row["name_en"], row["name_fr"], row["name_ar"],
                   *(n for n in row["alt_names"].split("|") if n.strip())]
        for raw in written:
            marker = _MARKER.search(raw)
            level = marker.group(1) if marker else ""
            name = fold(_MARKER.sub("", raw).strip())
            if not name:
                continue
            arabic = _is_arabic(name[0])
            min_len = 2 if (arabic and level) else 3
            for key in _variants(name):
                if len(key) >= min_len:
                    keys.setdefault(key, []).append(PlaceName(place, level, arabic, False))
            if arabic and name.startswith(ar_article) and len(name) - len(ar_article) >= 2:
                stem = name[len(ar_article):]
                keys.setdefault(stem, []).append(PlaceName(place, level, True, True))
    return keys


@cache
def _cue_patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    cues = lex.alternation(lex.gather("places.cues"))
    strong = lex.alternation(lex.gather("places.strong_cues"))
    return re.compile(rf"{cues}\s{{1,3}}\Z"), re.compile(rf"{strong}\s{{1,3}}\Z")


@cache
def _proclitics() -> tuple[frozenset[str], frozenset[str]]:
    ar = lex.languages().get("ar")
    plain = {""}
    article = set()
    if ar is not None:
        plain |= set(ar.places.get("proclitics") or [])
        article |= set(ar.places.get("article_proclitics") or [])
    return frozenset(plain), frozenset(article)


def _word_prefix(key: str, start: int) -> str:
    """The Arabic letters glued to the front of a match (its proclitics)."""
    i = start
    while i > 0 and start - i < 4 and _is_arabic(key[i - 1]) and key[i - 1].isalpha():
        i -= 1
    if i > 0 and key[i - 1].isalnum():
        return "\x00"  # glued to a longer word: not a prefix we know
    return key[i:start]


def _cue_before(key: str, start: int, strong: bool) -> bool:
    cue, strong_cue = _cue_patterns()
    window = key[max(0, start - 32):start]
    return bool((strong_cue if strong else cue).search(window))


def _sentence_initial(key: str, start: int) -> bool:
    before = key[:start].rstrip(_OPENERS)
    return not before or before[-1] in _SENTENCE_END


def find_places(prep: Prepared, hits: list[tuple[int, int, object]]) -> list[PlaceMatch]:
    key = prep.key
    plain_prefixes, article_prefixes = _proclitics()
    candidates: list[tuple[int, int, PlaceName]] = []
    for start, end, names in hits:
        if end < len(key) and (key[end].isalnum() or key[end] == "_"):
            continue
        for pn in names:  # type: ignore[union-attr]
            prefix = ""
            if pn.arabic:
                prefix = _word_prefix(key, start)
                allowed = article_prefixes if pn.article_stem else plain_prefixes
                if prefix not in allowed:
                    continue
            elif start > 0 and (key[start - 1].isalnum() or key[start - 1] == "_"):
                continue
            if pn.level and not _evidence(prep, start, pn, prefix):
                continue
            candidates.append((start, end, pn))
    candidates.sort(key=lambda c: (c[0], c[0] - c[1]))  # leftmost, then longest
    out: list[PlaceMatch] = []
    last_end = -1
    for start, end, pn in candidates:
        if start >= last_end:
            out.append(PlaceMatch(start, end, pn.place, pn.level))
            last_end = end
    return out


def _evidence(prep: Prepared, start: int, pn: PlaceName, prefix: str) -> bool:
    """Does an ambiguous name have the evidence its marker asks for?"""
    key = prep.key
    if pn.level == "strong":
        return _cue_before(key, start - len(prefix), strong=True)
    # An attached preposition (ب "in", ل/لل "to") is a cue for an Arabic name.
    if pn.arabic:
        return any(p in prefix for p in ("ب", "ل")) or _cue_before(key, start - len(prefix), False)
    if pn.level == "cue":
        return _cue_before(key, start, strong=False)
    # "case": a capitalised Latin name, not the first word of a sentence unless a cue precedes.
    orig_start, _ = prep.span(start, start + 1)
    if not prep.original[orig_start].isupper():
        return False
    return not _sentence_initial(key, start) or _cue_before(key, start, strong=False)
