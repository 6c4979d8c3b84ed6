"""From one analysed message to the features both policies are scored on.

:func:`haris.detect.view.view_of` builds the view of a message (lexicon hits by category and
entities) once; this module turns it into the atoms each policy's rules and model read.

The features are ROLES and their co-occurrence, not phrases: "a person is referred to", "an
offer is made", "a person and an offer and an age or price occur together", "the message
reports or condemns rather than speaks". That is what carries from one scenario (and one
language) to another; the trained layer (:mod:`haris.detect.model`) only weighs them. Every
feature is a number in [0, 1].

>>> from haris.text.analysis import analyse_text
>>> v = view_of(analyse_text("For sale: girl, 12 years old, $12,500, delivery soon"))
>>> f = trafficking_features(v)
>>> f["person_trade"], f["minor_age"], f["reporting"]
(1.0, 1.0, 0.0)
"""
from __future__ import annotations

import re
from typing import Any

from haris.detect.lexicon import Hit
from haris.detect.view import FRAMING_CATEGORIES, HEAD_CHARS, MessageView, inside, qualifies_goods, view_of

__all__ = ["CANDIDATE", "COUNTER", "CUES", "FEATURES", "FRAMING_CATEGORIES", "MessageView", "feature_names",
           "is_candidate", "policy_features", "terrorism_features", "trafficking_features", "view_of"]

NEAR = 48                  # characters: "next to each other" for person/age/price proximity
# "the State" with a capital S: how English-writing supporters name the group ("the State opened
# the routes", "the State's new channel"); not "the State of …", "the State Department", "Ohio State"
STATE_NAME = re.compile(r"\b[Tt]he State(?:['’]s)?\b(?!\s+(?:of\b|[A-Z]\w+))")
OWN_AGE_NUMBER = re.compile(r"\s{0,2}[1-9]\d?\b(?![.,:/]?\d)")   # " 17" after "I'm": not "I'm 5.30", "I'm 17:00"

TRAFFICKING_CATEGORIES = (
    "offer", "buy_request", "auction", "exchange", "transfer", "person", "captive", "minor", "sexual",
    "control", "logistics", "price_cue", "contact_cue", "list_cue", "goods", "job", "family", "sport",
    "charity", "self_age", "venue", "customer")
TERRORISM_CATEGORIES = (
    "org", "org_media", "supporter", "slogan", "enemy", "call", "hijra", "pledge", "recruit", "incite",
    "glorify", "claim", "resurgence", "spread", "migration", "gaming", "legit_owner", "sport", "contact_cue",
    "media_format", "brethren", "symbol")


# ------------------------------------------------------------------ helpers

def _b(x: bool) -> float:
    return 1.0 if x else 0.0


def _presence(v: MessageView, categories: tuple[str, ...]) -> dict[str, float]:
    """1.0 / 0.0 for each of ``categories`` and of the framing categories, in that order."""
    cats = v.cats
    return {c: 1.0 if c in cats else 0.0 for c in (*categories, *FRAMING_CATEGORIES)}


def _near(v: MessageView, hits: list[Hit], entities: list[Any], window: int = NEAR) -> bool:
    """Whether one of ``hits`` lies within ``window`` characters of one of ``entities``.

    Compared in the ORIGINAL text (entities carry original offsets; hits are mapped back).
    """
    ents = [(e.start, e.end) for e in entities[:64] if getattr(e, "start", None) is not None]
    if not hits or not ents:
        return False
    for h in hits[:64]:  # bounded: a spam wall of names and numbers stays linear
        hs, he = v.original_span(h)
        for es, ee in ents:
            if es - he <= window and hs - ee <= window:
                return True
    return False


def _hits_near(a: list[Hit], b: list[Hit], window: int) -> bool:
    """Whether a hit of ``a`` and a hit of ``b`` lie within ``window`` characters (matching text)."""
    for x in a[:64]:
        for y in b[:64]:
            if y.start - x.end <= window and x.start - y.end <= window:
                return True
    return False


def quoted_share(v: MessageView, cats: tuple[str, ...]) -> float:
    """Share of the hits of ``cats`` that lie inside quotation marks (a quoted ad or claim)."""
    hs = [h for c in cats for h in v.cats.get(c, ())]
    if v.reported:
        return 1.0
    if not hs or not v.quoted:
        return 0.0
    return sum(1 for h in hs if inside(h, v.quoted)) / len(hs)


FRAME_WORDS = 20   # words outside the quotes at which a quote's frame counts fully


def quote_frame(v: MessageView, share: float) -> float:
    """How much the message says around a quote that holds its cues: 0 without such a quote.

    A report, a decision or a citation frames a long quote with words of its own genre ("Seizure
    notice 2: parcel stopped at the sorting centre. Printed on each one: «…»"); a lexicon knows
    only some genres, so the length of the frame is a signal of its own. The model weighs it: a
    forwarded offer ("fwd as received «…»") has a frame too, a short one.
    """
    if share <= 0 or not v.quoted:
        return 0.0
    text = v.text[:HEAD_CHARS]
    pieces, at = [], 0
    for a, b in sorted(v.quoted):
        if a >= at:
            pieces.append(text[at:a])
            at = b + 1
    pieces.append(text[at:])
    words = sum(len(p.split()) for p in pieces)
    return min(1.0, words / FRAME_WORDS)


# ------------------------------------------------------------------ trafficking

def trafficking_features(v: MessageView) -> dict[str, float]:
    """Role and structure features for the sale of persons (see docs/detection.md)."""
    f = _presence(v, TRAFFICKING_CATEGORIES)
    persons = v.persons()
    pronoun = any(h.entry.attr("pronoun") for h in v.cats.get("person", ()))
    f["person"] = _b(bool(persons))
    f["pronoun_only"] = _b(pronoun and not persons)
    minor_person = any(h.entry.attr("minor") for h in persons)
    ages = [y for y, _ in v.ages]
    minor_age = any(y < 18 for y in ages)
    f["age"] = _b(bool(ages))
    f["minor_age"] = _b(minor_age)
    f["adult_age"] = _b(any(y >= 18 for y in ages))
    f["ages_2plus"] = _b(len(ages) >= 2)
    f["price"] = _b(bool(v.prices))
    f["prices_2plus"] = _b(len(v.prices) >= 2)
    f["contact"] = _b(bool(v.contacts))
    f["invite"] = _b(v.invites > 0)
    trade = v.has("offer", "buy_request", "auction", "exchange", "transfer")
    commerce = bool(v.prices) or v.has("price_cue", "contact_cue", "logistics") or bool(v.contacts)
    anyone = bool(persons) or pronoun
    f["trade"] = _b(trade)
    f["person_trade"] = _b(bool(persons) and trade)
    f["person_commerce"] = _b(bool(persons) and commerce)
    f["person_age"] = _b(bool(persons) and bool(ages))
    f["person_price"] = _b(bool(persons) and bool(v.prices))
    f["person_minor"] = _b(bool(persons) and (minor_age or minor_person or v.has("minor")))
    f["person_logistics"] = _b(bool(persons) and v.has("logistics"))
    f["person_sexual"] = _b(anyone and v.has("sexual"))
    f["person_control"] = _b(anyone and v.has("control"))
    # hotel, booking, clients, massage: every lawful spa and tutor says them, so they count only
    # beside a person AND money or a minor, and never fire a rule on their own
    f["person_venue"] = _b(anyone and v.has("venue") and (commerce or minor_age or minor_person))
    f["captive_trade"] = _b(v.has("captive") and (trade or commerce))
    f["listing"] = _b(bool(persons) and trade and (commerce or bool(ages)))
    f["sexual_minor"] = _b(v.has("sexual") and (minor_age or v.has("minor") or minor_person))
    f["sexual_commerce"] = _b(v.has("sexual") and commerce)
    f["price_list"] = _b((len(ages) >= 2 and len(v.prices) >= 2)
                         or (v.has("list_cue") and bool(ages) and (bool(v.prices) or v.has("price_cue"))))
    f["age_price_trade"] = _b(bool(ages) and bool(v.prices) and trade)
    f["person_near_age"] = _b(_near(v, persons, [e for _, e in v.ages]))
    f["person_near_price"] = _b(_near(v, persons, v.prices))
    own = v.cats.get("self_age", [])
    # "I'm 17" names the writer's own age; the extractor finds no age there (a bare number), so a
    # number right after "I'm" / "j'ai" counts too: a teen offering her own babysitting is not offered
    f["self_age_near"] = _b(_near(v, own, [e for _, e in v.ages], 16)
                            or any(OWN_AGE_NUMBER.match(v.text, h.end) for h in own[:8]))
    f["goods_no_person"] = _b(v.has("goods") and not persons)
    f["goods_near_person"] = _b(any(qualifies_goods(v, h) for c in ("person", "captive")
                                    for h in v.cats.get(c, ())[:16]) if v.has("goods") else False)
    trade_hits = [h for c in ("offer", "buy_request", "auction", "exchange", "transfer") for h in v.cats.get(c, ())]
    f["trade_near_person"] = _b(_hits_near(persons, trade_hits, 24))
    f["job_no_control"] = _b(v.has("job") and not v.has("control"))
    f["age_price_no_goods"] = _b(bool(ages) and bool(v.prices) and not v.has("goods"))
    f["terror_context"] = _b(v.has("org", "org_media", "supporter", "slogan", "pledge", "enemy"))
    f["person_auction"] = _b(bool(persons) and v.has("auction"))
    f["person_deal"] = _b(bool(persons) and v.has("logistics", "transfer")
                          and (bool(v.prices) or v.has("price_cue") or bool(ages)))
    benign = v.has("goods", "job", "family", "sport", "charity", "customer")
    f["benign_context"] = _b(benign)
    frame = v.has(*FRAMING_CATEGORIES)
    f["framed"] = _b(frame)
    f["framed_listing"] = _b(frame and f["listing"] > 0)
    f["quoted"] = quoted_share(v, ("person", "captive", "offer", "auction", "sexual"))
    f["quote_frame"] = quote_frame(v, f["quoted"])
    # a "warning" that quotes an offer and then gives its own contact "for details" is the offer
    # (entities and contact words inside the quote are gone by now: what is left is the writer's)
    f["contact_beside_quote"] = _b(f["quoted"] > 0 and (bool(v.contacts) or v.has("contact_cue")))
    f["framing_count"] = min(1.0, sum(1 for c in FRAMING_CATEGORIES if v.has(c)) / 3)
    return f


# ------------------------------------------------------------------ terrorism

def terrorism_features(v: MessageView) -> dict[str, float]:
    """Self-designation, call-to-action and framing features for terrorist content."""
    f = _presence(v, TERRORISM_CATEGORIES)
    org = v.has("org", "org_media", "slogan")
    side = org or v.has("supporter")
    link = v.invites > 0 or any(getattr(e, "kind", "") in ("url", "handle") for e in v.contacts)
    # a report may shorten the group's name the same way ("researchers say the State's media office…")
    f["state_name"] = _b(names_the_state(v))
    f["org_any"] = _b(org)
    f["org_2plus"] = _b(v.count("org") + v.count("org_media") + v.count("slogan") >= 2)
    f["link"] = _b(link)
    f["org_call"] = _b(org and v.has("call", "hijra", "pledge", "recruit"))
    f["side_call"] = _b(side and v.has("call", "hijra", "pledge", "recruit"))
    f["org_incite"] = _b((side or v.has("brethren")) and v.has("incite"))
    f["enemy_incite"] = _b(v.has("enemy") and v.has("incite"))
    f["enemy_side"] = _b(v.has("enemy") and side)
    f["org_claim"] = _b(v.has("org_media", "org") and v.has("claim"))
    f["claim_format"] = _b(v.has("media_format") and v.has("org_media", "org") and v.has("claim"))
    f["brethren_call"] = _b(v.has("brethren") and v.has("call", "recruit", "hijra"))
    f["org_glorify"] = _b(side and v.has("glorify"))
    # a pledge or a come-back addressed to the in-group ("send the bay'ah to the brothers",
    # "to all supporters: find us on ...") is the group's own voice even without its name
    f["org_pledge"] = _b(v.has("pledge") and (org or v.has("supporter", "call", "brethren", "symbol")))
    f["org_hijra"] = _b(v.has("hijra") and (org or v.has("call", "supporter")))
    f["resurgence_link"] = _b(v.has("resurgence") and link)
    f["resurgence_side"] = _b(v.has("resurgence") and (side or v.has("spread", "brethren")))
    f["spread_side"] = _b(v.has("spread") and side)
    f["recruit_side"] = _b(v.has("recruit") and side)
    frame = v.has(*FRAMING_CATEGORIES)
    f["framed"] = _b(frame)
    f["framed_org"] = _b(frame and org)
    f["pejorative_org"] = _b(v.has("pejorative") and org)
    # the speaker addresses the in-group in their own voice ("... what are you waiting for, brothers?"):
    # a supporter quoting a leader says "said" too, but a report does not call the brothers to act
    f["framed_ingroup_call"] = _b(frame and not v.has("pejorative") and v.has("brethren")
                                  and v.has("call", "recruit", "hijra", "pledge"))
    f["benign_context"] = _b(v.has("migration", "gaming", "legit_owner", "sport"))
    f["quoted"] = quoted_share(v, ("org", "org_media", "call", "incite", "glorify", "slogan"))
    f["quote_frame"] = quote_frame(v, f["quoted"])
    f["framing_count"] = min(1.0, sum(1 for c in FRAMING_CATEGORIES if v.has(c)) / 3)
    return f


FEATURES = {"trafficking": trafficking_features, "terrorism": terrorism_features}

# Categories whose hits are evidence FOR a policy (highlighted in the triage table), and those that
# explain a hit away (lawful contexts, framing: reported as counter-evidence).
CUES = {
    "trafficking": ("captive", "person", "offer", "buy_request", "auction", "exchange", "transfer", "minor",
                    "sexual", "venue", "control", "logistics", "price_cue", "contact_cue", "list_cue"),
    "terrorism": ("org", "org_media", "slogan", "pledge", "call", "hijra", "recruit", "incite", "glorify",
                  "claim", "resurgence", "spread", "enemy", "supporter", "media_format", "brethren", "symbol"),
}
COUNTER = {
    "trafficking": ("goods", "job", "family", "sport", "charity", "self_age", "customer", *FRAMING_CATEGORIES),
    "terrorism": ("migration", "gaming", "legit_owner", "sport", *FRAMING_CATEGORIES),
}

# Categories whose presence makes a message a candidate for a policy: without one of them the
# policy's score is 0 and no model runs (most messages stop here, which keeps the detectors fast).
CANDIDATE = {
    "trafficking": ("person", "captive", "offer", "buy_request", "auction", "exchange", "transfer",
                    "sexual", "control", "minor"),
    "terrorism": ("org", "org_media", "supporter", "slogan", "enemy", "pledge", "hijra", "incite",
                  "glorify", "resurgence", "recruit", "call", "brethren"),
}


def names_the_state(v: MessageView) -> bool:
    """"the State" as supporters write it, outside a report (see STATE_NAME)."""
    return (v.analysed is not None and not v.has(*FRAMING_CATEGORIES)
            and STATE_NAME.search(v.analysed.original[:4000]) is not None)


def is_candidate(v: MessageView, policy: str) -> bool:
    if v.has(*CANDIDATE[policy]):
        return True
    if policy == "terrorism":
        # "only sell the loaded phones to people vouched for by the State": the group's name is the
        # only cue (the model weighs it; a candidate is not a flag)
        return names_the_state(v)
    # An age or a price alone makes a trafficking candidate: the listings that name nobody ("mine is
    # younger (12) and cheaper", "USD 17.8k each, passports go with the deal") carry one of them,
    # and the model (not the gate) tells them from the car ads and birthdays that carry them too.
    # Measured out of fold: F1 0.863 -> 0.876 against "an age with a price or contact wording".
    return policy == "trafficking" and (bool(v.ages) or bool(v.prices))


def feature_names(policy: str) -> list[str]:
    """The atom names of ``policy`` (what rules may refer to), in a fixed order."""
    empty = MessageView(analysed=None, text="", hits=[])  # type: ignore[arg-type]
    return list(FEATURES[policy](empty))


def policy_features(v: MessageView, policy: str) -> tuple[dict[str, float], list[tuple[str, float]]]:
    """The atoms of ``policy`` plus ``rule_logit`` (the expert rule score), and the rules that fired."""
    from haris.detect.rules import rule_pack

    cached = v.features.get(policy)
    if cached is not None:
        return cached
    atoms = FEATURES[policy](v)
    logit, fired = rule_pack(policy).evaluate(atoms)
    atoms["rule_logit"] = logit
    v.features[policy] = (atoms, fired)
    return atoms, fired
