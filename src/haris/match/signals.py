"""The signal types a bank can hold, and how each is checked and put in canonical form.

Every entry is stored in canonical form (lower-case hex, canonical URL…) with
a *key*: the SHA-256 of what matching compares (for a text, its matching key;
for a URL, its canonical form). A bank holds one entry per key, so importing
the same list twice, or a re-post of the same text, adds nothing.

    >>> canonical_signal("pdq", " F8F8F0CEE0F4A84F06370A22038F63F0B36E2ED596621E1D33E6B39C4E9C9B22 ")[0][:8]
    'f8f8f0ce'
    >>> canonical_signal("url", "telegram.me/s/Example_X")[0]
    'https://t.me/example_x'
"""
from __future__ import annotations

import hashlib
import re

from haris.match.hashing import vpdq_from_signal, vpdq_to_signal
from haris.match.links import canonical_domain, canonical_link
from haris.match.text import matching_key

SIGNAL_TYPES = ("pdq", "vpdq", "md5", "sha256", "text", "url", "domain")
MEDIA_TYPES = frozenset({"pdq", "vpdq", "md5", "sha256"})
# Texts shorter than this (after normalization) are refused: a few words match far too much.
MIN_TEXT_CHARS = 20

_HEX = {"pdq": 64, "md5": 32, "sha256": 64}
_HEX_RE = re.compile(r"[0-9a-f]+")
_DOMAIN_RE = re.compile(r"^(?=.{1,253}$)(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$")

# Names python-threatexchange (and HMA, which uses its signal types) gives the same signals.
TX_NAMES = {"pdq": "pdq", "vpdq": "vpdq", "md5": "video_md5", "text": "raw_text", "url": "url"}
FROM_TX_NAME = {**{v: k for k, v in TX_NAMES.items()}, **{t: t for t in SIGNAL_TYPES}}


def _key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def canonical_signal(signal_type: str, raw: str) -> tuple[str, str]:
    """(canonical signal, key) for a raw signal of this type; ValueError says what is wrong with it."""
    if not isinstance(raw, str) or not raw.strip():
        raise ValueError("empty signal")
    value = raw.strip()
    if signal_type in _HEX:
        value = value.lower()
        if len(value) != _HEX[signal_type] or not _HEX_RE.fullmatch(value):
            raise ValueError(f"a {signal_type} hash is {_HEX[signal_type]} hex digits, got {raw.strip()[:80]!r}")
        return value, _key(value)
    if signal_type == "vpdq":
        value = vpdq_to_signal(vpdq_from_signal(value))
        return value, _key(value)
    if signal_type == "text":
        key = matching_key(value)
        if len(key) < MIN_TEXT_CHARS:
            raise ValueError(f"text too short to match safely: {len(key)} letters and digits after "
                             f"normalization, at least {MIN_TEXT_CHARS} needed")
        return value, _key(key)
    if signal_type == "url":
        url = canonical_link(value).url
        return url, _key(url)
    if signal_type == "domain":
        host = canonical_link(value).domain if ("/" in value or ":" in value) else canonical_domain(value)
        if not _DOMAIN_RE.match(host):
            raise ValueError(f"not a domain name: {raw.strip()[:80]!r}")
        return host, _key(host)
    raise ValueError(f"unknown signal type {signal_type!r}; one of {', '.join(SIGNAL_TYPES)}")


def check_threshold(signal_type: str, threshold: float | None) -> float | None:
    """A bank's threshold, checked for its type (None: the type's default)."""
    if threshold is None:
        return None
    if signal_type in ("pdq", "vpdq"):
        if threshold != int(threshold) or not 0 <= threshold <= 80:
            raise ValueError("a PDQ threshold is a Hamming distance, a whole number from 0 to 80 (default 31)")
        return float(int(threshold))
    if signal_type == "text":
        if not 0 < threshold <= 1:
            raise ValueError("a text threshold is a Jaccard similarity in (0, 1] (default 0.5)")
        return float(threshold)
    raise ValueError(f"{signal_type} banks match exactly and take no threshold")
