"""The grooming detector: a conversation in, one ``child_exploitation`` signal out.

The batch detector replays a conversation through :class:`ConversationState` exactly as a
live platform would feed it, so batch and streaming give the same answer.

>>> from haris.detect.conversation import GroomingDetector, conversation_from_eval_row
>>> conv = conversation_from_eval_row({"id": "c1", "lang": "en", "messages": [
...     {"sender": "a", "text": "you're so mature for your age"}, {"sender": "b", "text": "i'm 13 lol"},
...     {"sender": "a", "text": "don't tell your parents we talk, delete this chat"},
...     {"sender": "a", "text": "send me a photo just for me, i'll buy you a gift card"}]})
>>> sig = GroomingDetector().detect(conv)[0]
>>> sig.labels, sig.data["minor"], sig.data["adult"]
(['contact', 'age_signal', 'isolation', 'requests', 'compensation'], 'b', 'a')
"""
from __future__ import annotations

from typing import Any, ClassVar, Iterable

from haris.detect.base import CHILD_EXPLOITATION, Evidence, Signal
from haris.detect.conversation.assemble import ConversationView, assemble
from haris.detect.conversation.scoring import Assessment, assess, calibration
from haris.detect.conversation.state import ConversationState

UNSUPPORTED = "unsupported_language"


def replay(conversation: ConversationView, *, threshold: float | None = None,
           track: bool = False) -> tuple[ConversationState, int | None]:
    """Feed a conversation message by message; with ``track``, also return the first alert's index."""
    state = ConversationState(conversation.id, lang=conversation.lang)
    first_alert = None
    if track:
        threshold = calibration().threshold if threshold is None else threshold
    for i, m in enumerate(conversation.messages):
        before = state.n_hits if track else 0
        state.update(m)
        if track and first_alert is None and state.n_hits != before and assess(state, threshold).flagged:
            first_alert = i
    return state, first_alert


def signal_from_state(state: ConversationState, item_id: str | None = None,
                      threshold: float | None = None) -> Signal:
    """The signal for a state: the score, stages, timeline, roles and action; see the module doc."""
    if state.unsupported is not None:
        return Signal(policy=CHILD_EXPLOITATION, score=0.0, detector=GroomingDetector.name,
                      detector_version=GroomingDetector.version, labels=[UNSUPPORTED], item_id=item_id,
                      data={UNSUPPORTED: state.unsupported, "messages": state.n})
    a: Assessment = assess(state, threshold)
    evidence = [Evidence(kind=e.kind, label=e.stage, start=e.start, end=e.end, text=e.text,
                         detail={"message_index": e.message_index, "message_id": e.message_id,
                                 "sender": e.sender, "cue": e.cue})
                for e in sorted(state.evidence, key=lambda e: (e.message_index, e.start))]
    timeline: dict[int, dict[str, Any]] = {}
    for e in evidence:
        d = e.detail
        entry = timeline.setdefault(d["message_index"], {"message_index": d["message_index"],
                                                         "message_id": d["message_id"], "sender": d["sender"],
                                                         "stages": [], "spans": []})
        if e.label not in entry["stages"]:
            entry["stages"].append(e.label)
        entry["spans"].append([e.start, e.end])
    stages = {s: {"first_message": i,
                  "first_message_id": next((t["message_id"] for t in timeline.values()
                                            if t["message_index"] == i), None)}
              for s, i in a.stages.items()}
    data = {
        "stages": stages,
        "current_stage": a.current_stage,
        "timeline": [timeline[k] for k in sorted(timeline)],
        "adult": a.adult,
        "minor": a.minor,
        "action": a.action,
        "actions": a.actions,
        "sextortion": state.sextortion,
        "lang": state.lang,
        "messages": state.n,
        "features": {k: round(v, 3) for k, v in a.features.items() if v},
    }
    if state.out_of_order:
        data["out_of_order_messages"] = state.out_of_order
    if state.unknown_senders:
        data["unknown_sender_messages"] = state.unknown_senders
    return Signal(policy=CHILD_EXPLOITATION, score=round(a.score, 4), detector=GroomingDetector.name,
                  detector_version=GroomingDetector.version, labels=list(a.stages), evidence=evidence,
                  item_id=item_id, data=data)


class GroomingDetector:
    """Conversation-level detector of child grooming and exploitation (policy child_exploitation)."""

    name: ClassVar[str] = "grooming"
    version: ClassVar[str] = "1.0"
    scope: ClassVar[str] = "conversation"

    def __init__(self, threshold: float | None = None):
        self.threshold = threshold

    def detect(self, item: Any) -> list[Signal]:
        """One signal per conversation that shows any grooming evidence (or an unsupported language).

        ``item`` is a :class:`ConversationView`, or a list of :class:`haris.model.Message`
        of one conversation.
        """
        if not isinstance(item, ConversationView):
            views = assemble(list(item))
            return [s for v in views for s in self.detect(v)]
        state, _ = replay(item)
        if state.unsupported is None and not state.evidence:
            return []
        return [signal_from_state(state, item.id, self.threshold)]

    def detect_many(self, conversations: Iterable[ConversationView]) -> Iterable[Signal]:
        for conv in conversations:
            yield from self.detect(conv)
