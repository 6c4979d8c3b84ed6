"""Load policy documents and turn what haris knows about an item into a decision.

>>> doc = load_policy(DEFAULT_POLICY)
>>> decide(doc, ItemFacts(signals=[])).action
'none'
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import yaml
from pydantic import ValidationError

from haris.detect.base import Signal
from haris.errors import ConfigError
from haris.policy.model import PRIORITY_RANK, Condition, PolicyDoc

DEFAULT_POLICY = Path(__file__).parent / "data" / "default.yaml"
# How severe each action is, for choosing the headline action of a decision.
ACTION_RANK = {"none": 0, "queue": 1, "safety_intervention": 2, "preserve": 3, "auto_remove": 4,
               "auto_suspend": 5, "report": 6}
BANK_DETECTOR = "bank-match"


@dataclass
class ItemFacts:
    """Everything a policy may look at for one item."""

    signals: list[Signal] = field(default_factory=list)
    entities: list[Any] = field(default_factory=list)     # objects with .kind and .value
    facts: dict[str, float] = field(default_factory=dict)  # network/context facts, e.g. in_flagged_community

    @classmethod
    def from_result(cls, result, facts: dict[str, float] | None = None) -> "ItemFacts":
        return cls(signals=list(result.signals), entities=list(result.analysed.entities), facts=facts or {})


@dataclass
class Decision:
    policy_id: str
    policy_version: int
    action: str = "none"
    actions: list[str] = field(default_factory=list)
    priority: str | None = None
    queue: str | None = None
    second_review: bool = False
    intervention: str | None = None
    rules: list[str] = field(default_factory=list)        # ids of the rules that fired, in order
    policies: list[str] = field(default_factory=list)     # policies those rules enforce

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in ("policy_id", "policy_version", "action", "actions", "priority",
                                               "queue", "second_review", "intervention", "rules", "policies")}


def load_policy(source: str | Path | dict) -> PolicyDoc:
    """Parse and validate a policy from a path, YAML text or a dict; errors say where and what."""
    where = "policy"
    if isinstance(source, dict):
        data = source
    else:
        text = source
        if isinstance(source, Path) or (isinstance(source, str) and "\n" not in source and Path(source).exists()):
            where = str(source)
            text = Path(source).read_text(encoding="utf-8")
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ConfigError(f"{where}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: a policy is a mapping with id, version and rules")
    try:
        return PolicyDoc.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"{where}: invalid policy: {problems}") from None


def _bank_matches(signals: Iterable[Signal]) -> list[dict]:
    out = []
    for s in signals:
        if s.detector != BANK_DETECTOR:
            continue
        for e in s.evidence:
            d = dict(e.detail or {})
            d.setdefault("category", s.policy)
            out.append(d)
    return out


def _holds(c: Condition, item: ItemFacts) -> bool:
    if c.signal is not None:
        sc = c.signal
        for s in item.signals:
            if s.policy != sc.policy or not (sc.min_score <= s.score <= sc.max_score):
                continue
            if sc.detector and s.detector != sc.detector:
                continue
            if sc.labels_any and not set(sc.labels_any) & set(s.labels):
                continue
            if sc.labels_all and not set(sc.labels_all) <= set(s.labels):
                continue
            return True
        return False
    if c.entity is not None:
        ec = c.entity
        for e in item.entities:
            if e.kind != ec.kind:
                continue
            v = e.value.get("amount") if isinstance(e.value, dict) else e.value
            if ec.min is None and ec.max is None:
                return True
            if not isinstance(v, (int, float)):
                continue
            if (ec.min is None or v >= ec.min) and (ec.max is None or v <= ec.max):
                return True
        return False
    if c.match is not None:
        mc = c.match
        for m in _bank_matches(item.signals):
            if mc.category and m.get("category") != mc.category:
                continue
            if mc.bank_type and m.get("bank_type") not in mc.bank_type:
                continue
            if mc.bank and m.get("bank") != mc.bank:
                continue
            return True
        return False
    if c.fact is not None:
        v = item.facts.get(c.fact.name)
        return v is not None and (c.fact.min is None or v >= c.fact.min) and bool(v)
    if c.all is not None:
        return all(_holds(x, item) for x in c.all)
    if c.any is not None:
        return any(_holds(x, item) for x in c.any)
    return not _holds(c.not_, item)


def decide(doc: PolicyDoc, item: ItemFacts) -> Decision:
    """Apply every rule; the decision keeps the highest priority, all actions and the rules that fired."""
    d = Decision(policy_id=doc.id, policy_version=doc.version)
    for rule in doc.rules:
        if not _holds(rule.when, item):
            continue
        o = rule.outcome
        d.rules.append(rule.id)
        if rule.policy and rule.policy not in d.policies:
            d.policies.append(rule.policy)
        if o.action not in d.actions and o.action != "none":
            d.actions.append(o.action)
        if d.priority is None or PRIORITY_RANK[o.priority] > PRIORITY_RANK[d.priority]:
            d.priority, d.queue = o.priority, o.queue or d.queue
        d.second_review = d.second_review or o.second_review
        d.intervention = d.intervention or o.intervention
    d.actions.sort(key=lambda a: -ACTION_RANK[a])
    d.action = d.actions[0] if d.actions else "none"
    if not d.rules:
        d.priority = None
    return d
