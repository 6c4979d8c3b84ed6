import pytest

from haris.review import workflow as wf
from haris.service import audit, auth

PW = "a long enough password"


@pytest.fixture
def people(store):
    return {name: auth.create_user(store, name, PW, roles)
            for name, roles in [("rev1", ["reviewer"]), ("rev2", ["reviewer"]), ("senior", ["senior_reviewer"]),
                                ("senior2", ["senior_reviewer"]), ("aud", ["auditor"])]}


def _enqueue(store, item, priority, policy="trafficking", second=False, minutes=0):
    with store.begin() as conn:
        return wf.enqueue(conn, item, "message", {"action": "queue", "priority": priority, "queue": policy,
                                                  "second_review": second}, policy=policy, score=0.9)


def test_queue_orders_by_severity_then_age_and_enqueue_is_idempotent(store):
    a = _enqueue(store, "msg_a", "normal", "terrorism")
    b = _enqueue(store, "msg_b", "urgent", "child-safety")
    c = _enqueue(store, "msg_c", "high")
    d = _enqueue(store, "msg_d", "urgent", "child-safety")
    assert _enqueue(store, "msg_a", "normal", "terrorism") == a
    assert [r["id"] for r in wf.queue(store)] == [b, d, c, a]
    assert wf.counts(store) == {"terrorism": 1, "child-safety": 2, "trafficking": 1}
    with store.begin() as conn:
        assert wf.enqueue(conn, "msg_e", "message", {"action": "none"}, policy=None, score=0.1) is None


def test_removing_an_item_closes_it_in_one_step(store, people):
    rid = _enqueue(store, "msg_1", "high")
    out = wf.decide(store, rid, people["rev1"], label="trafficking", action="remove_item", reason="sale offer")
    assert out["status"] == "closed" and [d["stage"] for d in out["decisions"]] == ["first"]


def test_suspending_an_account_needs_a_second_review_by_someone_else(store, people):
    rid = _enqueue(store, "msg_2", "urgent")
    out = wf.decide(store, rid, people["rev1"], label="trafficking", action="suspend_account", reason="seller")
    assert out["status"] == "needs_second_review"
    with pytest.raises(wf.Forbidden, match="senior_reviewer"):
        wf.decide(store, rid, people["rev2"], label="trafficking", action="suspend_account", reason="agree")
    out = wf.decide(store, rid, people["senior"], label="benign", action="no_action", reason="a car ad")
    assert out["status"] == "closed"
    second = out["decisions"][1]
    assert second["stage"] == "second" and second["agrees"] is False     # an overturn
    with pytest.raises(wf.WorkflowError, match="closed"):
        wf.decide(store, rid, people["senior2"], label="benign", action="no_action", reason="late")


def test_the_same_person_cannot_confirm_their_own_report(store):
    both = auth.create_user(store, "both", PW, ["reviewer", "senior_reviewer"])
    rid = _enqueue(store, "msg_3", "urgent")
    wf.decide(store, rid, both, label="child_exploitation", action="report", reason="enticement")
    with pytest.raises(wf.Forbidden, match="someone else"):
        wf.decide(store, rid, both, label="child_exploitation", action="report", reason="confirm")


def test_policy_can_require_a_second_review(store, people):
    rid = _enqueue(store, "msg_4", "urgent", second=True)
    assert wf.decide(store, rid, people["rev1"], label="trafficking", action="preserve",
                     reason="minor offered")["status"] == "needs_second_review"


def test_auditors_cannot_decide_and_decisions_need_reasons(store, people):
    rid = _enqueue(store, "msg_5", "normal")
    with pytest.raises(wf.Forbidden):
        wf.decide(store, rid, people["aud"], label="benign", action="no_action", reason="x")
    with pytest.raises(wf.WorkflowError, match="reason"):
        wf.decide(store, rid, people["rev1"], label="benign", action="no_action", reason="  ")
    with pytest.raises(wf.WorkflowError, match="label"):
        wf.decide(store, rid, people["rev1"], label="spam", action="no_action", reason="x")


def test_every_decision_and_case_is_audited(store, people):
    r1, r2 = _enqueue(store, "msg_6", "high"), _enqueue(store, "msg_7", "high")
    wf.assign(store, r1, people["rev1"])
    wf.decide(store, r1, people["rev1"], label="trafficking", action="remove_item", reason="offer")
    cid = wf.create_case(store, people["rev1"], "network of sellers", [r1, r2], kind="network")
    assert {i["id"] for i in wf.case(store, cid)["items"]} == {r1, r2}
    actions = [e["action"] for e in audit.entries(store)]
    assert {"review.assign", "decision.first", "case.create"} <= set(actions)
    assert audit.verify(store).ok
