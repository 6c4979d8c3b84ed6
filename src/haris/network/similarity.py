"""Pairwise evidence that two accounts are the same person: names, bios, avatars, announcements.

Each function compares two values and returns a number in [0, 1] (and, where
useful, what matched), so that :mod:`haris.network.evasion` can combine them
and show why.

    >>> handle_key("@Example_Abu.Nour_7")
    'exampleabunour7'
    >>> numbering("example_abu_nour_7", "example_abu_nour_8")
    (True, 1)
    >>> round(name_similarity("example_abu_nour_7", "example_abu_nour_8"), 2)
    0.93
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

DATA = Path(__file__).parent / "data"
PDQ_MATCH_DISTANCE = 31         # ThreatExchange's usual PDQ threshold (of 256 bits)
_SEPARATORS = re.compile(r"[\s._\-]+")
_DIGITS = re.compile(r"\d+")


def _fold(text: str) -> str:
    try:
        from haris.text.normalize import for_matching
    except ImportError:  # the text stage is not installed: case folding only
        return text.casefold()
    return for_matching(text).text


def handle_key(handle: str | None) -> str:
    """A handle without '@', case, look-alike letters or separators: ``Abu.Nour_7`` -> ``abunour7``."""
    if not handle:
        return ""
    # Fold separators first: for_matching would rejoin "a.b.c" itself, but not "ab_cd".
    return _SEPARATORS.sub("", _fold(_SEPARATORS.sub(" ", handle.lstrip("@"))))


def stem(handle: str | None) -> str:
    """The handle key without its digits (``abunour7`` -> ``abunour``): what stays when an account is renumbered."""
    return _DIGITS.sub("", handle_key(handle))


def numbering(a: str | None, b: str | None) -> tuple[bool, int | None]:
    """Whether two handles differ only in their numbers, and by how much the last number moved.

    ``(True, 1)`` for abu_x_7 -> abu_x_8, ``(True, None)`` for abu_x -> abu_x2.
    Stems shorter than 4 letters say too little to count.
    """
    ka, kb = handle_key(a), handle_key(b)
    sa, sb = _DIGITS.sub("", ka), _DIGITS.sub("", kb)
    if ka == kb or len(sa) < 4 or sa != sb:
        return False, None
    na, nb = _DIGITS.findall(ka), _DIGITS.findall(kb)
    if na and nb:
        return True, int(nb[-1]) - int(na[-1])
    return True, None


def name_similarity(a: str | None, b: str | None) -> float:
    """Similarity of two names or handles in [0, 1] (rapidfuzz ratio of their folded forms)."""
    from rapidfuzz import fuzz

    ka, kb = handle_key(a), handle_key(b)
    if not ka or not kb:
        return 0.0
    return fuzz.ratio(ka, kb) / 100.0


def text_similarity(a: str | None, b: str | None, min_chars: int = 12) -> float:
    """Similarity of two bios in [0, 1] (token-set ratio of folded words); 0 when either is too short."""
    from rapidfuzz import fuzz, utils

    if not a or not b:
        return 0.0
    fa, fb = _fold(a), _fold(b)
    if len(fa) < min_chars or len(fb) < min_chars:
        return 0.0
    # default_process drops punctuation, so "daily:" and "daily" are the same word.
    return fuzz.token_set_ratio(fa, fb, processor=utils.default_process) / 100.0


def pdq_distance(a: str | None, b: str | None) -> int | None:
    """Hamming distance of two PDQ hashes (64 hex digits each); None when either is missing or malformed."""
    try:
        x, y = int(a, 16), int(b, 16)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    if len(a) != 64 or len(b) != 64:  # type: ignore[arg-type]
        return None
    return (x ^ y).bit_count()


def overlap(a: set, b: set) -> float:
    """|a ∩ b| / min(|a|, |b|): how much of the smaller set the larger one repeats (0 when either is empty)."""
    if not a or not b:
        return 0.0
    return len(a & b) / min(len(a), len(b))


def jaccard(a: set, b: set) -> float:
    if not a and not b:
        return 0.0
    return len(a & b) / len(a | b)


@lru_cache(maxsize=1)
def _announcement_pattern() -> re.Pattern[str]:
    phrases = set()
    for path in sorted((DATA / "announcements").glob("*.txt")):
        for line in path.read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                phrases.add(re.escape(_fold(line)))
    # Longest first so that "my new account" is reported rather than "new account".
    body = "|".join(sorted(phrases, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{body})(?!\w)")


def announcement(text: str) -> str | None:
    """The "new account after the ban" phrase in ``text`` (ar, en, fr lexicons in data/announcements), if any."""
    if not text:
        return None
    m = _announcement_pattern().search(_fold(text))
    return m.group(0) if m else None


def refers_to(text: str, handle: str | None, display_name: str | None) -> bool:
    """Whether ``text`` names the old account, by handle (with or without '@') or by display name."""
    folded = _fold(text)
    squeezed = _SEPARATORS.sub("", folded)
    key = handle_key(handle)
    if len(key) >= 4 and key in squeezed:
        return True
    name = _fold(display_name or "").strip()
    return len(name) >= 6 and name in folded
