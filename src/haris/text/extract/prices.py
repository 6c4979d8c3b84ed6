"""Prices: an amount with a currency ("$12,500", "12.500 دولار", "8 آلاف دولار", "12,5 €").

A number without a currency is never a price. The currency may stand before the amount ("$40",
"USD 500") or after it ("3,700 $", "500 دولار"); which forms may go where is in
``data/extract/currencies.tsv``. When both readings compete for one currency sign
("2024 $100"), the one where the sign touches its number wins.
"""
from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass
from functools import cache

from haris.text.extract._lexicon import (EXTRACT_DIR, WORD_END, WORD_START, alternation, gather,
                                         read_tsv)
from haris.text.extract._prep import Prepared, fold
from haris.text.extract._scan import Hits
from haris.text.extract._spans import SpanSet
from haris.text.extract.numbers import (NUMBER, amount_value, multiplier_words, number_words,
                                        word_starts)

# Currencies written with three decimals: "12.500 KWD" is twelve and a half dinars.
THREE_DECIMAL_CURRENCIES = frozenset({"KWD", "BHD", "OMR", "JOD", "TND", "LYD"})
_MAX_AMOUNT = 1e13
_DIGIT_RUN = re.compile(r"\d+")
# A digit glued to a letter is part of a word (Arabizi "yedfa3", leet "3sc0rt"), not of a number.
_CONTINUES_DIGITS = re.compile(r"(?:(?<![^\W\d_])\d[ .\-/]?|\+)\Z")
_LETTER = re.compile(r"[^\W\d_]")
_SHORT_PLUS_AMOUNT = 5   # "+26$" (26 more) is an amount; "+44 7700…" is a phone number
_MAX_AMOUNT_CHARS = 80  # longest "amount + space" before a currency ("ثلاثة آلاف وخمسمائة ")


@dataclass(frozen=True, slots=True)
class Currency:
    code: str
    ambiguous: bool
    candidates: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PriceMatch:
    start: int
    end: int
    amount: float
    currency: Currency
    detail: dict


@cache
def currency_forms() -> dict[str, tuple[Currency, str]]:
    """Folded form → (currency, position)."""
    forms: dict[str, tuple[Currency, str]] = {}
    for row in read_tsv(EXTRACT_DIR / "currencies.tsv"):
        cands = tuple(c for c in row["candidates"].split(",") if c)
        forms[fold(row["form"])] = (Currency(row["code"], row["ambiguous"] == "1", cands),
                                    row["position"])
    return forms


@cache
def _patterns() -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    forms = currency_forms()
    before = alternation([f for f, (_, pos) in forms.items() if pos in ("before", "any")])
    after = alternation([f for f, (_, pos) in forms.items() if pos in ("after", "any")])
    words = alternation([*number_words(), *multiplier_words()], bounded=False)
    # A number word may carry the Arabic conjunction و glued to its front ("ألف وخمسمائة").
    word = rf"(?:(?<![^\W\d_])|(?<=(?<![^\W\d_])و)){words}{WORD_END}"
    mult = alternation(multiplier_words())
    # Joiners ("and", "et", "و") may be glued to the next word: "ألف وخمسمائة".
    joiner = WORD_START + alternation(gather("amount_joiners"), bounded=False)
    amount = (rf"(?:{NUMBER}(?:\s{{0,2}}{mult})?"
              rf"|{word}(?:[\s-]{{0,3}}(?:{joiner}\s{{0,2}})?{word}){{0,5}})")
    per_words = alternation(gather("prices.per_words"))
    cur_first = re.compile(rf"(?P<cur>{before})(?P<gap>\s{{0,2}})(?P<amt>{amount})")
    amt_first = re.compile(rf"(?P<amt>{amount})(?P<gap>\s{{0,2}})(?P<cur>{after})")
    per = re.compile(rf"\s{{0,2}}{per_words}\s{{0,2}}(?P<per>[^\W\d_]{{2,20}})")
    return cur_first, amt_first, per


def _plus_amount(before: re.Match[str], m: re.Match[str]) -> bool:
    """"+26$": a short amount right after "+" with its currency touching it (26 more), not "+44 7700…"."""
    return (before.group() == "+" and not m.group("gap") and m.start("cur") > m.start("amt")
            and len(m.group("amt")) <= _SHORT_PLUS_AMOUNT)


def find_prices(prep: Prepared, hits: Hits) -> list[PriceMatch]:
    """Prices in a prepared text, non-overlapping, in key coordinates.

    Only tried where the scan found a currency: "currency amount" is matched at each currency
    hit, "amount currency" at each digit run and number word.
    """
    if not hits.cur:
        return []
    key = prep.key
    cur_first, amt_first, per_re = _patterns()
    forms = currency_forms()
    candidates: list[tuple[int, int, re.Match[str]]] = []

    def consider(m: re.Match[str] | None) -> None:
        if m:
            touching = 2 if not m.group("gap") else 1
            candidates.append((touching, m.end() - m.start(), m))

    for start in sorted({s for s, _, _ in hits.cur}):
        consider(cur_first.match(key, start))
    # "amount currency": only amounts that end near a currency hit.
    cur_starts = sorted({s for s, _, _ in hits.cur})
    starts = {m.start() for m in _DIGIT_RUN.finditer(key)} | word_starts(key, hits.num)
    for start in sorted(starts):
        i = bisect_left(cur_starts, start + 1)
        if i < len(cur_starts) and cur_starts[i] - start <= _MAX_AMOUNT_CHARS:
            consider(amt_first.match(key, start))
    candidates.sort(key=lambda c: (-c[0], -c[1], c[2].start()))
    taken = SpanSet()
    out: list[PriceMatch] = []
    for _, _, m in candidates:
        start, end = m.span()
        if taken.overlaps(start, end):
            continue
        amt_start = m.start("amt")
        if key[amt_start] == "0" and m.group("amt")[1:2].isdigit():
            continue  # "0933 ..." is a phone number, not an amount
        before = _CONTINUES_DIGITS.search(key, max(0, amt_start - 2), amt_start)
        if before and not _plus_amount(before, m):
            continue  # the tail of a longer digit sequence ("0933 123 456 $"), or "+44..."
        if m.start("cur") < amt_start and _LETTER.match(key, m.end("amt")):
            continue  # "$ 3sc0rt": the digit begins a word
        cur_text = " ".join(m.group("cur").split())
        currency, _ = forms.get(cur_text) or forms[m.group("cur")]
        parsed = amount_value(m.group("amt"),
                              three_decimals=currency.code in THREE_DECIMAL_CURRENCIES)
        if parsed is None or not 0 < parsed[0] < _MAX_AMOUNT:
            continue
        value, style, raw_digits = parsed
        detail: dict = {"raw_amount": raw_digits or prep.raw(*m.span("amt")), "style": style,
                        "currency_text": prep.raw(*m.span("cur"))}
        if currency.ambiguous:
            detail["ambiguous"] = True
            detail["candidates"] = [currency.code, *currency.candidates]
        per = per_re.match(key, end)
        if per:
            detail["per"] = per.group("per")
        taken.add(start, end)
        out.append(PriceMatch(start, end, value, currency, detail))
    out.sort(key=lambda p: p.start)
    return out
