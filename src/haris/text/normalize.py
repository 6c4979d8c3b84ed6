"""Unicode, Arabic and de-obfuscation normalization that can map every span back to the original.

Two levels:

- ``clean`` (for entity extraction): NFKC; invisible and bidi characters, Arabic harakat, Quranic marks
  and tatweel removed; Eastern Arabic and Persian digits to ASCII (٫ → ".", ٬ → ","); whitespace runs
  to one space, ends stripped. Case and digits are kept.
- ``match`` (for lexicon matching): a *matching key*, not readable text. NFKC, casefold, everything
  ``clean`` does, then, in this order:

  1. letters folded: Arabic variants (أ إ آ ٱ → ا, ى → ي, ة → ه, ؤ → و, ئ → ي, ک → ك, ی → ي), Latin
     accents (é → e, so "a vendre" matches "à vendre"), Greek/Cyrillic look-alikes (Cyrillic а → a),
     emoji letters (🅰 → a, regional indicators → a-z); all combining marks dropped;
  2. leetspeak, only *between* Latin letters and at most two characters long (s4le → sale, ch!ld →
     child), or one digit ending a word that has leet inside (h1jr4 → hijra; mp3 stays). Numbers,
     prices and ages never have a letter on both sides ("12", "$12,500", "5k", "12yo") so they
     stay. Arabizi: a word containing 2, 6, 8 or 9 (digits Arabizi uses and leet does
     not) or listed in ``data/language/arabizi_words.tsv`` (ma3a, ba3d) is left alone; 3ala and
     7abibi start with the digit, so they are never folded anyway;
  3. runs of three or more of the same letter squeezed: to two for non-Arabic letters (sooooo →
     soo), to one for Arabic letters (تعاااال → تعال);
  4. spaced-out letters rejoined: a run of three or more single letters separated by spaces or by
     one of ``. - _ * · •`` (with any spaces around it) becomes one word: "ل ل ب ي ع" → "للبيع",
     "s.a.l.e" → "sale". Two or more plain spaces split the run into words when the parts have
     three or more letters each: "f o r  s a l e" → "for sale" (shorter parts are joined to their
     neighbours, so that normalizing twice gives the same text). Two single letters ("il y a")
     are left alone;
  5. whitespace collapsed.

Lexicon entries must go through :func:`for_matching` too, so that both sides have the same key.

Offsets: ``normalize`` computes only the text (fast). The first call to
:meth:`NormalizedText.to_original` replays the same steps while tracking, for every output
character, the span of original characters it came from.

>>> n = for_matching("Ｆｏｒ  s4le: ب ن ت")
>>> n.text
'for sale: بنت'
>>> n.to_original(4, 8)
(5, 9)
"""
from __future__ import annotations

import re
import unicodedata
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Literal

from haris.errors import ConfigError

Level = Literal["clean", "match"]
DATA_DIR = Path(__file__).parent / "data"

# A list of (replacement text, start, end) relative to a regex match: every character of the
# replacement text came from match.string[match.start() + start : match.start() + end].
Pieces = list[tuple[str, int, int]]


@dataclass(slots=True)
class NormalizedText:
    """A normalized text and the original it came from.

    ``level`` is None for an instance built by hand; such an instance can map offsets only when
    ``text == original``.
    """

    original: str
    text: str
    level: Level | None = field(default=None, repr=False, compare=False)
    _spans: tuple[list[int], list[int]] | None = field(default=None, repr=False, compare=False)
    # every step that changed the text changed one character into one: offsets are the same
    same_offsets: bool = field(default=False, repr=False, compare=False)

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map a [start, end) span of .text to the smallest span of .original that produced it.

        An empty span maps to an empty span at the matching original position.
        """
        n = len(self.text)
        if not 0 <= start <= end <= n:
            raise ValueError(f"span [{start}, {end}) is outside the normalized text (length {n})")
        if self.same_offsets:
            return start, end
        if self._spans is None:
            self._spans = _offset_map(self)
        starts, ends = self._spans
        if start == end:
            pos = starts[start] if start < n else (ends[-1] if n else 0)
            return pos, pos
        return starts[start], ends[end - 1]


def normalize(text: str, level: Level = "match") -> NormalizedText:
    """Normalize ``text`` at ``level`` ("clean" or "match"); see the module docstring."""
    if not isinstance(text, str):
        raise TypeError(f"normalize() needs a str, got {type(text).__name__}")
    if level == "match":
        steps = _MATCH_STEPS
    elif level == "clean":
        steps = _CLEAN_STEPS
    else:
        raise ValueError(f"unknown normalization level {level!r}; expected 'clean' or 'match'")
    out, same = text, True
    for step in steps:
        new = step.apply(out)
        if same and new != out and not step.one_to_one(out):
            same = False
        out = new
    return NormalizedText(text, out, level, same_offsets=same)


def clean(text: str) -> NormalizedText:
    """``normalize(text, "clean")``: for entity extraction (case and digits kept)."""
    return normalize(text, "clean")


def for_matching(text: str) -> NormalizedText:
    """``normalize(text, "match")``: the key that lexicon matching compares."""
    return normalize(text, "match")


# ---------------------------------------------------------------- data tables

def _parse_code_point(token: str, where: str) -> int:
    if token.upper().startswith("U+"):
        try:
            return int(token[2:], 16)
        except ValueError:
            raise ConfigError(f"{where}: bad code point {token!r}; expected U+XXXX") from None
    if len(token) != 1:
        raise ConfigError(f"{where}: source {token!r} must be one character, U+XXXX or a range")
    return ord(token)


def _parse_target(token: str, where: str) -> str | None:
    if token == "-":
        return None
    if token.upper().startswith("U+"):
        return "".join(chr(_parse_code_point(t, where)) for t in token.split())
    return token


def load_table(path: Path) -> tuple[dict[int, str | None], set[int]]:
    """Read a normalization TSV (format in data/normalize/README.md).

    Returns the mapping (code point → replacement, None = delete) and the KEEP code points.
    """
    table: dict[int, str | None] = {}
    keep: set[int] = set()
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        where = f"{path}:{lineno}"
        cols = line.split("\t")
        if len(cols) < 2:
            raise ConfigError(f"{where}: expected 'source<TAB>target<TAB>comment', got {line!r}")
        source, target = cols[0], cols[1]
        if ".." in source:
            lo_s, hi_s = source.split("..", 1)
            lo, hi = _parse_code_point(lo_s, where), _parse_code_point(hi_s, where)
            if hi < lo:
                raise ConfigError(f"{where}: empty range {source!r}")
            sources = range(lo, hi + 1)
        else:
            sources = range(_parse_code_point(source, where), _parse_code_point(source, where) + 1)
        for i, cp in enumerate(sources):
            if cp in table or cp in keep:
                raise ConfigError(f"{where}: {chr(cp)!r} (U+{cp:04X}) is mapped twice")
            if target == "KEEP":
                keep.add(cp)
            elif target.startswith("seq:") and len(target) == 5:
                table[cp] = chr(ord(target[4]) + i)
            elif ".." in source and target != "-":
                raise ConfigError(f"{where}: a range needs target '-' or 'seq:C', got {target!r}")
            else:
                table[cp] = _parse_target(target, where)
    return table, keep


def _is_mark(ch: str) -> bool:
    return unicodedata.category(ch) in ("Mn", "Me")


@lru_cache(maxsize=1)
def _tables() -> tuple[dict[int, str | None], dict[int, str | None], dict[str, str], frozenset[str]]:
    """(clean table, match table, leet map, leet KEEP characters), built once."""
    folder = DATA_DIR / "normalize"
    clean_table, _ = load_table(folder / "clean.tsv")
    for cp in range(0x3001):  # no whitespace character lies above U+3000
        if cp != 0x20 and cp not in clean_table and chr(cp).isspace():
            clean_table[cp] = " "
    match_table = dict(clean_table)
    for name in ("arabic_letters.tsv", "homoglyphs.tsv", "emoji_letters.tsv", "punctuation.tsv"):
        table, _ = load_table(folder / name)
        for cp, target in table.items():
            if cp in match_table:
                raise ConfigError(f"{folder / name}: {chr(cp)!r} is already mapped by another table")
            match_table[cp] = target
    # Accented Latin, Greek and Cyrillic letters: drop the marks Unicode's own decomposition gives,
    # then fold the base letter like the tables above (ά → α → a). Generated, not listed.
    for lo, hi in ((0x00C0, 0x024F), (0x0370, 0x04FF), (0x1E00, 0x1FFF)):
        for cp in range(lo, hi + 1):
            ch = chr(cp)
            if cp in match_table:
                continue
            base = "".join(c for c in unicodedata.normalize("NFD", ch) if not _is_mark(c))
            if base == ch or not base:
                continue
            folded = "".join(match_table.get(ord(c), c) or "" for c in base.casefold())
            if folded.isascii() and folded.isalpha():
                match_table[cp] = folded
    # Every remaining combining mark (Latin accents left by casefold, e.g. İ → i + U+0307). Marks
    # live in planes 0, 1 and 14 (variation selectors supplement).
    for cp in (*range(0x20000), *range(0xE0000, 0xE1000)):
        if cp not in match_table and unicodedata.category(chr(cp)) in ("Mn", "Me"):
            match_table[cp] = None
    for name, table in (("clean", clean_table), ("match", match_table)):
        for target in table.values():  # one pass must be final, or normalizing twice would differ
            if target and any(ord(c) in table and table[ord(c)] != c for c in target):
                raise ConfigError(f"{folder}: {name} table maps to {target!r}, which it maps again")
    leet_table, leet_keep = load_table(folder / "leet.tsv")
    leet = {chr(cp): t or "" for cp, t in leet_table.items()}
    return clean_table, match_table, leet, frozenset(chr(cp) for cp in leet_keep)


@lru_cache(maxsize=1)
def _arabizi_words_with_digits() -> frozenset[str]:
    """Arabizi words that contain leet digits (ma3a); leet folding leaves them alone."""
    path = DATA_DIR / "language" / "arabizi_words.tsv"
    words = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        word = line.split("\t", 1)[0].strip().casefold()
        if word and not line.startswith("#") and any(c.isdigit() for c in word):
            words.add(word)
    return frozenset(words)


# ---------------------------------------------------------------- steps

class _Step(ABC):
    """One normalization step: ``apply`` for speed, ``tracked`` for the offset map.

    ``tracked(s)`` returns the same text as ``apply(s)`` plus, per output character, the [a, b)
    span of ``s`` it came from (two lists, non-decreasing).
    """

    @abstractmethod
    def apply(self, s: str) -> str:
        """The step's output text."""

    @abstractmethod
    def tracked(self, s: str) -> tuple[str, list[int], list[int]]:
        """The step's output text and, per output character, its source span."""

    def one_to_one(self, s: str) -> bool:
        """True when each character of ``s`` becomes exactly one character: spans are unchanged."""
        return False


class _Nfkc(_Step):
    def apply(self, s: str) -> str:
        return s if s.isascii() else unicodedata.normalize("NFKC", s)

    def tracked(self, s: str) -> tuple[str, list[int], list[int]]:
        expected = self.apply(s)
        a_list: list[int] = []
        b_list: list[int] = []
        i, n, pos = 0, len(s), 0
        while i < n:
            # A group is a starter and its combining marks, grown by whole groups until its NFKC
            # is what the whole-string NFKC has at this place (Hangul jamo, composing starters).
            k = _next_starter(s, i + 1)
            while True:
                piece = unicodedata.normalize("NFKC", s[i:k])
                if k >= n or (expected.startswith(piece, pos)
                              and _starts_next(expected, pos + len(piece), s, k)):
                    break
                k = _next_starter(s, k + 1)
            a_list.extend([i] * len(piece))
            b_list.extend([k] * len(piece))
            pos += len(piece)
            i = k
        if pos != len(expected) or len(a_list) != len(expected):
            # Should not happen; fall back to a coarse but correct map.
            return expected, [0] * len(expected), [n] * len(expected)
        return expected, a_list, b_list


def _next_starter(s: str, j: int) -> int:
    while j < len(s) and unicodedata.combining(s[j]):
        j += 1
    return j


def _starts_next(expected: str, pos: int, s: str, k: int) -> bool:
    """True if the NFKC of the group starting at s[k] begins expected[pos:]."""
    nxt = unicodedata.normalize("NFKC", s[k:_next_starter(s, k + 1)])
    return expected.startswith(nxt[:1], pos)


class _Casefold(_Step):
    def apply(self, s: str) -> str:
        return s.casefold()

    def tracked(self, s: str) -> tuple[str, list[int], list[int]]:
        return _per_char(s, str.casefold)

    def one_to_one(self, s: str) -> bool:
        return s.isascii()      # ASCII case folding is lower(): one letter for one letter


class _Translate(_Step):
    def __init__(self, table: dict[int, str | None]):
        self.table = table
        # Most texts hold no key at all (English; French at the clean level): a character-class
        # search is far cheaper than translating. A class of many ranges is slow to search, so
        # the big match table only gets the ASCII check. Same result either way.
        self.ascii_hit = _char_class({cp: t for cp, t in table.items() if cp < 0x80})
        self.hit = _char_class(table, max_ranges=100)
        # keys that delete a character or write several: only they make the offset map move
        uneven = {cp: t for cp, t in table.items() if t is None or len(t) != 1}
        self.all_even = not uneven
        self.uneven = _char_class(uneven)      # None also when the class would be too big

    def apply(self, s: str) -> str:
        if s.isascii():
            return s.translate(self.table) if self.ascii_hit and self.ascii_hit.search(s) else s
        return s.translate(self.table) if self.hit is None or self.hit.search(s) else s

    def tracked(self, s: str) -> tuple[str, list[int], list[int]]:
        table = self.table
        return _per_char(s, lambda c: table.get(ord(c), c) or "")

    def one_to_one(self, s: str) -> bool:
        if self.all_even:
            return True
        return self.uneven is not None and self.uneven.search(s) is None


def _char_class(code_points: dict[int, str | None], max_ranges: int = 1000) -> re.Pattern[str] | None:
    """A regex matching any one of ``code_points``, written as ranges (None: none, or too many)."""
    ranges: list[list[int]] = []
    for cp in sorted(code_points):
        if ranges and cp == ranges[-1][1] + 1:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp])
    if not ranges or len(ranges) > max_ranges:
        return None
    parts = "".join(f"\\U{lo:08x}" if lo == hi else f"\\U{lo:08x}-\\U{hi:08x}" for lo, hi in ranges)
    return re.compile(f"[{parts}]")


def _per_char(s: str, fn: Callable[[str], str]) -> tuple[str, list[int], list[int]]:
    out: list[str] = []
    a_list: list[int] = []
    b_list: list[int] = []
    for i, ch in enumerate(s):
        r = fn(ch)
        out.append(r)
        a_list.extend([i] * len(r))
        b_list.extend([i + 1] * len(r))
    return "".join(out), a_list, b_list


class _CollapseSpaces(_Step):
    """Whitespace runs → one space; leading and trailing whitespace removed."""

    def apply(self, s: str) -> str:
        return " ".join(s.split())

    def tracked(self, s: str) -> tuple[str, list[int], list[int]]:
        out: list[str] = []
        a_list: list[int] = []
        b_list: list[int] = []
        gap_start = -1
        for i, ch in enumerate(s):
            if ch.isspace():
                if gap_start < 0:
                    gap_start = i
                continue
            if gap_start >= 0 and out:
                out.append(" ")
                a_list.append(gap_start)
                b_list.append(i)
            gap_start = -1
            out.append(ch)
            a_list.append(i)
            b_list.append(i + 1)
        return "".join(out), a_list, b_list


class _Renormalize(_Nfkc):
    """Deleting invisible characters can put composable characters side by side; redo NFKC then."""

    def apply(self, s: str) -> str:
        if s.isascii() or unicodedata.is_normalized("NFKC", s):
            return s
        return unicodedata.normalize("NFKC", s)


class _RegexStep(_Step):
    """Replace each match of ``pattern`` with the pieces ``pieces(match)`` returns."""

    def __init__(self, pattern: re.Pattern[str], pieces: Callable[[re.Match[str]], Pieces]):
        self.pattern = pattern
        self.pieces = pieces

    def apply(self, s: str) -> str:
        pieces = self.pieces
        return self.pattern.sub(lambda m: "".join(p for p, _, _ in pieces(m)), s)

    def tracked(self, s: str) -> tuple[str, list[int], list[int]]:
        out: list[str] = []
        a_list: list[int] = []
        b_list: list[int] = []
        last = 0
        for m in self.pattern.finditer(s):
            start = m.start()
            out.append(s[last:start])
            a_list.extend(range(last, start))
            b_list.extend(range(last + 1, start + 1))
            for text, a, b in self.pieces(m):
                out.append(text)
                a_list.extend([start + a] * len(text))
                b_list.extend([start + b] * len(text))
            last = m.end()
        out.append(s[last:])
        a_list.extend(range(last, len(s)))
        b_list.extend(range(last + 1, len(s) + 1))
        return "".join(out), a_list, b_list


def _is_arabic(ch: str) -> bool:
    return "\u0600" <= ch <= "\u06ff" or "\u0750" <= ch <= "\u077f" or "\u08a0" <= ch <= "\u08ff"


def _squeeze(items: Pieces) -> Pieces:
    """Squeeze runs of >= 3 equal single letters: Arabic to one letter, others to two."""
    out: Pieces = []
    i = 0
    while i < len(items):
        j = i + 1
        while j < len(items) and items[j][0] == items[i][0]:
            j += 1
        ch, first_a, first_b = items[i]
        last_b = items[j - 1][2]
        if j - i < 3:
            out.extend(items[i:j])
        elif _is_arabic(ch):
            out.append((ch, first_a, last_b))
        else:
            out.append((ch, first_a, first_b))
            out.append((ch, items[i + 1][1], last_b))
        i = j
    return out


_REPEAT = re.compile(r"(.)\1\1+")  # any character: faster than a letter class; non-letters kept


def _repeat_pieces(m: re.Match[str]) -> Pieces:
    items = [(c, i, i + 1) for i, c in enumerate(m.group())]
    return _squeeze(items) if m.group(1).isalpha() else items


_SPACED_SEPARATORS = " .-_*·•"
# Single letters joined by separators: spaces, or one punctuation mark with any spaces around it.
_SPACED = re.compile(r"(?<![^\W_])[^\W\d_](?:(?: *[.\-_*·•] *| +)[^\W\d_]){2,}(?![^\W_])")


def _spaced_pieces(m: re.Match[str]) -> Pieces:
    """Join spaced-out letters; two or more plain spaces split them into separate words.

    Split segments of three or more letters become words. Neighbouring segments of one or two
    letters are joined together when they add up to three or more letters, because once spaces
    are collapsed they would form a joinable run (normalizing twice must not change the text).
    """
    g = m.group()
    segments: list[Pieces] = [[]]
    prev_end = -1
    for i, c in enumerate(g):
        if c in _SPACED_SEPARATORS:
            continue
        sep = g[prev_end:i] if prev_end >= 0 else ""
        if len(sep) >= 2 and sep.strip(" ") == "":
            segments.append([])
        segments[-1].append((c, i, i + 1))
        prev_end = i + 1
    words: list[Pieces] = []
    group: Pieces = []  # consecutive short segments
    for seg in segments:
        if len(seg) >= 3:
            words.extend(_short_group(group))
            group = []
            words.append(_squeeze(seg))
        else:
            group.extend(seg)
    words.extend(_short_group(group))
    out: Pieces = []
    for word in words:
        if out:
            out.append((" ", out[-1][2], word[0][1]))
        out.extend(word)
    return out


def _short_group(letters: Pieces) -> list[Pieces]:
    """Short segments side by side: one word if they add up to 3+ letters, else single letters."""
    if len(letters) >= 3:
        return [_squeeze(letters)]
    return [[item] for item in letters]


_LONGEST_WORD = 40  # a longer "word" is a code, a hash or junk; also keeps 1 MB inputs linear


def _leet_pieces(m: re.Match[str]) -> Pieces:
    _, _, leet, keep = _tables()
    s, start, end = m.string, m.start(), m.end()
    identity = [(c, i, i + 1) for i, c in enumerate(m.group())]
    w0, w1 = _expand(s, start, end, lambda c: c.isalnum() or c in leet)  # the word around the run
    if w1 - w0 > _LONGEST_WORD:
        return identity
    word = s[w0:w1]
    if any(c in keep for c in word) or word in _arabizi_words_with_digits():
        return identity
    if end == w1 and not _leet_inside(word):
        return identity   # a digit ending a word ("mp3", "covid19") is leet only in a leet word ("h1jr4")
    c0, c1 = _expand(s, w0, w1, lambda c: not c.isspace())  # leave URLs and e-mail addresses alone
    chunk = s[c0:c1]
    if "://" in chunk or "www." in chunk or ("@" in chunk and "." in chunk[chunk.index("@"):]):
        return identity
    return [(leet[c], i, i + 1) for i, c in enumerate(m.group())]


def _expand(s: str, start: int, end: int, inside: Callable[[str], bool]) -> tuple[int, int]:
    """Grow [start, end) while ``inside`` holds, by at most _LONGEST_WORD + 1 characters a side."""
    lo, hi = start, end
    while lo > 0 and start - lo <= _LONGEST_WORD and inside(s[lo - 1]):
        lo -= 1
    while hi < len(s) and hi - end <= _LONGEST_WORD and inside(s[hi]):
        hi += 1
    return lo, hi


def _leet_pattern() -> re.Pattern[str]:
    # between letters (s4le), or ending a word (h1jr4: checked in _leet_pieces)
    chars = "".join(re.escape(c) for c in _tables()[2])
    digits = "".join(c for c in _tables()[2] if c.isdigit())
    return re.compile(rf"(?<=[a-z])(?:[{chars}]{{1,2}}(?=[a-z])|[{digits}](?!\w))")


@lru_cache(maxsize=1)
def _leet_inside_pattern() -> re.Pattern[str]:
    chars = "".join(re.escape(c) for c in _tables()[2])
    return re.compile(rf"[a-z][{chars}]{{1,2}}[a-z]")


def _leet_inside(word: str) -> bool:
    return _leet_inside_pattern().search(word) is not None


_clean_table, _match_table, _, _ = _tables()
_CLEAN_STEPS: tuple[_Step, ...] = (_Nfkc(), _Translate(_clean_table), _CollapseSpaces())
_MATCH_STEPS: tuple[_Step, ...] = (
    _Nfkc(), _Casefold(), _Translate(_match_table), _Renormalize(),
    _RegexStep(_leet_pattern(), _leet_pieces), _RegexStep(_REPEAT, _repeat_pieces),
    _RegexStep(_SPACED, _spaced_pieces), _CollapseSpaces(),
)


def _offset_map(nt: NormalizedText) -> tuple[list[int], list[int]]:
    """Replay the steps of ``nt.level`` on ``nt.original``, composing each step's spans."""
    n = len(nt.original)
    starts, ends = list(range(n)), list(range(1, n + 1))
    if nt.level is None:
        if nt.text != nt.original:
            raise ValueError("this NormalizedText was not made by normalize(); it has no offset map")
        return starts, ends
    s = nt.original
    for step in _MATCH_STEPS if nt.level == "match" else _CLEAN_STEPS:
        out = step.apply(s)
        if out == s:
            continue
        if step.one_to_one(s):
            s = out
            continue
        tracked, a_list, b_list = step.tracked(s)
        if tracked != out:
            raise RuntimeError(f"{type(step).__name__}: tracked output differs from fast output")
        starts = [starts[a] for a in a_list]
        ends = [ends[b - 1] for b in b_list]
        s = out
    if s != nt.text:
        raise RuntimeError("replaying normalization did not give the same text")
    return starts, ends
