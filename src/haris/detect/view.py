"""The view of one message that both message detectors read, built once.

:func:`view_of` matches the lexicons (head and tail of long messages), drops what is not a word
of the message (words inside links, other languages' false friends, cues quoted inside a
report), adds words that normalization glued from spaced letters and ages inferred from a bare
number after a person word, and gathers the extractor's entities (ages, prices, contacts). It is
cached for the last message per thread, so the second detector does not match again.

>>> from haris.text.analysis import analyse_text
>>> v = view_of(analyse_text("Woman (22) and her daughter (9), $3,700 for both"))
>>> sorted(int(y) for y, _ in v.ages), [h.entry.term for h in v.persons()]
([9, 22], ['woman', 'daughter'])
"""
from __future__ import annotations

import bisect
import itertools
import re
import threading
from dataclasses import dataclass, field
from typing import Any, Iterable

import regex

from haris.detect.lexicon import Hit, default_lexicon
from haris.text.analysis import AnalysedText

HEAD_CHARS, TAIL_CHARS = 48_000, 16_000  # lexicon matching reads at most the head and the tail of a message
CONTACT_KINDS = ("phone", "handle", "email", "url")
FRAMING_CATEGORIES = ("pejorative", "reporting", "research", "awareness", "counter", "history", "fiction",
                      "content_ref")

# A bare number right after a person word is that person's age: "girl 13", "woman (22)",
# "بنات جداد (13، 16، 17)", "girls, 14-16". The extractor (rightly) does not call a bare number an
# age; next to a person word, in an offer, it is one.
_AGE_AFTER_PERSON = re.compile(
    # one word between, when the ages are in parentheses: "بنات جداد (13، 16، 17)", not "girls school (12 classes)"
    r"(?:\s{1,2}[^\W\d_]{2,10}\s{0,2}\((?=[\s\d,،/\-و]{1,24}\)))?"
    r"\s{0,2}[,:]?\s{0,2}\(?\s{0,2}\d{1,2}(?![\d.,]?\d)"
    r"(?:\s{0,2}(?:[,،/\-]|to|and|et|a|و|ل|الى)\s{0,2}\d{1,2}(?![\d.,]?\d))*")
_NOT_AN_AGE_AFTER = re.compile(r"\s{0,2}(?:[$€£%k]|m\b|km|gb|go|kg|cm|h\b|x\b|\d)")
_DIGITS = re.compile(r"\d{1,2}")
# Letters written one by one ("s.a.l.e", "f o r", "ل ل ب ي ع"): normalization glues them back,
# sometimes with the next word ("s.a.l.e g.i.r.l" → "salegirl").
_SPACED_LETTERS = re.compile(r"(?:[^\W\d_][ .\-_*·•\u200b-\u200d]{1,3}){3,}[^\W\d_]")
_WORD = re.compile(r"\w{6,}")
_LINKISH = re.compile(r"\S*(?:://|www\.|\.[a-z]{2,7}/)\S*|@[\w.]+")


@dataclass(slots=True)
class InferredAge:
    """An age the detectors infer from a bare number after a person word (see _AGE_AFTER_PERSON)."""

    start: int
    end: int
    text: str
    value: int
    kind: str = "age"
    detail: dict = field(default_factory=lambda: {"inferred": True})


@dataclass(slots=True)
class MessageView:
    """What the detectors know about one message: lexicon hits by category, and entities."""

    analysed: AnalysedText
    text: str                                  # the matching text that ``hits`` point into
    hits: list[Hit]
    cats: dict[str, list[Hit]] = field(default_factory=dict)
    ages: list[tuple[float, Any]] = field(default_factory=list)     # (years, entity)
    prices: list[Any] = field(default_factory=list)
    contacts: list[Any] = field(default_factory=list)
    invites: int = 0                           # invite links (t.me/…, chat.whatsapp.com/…)
    quoted: list[tuple[int, int]] = field(default_factory=list)     # quoted regions of ``text``
    reported: int = 0   # cue hits dropped because they are quoted inside a report (see _drop_reported)
    goods_people: int = 0   # person words that only qualify goods ("baby clothes")
    _persons: list[Hit] | None = None
    # each policy's atoms and fired rules, computed once (haris.detect.features.policy_features)
    features: dict[str, tuple[dict[str, float], list[tuple[str, float]]]] = field(default_factory=dict)

    def has(self, *cats: str) -> bool:
        return not self.cats.keys().isdisjoint(cats)    # C-level: called ~30 times per candidate

    def count(self, cat: str) -> int:
        return len(self.cats.get(cat, ()))

    def original_span(self, hit: Hit) -> tuple[int, int]:
        """The hit's span in the ORIGINAL message text."""
        return self.analysed.norm.to_original(hit.start, hit.end)

    def persons(self) -> list[Hit]:
        """Person and captive references: pronouns and words that only qualify goods excluded."""
        if self._persons is None:
            goods = self.cats.get("goods", [])
            jobs = self.cats.get("job", [])
            self._persons = [h for c in ("person", "captive") for h in self.cats.get(c, ())
                             if not h.entry.attr("pronoun") and not (goods and qualifies_goods(self, h))
                             and not any(j.start <= h.start and h.end <= j.end for j in jobs)]
        return self._persons


_local = threading.local()


def view_of(analysed: AnalysedText) -> MessageView:
    """The view of ``analysed``, computed once per message.

    Cached for the last message per thread, and for every message of the chunk held by
    :func:`hold_views` (an engine asks for a whole chunk's views before scoring it message by
    message: see haris.detect.message.prefetch_embeddings).
    """
    last = getattr(_local, "last", None)
    if last is not None and last.analysed is analysed:
        return last
    held = getattr(_local, "held", None)
    key = id(analysed)
    if held is not None and key in held:
        v = held[key]
        if v is not None and v.analysed is analysed:
            _local.last = v
            return v
    v = _build(analysed)
    _local.last = v
    if held is not None and key in held:
        held[key] = v
    return v


def hold_views(chunk: Iterable[AnalysedText]) -> None:
    """Keep the views of the messages of ``chunk`` (this thread) until the next call.

    Only those messages: a caller that goes on one message at a time afterwards holds nothing more.
    """
    _local.held = {id(a): None for a in chunk}


def _build(a: AnalysedText) -> MessageView:
    text = a.norm.text
    lex = default_lexicon()
    if len(text) <= HEAD_CHARS + TAIL_CHARS:
        hits = lex.match(text)
    else:
        # A very long message (spam, a pasted book): the offer or the call is in its head or its
        # tail; matching both keeps the time per message bounded whatever its length.
        cut = len(text) - TAIL_CHARS
        hits = lex.match(text[:HEAD_CHARS]) + [
            Hit(h.entry, h.start + cut, h.end + cut, h.plural_s) for h in lex.match(text[cut:])]
    hits = lex.drop_false_friends(hits, text, a.lang)
    if _SPACED_LETTERS.search(a.original[:HEAD_CHARS]):
        hits = _with_glued(a, text, hits)
    # words inside links and handles are not words of the message (t.me/example_annonces)
    if "/" in text or "@" in text:
        links = [(m.start(), m.end()) for m in _LINKISH.finditer(text)]
        if links:
            hits = [h for h in hits if not any(a <= h.start and h.end <= b for a, b in links)]
    # goods words inside a person or control phrase are not goods ("employée de MAISON", "n'a pas de
    # TÉLÉPHONE"), a captive or person word inside a charity phrase is not one ("sadaqa JARIYA": a
    # charity that goes on giving), nor control inside a lawful job phrase ("chacun garde SON PASSEPORT")
    hits = _drop_inside(hits, ("person", "captive", "control"), ("goods",))
    hits = _drop_inside(hits, ("charity",), ("person", "captive"))
    hits = _drop_inside(hits, ("job",), ("control",))
    quoted = _quoted_regions(text)
    embedded = _embedded_regions(text, hits)
    if embedded:
        both = quoted + embedded
        if any(h.entry.category in FRAMING_CATEGORIES and not inside(h, both) for h in hits):
            quoted = sorted(both)
    v = MessageView(a, text, hits, quoted=quoted)
    if quoted:
        _drop_reported(v)
    for h in v.hits:
        v.cats.setdefault(h.entry.category, []).append(h)
    n = len(text)   # an embedded region may run to the end of the text (no closing mark)
    dropped = _Regions([a.norm.to_original(s, min(e + 1, n)) for s, e in quoted] if v.reported else [])
    for e in a.entities:
        kind = e.kind
        if dropped and dropped.holds(e.start, e.end):
            continue  # quoted inside a report
        if kind == "age":
            years = _number(e.value)
            if years is not None:
                v.ages.append((years, e))
        elif kind == "price":
            v.prices.append(e)
        elif kind in CONTACT_KINDS:
            v.contacts.append(e)
    v.ages.extend((float(x.value), x) for x in _inferred_ages(v))
    v.invites = sum(1 for ln in a.links if ln.kind == "invite")
    return v


class _Regions:
    """Spans (start, end) of the original text; ``holds(s, e)``: one of them has start < s and e <= end.

    In O(log n) a question (a megabyte of repeated quotes has thousands of entities to test): among
    the spans that start before ``s``, the one that reaches furthest decides.
    """

    def __init__(self, spans: list[tuple[int, int]]):
        spans = sorted(spans)
        self.starts = [a for a, _ in spans]
        self.reach = list(itertools.accumulate((b for _, b in spans), max))

    def __bool__(self) -> bool:
        return bool(self.starts)

    def holds(self, start: int, end: int) -> bool:
        k = bisect.bisect_left(self.starts, start)   # the spans [0, k) start before ``start``
        return k > 0 and self.reach[k - 1] >= end


def _with_glued(a: AnalysedText, text: str, hits: list[Hit]) -> list[Hit]:
    """Add hits found inside words that normalization glued from spaced letters (see match_glued)."""
    lex = default_lexicon()
    covered = [(h.start, h.end) for h in hits]
    extra: list[Hit] = []
    for m in _WORD.finditer(text, 0, HEAD_CHARS):
        if any(s <= m.start() and m.end() <= e for s, e in covered):
            continue
        s, e = a.norm.to_original(m.start(), m.end())
        if e - s < 1.5 * (m.end() - m.start()):
            continue  # written as one word: not glued
        extra.extend(lex.match_glued(m.group(), m.start()))
    if not extra:
        return hits
    return sorted(hits + extra, key=lambda h: (h.start, h.start - h.end))


# 'single quotes' as quotation marks: an opening mark after a space or bracket and before a
# letter, a closing one after a non-space and before a space or punctuation; an apostrophe inside
# a word ("it's", "l'État") is neither
_SINGLE_OPEN = regex.compile(r"(?<=^|[\s(\[:])'(?=[\p{L}\p{N}])")
_SINGLE_CLOSE = regex.compile(r"(?<=\S)'(?=$|[\s.,;:!?)\]…])")


def _quoted_regions(text: str) -> list[tuple[int, int]]:
    regions: list[tuple[int, int]] = []
    head = text[:HEAD_CHARS]
    if '"' in head:
        qs = [i for i, ch in enumerate(head) if ch == '"'][:200]
        regions = [(qs[i], qs[i + 1]) for i in range(0, len(qs) - 1, 2)]
    if "'" in head:
        closes = [m.start() for m in _SINGLE_CLOSE.finditer(head)][:200]
        at = -1
        for m in _SINGLE_OPEN.finditer(head):
            if m.start() <= at:
                continue
            k = bisect.bisect_right(closes, m.start() + 1)
            if k == len(closes):
                break
            end = closes[k]
            regions.append((m.start(), end))
            at = end
            if len(regions) >= 100:
                break
    return regions


_PARENTHESES = re.compile(r"\(([^()]{20,300})\)")
_LABEL_COLON = re.compile(r"(?:\s{1,2}\w{1,10})?\s{0,2}:")   # "Ad text:", "Ad text again:"
_EMBED_END = re.compile(r"[.!?](?=\s|$)|\n")
MAX_EMBEDDED = 300   # characters of content after a label ("Ad text: …")
MAX_EMBEDDED_REGIONS = 100


def _embedded_regions(text: str, hits: list[Hit]) -> list[tuple[int, int]]:
    """Content a message embeds without quotation marks: a parenthesis of four words or more
    ("the pinned post (opening bid 380 dollars, girl 13, …) chills"), and what follows a label
    that names a piece of content ("Ad text: Boy 5, …", "نص الإعلان: …") up to the end of its
    sentence. They count as quoted only when a framing cue stands outside them (see _build), so
    an advert's own parentheses ("new girls (14 and 16, prices by DM)") stay what they are.
    """
    head = text[:HEAD_CHARS]
    regions = [(m.start(), m.end() - 1) for m in _PARENTHESES.finditer(head) if len(m.group(1).split()) >= 4][:MAX_EMBEDDED_REGIONS]
    for h in hits:
        if len(regions) >= MAX_EMBEDDED_REGIONS:
            break   # a message of repeated labels: the checks against every hit stay bounded
        if h.entry.category != "content_ref" or h.end >= len(head):
            continue
        m = _LABEL_COLON.match(head, h.end)
        if m:
            start = m.end() - 1
            end = _EMBED_END.search(head, m.end() + 1, start + MAX_EMBEDDED)
            regions.append((start, end.start() if end else min(len(head), start + MAX_EMBEDDED)))
    return regions


def _drop_inside(hits: list[Hit], holders: tuple[str, ...], dropped: tuple[str, ...]) -> list[Hit]:
    """The hits, without those of the ``dropped`` categories lying strictly inside a hit of ``holders``.

    By bisect over the holders' starts (with the running maximum of their ends), so that a long
    spam with thousands of both stays linear-logarithmic.
    """
    spans = sorted((h.start, h.end) for h in hits if h.entry.category in holders)
    if not spans:
        return hits
    starts = [a for a, _ in spans]
    reach = list(itertools.accumulate((b for _, b in spans), max))   # the furthest end of the first i+1 holders

    def held(h: Hit) -> bool:
        before = bisect.bisect_left(starts, h.start)     # holders starting strictly before the hit
        if before and reach[before - 1] >= h.end:
            return True
        return any(spans[i][1] > h.end for i in range(before, bisect.bisect_right(starts, h.start)))

    return [h for h in hits if h.entry.category not in dropped or not held(h)]


def inside(h: Hit, regions: list[tuple[int, int]]) -> bool:
    """Whether a hit lies within one of ``regions`` (the test :class:`_Regions` answers by bisect for
    the many entities of a long message; a message has few hits per region, so a scan does here)."""
    return any(a < h.start and h.end <= b for a, b in regions)


def _drop_reported(v: MessageView) -> None:
    """Quoted words in a message that reports, studies or warns are the quoted ad, not an ad.

    When a framing cue (reporting, research, awareness, counter-speech, history) stands OUTSIDE
    the quotes, the cue hits and entities inside them are dropped: "Investigators said one post
    read “for sale, 12 years old, $12,500”" is about an ad. Without framing outside, a quote is
    just emphasis (“dates”) and everything is kept.
    """
    framing = [h for h in v.hits if h.entry.category in FRAMING_CATEGORIES and not inside(h, v.quoted)]
    if not framing:
        return
    kept = [h for h in v.hits if h.entry.category in FRAMING_CATEGORIES or not inside(h, v.quoted)]
    v.reported = len(v.hits) - len(kept)
    v.hits = kept


def _inferred_ages(v: MessageView) -> list[InferredAge]:
    taken = [(e.start, e.end) for e in v.analysed.entities]
    out: list[InferredAge] = []
    # "she's 14": a contracted pronoun is followed by the person's age as well
    subjects = v.persons() + [h for h in v.cats.get("person", ()) if h.entry.attr("pronoun") and
                              h.entry.term.endswith("'s")]
    for h in subjects[:32]:
        m = _AGE_AFTER_PERSON.match(v.text, h.end, h.end + 32)
        if not m or _NOT_AN_AGE_AFTER.match(v.text, m.end()):
            continue
        for d in _DIGITS.finditer(v.text, m.start(), m.end()):
            s, e = v.analysed.norm.to_original(d.start(), d.end())
            if any(s < te and ts < e for ts, te in taken) or not 0 < int(d.group()) < 80:
                continue
            taken.append((s, e))
            out.append(InferredAge(s, e, v.analysed.original[s:e], int(d.group())))
    return out


def _number(value: Any) -> float | None:
    """A number out of an entity value (a number, or a dict/object with one)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    for name in ("years", "value", "amount", "age", "min", "low"):
        v = value.get(name) if isinstance(value, dict) else getattr(value, name, None)
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return float(v)
    return None


_LIST_PUNCT = frozenset(",،;؛:|/+-—–()[]\n•·")


def qualifies_goods(v: MessageView, p: Hit) -> bool:
    """A person word that only qualifies goods: "baby clothes", "the kids' bikes", "vélos des enfants".

    The goods word and the person word overlap or are at most two short words apart, with no list
    punctuation, emoji or joiner ("and", "et", "و", "with") between them, and the message does not
    offer an exchange (then the goods are what the person is swapped for). A person LISTED next to
    goods ("car, furniture and the maid (29)", "🐑 lambs 🚗 car 👧 girl 13") is not one.
    """
    if not p.entry.key[0].isalnum():
        return False  # an emoji person stands on its own
    text = v.text
    # In a swap the goods are the counter-value, not what the person word describes: "my maid for
    # a car", "ma bonne contre une voiture". Only a compound ("baby clothes") still qualifies.
    swap = v.has("exchange")
    for g in v.cats.get("goods", [])[:32]:
        if g.start < p.end and p.start < g.end:
            return True  # "baby clothes" contains "baby"
        a, b = (g.end, p.start) if g.end <= p.start else (p.end, g.start)
        if swap and text[a:b].strip():
            continue
        if b - a > 14:
            continue
        gap = text[a:b]
        if any(ch in _LIST_PUNCT or not (ch.isalnum() or ch in " '") for ch in gap):
            continue
        if len(gap.split()) > 2 or any(a <= j.start and j.end <= b for j in v.cats.get("joiner", ())):
            continue
        if p.start > 0 and text[p.start - 1] == "و" and p.start - 1 >= a:
            continue  # Arabic "و" glued to the person word: a list
        return True
    return False
