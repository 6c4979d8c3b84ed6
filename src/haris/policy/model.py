"""Policies as data: the schema of a policy document, validated on load.

A policy is a YAML document of ordered rules. Each rule has a condition over
what haris knows about an item — detector signals, extracted entities, bank
matches, network facts — and an outcome. Every rule that matches contributes
its outcome; the decision takes the highest priority and the union of actions,
and records which rules fired, so a reviewer sees why.

    id: default
    version: 4
    rules:
      - id: trafficking-minor
        policy: trafficking
        when:
          all:
            - signal: {policy: trafficking, min_score: 0.5}
            - entity: {kind: age, max: 17}
        outcome: {action: report, priority: urgent, second_review: true}

Conditions: ``signal`` (policy, min_score, max_score, labels_any, labels_all,
detector), ``entity`` (kind, min, max), ``match`` (category, bank_type, bank),
``fact`` (a network or context fact by name, e.g. ``in_flagged_community`` or
``likely_ban_evader``, with an optional min), and ``all`` / ``any`` / ``not``.
"""
from __future__ import annotations

from typing import Literal, Union

from pydantic import BaseModel, ConfigDict, Field, model_validator

from haris.detect.base import POLICIES

Action = Literal["none", "queue", "auto_remove", "auto_suspend", "preserve", "report", "safety_intervention"]
Priority = Literal["urgent", "high", "normal", "low"]
PRIORITY_RANK = {"urgent": 3, "high": 2, "normal": 1, "low": 0}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SignalCond(_Strict):
    policy: str
    min_score: float = Field(0.0, ge=0, le=1)
    max_score: float = Field(1.0, ge=0, le=1)
    labels_any: list[str] = []
    labels_all: list[str] = []
    detector: str | None = None


class EntityCond(_Strict):
    kind: Literal["age", "price", "phone", "handle", "url", "email", "place"]
    min: float | None = None
    max: float | None = None


class MatchCond(_Strict):
    category: str | None = None
    bank_type: list[str] = []
    bank: str | None = None


class FactCond(_Strict):
    name: str
    min: float | None = None


class Condition(_Strict):
    """Exactly one of the keys."""

    signal: SignalCond | None = None
    entity: EntityCond | None = None
    match: MatchCond | None = None
    fact: FactCond | None = None
    all: list["Condition"] | None = None
    any: list["Condition"] | None = None
    not_: Union["Condition", None] = Field(None, alias="not")

    @model_validator(mode="after")
    def _one_key(self):
        set_keys = [k for k in ("signal", "entity", "match", "fact", "all", "any", "not_") if getattr(self, k) is not None]
        if len(set_keys) != 1:
            raise ValueError(f"a condition has exactly one of signal, entity, match, fact, all, any, not "
                             f"(got {', '.join(set_keys) or 'none'})")
        return self


class Outcome(_Strict):
    action: Action = "queue"
    priority: Priority = "normal"
    queue: str | None = None
    second_review: bool = False
    intervention: str | None = None


class Rule(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    policy: str | None = None           # the policy this rule enforces (used by backtests)
    description: str = ""
    when: Condition
    outcome: Outcome

    @model_validator(mode="after")
    def _known_policy(self):
        if self.policy is not None and self.policy not in POLICIES:
            raise ValueError(f"unknown policy {self.policy!r}; expected one of {', '.join(POLICIES)}")
        return self


class PolicyDoc(_Strict):
    id: str
    version: int = Field(ge=1)
    description: str = ""
    rules: list[Rule]

    @model_validator(mode="after")
    def _unique_rules(self):
        seen = set()
        for r in self.rules:
            if r.id in seen:
                raise ValueError(f"rule id {r.id!r} is used twice")
            seen.add(r.id)
        return self


Condition.model_rebuild()
