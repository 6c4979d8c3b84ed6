"""Phone numbers, found and checked by libphonenumber (the ``phonenumbers`` package).

The matcher is slow (tens of microseconds per call), so it only sees candidate runs: a digit
run of at least 7 digits with the separators people use ("+44 7700 900123", "0933-123-456",
"(202) 555-0143", "٠٠٩٦٣ ٩٣٣ ..." after digit mapping). A number written with "+" or "00" is
kept when it is a *possible* number for its country (so the fictional ranges +1 555 01xx and
+44 7700 900xxx, which libphonenumber calls invalid, are found; ``detail["valid"]`` says
False). A number without a country code is tried against the regions of the message language
(``phones.regions`` in the language file) and kept only when *valid* there.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache

import phonenumbers
from phonenumbers import Leniency, PhoneNumberFormat, PhoneNumberMatcher

from haris.text.extract import _lexicon as lex
from haris.text.extract._prep import Prepared

_CANDIDATE = re.compile(r"[+(\d][\d \t().\-/]{5,40}\d")
_MIN_DIGITS = 7
# Cheap precheck: seven digits anywhere (digits and non-digits are disjoint: no backtracking).
_ENOUGH_DIGITS = re.compile(r"\d(?:\D*+\d){6}")
_MAX_REGIONS = 4
# Dates and year ranges: "12/05/2024", "2023-2024", "2024.05.12".
_DATE = re.compile(r"\d{1,4}([/.\-])\d{1,2}\1\d{2,4}|(?:19|20)\d\d ?[-/–] ?(?:19|20)\d\d")
_ARABIC = re.compile(r"[\u0600-\u06ff]")


@dataclass(frozen=True, slots=True)
class PhoneMatch:
    start: int
    end: int
    e164: str
    detail: dict


@cache
def _regions(lang: str | None, arabic: bool) -> tuple[str, ...]:
    langs = lex.languages()
    if lang in langs:
        order = [lang]
    else:
        order = (["ar"] if arabic else []) + [c for c in ("en", "fr", "ar") if c in langs]
    regions: list[str] = []
    for code in order:
        for region in langs[code].phone_regions if code in langs else []:
            if region not in regions:
                regions.append(region)
    return tuple(regions[:_MAX_REGIONS])


def _matches(text: str, region: str | None, leniency: int) -> list[tuple[int, int, object]]:
    try:
        return [(m.start, m.end, m.number)
                for m in PhoneNumberMatcher(text, region or "ZZ", leniency=leniency, max_tries=8)]
    except Exception:  # the matcher must never break extraction of the other kinds
        return []


def _whole(text: str, region: str | None, need_valid: bool):
    """The candidate read as one number (the common case, much faster than the matcher)."""
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    ok = phonenumbers.is_valid_number(number) if need_valid else phonenumbers.is_possible_number(number)
    return number if ok else None


@lru_cache(maxsize=8192)
def _numbers_in(text: str, regions: tuple[str, ...]) -> tuple[tuple[int, int, str, dict], ...]:
    """Phone numbers in one candidate run: (start, end, E.164, detail), offsets within ``text``.

    Numbers with "+" are kept when possible, others when valid in one of ``regions``.
    """
    international = text.startswith("+")
    tries = [(None, False)] if international else [(r, True) for r in regions]
    found: list[tuple[int, int, object, str | None]] = []
    for region, need_valid in tries if "/" not in text else ():  # "/" : leave it to the matcher
        number = _whole(text, region, need_valid)
        if number is not None:
            found = [(0, len(text), number, region)]
            break
    if not found:
        for region, need_valid in tries:
            leniency = Leniency.VALID if need_valid else Leniency.POSSIBLE
            found = [(s, e, n, region) for s, e, n in _matches(text, region, leniency)
                     if not need_valid or phonenumbers.is_valid_number(n)]
            found = [f for f in found if need_valid or phonenumbers.is_possible_number(f[2])]
            if found:
                break
    out = []
    for s, e, number, region in found:
        # The main region of the country code: exact only where a code has one region
        # (region_code_for_number would test every NANP region for +1 numbers: slow).
        detail = {"country_code": number.country_code,
                  "region": phonenumbers.region_code_for_country_code(number.country_code),
                  "valid": region is not None or phonenumbers.is_valid_number(number),
                  "international": international}
        if region:
            detail["assumed_region"] = region
        out.append((s, e, phonenumbers.format_number(number, PhoneNumberFormat.E164), detail))
    return tuple(out)


def find_phones(prep: Prepared, lang: str | None) -> list[PhoneMatch]:
    key = prep.key
    if not _ENOUGH_DIGITS.search(key):
        return []
    out: list[PhoneMatch] = []
    regions: tuple[str, ...] = ()
    for cand in _CANDIDATE.finditer(key):
        text = cand.group()
        if sum(ch.isdigit() for ch in text) < _MIN_DIGITS or _DATE.fullmatch(text):
            continue
        shift = 0
        if text.startswith("00"):
            text, shift = "+" + text[2:], 1  # "00" becomes "+": one character shorter
        elif not text.startswith("+") and not regions:
            regions = _regions(lang, bool(_ARABIC.search(key)))
        for s, e, e164, detail in _numbers_in(text, regions if not text.startswith("+") else ()):
            start = cand.start() + (s + shift if s > 0 else 0)
            out.append(PhoneMatch(start, cand.start() + e + shift, e164, dict(detail)))
    return out
