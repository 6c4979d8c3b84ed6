"""Request guards shared by the API and the console: problem details, size and rate limits, principals."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from fastapi import Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from haris.service.auth import ApiKey, ApiKeyCache, User, session_user

MAX_BODY = 1 << 20          # 1 MiB a request: a batch of 100 long messages fits; a flood does not
SESSION_COOKIE = "haris_session"


class Problem(Exception):
    """An error answered as RFC 9457 problem details."""

    def __init__(self, status: int, title: str, detail: str | None = None, type_: str = "about:blank",
                 headers: dict | None = None):
        self.status, self.title, self.detail, self.type, self.headers = status, title, detail, type_, headers
        super().__init__(detail or title)


def problem_response(p: Problem, instance: str | None = None) -> JSONResponse:
    body = {"type": p.type, "title": p.title, "status": p.status}
    if p.detail:
        body["detail"] = p.detail
    if instance:
        body["instance"] = instance
    return JSONResponse(body, status_code=p.status, media_type="application/problem+json", headers=p.headers)


class RateLimiter:
    """A token bucket per API key: ``rate`` requests a minute, bursts up to a minute's worth.

    Kept in process memory: each API process limits on its own, which bounds a
    key's rate at (processes × rate); a shared limiter (Redis) is the step up.
    """

    def __init__(self):
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str, rate_per_minute: int, cost: float = 1.0) -> tuple[bool, float]:
        now = time.monotonic()
        per_s = rate_per_minute / 60.0
        with self._lock:
            tokens, last = self._buckets.get(key, (float(rate_per_minute), now))
            tokens = min(float(rate_per_minute), tokens + (now - last) * per_s)
            if tokens >= cost:
                self._buckets[key] = (tokens - cost, now)
                return True, 0.0
            self._buckets[key] = (tokens, now)
            return False, (cost - tokens) / per_s if per_s else 60.0


@dataclass(frozen=True)
class Principal:
    """Who is calling: a platform integration (API key) or a person (console session)."""

    kind: str                      # "key" or "user"
    name: str
    scopes: tuple[str, ...] = ()
    user: User | None = None
    key: ApiKey | None = None
    csrf: str | None = None

    def can(self, scope: str) -> bool:
        if self.kind == "key":
            return scope in self.scopes
        # People read through the console; writes by people go through the review workflow.
        return scope == "read" and self.user is not None and self.user.has("reviewer", "senior_reviewer", "auditor")


def _api_secret(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    return auth[7:].strip() if auth.lower().startswith("bearer ") else request.headers.get("x-api-key")


def _key_principal(key: ApiKey | None) -> Principal | None:
    return Principal("key", key.name, key.scopes, key=key) if key else None


def _session_principal(request: Request) -> Principal | None:
    found = session_user(request.app.state.store, request.cookies.get(SESSION_COOKIE))
    if found:
        user, csrf = found
        return Principal("user", user.username, user=user, csrf=csrf)
    return None


def principal_from(request: Request) -> Principal | None:
    """Who sent the request: an API key (cached, see :class:`ApiKeyCache`) or a console session."""
    secret = _api_secret(request)
    if secret:
        keys: ApiKeyCache = request.app.state.api_keys
        return _key_principal(keys.check(secret))
    return _session_principal(request)


async def principal_for(request: Request) -> Principal | None:
    """:func:`principal_from` for async routes: a recently verified key answers without a thread or a query."""
    secret = _api_secret(request)
    if secret:
        keys: ApiKeyCache = request.app.state.api_keys
        key = keys.cached(secret)
        return _key_principal(key if key is not None else await run_in_threadpool(keys.check, secret))
    return await run_in_threadpool(_session_principal, request)
