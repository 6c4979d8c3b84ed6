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
from functools import cached_property, lru_cache
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
        return (all(atoms.get(a, 0) > 0 for a in self.all)
                and (not self.any or any(atoms.get(a, 0) > 0 for a in self.any))
                and not any(atoms.get(a, 0) > 0 for a in self.none))


@dataclass(frozen=True)   # no slots: _compiled is cached on the instance
class RulePack:
    policy: str
    bias: float
    rules: tuple[Rule, ...]

    def evaluate(self, atoms: dict[str, float]) -> tuple[float, list[tuple[str, float]]]:
        """The rule score (log-odds) and the rules that fired, with their weights.

        The same test as :meth:`Rule.holds`, on sets: it runs for every candidate, ~70 rules each.
        """
        present = {a for a, v in atoms.items() if v > 0}
        fired = [(name, weight) for name, weight, all_, any_, none in self._compiled
                 if all_ <= present and (not any_ or not any_.isdisjoint(present)) and none.isdisjoint(present)]
        return self.bias + sum(w for _, w in fired), fired

    @cached_property
    def _compiled(self) -> tuple[tuple[str, float, frozenset[str], frozenset[str], frozenset[str]], ...]:
        return tuple((r.name, r.weight, frozenset(r.all), frozenset(r.any), frozenset(r.none)) for r in self.rules)

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
