"""Incremental grooming state of one conversation: constant work per message, bounded memory.

A platform feeds messages as they arrive (:meth:`ConversationState.update`) and asks for
the risk at any time (:meth:`ConversationState.score`), so it can step in while the
conversation is still going on. The state keeps, per sender, counters and the index of
the first message of every stage, a few facts about ages and relationships, and a bounded
list of evidence (the first ``EVIDENCE_PER_STAGE`` hits of each stage). Nothing grows with
the length of the conversation: a chat of 100,000 messages takes the same memory as one of
ten. At most ``MAX_SENDERS`` senders are tracked one by one; any further sender of a large
group shares one "other" slot.

Per message the work is: normalize the text (capped at ``MAX_CHARS``), one pass of the
language's Aho-Corasick automaton, and, only when the text has a digit, entity extraction.

>>> st = ConversationState("c1", lang="en")
>>> for who, text in [("a", "how old are you?"), ("b", "13"), ("a", "don't tell your parents")]:
...     st.add(who, text)
>>> sorted(st.reached())
['age_signal', 'isolation']
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from haris.detect.conversation.lexicon import STAGES, Hit, lexicon_for, supported_languages
from haris.text.normalize import for_matching

MAX_CHARS = 4000             # of one message's text that is matched (chat messages are short)
MAX_SENDERS = 6              # private chats and small groups; more senders share one slot
OTHER = "\x00other"
EVIDENCE_PER_STAGE = 2       # first hits of each stage kept as evidence (bounded memory)
EVIDENCE_CHARS = 80          # of an evidence span's text kept
LANG_BUFFER = 400            # characters of the first messages used to identify the language
LANG_MIN_LETTERS = 40
ADULT_AGE = 18
QUESTION_REPLIES = 3         # messages by others that may answer "how old are you?"
_STAGE_INDEX = {s: i for i, s in enumerate(STAGES)}
_DIGIT = re.compile(r"\d")
_AGE_SIGNAL = _STAGE_INDEX["age_signal"]
_REQUESTS = _STAGE_INDEX["requests"]


def _extractor():
    """haris.text.extract.extract when that stage is installed, else None (ages then come from lexicon cues)."""
    try:
        from haris.text.extract import extract
    except ImportError:
        return None
    return extract


_EXTRACT = _extractor()


class SenderStats:
    """What one sender has said so far, as counters (no text is kept)."""

    __slots__ = ("key", "messages", "stage_w", "stage_first", "minor_cues", "adult_cues", "self_age",
                 "told_age", "grades", "family", "institution", "protective", "threats", "age_questions")

    def __init__(self, key: str):
        self.key = key
        self.messages = 0
        self.stage_w = [0.0] * len(STAGES)      # weighted hits per stage
        self.stage_first = [-1] * len(STAGES)   # index of the first message of each stage
        self.minor_cues = 0.0                   # "my mom", "homework": the sender is probably a minor
        self.adult_cues = 0.0                   # "my wife", "at work": probably an adult
        self.self_age: int | None = None        # the highest age the sender gave for themself
        self.told_age: int | None = None        # an age others gave the sender ("you're only 14")
        self.grades = 0                         # school grades the sender gave for themself
        self.family = 0                         # family relationship cues (mom, uncle...)
        self.institution = 0                    # school or club cues (teacher, coach...)
        self.protective = 0                     # transparency and safety talk
        self.threats = 0
        self.age_questions = 0

    def age(self) -> int | None:
        return self.self_age if self.self_age is not None else self.told_age

    def minor_evidence(self) -> float:
        """How strongly what was said marks this sender as a minor (≤ 0: not a minor)."""
        age = self.age()
        if age is not None:
            return 3.0 if age < ADULT_AGE else -3.0
        return 2.0 * min(self.grades, 1) + min(self.minor_cues, 3.0) - 2.0 * min(self.adult_cues, 2.0)

    def grooming_weight(self) -> float:
        return sum(w for i, w in enumerate(self.stage_w) if i != _AGE_SIGNAL) + 2.0 * self.threats


@dataclass(slots=True)
class EvidenceItem:
    """One hit kept as evidence; ``start``/``end`` are offsets in the message's original text."""

    message_index: int
    message_id: str | None
    sender: str
    stage: str
    kind: str          # lexicon | entity | reply (a number answering "how old are you?")
    cue: str           # the lexicon entry or the entity kind
    start: int
    end: int
    text: str


class ConversationState:
    """The grooming state of one conversation, updated one message at a time."""

    def __init__(self, conversation_id: str | None = None, *, lang: str | None = None):
        """``lang``: the conversation's language when the caller knows it; None (or "und") to identify it."""
        lang = None if lang in (None, "", "und") else lang
        self.conversation_id = conversation_id
        self.n = 0
        self.n_hits = 0            # messages that changed the evidence: the score can only move then
        self.senders: dict[str, SenderStats] = {}
        self.evidence: list[EvidenceItem] = []
        self._evidence_count = [0] * len(STAGES)
        self._supported = supported_languages()
        self.lang: str | None = lang
        self.unsupported: str | None = None if lang is None or lang in self._supported else lang
        self._lang_buffer: list[str] = []
        self._lang_chars = 0
        self._letters = 0
        self._next_check = LANG_MIN_LETTERS
        self._pending_question: str | None = None   # who asked "how old are you" last
        self._pending_left = 0                       # replies by others that may still answer it
        self.last_time: datetime | None = None
        self.out_of_order = 0
        self.unknown_senders = 0
        self.sextortion = False

    # ------------------------------------------------------------------ feeding
    def update(self, message: Any) -> None:
        """Add a :class:`haris.model.Message` (or anything with author_id, text, id, time)."""
        self.add(getattr(message, "author_id", None), getattr(message, "text", "") or "",
                 message_id=getattr(message, "id", None), time=getattr(message, "time", None))

    def add(self, sender: str | None, text: str, *, message_id: str | None = None,
            time: datetime | None = None) -> None:
        """Add one message by ``sender`` (None when the platform did not say who)."""
        idx = self.n
        self.n += 1
        if time is not None:
            if self.last_time is not None and _before(time, self.last_time):
                self.out_of_order += 1
            else:
                self.last_time = time
        if sender is None:
            self.unknown_senders += 1
            sender = "\x00unknown"
        s = self._sender(str(sender))
        s.messages += 1
        text = text if isinstance(text, str) else str(text)
        text = text[:MAX_CHARS]
        if text.strip():
            langs = self._languages_for(text)
            if langs:
                self._read(idx, message_id, s, text, langs)
        if self._pending_question is not None and self._pending_question != s.key:
            self._pending_left -= 1
            if self._pending_left <= 0:
                self._pending_question = None

    def _sender(self, key: str) -> SenderStats:
        s = self.senders.get(key)
        if s is None:
            if len(self.senders) >= MAX_SENDERS and key != OTHER:
                return self._sender(OTHER)
            s = self.senders[key] = SenderStats(key)
        return s

    def _addressee(self, s: SenderStats) -> SenderStats | None:
        """Whom ``s`` is speaking to: the only other sender, else one already marked as a minor, else the busiest."""
        others = [o for o in self.senders.values() if o is not s]
        if len(others) == 1:
            return others[0]
        marked = [o for o in others if o.minor_evidence() > 0]
        if marked:
            return max(marked, key=lambda o: o.minor_evidence())
        return max(others, key=lambda o: o.messages, default=None)

    def _languages_for(self, text: str) -> tuple[str, ...]:
        """Which lexicons read this message: the conversation's language once known, else all."""
        if self.lang is None:
            self._identify(text)
        if self.unsupported is not None:
            return ()
        if self.lang is not None:
            if self.lang != "ar" and "ar" in self._supported and _has_arabic(text):
                return (self.lang, "ar")   # an Arabic line in a French or English chat
            return (self.lang,)
        return self._supported

    def _identify(self, text: str) -> None:
        """Identify the conversation's language from its first messages, at most three times.

        Short chat lines say little, so the first lines are pooled (up to ``LANG_BUFFER``
        characters) and identified when they hold 40, then 160 letters, and when the buffer
        is full; the first confident answer sticks. Until then every lexicon reads.
        """
        if self._lang_chars >= LANG_BUFFER:
            return
        piece = text[:LANG_BUFFER - self._lang_chars]
        self._lang_buffer.append(piece)
        self._lang_chars += len(piece)
        self._letters += sum(ch.isalpha() for ch in piece)
        full = self._lang_chars >= LANG_BUFFER
        if self._letters < self._next_check and not full:
            return
        self._next_check = LANG_MIN_LETTERS * 4 if self._next_check == LANG_MIN_LETTERS else LANG_BUFFER * 10
        from haris.text.language import identify

        result = identify("\n".join(self._lang_buffer))
        if result.lang in self._supported:
            self.lang = result.lang
        elif result.lang != "und" and (result.confidence >= 0.5 or full):
            self.lang = self.unsupported = result.lang
        if self.lang is not None or full:
            self._lang_buffer = []
            self._lang_chars = LANG_BUFFER   # decided, or nothing to decide on: stop trying

    # ------------------------------------------------------------------ reading one message
    def _read(self, idx: int, message_id: str | None, s: SenderStats, text: str, langs: tuple[str, ...]) -> None:
        norm = for_matching(text)
        key = norm.text
        hits: list[Hit] = []
        for lang in langs:
            hits.extend(lexicon_for(lang).match(key))
        if len(langs) > 1:
            hits.sort(key=lambda h: h.start)
        third_party = any(h.section == "third_party" for h in hits) if hits else False
        answering = self._pending_question not in (None, s.key)
        about = _about(key, hits, answering, third_party)
        age_found = False
        if "?" in key or "؟" in key:   # "still in middle school?" asks the age as much as "how old are you?"
            if any(h.section == "age_signal" for h in hits):
                self._pending_question, self._pending_left = s.key, QUESTION_REPLIES
        for h in hits:
            sec = h.section
            if sec in _STAGE_INDEX:
                self._stage(idx, message_id, s, _STAGE_INDEX[sec], h, norm)
            elif sec == "threat":
                s.threats += 1
                self.sextortion = True
                self._stage(idx, message_id, s, _REQUESTS, h, norm)
            elif sec == "minor_self" and not third_party:
                s.minor_cues += h.weight
                self._stage(idx, message_id, s, _AGE_SIGNAL, h, norm, count=False)
            elif sec == "adult_self":
                s.adult_cues += h.weight
            elif sec == "age_question":
                s.age_questions += 1
                self._pending_question, self._pending_left = s.key, QUESTION_REPLIES
            elif sec in ("age_self", "age_other"):
                number = _number_after(key, h.end, hits)
                if number is None or not 5 <= number[0] <= 90:
                    continue
                age = number[0]
                if sec == "age_self" and not third_party:
                    s.self_age = age if s.self_age is None else max(s.self_age, age)
                    age_found = True
                elif sec == "age_other":
                    o = self._addressee(s)
                    if o is not None:
                        o.told_age = age if o.told_age is None else min(o.told_age, age)
                if age < ADULT_AGE:
                    self._stage(idx, message_id, s, _AGE_SIGNAL, h, norm, span=(h.start, number[2]))
            elif sec == "grade":
                if about == "self":
                    s.grades += 1
                elif about == "other" and (o := self._addressee(s)) is not None:
                    o.grades += 1
                self._stage(idx, message_id, s, _AGE_SIGNAL, h, norm)
            elif sec == "family":
                s.family += 1
            elif sec == "institution":
                s.institution += 1
            elif sec == "protective":
                s.protective += 1
        # A reply to "how old are you?" that starts with a number is the sender's own age.
        if not age_found and answering:
            number = _number_after(key, 0, hits)
            if number is not None and 5 <= number[0] <= 90:
                age = number[0]
                s.self_age = age if s.self_age is None else max(s.self_age, age)
                age_found = True
                if age < ADULT_AGE:
                    self._stage(idx, message_id, s, _AGE_SIGNAL, Hit("age_signal", "reply to an age question",
                                                                       number[1], number[2]), norm, kind="reply")
        if _EXTRACT is not None and _DIGIT.search(text):
            self._entities(idx, message_id, s, text, hits, age_found, about)
        # "13, u?" gives an age and asks for one back.
        if age_found and any(h.section == "reciprocal" for h in hits):
            self._pending_question, self._pending_left = s.key, QUESTION_REPLIES
        if hits or age_found:
            self.n_hits += 1

    def _entities(self, idx: int, message_id: str | None, s: SenderStats, text: str, hits: list[Hit],
                  age_found: bool, about: str) -> None:
        """Ages and prices from the extractor; an age is attributed like a grade (see :func:`_about`)."""
        try:
            entities = _EXTRACT(text, lang=self.lang, kinds=("age", "price"))
        except Exception:   # extraction must never stop a conversation from being scored
            return
        offer = any(h.section in ("compensation", "commercial", "requests") for h in hits)
        for e in entities:
            value = e.value
            if e.kind == "age" and isinstance(value, (int, float)) and not age_found:
                age = int(value)
                who = s if about == "self" else self._addressee(s) if about == "other" else None
                if who is s:
                    s.self_age = age if s.self_age is None else max(s.self_age, age)
                elif who is not None:
                    who.told_age = age if who.told_age is None else min(who.told_age, age)
                if age < ADULT_AGE:
                    self._stage_entity(idx, message_id, s, _AGE_SIGNAL, e, text)
                self.n_hits += 1
            elif e.kind == "price" and offer:
                self._stage_entity(idx, message_id, s, _STAGE_INDEX["compensation"], e, text, count=False)

    # ------------------------------------------------------------------ bookkeeping
    def _stage(self, idx: int, message_id: str | None, s: SenderStats, stage: int, h: Hit, norm,
               count: bool = True, span: tuple[int, int] | None = None, kind: str = "lexicon") -> None:
        """Count a hit of ``stage`` by ``s``; keep it as evidence while the stage has room."""
        if count:
            s.stage_w[stage] += h.weight
        if s.stage_first[stage] < 0 and (count or stage == _AGE_SIGNAL):
            s.stage_first[stage] = idx
        if self._evidence_count[stage] < EVIDENCE_PER_STAGE:
            start, end = norm.to_original(*(span or (h.start, h.end)))
            self._keep(EvidenceItem(idx, message_id, s.key, STAGES[stage], kind, h.term, start, end,
                                    norm.original[start:end][:EVIDENCE_CHARS]), stage)

    def _stage_entity(self, idx: int, message_id: str | None, s: SenderStats, stage: int, e: Any, text: str,
                      count: bool = True) -> None:
        if count:
            s.stage_w[stage] += 1.0
        if s.stage_first[stage] < 0:
            s.stage_first[stage] = idx
        if self._evidence_count[stage] < EVIDENCE_PER_STAGE:
            start, end = int(e.start), int(e.end)
            self._keep(EvidenceItem(idx, message_id, s.key, STAGES[stage], "entity", str(e.kind), start, end,
                                    text[start:end][:EVIDENCE_CHARS]), stage)

    def _keep(self, item: EvidenceItem, stage: int) -> None:
        self._evidence_count[stage] += 1
        self.evidence.append(item)

    # ------------------------------------------------------------------ reading the state
    def reached(self) -> dict[str, int]:
        """Stages reached so far and the index of the message where each began (any sender)."""
        out: dict[str, int] = {}
        for s in self.senders.values():
            for i, first in enumerate(s.stage_first):
                if first >= 0 and (STAGES[i] not in out or first < out[STAGES[i]]):
                    out[STAGES[i]] = first
        return out

    def score(self) -> float:
        """The calibrated risk now (see :mod:`haris.detect.conversation.scoring`)."""
        from haris.detect.conversation.scoring import assess

        return assess(self).score


def _before(a: datetime, b: datetime) -> bool:
    try:
        return a < b
    except TypeError:  # naive against aware: compare as if both were UTC
        return a.replace(tzinfo=None) < b.replace(tzinfo=None)


def _about(key: str, hits: list[Hit], answering: bool, third_party: bool) -> str:
    """Whose age or grade a message gives: "self", "other" (the addressee) or "third" (someone else).

    "my son is 12" → third; a reply to "how old are you?" → self; "13, and you?" → self;
    "you're in 8th grade?" / "at 12 you're already..." → other; a plain statement → self.
    """
    if third_party:
        return "third"
    if answering:
        return "self"
    sections = {h.section for h in hits}
    if "reciprocal" in sections:
        return "self"
    if "second_person" in sections or "age_other" in sections or "?" in key or "؟" in key:
        return "other"
    return "self"


def _has_arabic(text: str) -> bool:
    return any("\u0600" <= ch <= "\u06ff" for ch in text)


def _number_after(key: str, pos: int, hits: list[Hit]) -> tuple[int, int, int] | None:
    """(value, start, end) of the number at ``pos`` (after spaces and ": , - ~"), in digits or words."""
    n = len(key)
    while pos < n and key[pos] in " :,-~":
        pos += 1
    if pos < n and key[pos].isdigit():
        end = pos
        while end < n and key[end].isdigit() and end - pos < 3:
            end += 1
        if end < n and (key[end].isdigit() or key[end] in ":.h" and end + 1 < n and key[end + 1].isdigit()):
            return None   # a longer number, a time (4:30, 4h30) or a decimal
        return int(key[pos:end]), pos, end
    for h in hits:
        if h.section == "number" and h.start == pos and h.value is not None:
            return h.value, h.start, h.end
    return None


def deep_size(obj, seen: set[int] | None = None) -> int:
    """Bytes held by an object graph: what a platform keeps per open conversation state."""
    import sys

    seen = set() if seen is None else seen
    if id(obj) in seen or isinstance(obj, type):
        return 0
    seen.add(id(obj))
    size = sys.getsizeof(obj)
    if isinstance(obj, dict):
        size += sum(deep_size(k, seen) + deep_size(v, seen) for k, v in obj.items())
    elif isinstance(obj, (list, tuple, set, frozenset)):
        size += sum(deep_size(v, seen) for v in obj)
    else:
        for name in getattr(type(obj), "__slots__", ()) or ():
            if hasattr(obj, name):
                size += deep_size(getattr(obj, name), seen)
        if hasattr(obj, "__dict__"):
            size += deep_size(vars(obj), seen)
    return size
