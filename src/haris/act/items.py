"""What the act-and-report stage reads from the store: items, their context and the final decisions.

Shared by webhooks, evidence bundles, CyberTipline reports, referral packages,
sharing and transparency reports, so that every output describes an item the
same way and its evidence hash is the same everywhere:

    >>> evidence_hash({"id": "msg_1", "text": "x"}) == evidence_hash({"text": "x", "id": "msg_1"})
    True
"""
from __future__ import annotations

import hashlib
import json
import os
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterable, Iterator

from sqlalchemy import Connection, select

from haris.errors import ConfigError
from haris.service.tables import decisions, review_items, user_reports
from haris.store import schema

ACTIONS_THAT_ACT = ("remove_item", "suspend_account", "preserve", "report", "safety_intervention")
_CHUNK = 500


# -- time and JSON -------------------------------------------------------------------------------
def utc(t: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; every instant in haris is UTC."""
    if t is None:
        return None
    return t.replace(tzinfo=timezone.utc) if t.tzinfo is None else t.astimezone(timezone.utc)


def iso(t: datetime | None) -> str | None:
    t = utc(t)
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ") if t else None


def parse_when(value: str | date | datetime | None, *, end: bool = False) -> datetime | None:
    """A CLI date or instant as UTC. A bare date given as an *end* means the end of that day.

    >>> parse_when("2026-03-31", end=True).isoformat()
    '2026-04-01T00:00:00+00:00'
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return utc(value)
    if isinstance(value, date):
        t = datetime(value.year, value.month, value.day, tzinfo=timezone.utc)
        return t + timedelta(days=1) if end else t
    text = str(value).strip()
    try:
        t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(f"{value!r} is not a date (2026-03-31) or an ISO 8601 instant") from None
    bare_date = len(text) == 10
    t = utc(t)
    return t + timedelta(days=1) if (end and bare_date) else t


def _default(v: Any) -> Any:
    if isinstance(v, datetime):
        return iso(v)
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, (set, frozenset, tuple)):
        return list(v)
    return str(v)


def jsonable(obj: Any) -> Any:
    """Rows with datetimes turned into the JSON haris writes everywhere (UTC, ``…Z``)."""
    return json.loads(json.dumps(obj, default=_default, ensure_ascii=False))


def canonical_json(obj: Any) -> bytes:
    """Sorted keys, no spaces, UTF-8: the same object always gives the same bytes."""
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_default).encode()


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def evidence_hash(item_doc: dict) -> str:
    """SHA-256 of an item's canonical JSON (what referral packages and evidence bundles cite)."""
    return sha256_hex(canonical_json(item_doc))


def data_dir() -> Path:
    """Where haris keeps its own files (signing keys): ``HARIS_DATA_DIR``, else the XDG data folder."""
    if os.environ.get("HARIS_DATA_DIR"):
        return Path(os.environ["HARIS_DATA_DIR"])
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "haris"


def chunks(ids: Iterable[str], size: int = _CHUNK) -> Iterator[list[str]]:
    ids = list(dict.fromkeys(i for i in ids if i))
    for i in range(0, len(ids), size):
        yield ids[i:i + size]


# -- URLs of items ---------------------------------------------------------------------------------
def item_url(platform: str | None, platform_id: str | None, channel_handle: str | None) -> str | None:
    """The public address of a post when it can be derived, else None (use the platform id).

    >>> item_url("telegram", "42", "example_news")
    'https://t.me/example_news/42'
    >>> item_url("twitter", "1790000000000000001", None)
    'https://x.com/i/status/1790000000000000001'
    """
    if not platform_id:
        return None
    if platform in ("telegram",) and channel_handle:
        return f"https://t.me/{channel_handle.lstrip('@')}/{platform_id}"
    if platform == "tamtam" and channel_handle:
        return f"https://tt.me/{channel_handle.lstrip('@')}/{platform_id}"
    if platform in ("twitter", "x") and str(platform_id).isdigit():
        return f"https://x.com/i/status/{platform_id}"
    return None


def profile_url(platform: str | None, handle: str | None) -> str | None:
    if not handle:
        return None
    h = handle.lstrip("@")
    return {"telegram": f"https://t.me/{h}", "tamtam": f"https://tt.me/{h}",
            "twitter": f"https://x.com/{h}"}.get(platform or "")


# -- decisions ----------------------------------------------------------------------------------
def final_decisions(conn: Connection, review_ids: Iterable[str]) -> dict[str, dict]:
    """The decision that stands for each review item: the second review's when there is one."""
    out: dict[str, dict] = {}
    for chunk in chunks(review_ids):
        rows = conn.execute(select(decisions).where(decisions.c.review_item_id.in_(chunk))).mappings()
        for r in rows:
            cur = out.get(r["review_item_id"])
            if cur is None or (r["stage"] == "second" and cur["stage"] == "first"):
                out[r["review_item_id"]] = dict(r)
    return out


def closed_reviews(conn: Connection, start: datetime | None = None, end: datetime | None = None,
                   *, labels: Iterable[str] | None = None, acted_only: bool = False) -> list[dict]:
    """Review items closed in [start, end), each with ``final`` (its standing decision) and ``first``."""
    q = select(review_items).where(review_items.c.status == "closed")
    if start is not None:
        q = q.where(review_items.c.closed_at >= start)
    if end is not None:
        q = q.where(review_items.c.closed_at < end)
    rows = [dict(r) for r in conn.execute(q.order_by(review_items.c.closed_at, review_items.c.id)).mappings()]
    ids = [r["id"] for r in rows]
    finals = final_decisions(conn, ids)
    firsts: dict[str, dict] = {}
    for chunk in chunks(ids):
        for d in conn.execute(select(decisions).where(decisions.c.review_item_id.in_(chunk),
                                                      decisions.c.stage == "first")).mappings():
            firsts[d["review_item_id"]] = dict(d)
    wanted = set(labels) if labels is not None else None
    out = []
    for r in rows:
        f = finals.get(r["id"])
        if f is None:
            continue
        if acted_only and f["action"] not in ACTIONS_THAT_ACT:
            continue
        if wanted is not None and f["label"] not in wanted:
            continue
        r["final"], r["first"] = f, firsts.get(r["id"])
        for k in ("created_at", "updated_at", "closed_at"):
            r[k] = utc(r[k])
        out.append(r)
    return out


# -- items and their context ---------------------------------------------------------------------
def messages_of(conn: Connection, review: dict) -> list[dict]:
    """The messages a review item is about: the message, a conversation's messages, an account's posts."""
    t = schema.messages
    kind, item = review["item_kind"], review["item_id"]
    if kind == "message":
        q = select(t).where(t.c.id == item)
    elif kind == "conversation":
        q = select(t).where(t.c.conversation_id == item).order_by(t.c.time, t.c.id)
    elif kind == "account":
        q = select(t).where(t.c.author_id == item).order_by(t.c.time, t.c.id).limit(1000)
    else:
        return []
    return [dict(r) for r in conn.execute(q).mappings()]


def user_report(conn: Connection, report_id: str) -> dict | None:
    row = conn.execute(select(user_reports).where(user_reports.c.id == report_id)).mappings().first()
    return dict(row) if row else None


def message_docs(conn: Connection, rows: list[dict]) -> list[dict]:
    """Messages with their entities, signals, links and media: the item as evidence describes it."""
    ids = [r["id"] for r in rows]
    extra: dict[str, dict[str, list]] = {i: {"entities": [], "signals": [], "links": [], "media": []} for i in ids}
    for chunk in chunks(ids):
        for name, table, col in (("entities", schema.entities, schema.entities.c.message_id),
                                 ("links", schema.links, schema.links.c.message_id),
                                 ("media", schema.media, schema.media.c.message_id),
                                 ("signals", schema.signals, schema.signals.c.item_id)):
            for r in conn.execute(select(table).where(col.in_(chunk)).order_by(table.c.id)).mappings():
                key = r["item_id"] if name == "signals" else r["message_id"]
                extra[key][name].append(dict(r))
    return [jsonable({**r, **extra[r["id"]]}) for r in rows]


def rows_by_id(conn: Connection, table, ids: Iterable[str]) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for chunk in chunks(ids):
        for r in conn.execute(select(table).where(table.c.id.in_(chunk))).mappings():
            out[r["id"]] = dict(r)
    return out
