"""Minimal, offset-keeping preparation of text for entity extraction.

Extraction runs on the ORIGINAL text of a message, but it must still see what normalization
would fix: Eastern Arabic digits (١٢ → 12), the Arabic decimal and thousands separators
(٫ ٬), tatweel (ـ), diacritics and invisible zero-width/bidi marks that people insert to break
keyword filters. Every step here is *one character to one character* or *one character to
nothing*, so an index array (only built when something was deleted) maps each position of the
prepared text back to the original and every entity keeps exact original offsets.

Two forms are produced:

- ``key``: the form all patterns run on — the above plus lower case, Latin accents folded
  (é → e) and Arabic letter variants folded (أ إ آ ٱ → ا, ة → ه, ى → ي, ک → ك, ی → ي), so a
  lexicon written "âgée" or "الرقة" also matches "agee" or "الرقه". Lexicon entries are passed
  through :func:`fold` to get the same key.
- :meth:`Prepared.raw`: the prepared text with case and letters kept, for values where case
  matters (an invite hash in a URL).

The integrator may replace this module by ``haris.text.normalize`` (level "clean"); it exists so
that extraction does not depend on it.

>>> p = prepare("عمرها ١٢ سنـــة")
>>> p.key
'عمرها 12 سنه'
>>> p.span(6, 8)
(6, 8)
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Characters deleted: tatweel, Arabic harakat and Quranic marks, zero-width and bidi controls,
# soft hyphen, BOM / zero-width no-break space, variation selectors.
_DELETED = (
    "\u0640\u064b-\u065f\u0670\u06d6-\u06dc\u06df-\u06e8\u06ea-\u06ed"
    "\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\ufe00-\ufe0f"
)
_DELETED_RE = re.compile(f"[{_DELETED}]")
_TABLE_SIZE = 0x10000  # the Basic Multilingual Plane; characters above it are kept as they are


def _deleted_codepoints() -> list[int]:
    out: list[int] = []
    for part in re.findall(r".-.|.", _DELETED, flags=re.S):
        lo, hi = (part[0], part[2]) if len(part) == 3 else (part, part)
        out.extend(range(ord(lo), ord(hi) + 1))
    return out


def _build_tables() -> tuple[tuple, tuple]:
    """Two translation tables as tuples indexed by code point (faster than a dict)."""
    prep: list[str | None] = [chr(i) for i in range(_TABLE_SIZE)]
    for i in range(10):
        prep[0x0660 + i] = str(i)  # Arabic-Indic digits
        prep[0x06F0 + i] = str(i)  # Extended Arabic-Indic (Persian, Urdu) digits
        prep[0xFF10 + i] = str(i)  # full-width digits
    prep[0x066B] = "."  # ARABIC DECIMAL SEPARATOR
    prep[0x066C] = ","  # ARABIC THOUSANDS SEPARATOR
    for space in (0x00A0, 0x2007, 0x202F, 0x2009, 0x200A, 0x3000):
        prep[space] = " "  # no-break and thin spaces: thousands separators in French prices
    for cp in _deleted_codepoints():
        prep[cp] = None

    key = list(prep)
    for cp in range(0x0250):  # Latin: lower case and accents folded, one character each
        ch = prep[cp]
        if ch is None or cp < 0x41:
            continue
        low = ch.lower()
        if len(low) != 1:
            low = ch
        base = unicodedata.normalize("NFD", low)[0]
        key[cp] = base if base.isascii() and base.isalpha() else low
    for cp in range(0x0370, 0x0530):  # Greek and Cyrillic lower case (look-alike letters)
        low = chr(cp).lower()
        if len(low) == 1:
            key[cp] = low
    for cp in range(0xFF21, 0xFF3B):  # full-width Latin letters
        key[cp] = chr(cp - 0xFF21 + ord("a"))
        key[cp + 0x20] = chr(cp - 0xFF21 + ord("a"))
    for src, dst in ("أا", "إا", "آا", "ٱا", "ةه", "ىي", "کك", "یي", "ھه"):
        key[ord(src)] = dst
    return tuple(prep), tuple(key)


_PREP_TABLE, _KEY_TABLE = _build_tables()


def fold(text: str) -> str:
    """The matching key of a lexicon entry (same folding as :attr:`Prepared.key`)."""
    return text.translate(_KEY_TABLE)


@dataclass(slots=True)
class Prepared:
    """A text prepared for extraction.

    ``key`` has one character per kept original character; ``index[i]`` is the original position
    of ``key[i]`` (``index`` is None when nothing was deleted, so positions are the same).
    """

    original: str
    key: str
    index: list[int] | None

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Map a non-empty [start, end) span of ``key`` to the original text."""
        if self.index is None:
            return start, end
        return self.index[start], self.index[end - 1] + 1

    def raw(self, start: int, end: int) -> str:
        """Prepared text of a key span with case and letters kept (digits mapped, marks dropped)."""
        s, e = self.span(start, end)
        return self.original[s:e].translate(_PREP_TABLE)


def prepare(text: str) -> Prepared:
    """Prepare ``text`` (any str; never raises)."""
    if text.isascii():
        return Prepared(text, text.lower(), None)
    key = text.translate(_KEY_TABLE)
    if len(key) == len(text):
        return Prepared(text, key, None)
    index: list[int] = []
    pos = 0
    for m in _DELETED_RE.finditer(text):
        index.extend(range(pos, m.start()))
        pos = m.end()
    index.extend(range(pos, len(text)))
    return Prepared(text, key, index)
