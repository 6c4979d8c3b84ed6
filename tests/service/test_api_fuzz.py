"""Fuzz the published OpenAPI schema: no generated request may make the service answer 5xx.

Schemathesis generates requests for every operation from /openapi.json (valid
and invalid bodies, odd strings, huge numbers, unicode) and sends them to the
real ASGI app with a key that holds every scope.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

schemathesis = pytest.importorskip("schemathesis", reason="schemathesis is not installed")
from hypothesis import HealthCheck, settings  # noqa: E402

from haris.service import auth  # noqa: E402
from haris.service.app import create_app  # noqa: E402
from haris.store.db import Store  # noqa: E402

_tmp = Path(tempfile.mkdtemp(prefix="haris-fuzz-"))
_store = Store.open(f"sqlite:///{_tmp / 'fuzz.db'}")
_app = create_app(store=_store)
_key, SECRET = auth.create_api_key(_store, "fuzzer", list(auth.SCOPES), rate_per_minute=1_000_000)

schema = schemathesis.openapi.from_asgi("/openapi.json", _app)


@schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_generated_request_gets_a_server_error(case):
    response = case.call(headers={"Authorization": f"Bearer {SECRET}"})
    assert response.status_code < 500, (case.method, case.path, response.status_code, response.text[:300])
