"""What both message detectors share: candidate gate, scoring, evidence.

A message detector (:mod:`haris.detect.trafficking`, :mod:`haris.detect.terrorism`) is:

1. the lexicon pass and entities (:func:`haris.detect.features.view_of`, shared by both);
2. a *candidate gate*: without any of the policy's cue categories the score is 0 and nothing
   else runs (most messages stop here);
3. the role/structure features and the calibrated model (:mod:`haris.detect.model`);
4. sub-labels from the rules, evidence (lexicon spans mapped to the ORIGINAL text, entities,
   model contributions) and structured data.

:func:`assess` returns all of it for one policy, whether or not a signal would be emitted; the
evaluation uses it to report the worst errors with their evidence.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar, Iterable

from haris.detect.base import Evidence, Signal
from haris.detect.features import COUNTER, CUES, MessageView, is_candidate, policy_features, view_of
from haris.detect.model import Contribution, MessageModel, load_model
from haris.text.analysis import AnalysedText

# Signals below this score are not emitted: they would only fill the store. Flagging uses the
# policy thresholds (registry.DEFAULT_THRESHOLDS), all far above it.
EMIT_FLOOR = 0.05
MAX_LEXICON_EVIDENCE = 16
MAX_MODEL_EVIDENCE = 6


@dataclass(slots=True)
class Assessment:
    """Everything one detector concluded about one message."""

    policy: str
    score: float
    candidate: bool
    view: MessageView
    features: dict[str, float] = field(default_factory=dict)
    contributions: list[Contribution] = field(default_factory=list)
    rules: list[tuple[str, float]] = field(default_factory=list)   # expert rules that fired


def candidate_features(analysed: AnalysedText, policy: str
                       ) -> tuple[MessageView, dict[str, float] | None, list[tuple[str, float]]]:
    """The view, and the policy's atoms and fired rules when the message is a candidate (else None)."""
    v = view_of(analysed)
    if not is_candidate(v, policy):
        return v, None, []
    feats, fired = policy_features(v, policy)
    return v, feats, fired


def assess(analysed: AnalysedText, policy: str, model: MessageModel | None = None) -> Assessment:
    v, feats, fired = candidate_features(analysed, policy)
    if feats is None:
        return Assessment(policy, 0.0, False, v)
    score, contribs = (model or load_model())[policy].score(feats, v.text, analysed.original)
    return Assessment(policy, score, True, v, feats, contribs, fired)


def lexicon_evidence(v: MessageView, categories: Iterable[str], limit: int = MAX_LEXICON_EVIDENCE) -> list[Evidence]:
    """Hits of ``categories`` as evidence spans in the ORIGINAL text, strongest cue categories first.

    A hit inside an already reported span ("soldiers" inside "soldiers of the caliphate") and a
    pronoun are left out: they would only repeat what is highlighted.
    """
    order = {c: i for i, c in enumerate(categories)}
    hits = sorted((h for h in v.hits if h.entry.category in order and not h.entry.attr("pronoun")),
                  key=lambda h: (order[h.entry.category], h.start, h.start - h.end))
    out: list[Evidence] = []
    spans: list[tuple[int, int]] = []
    for h in hits:
        if any(a <= h.start and h.end <= b for a, b in spans):
            continue
        spans.append((h.start, h.end))
        s, e = v.original_span(h)
        out.append(Evidence(kind="lexicon", label=f"{h.entry.category}:{h.entry.term}", start=s, end=e,
                            text=v.analysed.original[s:e],
                            detail={"category": h.entry.category, "entry": h.entry.term, "lang": h.entry.lang}))
        if len(out) >= limit:
            break
    out.sort(key=lambda ev: ev.start or 0)
    return out


def entity_evidence(entities: Iterable[Any], label: str, limit: int = 6) -> list[Evidence]:
    out = []
    for e in list(entities)[:limit]:
        value = getattr(e, "value", None)
        detail = {"value": value} if isinstance(value, (int, float, str)) else (
            {"value": value} if isinstance(value, dict) else {})
        name = label if label == e.kind else f"{label}:{e.kind}"
        if isinstance(getattr(e, "detail", None), dict) and e.detail.get("inferred"):
            name += " (inferred)"
        out.append(Evidence(kind="entity", label=name, start=e.start, end=e.end,
                            text=getattr(e, "text", None), detail=detail))
    return out


def model_evidence(contribs: list[Contribution], limit: int = MAX_MODEL_EVIDENCE) -> list[Evidence]:
    top = sorted(contribs, key=lambda c: -abs(c.weight))[:limit]
    return [Evidence(kind="model", label=c.feature, weight=round(c.weight, 4),
                     detail={"value": round(c.value, 4)}) for c in top]


def counter_evidence(v: MessageView, categories: Iterable[str], limit: int = 8) -> list[dict[str, Any]]:
    """Cues that explain the words away (news framing, lawful goods, jobs...): shown, not highlighted."""
    cats = set(categories)
    out = []
    for h in v.hits:
        if h.entry.category in cats:
            s, e = v.original_span(h)
            out.append({"category": h.entry.category, "entry": h.entry.term, "start": s, "end": e})
            if len(out) >= limit:
                break
    return out


class MessagePolicyDetector(ABC):
    """Base of the two message detectors; subclasses set the policy and add sub-labels and data."""

    name: ClassVar[str]
    version: ClassVar[str]
    policy: ClassVar[str]
    scope: ClassVar[str] = "message"

    def __init__(self, model: MessageModel | None = None):
        self._model = model   # None: the shipped model, loaded on first use

    @property
    def model(self) -> MessageModel:
        if self._model is None:
            self._model = load_model()
        return self._model

    def assess(self, analysed: AnalysedText) -> Assessment:
        return assess(analysed, self.policy, self.model)

    def detect(self, item: AnalysedText) -> Iterable[Signal]:
        a = self.assess(item)
        if not a.candidate or a.score < EMIT_FLOOR:
            return []
        return [self.signal(a)]

    def signal(self, a: Assessment) -> Signal:
        v = a.view
        evidence = lexicon_evidence(v, CUES[self.policy])
        evidence += self.entity_evidence(v)
        evidence += [Evidence(kind="pattern", label=f"rule:{name}", weight=w) for name, w in a.rules]
        evidence += model_evidence(a.contributions)
        data: dict[str, Any] = {"model_version": self.model.version}
        counter = counter_evidence(v, COUNTER[self.policy])
        if counter:
            data["counter_evidence"] = counter
        data.update(self.data(a))
        return Signal(policy=self.policy, score=round(a.score, 4), detector=self.name,
                      detector_version=self.version, labels=self.sublabels(a), evidence=evidence,
                      item_id=v.analysed.item_id, data=data)

    # hooks
    @abstractmethod
    def sublabels(self, a: Assessment) -> list[str]:
        """The policy's sub-labels for an assessment (each detector defines its own)."""

    def entity_evidence(self, v: MessageView) -> list[Evidence]:
        return []

    def data(self, a: Assessment) -> dict[str, Any]:
        return {}


def prefetch_embeddings(items: Iterable[AnalysedText], detectors: Iterable[Any]) -> int:
    """Encode, in one batch, the messages of a chunk whose scores will need the sentence encoder.

    One message at a time the encoder costs ~4 ms; in a batch ~0.8 ms a message. The kernel
    read-out (:class:`haris.detect.model.SemanticReadout`) of those messages is computed in one
    matrix product too. Engines that hold a chunk of messages call this before running the
    detectors on each; the signals are those of the one-by-one path (embeddings equal up to float
    rounding). Returns how many messages were encoded.
    """
    from haris.detect import encoder
    from haris.detect.view import hold_views

    items = list(items)
    message_detectors = [d for d in detectors if isinstance(d, MessagePolicyDetector)]
    hold_views(items)   # the views built here are the ones the detectors score next: build each once
    # per detector: the messages its second stage will score, and their atoms
    asked: list[tuple[list[str], list[dict[str, float]]]] = [([], []) for _ in message_detectors]
    texts: list[str] = []
    for a in items:
        needed = False
        for d, (originals, atoms) in zip(message_detectors, asked):
            v, feats, _ = candidate_features(a, d.policy)
            if feats is not None and d.model[d.policy].needs_second_stage(feats, v.text):
                originals.append(a.original)
                atoms.append(feats)
                needed = True
        if needed:
            texts.append(a.original)
    n = encoder.prefetch(texts)
    for d, (originals, atoms) in zip(message_detectors, asked):
        d.model[d.policy].prefetch_semantic(originals, atoms)
    return n
