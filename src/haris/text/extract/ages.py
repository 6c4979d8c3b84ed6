"""Ages of people: "12 years old", "12yo", "aged 12", "fille de 14 ans", "عمرها ١٢ سنة", "بنت 12".

An age needs an age cue; a bare number is never an age. The cues, by pattern:

- A, a cue before the number: "aged 12", "age: 12", "âgée de 12 ans", "عمرها 12", "بعمر 7 أشهر";
- B, a unit after the number: "12 years old", "12-year-old", "12yo", "7 months old". In French and
  Arabic the plain year unit also counts ("12 ans", "سبع سنوات") unless a duration word is next
  to it ("depuis 12 ans", "منذ 12 سنة", "12 سنة خبرة");
- C, a person word before the number: "girl 12", "بنت ١٢", "fille de 14 ans", "طفلة عمرها 7 أشهر";
- D, the Arabic ordinal frame: "في الثانية عشرة من العمر", "في ال12 من عمرها".

"12 years" alone (English) is a duration, and "12 months warranty" is not an age: months only
count after a cue or a person word, or as "months old". Ranges ("14 to 16 years old",
"14-16 ans") give the lower bound as the value and ``{"max": 16}`` in the detail. Months are
given in years (7 months → 0.58) with ``{"unit": "months"}``.
"""
from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from functools import cache

from haris.text.extract import _lexicon as lex
from haris.text.extract._prep import Prepared
from haris.text.extract._scan import Hits
from haris.text.extract.numbers import lookup_word, number_words, word_starts

_MAX_YEARS = 99
_MAX_MONTHS = 48
_DIGIT_RUN = re.compile(r"\d{1,2}(?!\d)")
_SIZE_WINDOW = 40       # characters before an age phrase searched for a size word
_MAX_NUMBER_CHARS = 40  # longest "number [range] " before a unit ("أربعة عشر إلى ستة عشر ")


@dataclass(frozen=True, slots=True)
class AgeMatch:
    start: int
    end: int
    value: float | int
    detail: dict


@dataclass(frozen=True, slots=True)
class _Lexicon:
    units: dict[str, str]        # folded unit → "years" | "months"
    weak_units: frozenset[str]
    duals: dict[str, str]        # "سنتين" → "years"
    words: dict[str, int]        # number words up to 99 (and duals = 2)
    ordinals: dict[str, int]
    cue_first: re.Pattern[str]
    unit_after: re.Pattern[str]
    person_first: re.Pattern[str]
    ordinal_frame: re.Pattern[str]
    compact: re.Pattern[str] | None   # "15y", "13 y": one-letter units, which the word scan leaves out
    negative_before: re.Pattern[str]
    negative_after: re.Pattern[str]
    size_before: re.Pattern[str]   # "size: age 7", "taille 12 ans", "قياس عمر 15": a clothes size


def _units(group: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for lang in lex.languages().values():
        for unit, words in (lang.ages.get(group) or {}).items():
            out.update({w: unit for w in words})
    return out


@cache
def _lexicon() -> _Lexicon:
    units_any = {**_units("units"), **_units("units_strong")}
    weak = _units("units_weak")
    duals = lex.gather_map("ages.dual_units")
    words = {w: v for w, v in number_words().items() if 0 < v <= _MAX_YEARS}
    words.update({w: 2 for w in duals})
    ordinals = lex.gather_map("ordinals")

    num = (rf"(?:(?<![\d.,:/+])\d{{1,2}}(?!\d|[.,]\d)|{lex.alternation(words)})")
    rng = rf"(?P<a>{num})(?:\s{{0,2}}{lex.alternation(lex.gather('ages.range_words'))}\s{{0,2}}(?P<b>{num}))?"
    unit_any = rf"(?:\s{{0,2}}-?\s{{0,2}}(?P<unit>{lex.alternation(units_any)}))"
    unit_b = lex.alternation([*_units("units_strong"), *weak])
    cues = lex.alternation(lex.gather("ages.cues_before"), left=False)
    persons = lex.alternation(lex.gather("ages.persons"), left=False)
    links = lex.alternation(lex.gather("ages.person_links"))
    measure = lex.alternation(lex.gather("ages.measure_units"))
    ords = lex.alternation(ordinals)
    ord_before = lex.alternation(lex.gather("ages.ordinal_before"), bounded=False)
    ord_after = lex.alternation(lex.gather("ages.ordinal_after"))
    not_measure = rf"(?!\s{{0,2}}{measure})"
    # a number glued to a word is part of it: Arabizi "3aroos 3omraha 14" has no age 3
    not_glued = r"(?![^\W\d_])"
    # One-letter units cannot go into the Aho-Corasick scan (every "y" in a text would be a hit), so they
    # are matched here, glued to a number of one or two digits: "#A4 — 15y — £3040", "code 14: 13 y".
    letters = sorted(u for u in _units("units_strong") if len(u) == 1)
    not_after_words = lex.gather("ages.compact_not_after")   # "5y warranty", "2y ago": durations
    not_after = rf"(?!\s{{0,2}}{lex.alternation(not_after_words)})" if not_after_words else ""
    compact = re.compile(rf"(?<![\w.,:/+])(?P<a>\d{{1,2}}) ?"
                         rf"(?P<unit>{'|'.join(map(re.escape, letters))})(?!\w){not_after}") if letters else None
    return _Lexicon(
        units=units_any, weak_units=frozenset(weak), duals=duals, words=words, ordinals=ordinals,
        cue_first=re.compile(rf"{lex.AR_CONJ}{cues}\s{{0,3}}[:=-]?\s{{0,3}}{rng}{unit_any}?{not_glued}{not_measure}"),
        unit_after=re.compile(rf"{rng}\s{{0,2}}-?\s{{0,2}}(?P<unit>{unit_b})"),
        person_first=re.compile(rf"{lex.AR_CONJ}{persons}(?:\s{{0,3}}{links})?\s{{0,3}}{rng}{unit_any}?"
                                rf"{not_glued}{not_measure}"),
        ordinal_frame=re.compile(rf"{ord_before}\s{{0,2}}(?:(?P<ord>{ords})|ال\s?"
                                 rf"(?P<od>\d{{1,2}})(?!\d))\s{{1,3}}{ord_after}"),
        compact=compact,
        negative_before=re.compile(rf"{lex.alternation(lex.gather('ages.negative_before'))}\s{{0,3}}\Z"),
        negative_after=re.compile(rf"\s{{0,3}}{lex.alternation(lex.gather('ages.negative_after'))}"),
        # a size word right before the age phrase, at most two words (no digits) between: "sizes
        # for girls from 3 years", but not "taille 1m65, 16 ans" (a height, then a girl's age)
        size_before=re.compile(rf"{lex.alternation(lex.gather('ages.size_before'))}\s{{0,2}}[:=]?\s{{0,3}}"
                               rf"(?:[^\W\d_]+\s{{1,3}}){{0,2}}\Z"),
    )


def _number(text: str | None, lx: _Lexicon) -> tuple[int, str | None] | None:
    """Value of a matched number (digits or word) and the unit a dual word implies."""
    if text is None:
        return None
    if text.isdigit():
        return int(text), None
    value = lookup_word(lx.words, text)
    if value is None:
        return None
    return value, lx.duals.get(" ".join(text.split()))


def _to_match(m: re.Match[str], lx: _Lexicon, pattern: str) -> AgeMatch | None:
    unit_text = m.groupdict().get("unit")
    if pattern == "ordinal":
        raw = m.group("ord")
        value = int(m.group("od")) if raw is None else lookup_word(lx.ordinals, raw)
        if not value:
            return None
        return AgeMatch(m.start(), m.end(), value, {"pattern": pattern})
    first = _number(m.group("a"), lx)
    if first is None:
        return None
    low, implied = first
    high = _number(m.groupdict().get("b"), lx)   # a compact age ("15y") has no range part
    unit = lx.units.get(" ".join(unit_text.split())) if unit_text else None
    if unit is None and unit_text:
        unit = lx.units.get(unit_text.replace(" ", "-")) or lx.units.get(unit_text.replace("-", " "))
    unit = unit or implied or (high[1] if high else None) or "years"
    limit = _MAX_MONTHS if unit == "months" else _MAX_YEARS
    if not 0 < low <= limit:
        return None
    detail: dict = {"pattern": pattern}
    if high is not None and low < high[0] <= limit:
        detail["max"] = round(high[0] / 12, 2) if unit == "months" else high[0]
    value: float | int = low
    if unit == "months":
        value = round(low / 12, 2)
        detail["unit"] = "months"
        detail["months"] = low
    return AgeMatch(m.start(), m.end(), value, detail)


def _is_duration(key: str, m: re.Match[str], lx: _Lexicon) -> bool:
    """Is a weak-unit match ("12 ans", "12 سنة") a duration rather than an age?"""
    window = key[max(0, m.start() - 24):m.start()]
    return bool(lx.negative_before.search(window) or lx.negative_after.match(key, m.end()))


def find_ages(prep: Prepared, hits: Hits) -> list[AgeMatch]:
    key = prep.key
    lx = _lexicon()
    compact = list(lx.compact.finditer(key)) if lx.compact is not None and any(c.isdigit() for c in key) else []
    if not hits.age and not compact:
        return []
    candidates: list[AgeMatch] = []

    def consider(m: re.Match[str] | None, pattern: str) -> None:
        if m is None:
            return
        if pattern == "unit" and " ".join(m.group("unit").split()) in lx.weak_units \
                and _is_duration(key, m, lx):
            return
        if lx.size_before.search(key, max(0, m.start() - _SIZE_WINDOW), m.start()):
            return
        age = _to_match(m, lx, pattern)
        if age is not None:
            candidates.append(age)

    roles: dict[str, set[int]] = {"cue": set(), "person": set(), "unit": set(), "dual": set(),
                                  "ordinal": set()}
    for start, _, role in hits.age:
        if start == 0 or not key[start - 1].isalpha() or key[start - 1] in "وف":
            roles[str(role)].add(start)
    for start in sorted(roles["cue"]):
        consider(lx.cue_first.match(key, start), "cue")
    for start in sorted(roles["person"]):
        consider(lx.person_first.match(key, start), "person")
    if roles["unit"]:
        # "number unit": only numbers with a unit word starting shortly after them.
        unit_starts = sorted({s for s, _, role in hits.age if role == "unit"})
        number_starts = {m.start() for m in _DIGIT_RUN.finditer(key)}
        number_starts.update(word_starts(key, hits.num))
        for start in sorted(number_starts):
            i = bisect_right(unit_starts, start)
            if i < len(unit_starts) and unit_starts[i] - start <= _MAX_NUMBER_CHARS:
                consider(lx.unit_after.match(key, start), "unit")
    for m in compact:
        consider(m, "unit")
    if "عمر" in key or "سن" in key:
        for m in lx.ordinal_frame.finditer(key):
            if m.start() == 0 or not key[m.start() - 1].isalpha():
                consider(m, "ordinal")
    candidates.sort(key=lambda a: (a.start, a.start - a.end))  # leftmost, then longest
    out: list[AgeMatch] = []
    last_end = -1
    for age in candidates:
        if age.start >= last_end:
            out.append(age)
            last_end = age.end
        elif out and age.start == out[-1].start and age.end > out[-1].end:
            out[-1] = age
            last_end = age.end
    return out
