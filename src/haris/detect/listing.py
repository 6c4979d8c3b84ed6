"""The structured listing of a sale-of-persons message: who is offered, for how much, how.

Built from the lexicon hits and the extractor's entities of a :class:`MessageView`, and put in
``Signal.data["listing"]`` so that a reviewer (and a victim-protection workflow) sees at a glance
how many persons, their genders and ages, the price and currency, the logistics, the contact
and the place::

    {"persons": {"count": 1, "genders": ["f"], "ages": [12], "minor": true, "terms": ["girl"]},
     "prices": [{"text": "$12,500", "value": ...}], "logistics": ["delivery soon"],
     "contact": [{"kind": "handle", "text": "@example_x"}], "places": [], "offer": ["sale"]}
"""
from __future__ import annotations

import re
from typing import Any

from haris.detect.features import MessageView

_DIGITS = re.compile(r"(\d{1,2})\s*[x×+]?\s*$")


def _entity(e: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"text": getattr(e, "text", None), "start": getattr(e, "start", None),
                           "end": getattr(e, "end", None)}
    value = getattr(e, "value", None)
    if value is not None:
        out["value"] = value if isinstance(value, (int, float, str, dict, list)) else str(value)
    return out


def _count_before(v: MessageView, start: int) -> int | None:
    """A count written just before a person reference ("3 girls", "two captives", "أم + ٣ أطفال")."""
    for h in v.cats.get("count_word", ()):
        if 0 <= start - h.end <= 1:
            value = h.entry.attr("value")
            return int(value) if isinstance(value, int) else None
    m = _DIGITS.search(v.text[max(0, start - 6):start])
    if m:
        n = int(m.group(1))
        return n if 0 < n <= 50 else None
    return None


def build_listing(v: MessageView) -> dict[str, Any]:
    persons = v.persons()
    count = 0
    unknown_plural = False
    genders: list[str] = []
    terms: list[str] = []
    for h in persons:
        n = _count_before(v, h.start)
        plural = bool(h.entry.attr("plural")) or h.plural_s
        if n is not None:
            count += n
        elif plural:
            unknown_plural = True
        else:
            count += 1
        g = h.entry.attr("gender")
        if g and g not in genders:
            genders.append(g)
        if h.entry.term not in terms:
            terms.append(h.entry.term)
    ages = sorted({int(y) if float(y).is_integer() else y for y, _ in v.ages})
    count = max(count, len(v.ages)) if (persons or v.ages) else 0
    minor = any(y < 18 for y in ages) or v.has("minor") or any(h.entry.attr("minor") for h in persons)
    offer = [kind for kind, cats in (("sale", ("offer", "transfer")), ("buy_request", ("buy_request",)),
                                     ("auction", ("auction",)), ("exchange", ("exchange",)),
                                     ("sexual_services", ("sexual",))) if v.has(*cats)]
    return {
        "persons": {"count": count or None, "at_least": 2 if unknown_plural and not count else None,
                    "genders": genders, "ages": ages, "minor": minor, "terms": terms[:8]},
        "prices": [_entity(e) for e in v.prices[:8]],
        "logistics": list(dict.fromkeys(h.entry.term for h in v.cats.get("logistics", ())))[:8],
        "control": list(dict.fromkeys(h.entry.term for h in v.cats.get("control", ())))[:8],
        "contact": [{"kind": e.kind, **_entity(e)} for e in v.contacts[:8]],
        "places": [_entity(e) for e in v.analysed.entities if e.kind == "place"][:8],
        "offer": offer,
    }
