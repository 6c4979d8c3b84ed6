"""Signed webhooks that carry actions to the platform, and what receivers use to check them.

A decision that closes a review (after a second review where one is needed)
becomes one *delivery* per subscribed endpoint: a JSON body, fixed when it is
queued, sent with

    Haris-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>." + body>
    Idempotency-Key: <stable per action and endpoint: the same on every retry>
    Haris-Event: remove_item | suspend_account | preserve | safety_intervention | report_outcome

as Stripe and GitHub sign theirs. Receivers check it with
:func:`verify_signature` (or ``haris webhook verify``) and should ignore a key
they have already processed. Deliveries live in the store and are sent by
:mod:`haris.act.delivery` (``haris webhook deliver``).

>>> header = sign("whsec_test", b'{"a":1}', timestamp=1700000000)
>>> verify_signature("whsec_test", header, b'{"a":1}', now=1700000010)
1700000000
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import secrets as _secrets
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import urlsplit

from sqlalchemy import Connection, select, update

from haris.act.items import canonical_json, final_decisions, item_url, iso, utc
from haris.act.tables import webhook_deliveries, webhook_endpoints
from haris.errors import ConfigError, HarisError, NotFoundError
from haris.model import stable_id
from haris.service import audit
from haris.service.tables import review_items, user_reports
from haris.store import schema
from haris.store.db import Store

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "Haris-Signature"
EVENTS = ("remove_item", "suspend_account", "preserve", "safety_intervention", "report_outcome")
# Review actions and the platform event each sends. A report to authorities
# asks the platform to preserve the data (the law gives it a year to keep it).
ACTION_EVENTS = {"remove_item": "remove_item", "suspend_account": "suspend_account", "preserve": "preserve",
                 "safety_intervention": "safety_intervention", "report": "preserve"}
DEFAULT_MAX_ATTEMPTS = 8
DEFAULT_TOLERANCE = 300


class SignatureError(HarisError):
    """A webhook whose signature does not hold; the message says why."""

    exit_code = 4


# -- signing --------------------------------------------------------------------------------------
def _mac(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The ``Haris-Signature`` header value for ``body`` sent at ``timestamp`` (default: now)."""
    t = int(time.time()) if timestamp is None else int(timestamp)
    return f"t={t},v1={_mac(secret, t, body)}"


def verify_signature(secret: str, header: str, body: bytes, tolerance: int = DEFAULT_TOLERANCE,
                     now: float | None = None) -> int:
    """Check a ``Haris-Signature`` header against the raw body; returns its timestamp.

    Raises :class:`SignatureError` naming the problem: a malformed header, a
    timestamp outside ``tolerance`` seconds (a replay, or a clock that is off),
    or a signature that matches no ``v1`` value (wrong secret, or the body was
    changed: check the *raw* bytes, before any JSON parsing).
    """
    if not header or not header.strip():
        raise SignatureError(f"no {SIGNATURE_HEADER} header")
    stamp, sigs = None, []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            try:
                stamp = int(value)
            except ValueError:
                raise SignatureError(f"timestamp t={value!r} is not a whole number of seconds") from None
        elif key == "v1" and value:
            sigs.append(value.strip().lower())
    if stamp is None:
        raise SignatureError("the signature header has no t=<unix time>; expected t=…,v1=…")
    if not sigs:
        raise SignatureError("the signature header has no v1=<hex signature>; expected t=…,v1=…")
    now = time.time() if now is None else now
    if tolerance and abs(now - stamp) > tolerance:
        raise SignatureError(f"timestamp {stamp} is {abs(now - stamp):.0f} s from now (tolerance {tolerance} s): "
                             "a replayed request, or a clock that is off")
    expected = _mac(secret, stamp, body)
    if not any(hmac.compare_digest(expected, s) for s in sigs):
        raise SignatureError("signature does not match: wrong secret, or the body was changed")
    return stamp


# -- secrets at rest -------------------------------------------------------------------------------
def _fernet():
    key = os.environ.get("HARIS_SECRET_KEY")
    if not key:
        return None
    from cryptography.fernet import Fernet

    # Any long random string works: it is stretched to a Fernet key with SHA-256.
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(key.encode()).digest()))


def seal(secret: str) -> str:
    """How a signing secret is stored: encrypted with HARIS_SECRET_KEY when set, else in clear."""
    f = _fernet()
    return "fernet:" + f.encrypt(secret.encode()).decode() if f else "plain:" + secret


def unseal(stored: str) -> str:
    if stored.startswith("plain:"):
        return stored[6:]
    if stored.startswith("fernet:"):
        f = _fernet()
        if f is None:
            raise ConfigError("webhook secrets are encrypted: set HARIS_SECRET_KEY to the key they were stored with")
        from cryptography.fernet import InvalidToken

        try:
            return f.decrypt(stored[7:].encode()).decode()
        except InvalidToken:
            raise ConfigError("cannot decrypt a webhook secret: HARIS_SECRET_KEY is not the key it was "
                              "stored with") from None
    raise ConfigError("a webhook secret in the store has an unknown form (expected plain: or fernet:)")


# -- endpoints ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Endpoint:
    id: str
    name: str
    url: str
    events: tuple[str, ...]
    platform: str | None
    active: bool

    def to_dict(self) -> dict:
        return {"id": self.id, "name": self.name, "url": self.url, "events": list(self.events),
                "platform": self.platform, "active": self.active}


def _endpoint(row) -> Endpoint:
    return Endpoint(row["id"], row["name"], row["url"], tuple(row["events"] or ()), row["platform"],
                    bool(row["active"]))


def check_url(url: str) -> str:
    parts = urlsplit(url or "")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"webhook URL {url!r} is not an http(s) URL with a host")
    return url


def add_endpoint(store: Store, name: str, url: str, *, events: tuple[str, ...] | list[str] = EVENTS,
                 platform: str | None = None, secret: str | None = None, actor: str = "system") -> tuple[Endpoint, str]:
    """Configure an endpoint; returns it and its signing secret (generated when not given)."""
    check_url(url)
    bad = [e for e in events if e not in EVENTS]
    if bad or not events:
        raise ConfigError(f"unknown event(s) {', '.join(bad) or '(none given)'}; events are {', '.join(EVENTS)}")
    secret = secret or "whsec_" + _secrets.token_urlsafe(32)
    eid = stable_id("hook", "haris", name)
    with store.begin() as conn:
        if conn.execute(select(webhook_endpoints.c.id).where(webhook_endpoints.c.name == name)).first():
            raise ConfigError(f"webhook endpoint {name!r} exists")
        conn.execute(webhook_endpoints.insert().values(
            id=eid, name=name, url=url, secret=seal(secret), events=list(events), platform=platform, active=True,
            created_at=datetime.now(timezone.utc)))
        audit.append(conn, actor, "webhook.endpoint.add", eid,
                     {"name": name, "url": url, "events": list(events), "platform": platform})
    return Endpoint(eid, name, url, tuple(events), platform, True), secret


def list_endpoints(store: Store) -> list[Endpoint]:
    with store.connect() as conn:
        return [_endpoint(r) for r in conn.execute(select(webhook_endpoints).order_by(webhook_endpoints.c.name))
                .mappings()]


def remove_endpoint(store: Store, name: str, actor: str = "system") -> None:
    """Deactivate an endpoint (kept, with its deliveries, for the record)."""
    with store.begin() as conn:
        res = conn.execute(update(webhook_endpoints).where(webhook_endpoints.c.name == name).values(active=False))
        if not res.rowcount:
            raise NotFoundError(f"no webhook endpoint {name!r}")
        audit.append(conn, actor, "webhook.endpoint.disable", name, {})


def endpoint_secret(conn: Connection, endpoint_id: str) -> str:
    stored = conn.execute(select(webhook_endpoints.c.secret).where(webhook_endpoints.c.id == endpoint_id)).scalar()
    if stored is None:
        raise NotFoundError(f"no webhook endpoint {endpoint_id!r}")
    return unseal(stored)


def _endpoints_for(conn: Connection, event: str, platform: str | None) -> list[dict]:
    rows = conn.execute(select(webhook_endpoints).where(webhook_endpoints.c.active.is_(True))).mappings()
    return [dict(r) for r in rows if event in (r["events"] or ())
            and (r["platform"] is None or r["platform"] == platform)]


# -- queueing deliveries --------------------------------------------------------------------------
def idempotency_key(*parts: str) -> str:
    return "act_" + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:40]


def enqueue(conn: Connection, endpoint: dict, event: str, data: dict, *, key: str, url: str | None = None,
            review_item_id: str | None = None, item_id: str | None = None,
            max_attempts: int = DEFAULT_MAX_ATTEMPTS, now: datetime | None = None) -> str:
    """Queue one delivery; queuing the same idempotency key again changes nothing. Returns the delivery id."""
    now = now or datetime.now(timezone.utc)
    did = stable_id("dlv", "haris", key)
    if conn.execute(select(webhook_deliveries.c.id).where(webhook_deliveries.c.idempotency_key == key)).first():
        return did
    body = canonical_json({"id": did, "event": event, "created_at": iso(now), "data": data}).decode()
    conn.execute(webhook_deliveries.insert().values(
        id=did, endpoint_id=endpoint["id"], url=url or endpoint["url"], event=event, idempotency_key=key, body=body,
        status="pending", attempts=0, max_attempts=max_attempts, next_attempt_at=now, review_item_id=review_item_id,
        item_id=item_id, created_at=now, updated_at=now))
    return did


def _subject(conn: Connection, review_item: dict) -> dict:
    """What the platform needs to find the item: its platform, its own ids, its URL (never its content)."""
    kind, item_id = review_item["item_kind"], review_item["item_id"]
    if kind == "report":
        rep = conn.execute(select(user_reports).where(user_reports.c.id == item_id)).mappings().first()
        rep = dict(rep) if rep else {}
        return {"kind": "user_report", "report_id": item_id, "platform": rep.get("platform"),
                "platform_id": rep.get("item_id"), "account_platform_id": rep.get("account_id")}
    if kind == "account":
        acc = conn.execute(select(schema.accounts).where(schema.accounts.c.id == item_id)).mappings().first()
        return {"kind": "account", "id": item_id, "platform": acc["platform"] if acc else None,
                "account_platform_id": acc["platform_id"] if acc else None,
                "account_handle": acc["handle"] if acc else None}
    m = schema.messages
    if kind == "conversation":
        msg = conn.execute(select(m).where(m.c.conversation_id == item_id).order_by(m.c.time.desc()).limit(1)) \
            .mappings().first()
    else:
        msg = conn.execute(select(m).where(m.c.id == item_id)).mappings().first()
    if msg is None:
        return {"kind": kind, "id": item_id, "platform": None}
    chan = conn.execute(select(schema.channels).where(schema.channels.c.id == msg["channel_id"])).mappings().first()
    acc = conn.execute(select(schema.accounts).where(schema.accounts.c.id == msg["author_id"])).mappings().first()
    out = {"kind": kind, "id": item_id, "platform": msg["platform"],
           "channel_platform_id": chan["platform_id"] if chan else None,
           "account_id": msg["author_id"], "account_platform_id": acc["platform_id"] if acc else None,
           "account_handle": acc["handle"] if acc else None}
    if kind == "message":
        out["platform_id"] = msg["platform_id"]
        out["url"] = item_url(msg["platform"], msg["platform_id"], chan["handle"] if chan else None)
    return out


def enqueue_action(conn: Connection, review_item: dict, decision: dict) -> list[str]:
    """Queue the platform action a closing decision calls for; returns the delivery ids (none for no_action).

    One delivery per active endpoint subscribed to the event for the item's
    platform. When no endpoint is configured the gap is written to the audit
    log, so it is visible rather than silently dropped.
    """
    event = ACTION_EVENTS.get(decision.get("action", ""))
    if event is None:
        return []
    subject = _subject(conn, review_item)
    endpoints = _endpoints_for(conn, event, subject.get("platform"))
    if not endpoints:
        audit.append(conn, "haris", "webhook.no_endpoint", review_item["item_id"],
                     {"event": event, "platform": subject.get("platform"), "review_id": review_item["id"]})
        return []
    data = {"review_id": review_item["id"], "item": subject,
            "decision": {"label": decision["label"], "action": decision["action"], "stage": decision["stage"],
                         "decided_at": iso(utc(decision["created_at"]))},
            "intervention": (review_item.get("decision") or {}).get("intervention") if event == "safety_intervention"
            else None}
    return [enqueue(conn, ep, event, data, key=idempotency_key(review_item["id"], event, ep["id"]),
                    review_item_id=review_item["id"], item_id=review_item["item_id"]) for ep in endpoints]


def enqueue_report_outcome(conn: Connection, review_item: dict, decision: dict) -> list[str]:
    """Tell the reporter's platform how a user report ended (to the callback URL when it is safe to)."""
    rep = conn.execute(select(user_reports).where(user_reports.c.id == review_item["item_id"])).mappings().first()
    if rep is None:
        return []
    conn.execute(update(user_reports).where(user_reports.c.id == rep["id"]).values(status="closed"))
    endpoints = _endpoints_for(conn, "report_outcome", rep["platform"])
    if not endpoints:
        if rep["callback_url"]:
            audit.append(conn, "haris", "webhook.no_endpoint", rep["id"],
                         {"event": "report_outcome", "platform": rep["platform"]})
        return []
    outcome = "no_violation" if decision["action"] == "no_action" else "actioned"
    data = {"report_id": rep["id"], "platform_item_id": rep["item_id"], "platform_account_id": rep["account_id"],
            "category": rep["category"], "outcome": outcome, "label": decision["label"],
            "action": decision["action"], "closed_at": iso(utc(decision["created_at"]))}
    out = []
    for ep in endpoints:
        url = ep["url"]
        # Only a callback on the endpoint's own origin is used: an API client must
        # not be able to make haris post signed requests to arbitrary hosts.
        if rep["callback_url"] and _same_origin(rep["callback_url"], ep["url"]):
            url = rep["callback_url"]
        elif rep["callback_url"]:
            data = {**data, "callback_url": rep["callback_url"]}
        out.append(enqueue(conn, ep, "report_outcome", data, key=idempotency_key(rep["id"], "report_outcome", ep["id"]),
                           url=url, review_item_id=review_item["id"], item_id=rep["id"]))
    return out


def _same_origin(a: str, b: str) -> bool:
    pa, pb = urlsplit(a), urlsplit(b)
    return pa.scheme in ("http", "https") and (pa.scheme, pa.hostname, pa.port) == (pb.scheme, pb.hostname, pb.port)


def on_review_closed(conn: Connection, review_id: str) -> list[str]:
    """The hook the review workflow calls when an item closes (inside the decision's transaction).

    Queues the action of the standing decision (a second review's overturn wins
    over the first decision), the outcome of a user report, a preservation hold
    for items reported to authorities, and records suspended accounts for the
    ban-evasion search.
    """
    item = conn.execute(select(review_items).where(review_items.c.id == review_id)).mappings().first()
    if item is None or item["status"] != "closed":
        return []
    item = dict(item)
    decision = final_decisions(conn, [review_id]).get(review_id)
    if decision is None:
        return []
    out = enqueue_action(conn, item, decision)
    if item["item_kind"] == "report":
        out += enqueue_report_outcome(conn, item, decision)
    if decision["action"] == "report":
        from haris.act.retention import hold_on_report

        hold_on_report(conn, [item["item_id"]], reason=f"reported to authorities (review {review_id})")
    if decision["action"] == "suspend_account":
        _record_ban(conn, item, utc(decision["created_at"]))
    return out


def _record_ban(conn: Connection, item: dict, at: datetime) -> None:
    try:
        from haris.network.tables import network_actions
    except ImportError:   # the networks stage is not installed
        return
    account = item["item_id"] if item["item_kind"] == "account" else None
    if account is None and item["item_kind"] == "message":
        account = conn.execute(select(schema.messages.c.author_id).where(schema.messages.c.id == item["item_id"])) \
            .scalar()
    if not account:
        return
    aid = stable_id("action", "network", account, at.isoformat())
    if conn.execute(select(network_actions.c.id).where(network_actions.c.id == aid)).first() is None:
        conn.execute(network_actions.insert().values(id=aid, account_id=account, at=at,
                                                     reason=f"suspended after review {item['id']}",
                                                     created_at=datetime.now(timezone.utc)))
