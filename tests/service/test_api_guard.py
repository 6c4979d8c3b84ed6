"""Every API endpoint refuses anonymous callers and wrong scopes, with problem details."""
import pytest
from fastapi.testclient import TestClient

from haris.service import auth
from haris.service.app import create_app

GETS = ["/v1/items/msg_x", "/v1/accounts/acct_x", "/v1/conversations/conv_x", "/v1/decisions",
        "/v1/cases/case_x", "/v1/policies"]
POSTS = [("/v1/items", {"id": "1", "text": "hello"}), ("/v1/reports", {"category": "other"})]


@pytest.fixture
def client(store):
    return TestClient(create_app(store=store))


@pytest.mark.parametrize("path", GETS)
def test_reads_need_credentials(client, path):
    r = client.get(path)
    assert r.status_code == 401
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["status"] == 401 and r.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("path, body", POSTS)
def test_writes_need_the_right_scope(client, store, path, body):
    assert client.post(path, json=body).status_code == 401
    _k, secret = auth.create_api_key(store, "reader", ["read"])
    r = client.post(path, json=body, headers={"Authorization": f"Bearer {secret}"})
    assert r.status_code == 403 and "scope" in r.json()["detail"]
    assert client.post(path, json=body, headers={"Authorization": "Bearer hk_forged_key"}).status_code == 401


def test_revoked_keys_stop_working(client, store):
    k, secret = auth.create_api_key(store, "reader", ["read"])
    h = {"X-API-Key": secret}
    assert client.get("/v1/decisions", headers=h).status_code == 200
    auth.revoke_api_key(store, k.prefix)
    assert client.get("/v1/decisions", headers=h).status_code == 401


def test_rate_limit_answers_429_with_retry_after(client, store):
    _k, secret = auth.create_api_key(store, "slow", ["read"], rate_per_minute=3)
    h = {"Authorization": f"Bearer {secret}"}
    codes = [client.get("/v1/decisions", headers=h).status_code for _ in range(5)]
    assert codes[:3] == [200, 200, 200] and codes[3] == 429
    r = client.get("/v1/decisions", headers=h)
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1


def test_oversized_requests_are_refused_before_reading(client, store):
    _k, secret = auth.create_api_key(store, "w", ["items:write"])
    r = client.post("/v1/items", content=b"x" * (2 << 20), headers={"Authorization": f"Bearer {secret}",
                                                                      "content-type": "application/json"})
    assert r.status_code == 413 and r.json()["title"] == "Content Too Large"


def test_malformed_bodies_are_422_problems_not_500(client, store):
    _k, secret = auth.create_api_key(store, "w", ["items:write", "reports:write"])
    h = {"Authorization": f"Bearer {secret}"}
    for path, body in [("/v1/items", {"text": "no id"}), ("/v1/items", {"id": "1", "bogus": 1}),
                       ("/v1/reports", {"category": "spam"}), ("/v1/items", [])]:
        r = client.post(path, json=body, headers=h)
        assert r.status_code == 422, (path, body, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
    r = client.post("/v1/items", content=b"{not json", headers={**h, "content-type": "application/json"})
    assert r.status_code == 422


def test_security_headers_are_set(client):
    r = client.get("/healthz")
    assert r.headers["x-frame-options"] == "DENY" and "frame-ancestors 'none'" in r.headers["content-security-policy"]


def test_user_report_is_queued_and_audited(client, store):
    from haris.review.workflow import queue
    from haris.service.audit import entries

    _k, secret = auth.create_api_key(store, "platform", ["reports:write"])
    r = client.post("/v1/reports", json={"category": "child_exploitation", "item_id": "p-123",
                                         "reporter": "user-9", "text": "asked my child for photos"},
                    headers={"Authorization": f"Bearer {secret}"})
    assert r.status_code == 201
    q = queue(store)
    assert len(q) == 1 and q[0]["priority"] == "urgent" and q[0]["source"] == "user_report"
    assert entries(store)[0]["action"] == "report.received"
