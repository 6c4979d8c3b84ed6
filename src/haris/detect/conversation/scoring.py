"""From a conversation's state to a calibrated risk, the roles, the stage and an action.

The risk is a logistic regression on a few *documented* features of the state, fitted on
the train split of ``data/corpus/conversations`` by :mod:`haris.detect.conversation.calibrate`
(coefficients in ``haris/detect/data/grooming/calibration.json``). Its output is a
probability, so the alert threshold means what it says.

Roles come first. The **likely minor** is the sender whose own words mark them most
clearly as a minor: a stated age under 18 (given outright, in reply to "how old are you?",
or by the other party: "you're only 14"), a school grade, then weaker cues ("my mom",
"homework"). The **likely adult** is, among the others, the sender who produced most
grooming-stage hits. Stage features count only what the likely adult said, that is the
stages *directed at the minor*.

Features (all in [0, 1]):

==================  ===========================================================
minor_strong        a minor with a stated age < 18 or a school grade
minor_weak          a minor known only from weaker cues
age_asked           the adult asked the age or grade, or implied youth ("at your age")
adult_known         the adult gave an adult age or adult cues ("my wife", "at work")
peer                the other party is a minor too (same-age children)
contact … commercial  the adult's hits in each stage (saturating at 2 hits)
threat              coercion (sextortion)
order               share of requests/compensation/meeting/commercial that began after
                    both contact and the age signal (the grooming sequence)
family, institution relationship cues (saturating at 3): a parent, a teacher, a coach
protective          transparency and safety talk (parents informed, consent forms)
minor_initiative    the minor's own secrecy/requests/meeting hits (children among
                    themselves ask each other for pictures and secrets)
==================  ===========================================================
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import lru_cache

from haris.detect.conversation.lexicon import DATA_DIR, STAGES
from haris.detect.conversation.state import ADULT_AGE, ConversationState, SenderStats
from haris.errors import ConfigError

CALIBRATION = DATA_DIR / "calibration.json"
GROOMING_STAGES = ("contact", "isolation", "requests", "compensation", "meeting", "commercial")
LATE_STAGES = ("requests", "compensation", "meeting", "commercial")
FEATURES = ("minor_strong", "minor_weak", "age_asked", "adult_known", "peer",
            *GROOMING_STAGES, "threat", "order", "family", "institution", "protective", "minor_initiative")
URGENT_SCORE = 0.9
_IDX = {s: i for i, s in enumerate(STAGES)}


@dataclass(slots=True)
class Calibration:
    coef: dict[str, float]
    intercept: float
    threshold: float
    meta: dict = field(default_factory=dict)

    def probability(self, x: dict[str, float]) -> float:
        z = self.intercept + sum(self.coef.get(k, 0.0) * v for k, v in x.items())
        return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))


@lru_cache(maxsize=1)
def calibration() -> Calibration:
    """The fitted model shipped with haris (re-fit with ``python -m haris.detect.conversation.calibrate``)."""
    try:
        data = json.loads(CALIBRATION.read_text(encoding="utf-8"))
        return Calibration(coef={k: float(v) for k, v in data["coef"].items()},
                           intercept=float(data["intercept"]), threshold=float(data["threshold"]),
                           meta={k: v for k, v in data.items() if k not in ("coef", "intercept", "threshold")})
    except FileNotFoundError:
        raise ConfigError(f"{CALIBRATION} is missing; run python -m haris.detect.conversation.calibrate") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"{CALIBRATION}: invalid calibration: {exc}") from None


def default_threshold() -> float:
    """The documented alert threshold: chosen on the train split (see calibration.json)."""
    return calibration().threshold


@dataclass(slots=True)
class Assessment:
    score: float
    features: dict[str, float]
    minor: str | None
    adult: str | None
    stages: dict[str, int]            # stage -> first message index (adult's stages, age signal from anyone)
    current_stage: str | None
    flagged: bool
    action: str
    actions: list[str]


def roles(state: ConversationState) -> tuple[SenderStats | None, SenderStats | None]:
    """(likely minor, likely adult) among the senders, by the cues described above."""
    people = [s for s in state.senders.values() if not s.key.startswith("\x00")] or list(state.senders.values())
    minor = max(people, key=lambda s: s.minor_evidence(), default=None)
    if minor is not None and minor.minor_evidence() <= 0:
        minor = None
    others = [s for s in people if s is not minor]
    adult = max(others, key=lambda s: (s.grooming_weight(), s.messages), default=None)
    return minor, adult


def _sat(x: float, cap: float) -> float:
    return min(x, cap) / cap


def features(state: ConversationState) -> tuple[dict[str, float], SenderStats | None, SenderStats | None]:
    minor, adult = roles(state)
    x = dict.fromkeys(FEATURES, 0.0)
    if minor is not None:
        strong = (minor.age() is not None and minor.age() < ADULT_AGE) or minor.grades > 0
        x["minor_strong" if strong else "minor_weak"] = 1.0
        x["minor_initiative"] = _sat(sum(minor.stage_w[_IDX[s]] for s in ("isolation", "requests", "meeting")), 2)
    if adult is not None:
        x["age_asked"] = 1.0 if adult.age_questions or adult.stage_w[_IDX["age_signal"]] else 0.0
        age = adult.age()
        x["adult_known"] = 1.0 if (age is not None and age >= ADULT_AGE) or adult.adult_cues >= 1 else 0.0
        x["peer"] = 1.0 if (age is not None and age < ADULT_AGE) or (age is None and adult.minor_evidence() > 1) else 0.0
        for s in GROOMING_STAGES:
            x[s] = _sat(adult.stage_w[_IDX[s]], 2)
        x["threat"] = 1.0 if adult.threats else 0.0
        reached = state.reached()
        if "contact" in reached and "age_signal" in reached:
            start = max(reached["contact"], reached["age_signal"])
            x["order"] = sum(1 for s in LATE_STAGES if adult.stage_first[_IDX[s]] > start) / len(LATE_STAGES)
    people = state.senders.values()
    x["family"] = _sat(sum(s.family for s in people), 3)
    x["institution"] = _sat(sum(s.institution for s in people), 3)
    x["protective"] = _sat(sum(s.protective for s in people), 3)
    return x, minor, adult


def stages_of(state: ConversationState, minor: SenderStats | None, adult: SenderStats | None) -> dict[str, int]:
    """Stages reached: grooming stages said by the adult, the age signal said by anyone."""
    out: dict[str, int] = {}
    age_first = [s.stage_first[_IDX["age_signal"]] for s in state.senders.values()
                 if s.stage_first[_IDX["age_signal"]] >= 0]
    if age_first and minor is not None:
        out["age_signal"] = min(age_first)
    if adult is not None:
        for s in GROOMING_STAGES:
            if adult.stage_first[_IDX[s]] >= 0:
                out[s] = adult.stage_first[_IDX[s]]
    return dict(sorted(out.items(), key=lambda kv: (kv[1], _IDX[kv[0]])))


def assess(state: ConversationState, threshold: float | None = None) -> Assessment:
    """Score, roles, stages and the recommended action for the state as it is now."""
    cal = calibration()
    threshold = cal.threshold if threshold is None else threshold
    x, minor, adult = features(state)
    if state.unsupported is not None or state.n == 0:
        score = 0.0
    else:
        score = cal.probability(x)
    stages = stages_of(state, minor, adult)
    current = max(stages, key=lambda s: (stages[s], _IDX[s])) if stages else None
    flagged = score >= threshold
    if not flagged:
        action, actions = "none", ["none"]
    else:
        urgent = score >= URGENT_SCORE or state.sextortion or "meeting" in stages or "commercial" in stages
        action = "queue:urgent" if urgent else "queue:review"
        actions = [action] + (["safety_intervention"] if minor is not None else [])
    return Assessment(score=score, features=x, minor=minor.key if minor else None,
                      adult=adult.key if adult else None, stages=stages, current_stage=current,
                      flagged=flagged, action=action, actions=actions)
