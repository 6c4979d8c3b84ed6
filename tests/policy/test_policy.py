from types import SimpleNamespace

import pytest

from haris.detect.base import Evidence, Signal
from haris.errors import ConfigError
from haris.policy.engine import DEFAULT_POLICY, ItemFacts, decide, load_policy
from haris.policy.versions import activate, current, history


def sig(policy, score, labels=(), detector="rules"):
    return Signal(policy=policy, score=score, detector=detector, detector_version="1", labels=list(labels))


def age(v):
    return SimpleNamespace(kind="age", value=v)


@pytest.fixture(scope="module")
def default():
    return load_policy(DEFAULT_POLICY)


def test_nothing_known_means_no_action(default):
    d = decide(default, ItemFacts())
    assert d.action == "none" and d.rules == [] and d.priority is None


def test_sale_with_minor_age_is_preserved_urgently_with_second_review(default):
    d = decide(default, ItemFacts(signals=[sig("trafficking", 0.8, ["sale"])], entities=[age(12)]))
    assert d.action == "preserve" and d.priority == "urgent" and d.second_review
    assert d.rules[:2] == ["trafficking-minor", "trafficking-offer"]
    assert "queue" in d.actions


def test_adult_age_sale_is_only_queued(default):
    d = decide(default, ItemFacts(signals=[sig("trafficking", 0.8, ["sale"])], entities=[age(25)]))
    assert d.action == "queue" and d.priority == "high" and not d.second_review


def test_child_at_risk_outranks_other_policies(default):
    d = decide(default, ItemFacts(signals=[sig("terrorism", 0.9), sig("child_exploitation", 0.9)]))
    assert d.priority == "urgent" and d.queue == "child-safety"
    assert d.intervention == "child_helpline"
    assert set(d.policies) == {"terrorism", "child_exploitation"}


def test_bank_match_on_terrorism_is_removed_automatically(default):
    s = sig("terrorism", 1.0, ["bank:known"], detector="bank-match")
    s.evidence = [Evidence(kind="hash", label="known", detail={"bank": "known", "bank_type": "pdq"})]
    d = decide(default, ItemFacts(signals=[s]))
    assert d.action == "auto_remove"


def test_scores_below_thresholds_do_nothing(default):
    d = decide(default, ItemFacts(signals=[sig("terrorism", 0.3), sig("trafficking", 0.49)]))
    assert d.action == "none"


def test_fact_condition_for_ban_evaders(default):
    assert decide(default, ItemFacts(facts={"likely_ban_evader": 0.9})).rules == ["terrorism-resurgence"]
    assert decide(default, ItemFacts(facts={"likely_ban_evader": 0.5})).rules == []


@pytest.mark.parametrize("doc, problem", [
    ({"id": "p", "version": 1, "rules": [{"id": "r", "when": {}, "outcome": {}}]}, "exactly one"),
    ({"id": "p", "version": 0, "rules": []}, "version"),
    ({"id": "p", "version": 1, "rules": [{"id": "r", "when": {"signal": {"policy": "x", "min_score": 2}},
                                          "outcome": {}}]}, "min_score"),
    ({"id": "p", "version": 1, "rules": [{"id": "r", "when": {"entity": {"kind": "age"}},
                                          "outcome": {"action": "explode"}}]}, "action"),
    ({"id": "p", "version": 1, "rules": [{"id": "r", "policy": "spam", "when": {"entity": {"kind": "age"}},
                                          "outcome": {}}]}, "unknown policy"),
    ({"id": "p", "version": 1, "rules": [{"id": "r", "when": {"entity": {"kind": "age"}}, "outcome": {}},
                                         {"id": "r", "when": {"entity": {"kind": "age"}}, "outcome": {}}]},
     "used twice"),
])
def test_invalid_policies_are_refused_with_the_place_and_problem(doc, problem):
    with pytest.raises(ConfigError, match=problem):
        load_policy(doc)


def test_bad_yaml_names_the_file(tmp_path):
    p = tmp_path / "p.yaml"
    p.write_text("id: [unclosed\n")
    with pytest.raises(ConfigError, match="p.yaml: not valid YAML"):
        load_policy(p)


def test_versions_must_grow_and_one_is_live(store, tmp_path):
    doc, text = current(store)
    assert doc.id == "default" and doc.version == 1      # the shipped default until one is activated
    v2 = tmp_path / "v2.yaml"
    v2.write_text(text.replace("version: 1", "version: 2"))
    activate(store, v2, by="admin@example.com")
    assert current(store)[0].version == 2
    with pytest.raises(ConfigError, match="not newer"):
        activate(store, v2)
    v3 = tmp_path / "v3.yaml"
    v3.write_text(text.replace("version: 1", "version: 3"))
    activate(store, v3)
    rows = history(store, "default")
    assert [(r["version"], r["active"]) for r in rows] == [(2, False), (3, True)]
