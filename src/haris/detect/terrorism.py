"""Terrorist propaganda and recruitment: content that supports a terrorist organisation.

Rules (lexicons in data/lexicons/<lang>/terrorism.yaml) find the organisation's
self-designations and jargon, its media formats, calls to join, emigrate or pledge, recruitment,
incitement, glorification and "new channel / backup" announcements, and the framings that
report, study, rebut or mock it (Daesh/داعش is a pejorative name supporters almost never use).
The trained layer weighs them into a calibrated score. Sub-labels: ``claim``, ``recruitment``,
``incitement``, ``glorification``, ``resurgence``.

>>> from haris.text.analysis import analyse_text
>>> [s] = TerrorismDetector().detect(analyse_text(
...     "Our channel was banned again. New channel of the Dawla: t.me/example_news — spread it"))
>>> s.policy, s.labels
('terrorism', ['resurgence'])
"""
from __future__ import annotations

from typing import Any

from haris.detect.base import TERRORISM, Evidence
from haris.detect.features import MessageView
from haris.detect.message import Assessment, MessagePolicyDetector, entity_evidence


class TerrorismDetector(MessagePolicyDetector):
    name = "terrorism-message"
    version = "1.0"
    policy = TERRORISM

    def sublabels(self, a: Assessment) -> list[str]:
        v = a.view
        labels = []
        if v.has("claim") and v.has("org_media", "org"):
            labels.append("claim")
        if v.has("call", "hijra", "pledge", "recruit"):
            labels.append("recruitment")
        if v.has("incite"):
            labels.append("incitement")
        if v.has("glorify", "slogan"):
            labels.append("glorification")
        if v.has("resurgence"):
            labels.append("resurgence")
        if not labels and v.has("org", "supporter"):
            labels.append("glorification")
        return labels

    def entity_evidence(self, v: MessageView) -> list[Evidence]:
        links = [e for e in v.contacts if e.kind in ("url", "handle")]
        return entity_evidence(links, "link", limit=4)

    def data(self, a: Assessment) -> dict[str, Any]:
        v = a.view
        links = [{"url": ln.url, "platform": ln.platform, "kind": ln.kind} for ln in v.analysed.links[:8]]
        return {"links": links} if links else {}
