"""The delivery worker: sends due webhook deliveries, retries with backoff, dead-letters the hopeless.

Durable by construction: a delivery is a row in the store, and the worker
*claims* a due row by moving its ``next_attempt_at`` forward by a lease before
it sends anything. A worker that crashes mid-send leaves the row to be picked
up again when the lease runs out; the receiver sees the same
``Idempotency-Key`` and ignores the repeat. Several workers may run at once
(PostgreSQL: ``FOR UPDATE SKIP LOCKED``; both: the claim is a conditional
UPDATE that only one worker wins).

Each attempt is recorded (status code, error, duration, time). A 2xx is
success. Redirects are never followed: a redirect, like a 5xx, a timeout or a
refused connection, is a failure that is retried after an exponential backoff
with jitter, capped; a 4xx that a retry cannot fix (400, 401, 403, 404, 410,
422…) goes to the dead-letter list at once. After ``max_attempts`` the
delivery is dead: ``haris webhook list --failed`` shows it with its last error,
``haris webhook retry`` queues it again.

>>> Backoff(base=30, factor=2, cap=3600, jitter=0).delay(3, rand=0.0)
120.0
"""
from __future__ import annotations

import random as _random
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Callable

import httpx
from sqlalchemy import bindparam, func, select, update

from haris import __version__
from haris.act.tables import webhook_attempts, webhook_deliveries
from haris.act.webhooks import SIGNATURE_HEADER, endpoint_secret, sign
from haris.errors import NotFoundError
from haris.service import audit
from haris.store.db import Store

# A client error that the same request will meet again: retrying does not help.
NOT_RETRYABLE = frozenset({400, 401, 403, 404, 405, 410, 411, 413, 414, 415, 422})


@dataclass(frozen=True)
class Backoff:
    """Delay before attempt n+1: ``min(cap, base·factorⁿ⁻¹)``, of which a ``jitter`` share is random.

    Jitter spreads the retries of many deliveries that failed together (an
    outage) so that they do not all hit the receiver again at the same second.
    """

    base: float = 30.0
    factor: float = 2.0
    cap: float = 3600.0
    jitter: float = 0.5

    def delay(self, attempt: int, rand: float) -> float:
        d = min(self.cap, self.base * self.factor ** max(0, attempt - 1))
        return d * (1.0 - self.jitter) + d * self.jitter * rand


@dataclass
class Attempt:
    delivery_id: str
    number: int
    status_code: int | None
    error: str | None
    duration_ms: int
    outcome: str = ""                # delivered, retry, dead
    retry_after: float | None = None


@dataclass
class RunStats:
    attempted: int = 0
    delivered: int = 0
    retried: int = 0
    dead: int = 0
    attempts: list[Attempt] = field(default_factory=list, repr=False)

    def add(self, other: "RunStats") -> None:
        self.attempted += other.attempted
        self.delivered += other.delivered
        self.retried += other.retried
        self.dead += other.dead
        self.attempts.extend(other.attempts)

    def to_dict(self) -> dict:
        return {"attempted": self.attempted, "delivered": self.delivered, "retried": self.retried, "dead": self.dead}


def _utc(t: datetime) -> datetime:
    return t.replace(tzinfo=timezone.utc) if t.tzinfo is None else t


class Deliverer:
    """Sends due deliveries. ``clock``, ``random`` (and ``sleep`` in :meth:`drain`) can be injected for tests."""

    def __init__(self, store: Store, *, timeout: float = 10.0, backoff: Backoff | None = None,
                 clock: Callable[[], float] = time.time, random: Callable[[], float] = _random.random,
                 concurrency: int = 4, client: httpx.Client | None = None):
        self.store = store
        self.timeout = timeout
        self.backoff = backoff or Backoff()
        self.clock = clock
        self.random = random
        self.concurrency = max(1, concurrency)
        self.lease = timedelta(seconds=2 * timeout + 30)
        self._own_client = client is None
        self.client = client or httpx.Client(timeout=httpx.Timeout(timeout), follow_redirects=False,
                                             headers={"User-Agent": f"haris-webhooks/{__version__}"})

    def close(self) -> None:
        if self._own_client:
            self.client.close()

    def __enter__(self) -> "Deliverer":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), tz=timezone.utc)

    # -- one round -----------------------------------------------------------------------------
    def claim(self, limit: int) -> list[dict]:
        """Take up to ``limit`` due deliveries by moving them a lease into the future."""
        t = webhook_deliveries
        now = self.now()
        claimed = []
        with self.store.begin() as conn:
            rows = conn.execute(select(t).where(t.c.status == "pending", t.c.next_attempt_at <= now)
                                .order_by(t.c.next_attempt_at, t.c.id).limit(limit)
                                .with_for_update(skip_locked=True)).mappings().all()
            secrets: dict[str, str] = {}
            for r in rows:
                won = conn.execute(update(t).where(t.c.id == r["id"], t.c.status == "pending",
                                                   t.c.attempts == r["attempts"], t.c.next_attempt_at <= now)
                                   .values(next_attempt_at=now + self.lease)).rowcount
                if won:
                    if r["endpoint_id"] not in secrets:
                        secrets[r["endpoint_id"]] = endpoint_secret(conn, r["endpoint_id"])
                    claimed.append({**r, "secret": secrets[r["endpoint_id"]]})
        return claimed

    def send(self, row: dict) -> Attempt:
        """One HTTP attempt; never raises for network trouble (it is the attempt's error)."""
        body = row["body"].encode("utf-8")
        number = row["attempts"] + 1
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(row["secret"], body, int(self.clock())),
                   "Idempotency-Key": row["idempotency_key"], "Haris-Event": row["event"],
                   "Haris-Delivery": row["id"], "Haris-Attempt": str(number)}
        started = time.perf_counter()
        code, error, retry_after = None, None, None
        try:
            resp = self.client.post(row["url"], content=body, headers=headers)
            code = resp.status_code
            if resp.is_redirect or 300 <= code < 400:
                error = (f"HTTP {code}: redirect to {resp.headers.get('location', '?')!r} not followed "
                         "(webhooks never follow redirects: configure the final URL)")
            elif not 200 <= code < 300:
                error = f"HTTP {code} {resp.reason_phrase}: {resp.text[:200].strip()}".rstrip(": ")
                if code in (429, 503) and resp.headers.get("retry-after", "").isdigit():
                    retry_after = float(resp.headers["retry-after"])
        except httpx.TimeoutException:
            error = f"timed out after {self.timeout:g} s"
        except httpx.ConnectError as exc:
            error = f"cannot connect to {row['url']}: {exc}"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
        return Attempt(row["id"], number, code, error, int((time.perf_counter() - started) * 1000),
                       retry_after=retry_after)

    def deliver_due(self, limit: int = 100) -> RunStats:
        """Claim, send and record one batch of due deliveries."""
        rows = self.claim(limit)
        stats = RunStats()
        if not rows:
            return stats
        if self.concurrency > 1 and len(rows) > 1:
            with ThreadPoolExecutor(max_workers=min(self.concurrency, len(rows))) as pool:
                attempts = list(pool.map(self.send, rows))
        else:
            attempts = [self.send(r) for r in rows]
        self._record(rows, attempts, stats)
        return stats

    def _record(self, rows: list[dict], attempts: list[Attempt], stats: RunStats) -> None:
        t = webhook_deliveries
        now = self.now()
        changes = []
        with self.store.begin() as conn:
            conn.execute(webhook_attempts.insert(), [
                dict(delivery_id=a.delivery_id, attempt=a.number, at=now, status_code=a.status_code, error=a.error,
                     duration_ms=a.duration_ms) for a in attempts])
            for row, a in zip(rows, attempts):
                # Every row carries every column so that one executemany updates them all.
                values = {"_id": row["id"], "status": "pending", "attempts": a.number, "last_status_code": a.status_code,
                          "last_error": a.error, "updated_at": now, "delivered_at": None,
                          "next_attempt_at": row["next_attempt_at"]}
                if a.error is None:
                    a.outcome = "delivered"
                    values.update(status="delivered", delivered_at=now)
                elif a.status_code in NOT_RETRYABLE or a.number >= row["max_attempts"]:
                    a.outcome = "dead"
                    why = "not retryable" if a.status_code in NOT_RETRYABLE else f"{a.number} attempts"
                    values.update(status="dead", last_error=f"{a.error} [dead-lettered: {why}]")
                    audit.append(conn, "haris", "webhook.dead", row["item_id"],
                                 {"delivery": row["id"], "event": row["event"], "url": row["url"],
                                  "attempts": a.number, "error": a.error})
                else:
                    a.outcome = "retry"
                    wait = self.backoff.delay(a.number, self.random())
                    if a.retry_after is not None:
                        wait = min(self.backoff.cap, max(wait, a.retry_after))
                    values["next_attempt_at"] = now + timedelta(seconds=wait)
                changes.append(values)
                stats.attempted += 1
                stats.delivered += a.outcome == "delivered"
                stats.retried += a.outcome == "retry"
                stats.dead += a.outcome == "dead"
                stats.attempts.append(a)
            conn.execute(update(t).where(t.c.id == bindparam("_id")).values(
                {c: bindparam(c) for c in changes[0] if c != "_id"}), changes)

    # -- until nothing is pending ---------------------------------------------------------------
    def next_due(self) -> datetime | None:
        t = webhook_deliveries
        with self.store.connect() as conn:
            v = conn.execute(select(func.min(t.c.next_attempt_at)).where(t.c.status == "pending")).scalar()
        return _utc(v) if v is not None else None

    def drain(self, *, sleep: Callable[[float], None] = time.sleep, limit: int = 100,
              max_wait: float | None = None) -> RunStats:
        """Deliver until nothing is pending, sleeping until the next retry is due.

        ``max_wait`` stops instead when the next retry is further away than that
        (the loop of ``haris webhook deliver --loop`` uses the real clock).
        """
        total = RunStats()
        while True:
            total.add(self.deliver_due(limit))
            due = self.next_due()
            if due is None:
                return total
            wait = (due - self.now()).total_seconds()
            if wait > 0:
                if max_wait is not None and wait > max_wait:
                    return total
                sleep(wait)


# -- the dead-letter list ------------------------------------------------------------------------
def list_deliveries(store: Store, *, failed: bool = False, status: str | None = None, limit: int = 100) -> list[dict]:
    """Deliveries, newest first; ``failed``: dead ones and pending ones whose last attempt failed."""
    t = webhook_deliveries
    q = select(t.c.id, t.c.event, t.c.url, t.c.status, t.c.attempts, t.c.max_attempts, t.c.next_attempt_at,
               t.c.last_status_code, t.c.last_error, t.c.item_id, t.c.idempotency_key, t.c.created_at,
               t.c.delivered_at)
    if failed:
        q = q.where((t.c.status == "dead") | ((t.c.status == "pending") & t.c.last_error.is_not(None)))
    if status:
        q = q.where(t.c.status == status)
    with store.connect() as conn:
        return [dict(r) for r in conn.execute(q.order_by(t.c.updated_at.desc(), t.c.id).limit(limit)).mappings()]


def attempts_of(store: Store, delivery_id: str) -> list[dict]:
    a = webhook_attempts
    with store.connect() as conn:
        return [dict(r) for r in conn.execute(select(a).where(a.c.delivery_id == delivery_id)
                                              .order_by(a.c.attempt, a.c.id)).mappings()]


def retry(store: Store, delivery_ids: list[str] | None = None, *, all_dead: bool = False,
          actor: str = "system") -> int:
    """Queue dead deliveries again (after the receiver was fixed); they keep their idempotency key."""
    t = webhook_deliveries
    now = datetime.now(timezone.utc)
    with store.begin() as conn:
        q = update(t).where(t.c.status == "dead")
        if not all_dead:
            if not delivery_ids:
                return 0
            q = q.where(t.c.id.in_(delivery_ids))
        res = conn.execute(q.values(status="pending", next_attempt_at=now, updated_at=now,
                                    max_attempts=t.c.attempts + t.c.max_attempts))
        n = res.rowcount or 0
        if delivery_ids and n < len(delivery_ids):
            raise NotFoundError(f"{len(delivery_ids) - n} of the given deliveries are not dead (or do not exist)")
        audit.append(conn, actor, "webhook.retry", None, {"deliveries": delivery_ids or "all dead", "count": n})
    return n
