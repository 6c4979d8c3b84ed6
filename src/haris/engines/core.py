"""The one analysis core that every engine calls.

Given messages, return what haris thinks of each: the analysed text and the
signals of every message-level detector. The local engine, the stream worker
and the Spark job all call :meth:`Analyzer.analyse` or :meth:`Analyzer.analyse_many`
(the same results, a chunk at a time so that the sentence encoder runs in
batches); no engine has logic of its own, which is why they give identical results.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Iterator, Sequence, TypeVar

from haris.detect.base import Detector, Signal
from haris.model import Message
from haris.text.analysis import AnalysedText, analyse_message


ANALYSE_CHUNK = 256   # messages analysed together, so the sentence encoder runs in batches
T = TypeVar("T")


def in_chunks(items: Iterable[T], size: int = ANALYSE_CHUNK) -> Iterator[list[T]]:
    """Consecutive lists of at most ``size`` items (the last one may be shorter; none is empty)."""
    chunk: list[T] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


@dataclass(slots=True)
class ItemResult:
    message: Message
    analysed: AnalysedText
    signals: list[Signal] = field(default_factory=list)

    def top(self) -> Signal | None:
        return max(self.signals, key=lambda s: s.score, default=None)


def bank_matcher(store) -> Detector | None:
    """The hash/text/URL bank matcher when the store has enabled banks (matching needs the store)."""
    from haris.match.banks import BankStore

    if not BankStore(store).list_banks(enabled_only=True):
        return None
    from haris.match.matcher import Matcher

    return Matcher(store)


class Analyzer:
    """Run the text stage and every message detector over messages."""

    def __init__(self, detectors: Sequence[Detector] | None = None, *, store=None):
        if detectors is None:
            from haris.detect.registry import message_detectors

            detectors = message_detectors()
            matcher = bank_matcher(store) if store is not None else None
            if matcher is not None:
                detectors.append(matcher)
        self.detectors = list(detectors)

    @property
    def version(self) -> str:
        """Names and versions of the detectors: stored with each result, so stale results can be found."""
        full = ",".join(f"{d.name}@{d.version}" for d in self.detectors) or "text-only"
        if len(full) <= 40:
            return full
        import hashlib

        return "detectors-" + hashlib.blake2b(full.encode(), digest_size=12).hexdigest()

    def analyse(self, message: Message) -> ItemResult:
        return self._detect(message, analyse_message(message))

    def analyse_many(self, messages: Iterable[Message]) -> list[ItemResult]:
        """:meth:`analyse` of each message, with the sentence encoder run once for the whole chunk."""
        from haris.detect.message import prefetch_embeddings

        messages = list(messages)
        analysed = [analyse_message(m) for m in messages]
        prefetch_embeddings([a for m, a in zip(messages, analysed) if _scored(m)], self.detectors)
        return [self._detect(m, a) for m, a in zip(messages, analysed)]

    def analyse_chunked(self, messages: Iterable[Message]) -> Iterator[ItemResult]:
        """:meth:`analyse_many` over a stream of any length, one chunk in memory at a time."""
        for chunk in in_chunks(messages):
            yield from self.analyse_many(chunk)

    def _detect(self, message: Message, analysed: AnalysedText) -> ItemResult:
        signals: list[Signal] = []
        if _scored(message):
            for det in self.detectors:
                for sig in det.detect(analysed):
                    sig.item_id = message.id
                    signals.append(sig)
        return ItemResult(message, analysed, signals)


def _scored(message: Message) -> bool:
    return message.kind == "message" and bool(message.text)
