"""The one interface every detector and matcher shares.

A detector takes an analysed item (a message with its normalized text,
language and entities; or, for conversation detectors, a conversation) and
returns zero or more :class:`Signal`. A signal always says which policy it
speaks to, how sure it is (a calibrated score in [0, 1]), and *why*: the
evidence that produced it, pointing into the original text.

This mirrors python-threatexchange, where every signal type plugs in through
one small interface, so that new detectors are added without touching the
pipeline.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Iterable, Protocol, runtime_checkable

# Policy ids, used everywhere (CLI, API, store, eval files, banks).
TRAFFICKING = "trafficking"
CHILD_EXPLOITATION = "child_exploitation"
TERRORISM = "terrorism"
POLICIES = (TRAFFICKING, CHILD_EXPLOITATION, TERRORISM)


@dataclass(slots=True)
class Evidence:
    """One reason behind a signal.

    ``kind`` says what fired: ``lexicon`` (a matched lexicon entry), ``pattern``,
    ``entity`` (an extracted age, price, phone…), ``model`` (a model feature),
    ``hash`` (a bank match), ``edge`` (a network edge). ``start``/``end`` are
    offsets in the message's *original* text when the evidence is a span.
    """

    kind: str
    label: str
    start: int | None = None
    end: int | None = None
    text: str | None = None
    weight: float | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d = {"kind": self.kind, "label": self.label}
        for k in ("start", "end", "text", "weight"):
            v = getattr(self, k)
            if v is not None:
                d[k] = v
        if self.detail:
            d["detail"] = self.detail
        return d


@dataclass(slots=True)
class Signal:
    """What a detector says about one item for one policy."""

    policy: str
    score: float
    detector: str
    detector_version: str
    labels: list[str] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)
    item_id: str | None = None
    data: dict[str, Any] = field(default_factory=dict)   # structured output (a listing, a stage timeline…)

    def to_dict(self) -> dict[str, Any]:
        return {
            "item_id": self.item_id,
            "policy": self.policy,
            "score": round(float(self.score), 4),
            "labels": list(self.labels),
            "detector": self.detector,
            "detector_version": self.detector_version,
            "evidence": [e.to_dict() for e in self.evidence],
            "data": self.data,
        }


@runtime_checkable
class Detector(Protocol):
    """Anything with a name, a version and ``detect(item) -> signals``.

    ``item`` is a :class:`haris.text.analysis.AnalysedText` for message
    detectors and a conversation for conversation detectors; ``scope`` says
    which a detector expects.
    """

    name: ClassVar[str]
    version: ClassVar[str]
    scope: ClassVar[str]  # "message" or "conversation"

    def detect(self, item: Any) -> Iterable[Signal]: ...
