"""Expert rules as data: how the roles found in a message combine into a rule score.

``data/rules/<policy>.yaml`` lists named rules; each adds its weight (log-odds) when its
condition over the message's atoms holds (``all`` present, ``any`` present, ``none`` present).
Atoms are the feature names of :mod:`haris.detect.features` (lexicon categories and structure
features such as ``person_near_price``). The rule score (``bias`` + the weights of the rules that
fire) is the first input of the trained layer, and the fired rules are evidence.

>>> pack = rule_pack("trafficking")
>>> logit, fired = pack.evaluate({"person": 1, "trade": 1, "price": 1})
>>> [name for name, _ in fired]
['listing']
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from haris.errors import ConfigError

RULES_DIR = Path(__file__).parent / "data" / "rules"


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    weight: float
    all: tuple[str, ...] = ()
    any: tuple[str, ...] = ()
    none: tuple[str, ...] = ()

    def holds(self, atoms: dict[str, float]) -> bool:
        return self.holds_for({a for a, v in atoms.items() if v > 0})

    def holds_for(self, present: set[str]) -> bool:
        """The condition over the names of the atoms that are present (value > 0)."""
        return (present.issuperset(self.all) and (not self.any or not present.isdisjoint(self.any))
                and present.isdisjoint(self.none))


@dataclass(frozen=True, slots=True)
class RulePack:
    policy: str
    bias: float
    rules: tuple[Rule, ...]

    def evaluate(self, atoms: dict[str, float]) -> tuple[float, list[tuple[str, float]]]:
        """The rule score (log-odds) and the rules that fired, with their weights."""
        present = {a for a, v in atoms.items() if v > 0}   # once per message, not once per rule
        fired = [(r.name, r.weight) for r in self.rules if r.holds_for(present)]
        return self.bias + sum(w for _, w in fired), fired

    def atoms(self) -> set[str]:
        return {a for r in self.rules for a in (*r.all, *r.any, *r.none)}


def load_pack(path: Path, known_atoms: set[str] | None = None) -> RulePack:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read rules: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("rules"), dict):
        raise ConfigError(f"{path}: expected 'policy', 'bias' and 'rules: {{name: {{weight, all|any|none}}}}'")
    rules = []
    for name, spec in data["rules"].items():
        if not isinstance(spec, dict) or not isinstance(spec.get("weight"), (int, float)):
            raise ConfigError(f"{path}: rule {name!r} needs a numeric weight")
        parts = {k: tuple(spec.get(k) or ()) for k in ("all", "any", "none")}
        if not parts["all"] and not parts["any"]:
            raise ConfigError(f"{path}: rule {name!r} has no condition (all/any)")
        extra = set(spec) - {"weight", "all", "any", "none"}
        if extra:
            raise ConfigError(f"{path}: rule {name!r} has unknown keys {sorted(extra)}")
        if known_atoms is not None:
            unknown = {a for p in parts.values() for a in p} - known_atoms
            if unknown:
                raise ConfigError(f"{path}: rule {name!r} uses unknown atoms {sorted(unknown)}")
        rules.append(Rule(str(name), float(spec["weight"]), **parts))
    return RulePack(str(data.get("policy", path.stem)), float(data.get("bias", 0.0)), tuple(rules))


@lru_cache(maxsize=None)
def rule_pack(policy: str) -> RulePack:
    """The shipped rules of ``policy``, validated against the policy's feature names."""
    from haris.detect.features import feature_names

    return load_pack(RULES_DIR / f"{policy}.yaml", set(feature_names(policy)))
