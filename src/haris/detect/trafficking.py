"""Sale of persons: offering, auctioning or advertising a person for sale, exchange, sexual
services or servitude.

Rules (lexicons in data/lexicons/<lang>/trafficking.yaml) find the roles — a person, an offer,
an auction, a price, an age, logistics, sexual-services and control cues, lawful goods and
jobs, and the framings of news and awareness posts; the trained layer weighs them into a
calibrated score. Sub-labels: ``sale``, ``auction``, ``sexual_services``, ``minor_involved``.
The signal's ``data["listing"]`` is the structured listing (:mod:`haris.detect.listing`).

>>> from haris.text.analysis import analyse_text
>>> [s] = TraffickingDetector().detect(analyse_text("For sale: girl, 12 years old, $12,500, delivery soon"))
>>> s.policy, s.labels
('trafficking', ['sale', 'minor_involved'])
"""
from __future__ import annotations

from typing import Any

from haris.detect.base import TRAFFICKING, Evidence
from haris.detect.features import MessageView
from haris.detect.listing import build_listing
from haris.detect.message import Assessment, MessagePolicyDetector, entity_evidence


class TraffickingDetector(MessagePolicyDetector):
    name = "trafficking-message"
    version = "1.0"
    policy = TRAFFICKING

    def sublabels(self, a: Assessment) -> list[str]:
        v = a.view
        labels = []
        sexual = v.has("sexual") and (bool(v.persons()) or "person" in v.cats)
        if v.has("offer", "buy_request", "exchange", "transfer", "logistics", "captive") or not (
                v.has("auction") or sexual):
            labels.append("sale")
        if v.has("auction"):
            labels.append("auction")
        if sexual:
            labels.append("sexual_services")
        if (any(y < 18 for y, _ in v.ages) or v.has("minor")
                or any(h.entry.attr("minor") for h in v.persons())):
            labels.append("minor_involved")
        return labels

    def entity_evidence(self, v: MessageView) -> list[Evidence]:
        return (entity_evidence([e for _, e in v.ages], "age") + entity_evidence(v.prices, "price")
                + entity_evidence(v.contacts, "contact", limit=3))

    def data(self, a: Assessment) -> dict[str, Any]:
        return {"listing": build_listing(a.view)}
