"""POST /v1/items with group commit: the same answers and rows as one request at a time, fewer statements."""
import threading
import uuid
from datetime import datetime, timezone

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, select, text

from haris.engines.core import Analyzer
from haris.policy.engine import ItemFacts, decide
from haris.review.workflow import enqueue
from haris.service import auth
from haris.service.api import ItemIn, to_records
from haris.service.app import create_app
from haris.service.items import ItemPipeline, LivePolicy
from haris.service.tables import review_items
from haris.store import schema
from haris.store.db import Store
from haris.store.writer import RecordWriter

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
TEXTS = [   # synthetic and schematic (the brief's data rules)
    "For sale: woman, 25, price $3,700, delivery after the checkpoint",
    "Selling my car, 2015 model, $12,500. Call +1 555 0142 or see https://example.com/car",
    "New channel after the ban, join t.me/example_backup_7 and share",
    "Réunion des parents d'élèves jeudi à 18h, salle 12",
    "للبيع سيارة موديل 2015 بسعر 12.500 دولار التسليم قريبا",
]


def _item(i: int, **kw) -> dict:
    return {"id": f"p-{i}", "platform": "example", "text": TEXTS[i % len(TEXTS)], "channel": f"chan-{i % 3}",
            "author": f"user-{i % 4}", "author_name": f"User {i % 4}", "time": T0.isoformat(), **kw}


def _requests() -> list[list[dict]]:
    """Requests that collide: a re-posted item with new text, an author renamed, a batch, links and media."""
    return [
        [_item(0)], [_item(1, links=["https://example.com/a"])], [_item(2)],
        [_item(0, text=TEXTS[2])],                                # same item again, other text
        [_item(3)],
        [_item(4), _item(5), _item(6, media=[{"kind": "photo", "url": "https://example.com/p.jpg"}])],
        [_item(7, author_name="Renamed")],                        # user-3 again, another display name
        [_item(5)],                                               # p-5 again
        [_item(8, conversation="thread-1", reply_to="p-7", text=TEXTS[1] + " again: https://example.com/car")],
    ]


def _one_at_a_time(store: Store, requests: list[list[dict]]) -> list[list[dict]]:
    """What POST /v1/items did before group commit: each request alone, flushing after each item."""
    analyzer, policy = Analyzer(store=store), LivePolicy(store)
    answers = []
    for body in requests:
        out = []
        with store.begin() as conn:
            w = RecordWriter(store, conn)
            for raw in body:
                item = ItemIn(**raw)
                recs, msg = to_records(item)
                for r in recs:
                    w.add(r)
                res = analyzer.analyse(msg)
                w.add_message(msg, res.analysed, analyzer.version)
                w.add_signals(res.signals)
                d = decide(policy.on(conn), ItemFacts.from_result(res))
                top = res.top()
                w.flush()
                rid = enqueue(conn, msg.id, "message", d.to_dict(), policy=(d.policies or [None])[0] or
                              (top.policy if top else None), score=top.score if top else None)
                out.append({"id": msg.id, "platform_id": item.id, "lang": res.analysed.lang,
                            "signals": [s.to_dict() for s in res.signals], "decision": d.to_dict(),
                            "review_id": rid})
        answers.append(out)
    return answers


def _contents(store: Store) -> dict:
    """Every row the item path writes, without the times at which they were written."""
    out = {}
    with store.connect() as conn:
        for t in (schema.accounts, schema.channels, schema.conversations, schema.messages, schema.media,
                  schema.links, schema.entities, schema.signals, review_items):
            rows = [{k: v for k, v in r.items() if k not in ("created_at", "updated_at")}
                    for r in conn.execute(select(t)).mappings()]
            out[t.name] = sorted(rows, key=lambda r: r["id"])
    return out


class _HeldAnalyzer:
    """An analyzer factory that, once armed, holds the next group back until released.

    The requests submitted while it holds queue up behind it and form the next group, deterministically.
    """

    def __init__(self, store: Store):
        self.analyzer = Analyzer(store=store)
        self.armed, self.holding, self.release = False, threading.Event(), threading.Event()

    def arm(self) -> None:
        self.holding.clear()
        self.release.clear()
        self.armed = True

    def __call__(self) -> Analyzer:
        if self.armed:
            self.armed = False
            self.holding.set()
            assert self.release.wait(30)
        return self.analyzer


def _grouped(pipeline: ItemPipeline, held: _HeldAnalyzer, requests: list[list[dict]]) -> list:
    """Submit the first request and hold it; queue all the others behind it, then let them go."""
    held.arm()
    futures = []
    for body in requests:
        futures.append(pipeline.submit([to_records(ItemIn(**raw)) for raw in body]))
        assert held.holding.wait(30)
    held.release.set()
    return [f.result(60) for f in futures]


@pytest.fixture
def pipeline(store):
    held = _HeldAnalyzer(store)
    p = ItemPipeline(store, held, LivePolicy(store))
    p.held = held
    yield p
    p.close()


@pytest.fixture
def other_store(tmp_path, db_url, store):
    """A second, empty store of the same kind as ``store``: the reference run writes there."""
    if db_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'reference.db'}"
    else:       # ``db_url`` names a schema made for this test, which ``store`` uses: make a second one
        name = "t_" + uuid.uuid4().hex[:12]
        with store.engine.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {name}"))
        url = db_url.rsplit("%3D", 1)[0] + "%3D" + name
    other = Store.open(url)
    yield other
    other.dispose()
    if not db_url.startswith("sqlite"):
        with store.engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {name} CASCADE"))


def test_grouped_requests_leave_the_rows_and_answers_of_one_at_a_time(store, other_store, pipeline):
    requests = _requests()
    expected = _one_at_a_time(other_store, requests)
    got = _grouped(pipeline, pipeline.held, requests)
    assert pipeline.groups == 2 and pipeline.grouped_items == sum(map(len, requests))   # one alone, then the rest
    assert got == expected
    assert _contents(store) == _contents(other_store)
    mine = _contents(store)
    # the collisions really happened: first message text kept, the first display name kept, queued once each
    assert next(m for m in mine["messages"] if m["platform_id"] == "p-0")["text"] == TEXTS[0]
    assert next(a for a in mine["accounts"] if a["platform_id"] == "user-3")["display_name"] == "User 3"
    assert mine["review_items"] and len({r["id"] for r in mine["review_items"]}) == len(mine["review_items"])


def test_the_api_answers_as_one_request_at_a_time(store, other_store):
    client = TestClient(create_app(store=store))
    _k, secret = auth.create_api_key(store, "platform", ["items:write"])
    h = {"Authorization": f"Bearer {secret}"}
    requests = _requests()
    expected = _one_at_a_time(other_store, requests)
    for body, want in zip(requests, expected):
        r = client.post("/v1/items", json=body if len(body) > 1 else body[0], headers=h)
        assert r.status_code == 200, r.text
        assert r.json() == (want if len(body) > 1 else want[0])
    assert _contents(store) == _contents(other_store)


def test_a_failing_request_fails_alone(store, pipeline):
    class Bad:        # not a record: RecordWriter refuses it inside the group's transaction
        id = "x"

    pipeline.held.arm()
    first = pipeline.submit([to_records(ItemIn(**_item(0)))])
    assert pipeline.held.holding.wait(30)
    bad = pipeline.submit([([Bad()], to_records(ItemIn(**_item(2)))[1])])
    second = pipeline.submit([to_records(ItemIn(**_item(1)))])
    pipeline.held.release.set()
    assert first.result(60)[0]["platform_id"] == "p-0" and second.result(60)[0]["platform_id"] == "p-1"
    with pytest.raises(TypeError, match="not a haris record"):
        bad.result(60)
    assert pipeline.groups == 2      # p-0 alone; the group of two failed, then p-1 was retried alone
    with store.connect() as conn:
        stored = {r[0] for r in conn.execute(select(schema.messages.c.platform_id))}
    assert stored == {"p-0", "p-1"}


def test_an_analysis_error_is_answered_to_its_request_only(store):
    class Fragile(Analyzer):
        def analyse_many(self, messages):
            messages = list(messages)
            if any("boom" in m.text for m in messages):
                raise ValueError("analysis failed")
            return super().analyse_many(messages)

    pipeline = ItemPipeline(store, lambda: analyzer, LivePolicy(store))
    analyzer = Fragile(store=store)
    try:
        bad = pipeline.submit([to_records(ItemIn(**_item(1, text="boom")))])
        ok = pipeline.submit([to_records(ItemIn(**_item(2)))])
        with pytest.raises(ValueError, match="analysis failed"):
            bad.result(60)
        assert ok.result(60)[0]["platform_id"] == "p-2"
    finally:
        pipeline.close()


def _count_statements(store: Store):
    seen = []
    event.listen(store.engine, "before_cursor_execute", lambda *a: seen.append(a[2]))
    return seen


def test_statements_per_item_are_few_and_shared_by_a_group(store, pipeline):
    benign = [[_item(i, text=TEXTS[3])] for i in range(10)]      # nothing to queue
    pipeline.submit([to_records(ItemIn(**benign[0][0]))]).result(60)       # loads the policy
    seen = _count_statements(store)
    pipeline.submit([to_records(ItemIn(**benign[1][0]))]).result(60)
    # the live policy's version, then accounts, channels, messages (and entities when there are some):
    # no key lookup, no other read
    alone = len(seen)
    assert alone <= 5, seen
    seen.clear()
    _grouped(pipeline, pipeline.held, benign[2:])
    assert len(seen) == 2 * alone, seen            # eight requests: the first alone, seven in one transaction


def test_an_api_key_is_verified_once_per_ttl_and_a_revocation_elsewhere_is_seen_within_it(store):
    from sqlalchemy import update

    now = [1000.0]
    cache = auth.ApiKeyCache(store, ttl=5.0, clock=lambda: now[0])
    key, secret = auth.create_api_key(store, "platform", ["items:write"])
    seen = _count_statements(store)
    assert cache.check(secret) == key and cache.check(secret) == key
    assert len(seen) == 1                                       # the second answer came from the cache
    with store.begin() as conn:                                 # revoked by another process (the CLI)
        conn.execute(update(auth.api_keys).values(revoked_at=datetime.now(timezone.utc)))
    now[0] += 4.9
    assert cache.check(secret) == key                           # still within the bound
    now[0] += 0.1
    assert cache.check(secret) is None                          # ttl after it was verified: refused
    assert cache.check("hk_nothing_here") is None and cache.check(secret[:-1] + "x") is None


def test_a_revocation_in_the_serving_process_takes_effect_at_once(store):
    app = create_app(store=store)
    client = TestClient(app)
    key, secret = auth.create_api_key(store, "platform", ["items:write"])
    h = {"Authorization": f"Bearer {secret}"}
    assert client.post("/v1/items", json=_item(1), headers=h).status_code == 200
    assert app.state.api_keys.cached(secret) == key
    auth.revoke_api_key(store, key.id)
    assert app.state.api_keys.cached(secret) is None
    assert client.post("/v1/items", json=_item(2), headers=h).status_code == 401


def test_a_policy_activation_applies_to_the_next_item(store, tmp_path):
    """The live policy is re-checked for every group: an activation needs no restart."""
    from haris.policy.engine import DEFAULT_POLICY
    from haris.policy.versions import activate

    client = TestClient(create_app(store=store))
    _k, secret = auth.create_api_key(store, "platform", ["items:write"])
    h = {"Authorization": f"Bearer {secret}"}
    before = client.post("/v1/items", json=_item(0), headers=h).json()["decision"]
    newer = tmp_path / "policy.yaml"
    v = before["policy_version"]
    newer.write_text(DEFAULT_POLICY.read_text(encoding="utf-8").replace(f"\nversion: {v}\n", f"\nversion: {v + 1}\n"),
                     encoding="utf-8")
    activate(store, newer, by="test")
    after = client.post("/v1/items", json=_item(5, text=TEXTS[0]), headers=h).json()["decision"]
    assert after["policy_version"] == v + 1


def test_a_key_read_as_live_while_it_is_revoked_here_is_not_cached(store, monkeypatch):
    """The revocation commits between the lookup's read and its caching: the stale answer must not be kept."""
    cache = auth.ApiKeyCache(store)
    key, secret = auth.create_api_key(store, "platform", ["items:write"])
    real = auth.check_api_key

    def revoked_meanwhile(store_, secret_):
        found = real(store_, secret_)           # read before the revocation
        auth.revoke_api_key(store, key.id)
        return found

    monkeypatch.setattr(auth, "check_api_key", revoked_meanwhile)
    assert cache.check(secret) == key           # that request was already under way
    monkeypatch.setattr(auth, "check_api_key", real)
    assert cache.cached(secret) is None and cache.check(secret) is None
