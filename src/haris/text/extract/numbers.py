"""Reading numbers as people write them: both separator styles, spaces, words and multipliers.

>>> parse_number("12.500")
(12500.0, 'dot-thousands')
>>> parse_number("12,5")
(12.5, 'comma-decimal')
>>> parse_number("12 500")
(12500.0, 'space-thousands')
"""
from __future__ import annotations

import re
from functools import cache

from haris.text.extract._lexicon import alternation, gather_map

# A written number: digit groups of three after separators (12.500 / 3,700 / 12 500 / 12'500,50)
# or a plain number with an optional decimal part. No nested unbounded repetition, so matching is
# linear even on long digit runs; a number never starts or ends in the middle of another one.
NUMBER = (r"(?<![\d.,])(?:\d{1,3}(?:[.,' ]\d{3}){1,6}(?:[.,]\d{1,2})?|\d{1,12}(?:[.,]\d{1,4})?)"
          r"(?!\d|[.,]\d)")


def parse_number(raw: str, *, three_decimals: bool = False) -> tuple[float, str]:
    """Value and separator style of a number matched by :data:`NUMBER`.

    One separator followed by exactly three digits is a thousands separator ("12.500" = 12500,
    "3,700" = 3700), as in Arabic-region and European prices, unless ``three_decimals`` (the
    currency has three decimal places, e.g. the Kuwaiti dinar) and it is a dot. Otherwise one
    separator is the decimal mark ("12,5" = 12.5). Two kinds: the last one is the decimal mark.
    """
    compact = raw.replace(" ", "").replace("'", "")
    spaced = len(compact) != len(raw)
    dots, commas = compact.count("."), compact.count(",")
    if dots and commas:
        decimal = "." if compact.rfind(".") > compact.rfind(",") else ","
        thousands = "," if decimal == "." else "."
        value = float(compact.replace(thousands, "").replace(decimal, "."))
        style = "comma-thousands" if decimal == "." else "dot-thousands"
    elif not dots and not commas:
        value = float(compact)
        style = "space-thousands" if spaced else "plain"
    else:
        sep = "." if dots else ","
        name = "dot" if dots else "comma"
        head, _, tail = compact.rpartition(sep)
        if dots + commas > 1 or (len(tail) == 3 and not (three_decimals and sep == ".")):
            value = float(compact.replace(sep, ""))
            style = f"{name}-thousands"
        else:
            value = float(head.replace(sep, "") + "." + tail)
            style = f"{name}-decimal"
        if spaced:
            style = "space-thousands"
    return value, style


def lookup_word(table: dict[str, int], word: str) -> int | None:
    """Value of a matched lexicon word whose spaces/hyphens may differ from the entry."""
    word = " ".join(word.split())
    for form in (word, word.replace("-", " "), word.replace(" ", "-")):
        if form in table:
            return table[form]
    return None


def word_starts(key: str, hits: list[tuple[int, int, object]]) -> set[int]:
    """Starts of number-word hits that begin a word (a hit inside a word starts nothing)."""
    return {s for s, _, _ in hits if s == 0 or not key[s - 1].isalpha()}


@cache
def number_words() -> dict[str, int]:
    """Folded cardinal number words of all languages → value."""
    return gather_map("numbers")


@cache
def multiplier_words() -> dict[str, int]:
    """Folded multiplier words (hundred, thousand, k, ألف, mille...) → factor."""
    return gather_map("multipliers")


@cache
def _token_re() -> re.Pattern[str]:
    words = alternation([*number_words(), *multiplier_words()], left=False)
    # A word may carry the conjunction و glued to its front ("ألف وخمسمائة").
    left = r"(?:(?<![^\W\d_])|(?<=(?<![^\W\d_])و))"
    return re.compile(f"(?P<num>{NUMBER})|(?P<word>{left}{words})")


def amount_value(amount_key: str, *, three_decimals: bool = False) -> tuple[float, str, str] | None:
    """Value of an amount written with digits and/or words (folded text), with its style.

    Returns (value, style, raw digits) or None when no number is in it.

    >>> amount_value("8 الاف")[0]
    8000.0
    >>> amount_value("ثلاثه الاف وخمسمائه")[0]
    3500.0
    """
    multipliers = multiplier_words()
    numbers = number_words()
    total = 0.0
    current: float | None = None
    style, raw_digits = "words", ""
    seen = False
    for m in _token_re().finditer(amount_key):
        seen = True
        if m.lastgroup == "num":
            raw_digits = m.group()
            value, style = parse_number(raw_digits, three_decimals=three_decimals)
            current = (current or 0.0) + value
            continue
        word = m.group()
        factor = lookup_word(multipliers, word)
        if factor is not None:
            if factor >= 1000:
                total += (current if current is not None else 1.0) * factor
                current = None
            else:
                current = (current if current is not None else 1.0) * factor
        else:
            current = (current or 0.0) + (lookup_word(numbers, word) or 0)
    if not seen:
        return None
    return total + (current or 0.0), style, raw_digits
