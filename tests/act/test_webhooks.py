"""Signed webhooks against a real local HTTP receiver: retries, backoff, dead letters, idempotency."""
from __future__ import annotations

import pytest
from act_helpers import add_user_report, body_json, queue_item, sqlite_only
from click.testing import CliRunner
from sqlalchemy import select

from haris.act import delivery, webhooks
from haris.act.delivery import Backoff, Deliverer
from haris.act.tables import webhook_deliveries, webhook_endpoints
from haris.errors import ConfigError
from haris.review import workflow as wf
from haris.service import audit
from haris.store import schema


class FakeClock:
    """Time that moves only when the worker sleeps, so backoff schedules are exact and instant."""

    def __init__(self, start: float):
        self.t = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 6))
        self.t += seconds


def _endpoint(store, receiver, path, name="platform", **kw):
    ep, secret = webhooks.add_endpoint(store, name, receiver.url + path, **kw)
    return ep, secret


def _remove(store, seeded, key="sale", action="remove_item", label="trafficking"):
    rid = queue_item(store, seeded["ids"][key])
    return rid, wf.decide(store, rid, seeded["people"]["rev1"], label=label, action=action, reason="sale offer")


# -- signatures ----------------------------------------------------------------------------------
def test_signature_verifies_and_names_each_problem():
    body = b'{"event":"remove_item"}'
    header = webhooks.sign("whsec_a", body, timestamp=1_700_000_000)
    assert webhooks.verify_signature("whsec_a", header, body, now=1_700_000_100) == 1_700_000_000
    # a second v1 (secret rotation) is accepted
    rotated = header + ",v1=" + webhooks.sign("whsec_b", body, 1_700_000_000).split("v1=")[1]
    assert webhooks.verify_signature("whsec_b", rotated, body, now=1_700_000_000)
    cases = [("whsec_a", header, body + b" ", 1_700_000_000, "does not match"),
             ("whsec_x", header, body, 1_700_000_000, "wrong secret"),
             ("whsec_a", header, body, 1_700_000_301, "tolerance 300"),
             ("whsec_a", "v1=abc", body, 1_700_000_000, "no t="),
             ("whsec_a", "t=1700000000", body, 1_700_000_000, "no v1="),
             ("whsec_a", "t=soon,v1=ab", body, 1_700_000_000, "not a whole number"),
             ("whsec_a", "", body, 1_700_000_000, "no Haris-Signature")]
    for secret, hdr, b, now, problem in cases:
        with pytest.raises(webhooks.SignatureError, match=problem):
            webhooks.verify_signature(secret, hdr, b, now=now)


def test_cli_verify_helper_for_receivers(tmp_path):
    from haris.act.cli import webhook

    body = tmp_path / "body.json"
    body.write_bytes(b'{"id":"dlv_1"}')
    header = webhooks.sign("whsec_cli", body.read_bytes())
    ok = CliRunner().invoke(webhook, ["verify", "--secret", "whsec_cli", "--header", header, str(body)])
    assert ok.exit_code == 0 and "valid" in ok.output
    body.write_bytes(b'{"id":"dlv_2"}')
    bad = CliRunner().invoke(webhook, ["verify", "--secret", "whsec_cli", "--header", header, str(body)])
    assert bad.exit_code == 4 and "does not match" in bad.output


# -- delivery ---------------------------------------------------------------------------------------
def test_a_closing_decision_is_delivered_signed_with_its_idempotency_key(store, seeded, receiver):
    _, secret = _endpoint(store, receiver, "/hooks")
    rid, out = _remove(store, seeded)
    assert out["status"] == "closed"
    with Deliverer(store, timeout=2) as d:
        stats = d.deliver_due()
    assert stats.delivered == 1
    [req] = receiver.to("/hooks")
    h = req["headers"]
    assert webhooks.verify_signature(secret, h["Haris-Signature"], req["body"])
    body = body_json(req)
    assert body["event"] == "remove_item" == h["Haris-Event"]
    assert body["data"]["item"]["url"] == "https://t.me/example_market/41"
    assert body["data"]["item"]["account_platform_id"] == "1001"
    assert "text" not in req["body"].decode()          # the platform gets ids, never the content
    row = delivery.list_deliveries(store)[0]
    assert row["status"] == "delivered" and h["Idempotency-Key"] == row["idempotency_key"]
    [attempt] = delivery.attempts_of(store, row["id"])
    assert attempt["status_code"] == 200 and attempt["error"] is None and attempt["duration_ms"] >= 0
    # the hook is idempotent: closing the same review again cannot queue a second delivery
    with store.begin() as conn:
        assert webhooks.on_review_closed(conn, rid) == [row["id"]]
    assert len(delivery.list_deliveries(store)) == 1


def test_a_failing_receiver_gets_retries_on_the_backoff_schedule_then_a_dead_letter(store, seeded, receiver):
    _, secret = _endpoint(store, receiver, "/fail")
    _remove(store, seeded)
    with store.begin() as conn:
        conn.execute(webhook_deliveries.update().values(max_attempts=4))
    import time

    clock = FakeClock(time.time())
    with Deliverer(store, timeout=2, clock=clock, random=lambda: 1.0, concurrency=1,
                   backoff=Backoff(base=10, factor=2, cap=25, jitter=0.5)) as d:
        stats = d.drain(sleep=clock.sleep)
    assert clock.sleeps == [10, 20, 25]                      # exponential, capped at 25 s
    assert (stats.attempted, stats.retried, stats.dead, stats.delivered) == (4, 3, 1, 0)
    reqs = receiver.to("/fail")
    assert len(reqs) == 4
    assert len({r["headers"]["Idempotency-Key"] for r in reqs}) == 1      # constant across retries
    assert [r["headers"]["Haris-Attempt"] for r in reqs] == ["1", "2", "3", "4"]
    assert len({r["body"] for r in reqs}) == 1
    for r in reqs:   # each attempt signed afresh, at its own (fake) time
        stamp = int(r["headers"]["Haris-Signature"].split(",")[0][2:])
        webhooks.verify_signature(secret, r["headers"]["Haris-Signature"], r["body"], now=stamp)
    [failed] = delivery.list_deliveries(store, failed=True)
    assert failed["status"] == "dead" and failed["last_status_code"] == 500
    assert "HTTP 500" in failed["last_error"] and "dead-lettered: 4 attempts" in failed["last_error"]
    assert [a["status_code"] for a in delivery.attempts_of(store, failed["id"])] == [500] * 4
    assert audit.entries(store, action="webhook.dead")


def test_jitter_spreads_the_delay_within_the_capped_exponential():
    b = Backoff(base=30, factor=2, cap=3600, jitter=0.5)
    assert [b.delay(n, 1.0) for n in (1, 2, 3, 10)] == [30, 60, 120, 3600]
    assert [b.delay(n, 0.0) for n in (1, 2, 3, 10)] == [15, 30, 60, 1800]


@sqlite_only
def test_a_slow_receiver_times_out_and_a_redirect_loop_is_not_followed(store, seeded, receiver):
    _endpoint(store, receiver, "/slow", name="slow", platform="telegram")
    _endpoint(store, receiver, "/loop", name="loop", platform="telegram")
    _remove(store, seeded)
    with store.begin() as conn:
        conn.execute(webhook_deliveries.update().values(max_attempts=2))
    import time

    clock = FakeClock(time.time())
    receiver.slow_seconds = 1.0
    with Deliverer(store, timeout=0.3, clock=clock, random=lambda: 0.0, concurrency=2) as d:
        d.drain(sleep=clock.sleep)
    rows = {r["url"].rsplit("/", 1)[1]: r for r in delivery.list_deliveries(store, failed=True)}
    assert rows["slow"]["status"] == rows["loop"]["status"] == "dead"
    assert "timed out after 0.3 s" in rows["slow"]["last_error"] and rows["slow"]["last_status_code"] is None
    assert "redirect to '/loop' not followed" in rows["loop"]["last_error"]
    assert rows["loop"]["last_status_code"] == 302
    assert len(receiver.to("/loop")) == 2          # one request per attempt: the redirect was never followed


def test_a_gone_endpoint_is_dead_lettered_at_once_and_retry_requeues(store, seeded, receiver):
    _endpoint(store, receiver, "/gone")
    _remove(store, seeded)
    with Deliverer(store, timeout=2) as d:
        assert d.deliver_due().dead == 1
        [row] = delivery.list_deliveries(store, status="dead")
        assert "not retryable" in row["last_error"]
        with store.begin() as conn:   # the receiver is fixed
            conn.execute(webhook_deliveries.update().values(url=receiver.url + "/hooks"))
        assert delivery.retry(store, [row["id"]]) == 1
        assert d.deliver_due().delivered == 1
    keys = {r["headers"]["Idempotency-Key"] for r in receiver.to("/gone") + receiver.to("/hooks")}
    assert keys == {row["idempotency_key"]}


def test_a_crashed_worker_loses_nothing(store, seeded, receiver, db_url):
    _endpoint(store, receiver, "/hooks")
    _remove(store, seeded)
    import time

    clock = FakeClock(time.time())
    crashed = Deliverer(store, timeout=1, clock=clock)
    assert len(crashed.claim(10)) == 1            # claimed, then the process died before sending
    crashed.close()
    from haris.store.db import Store

    fresh = Store.open(db_url)
    with Deliverer(fresh, timeout=1, clock=clock) as d:
        assert d.deliver_due().attempted == 0     # the claim's lease still holds
        clock.t += d.lease.total_seconds() + 1
        assert d.deliver_due().delivered == 1
    fresh.dispose()
    assert len(receiver.to("/hooks")) == 1


def test_a_second_review_overturn_sends_the_standing_decision(store, seeded, receiver):
    _endpoint(store, receiver, "/hooks")
    rev, senior = seeded["people"]["rev1"], seeded["people"]["senior"]
    r1 = queue_item(store, seeded["ids"]["sale"])
    wf.decide(store, r1, rev, label="trafficking", action="suspend_account", reason="seller")
    assert delivery.list_deliveries(store) == []          # waiting for the second review
    wf.decide(store, r1, senior, label="benign", action="no_action", reason="a car ad")
    assert delivery.list_deliveries(store) == []          # overturned: nothing to do
    r2 = queue_item(store, seeded["ids"]["call"], policy="terrorism")
    wf.decide(store, r2, rev, label="terrorism", action="suspend_account", reason="recruiter")
    wf.decide(store, r2, senior, label="terrorism", action="suspend_account", reason="confirmed")
    [d] = delivery.list_deliveries(store)
    assert d["event"] == "suspend_account"
    from haris.network.evasion import actions

    recruiter = store.get(schema.messages, seeded["ids"]["call"])["author_id"]
    assert [a.account_id for a in actions(store)] == [recruiter]     # recorded for the ban-evasion search


def test_user_report_outcome_goes_back_to_the_reporters_platform(store, seeded, receiver):
    ep, secret = _endpoint(store, receiver, "/hooks", events=["report_outcome"], platform="telegram")
    same, _ = add_user_report(store, callback_url=receiver.url + "/reports/cb?r=1")
    other, _ = add_user_report(store, callback_url="https://elsewhere.example.com/cb", item="42")
    for rep in (same, other):
        review = next(r["id"] for r in wf.queue(store) if r["item_id"] == rep)
        wf.decide(store, review, seeded["people"]["rev1"], label="trafficking", action="remove_item", reason="sale")
    with Deliverer(store, timeout=2) as d:
        assert d.deliver_due().delivered == 2
    [cb] = receiver.to("/reports/cb")
    assert body_json(cb)["data"]["outcome"] == "actioned" and body_json(cb)["data"]["report_id"] == same
    [fallback] = receiver.to("/hooks")   # another origin: sent to the endpoint, the URL passed along
    assert body_json(fallback)["data"]["callback_url"] == "https://elsewhere.example.com/cb"
    from haris.service.tables import user_reports

    with store.connect() as conn:
        assert {r for (r,) in conn.execute(select(user_reports.c.status))} == {"closed"}


def test_a_missing_endpoint_is_visible_in_the_audit_log(store, seeded):
    _remove(store, seeded)
    assert delivery.list_deliveries(store) == []
    [entry] = audit.entries(store, action="webhook.no_endpoint")
    assert entry["target"] == seeded["ids"]["sale"] and entry["detail"]["event"] == "remove_item"


def test_secrets_are_encrypted_when_a_key_is_set(store, seeded, receiver, monkeypatch):
    monkeypatch.setenv("HARIS_SECRET_KEY", "a long random key for the test")
    _, secret = _endpoint(store, receiver, "/hooks")
    with store.connect() as conn:
        stored = conn.execute(select(webhook_endpoints.c.secret)).scalar()
    assert stored.startswith("fernet:") and secret not in stored
    _remove(store, seeded)
    with Deliverer(store, timeout=2) as d:
        assert d.deliver_due().delivered == 1
    req = receiver.to("/hooks")[0]
    webhooks.verify_signature(secret, req["headers"]["Haris-Signature"], req["body"])
    monkeypatch.delenv("HARIS_SECRET_KEY")
    with pytest.raises(ConfigError, match="HARIS_SECRET_KEY"):
        with store.connect() as conn:
            webhooks.endpoint_secret(conn, conn.execute(select(webhook_endpoints.c.id)).scalar())


@sqlite_only
def test_endpoint_configuration_is_checked(store):
    with pytest.raises(ConfigError, match="http"):
        webhooks.add_endpoint(store, "bad", "ftp://example.com/hook")
    with pytest.raises(ConfigError, match="unknown event"):
        webhooks.add_endpoint(store, "bad", "https://example.com/hook", events=["explode"])
