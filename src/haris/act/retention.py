"""How long items are kept, preservation holds, and what may be purged.

Days per policy come from ``data/retention.yaml`` (or the file named by
``HARIS_RETENTION``). An item reported to authorities gets a preservation hold
(a year by default) and is never listed for deletion while the hold lasts.

>>> cfg = load_retention()
>>> cfg.days_for("benign") < cfg.days_for("trafficking")
True
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterable

import yaml
from sqlalchemy import Connection, and_, exists, or_, select, update

from haris.act.items import closed_reviews, iso, utc
from haris.act.tables import retention_holds
from haris.errors import ConfigError
from haris.model import stable_id
from haris.service.tables import review_items
from haris.store import schema
from haris.store.db import Store

RETENTION_FILE = Path(__file__).parent / "data" / "retention.yaml"


@dataclass(frozen=True)
class Retention:
    default_days: int
    policies: dict[str, int]
    hold_days: int

    def days_for(self, label: str | None) -> int:
        return self.policies.get(label or "", self.default_days)


def load_retention(path: str | Path | None = None) -> Retention:
    """Read the retention file; errors name the file and the key that is wrong."""
    path = Path(path or os.environ.get("HARIS_RETENTION") or RETENTION_FILE)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read the retention file: {exc}") from None

    def days(value, key: str) -> int:
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ConfigError(f"{path}: {key} must be a whole number of days (>= 0), got {value!r}")
        return value

    policies = doc.get("policies") or {}
    if not isinstance(policies, dict):
        raise ConfigError(f"{path}: policies must map a policy id to days")
    return Retention(days(doc.get("default_days", 180), "default_days"),
                     {str(k): days(v, f"policies.{k}") for k, v in policies.items()},
                     days(doc.get("hold_days", 365), "hold_days"))


# -- holds -----------------------------------------------------------------------------------------
def place_hold(conn: Connection, item_ids: Iterable[str], *, reason: str, until: datetime,
               by: str = "haris") -> int:
    """Hold items until ``until``; holding an item again for the same reason only ever extends it."""
    now = datetime.now(timezone.utc)
    n = 0
    for item in dict.fromkeys(i for i in item_ids if i):
        hid = stable_id("hold", "haris", item, reason)
        cur = conn.execute(select(retention_holds.c.until).where(retention_holds.c.id == hid)).scalar()
        if cur is None:
            conn.execute(retention_holds.insert().values(id=hid, item_id=item, reason=reason, until=until,
                                                         created_by=by, created_at=now))
        elif utc(cur) < until:
            conn.execute(update(retention_holds).where(retention_holds.c.id == hid).values(until=until))
        n += 1
    return n


def hold_on_report(conn: Connection, item_ids: Iterable[str], *, reason: str = "reported to authorities",
                   config: Retention | None = None, by: str = "haris") -> int:
    cfg = config or load_retention()
    return place_hold(conn, item_ids, reason=reason,
                      until=datetime.now(timezone.utc) + timedelta(days=cfg.hold_days), by=by)


def holds(store: Store, item_id: str | None = None) -> list[dict]:
    q = select(retention_holds).order_by(retention_holds.c.until.desc())
    if item_id:
        q = q.where(retention_holds.c.item_id == item_id)
    with store.connect() as conn:
        return [dict(r) for r in conn.execute(q).mappings()]


# -- what may go ---------------------------------------------------------------------------------
@dataclass
class DueItem:
    item_id: str
    item_kind: str
    label: str | None
    since: datetime           # when the clock started: the review's close, or the post's time
    due_at: datetime

    def to_dict(self) -> dict:
        return {"item_id": self.item_id, "item_kind": self.item_kind, "label": self.label,
                "since": iso(self.since), "due_at": iso(self.due_at)}


def due_for_deletion(store: Store, now: datetime | None = None, *, config: Retention | None = None,
                     limit: int | None = None) -> list[DueItem]:
    """Items whose retention has run out, oldest due first, leaving out held items and open reviews.

    Reviewed items count from the close of their (latest) review with the days
    of the standing decision's label; messages never reviewed (nor part of a
    reviewed conversation) count from their time with ``default_days``.
    """
    now = utc(now) or datetime.now(timezone.utc)
    cfg = config or load_retention()
    h = retention_holds
    with store.connect() as conn:
        held = {r[0] for r in conn.execute(select(h.c.item_id).where(h.c.until > now))}
        still_open = {r[0] for r in conn.execute(select(review_items.c.item_id)
                                                 .where(review_items.c.status != "closed"))}
        due: dict[str, DueItem] = {}
        for r in closed_reviews(conn):
            label = r["final"]["label"]
            at = r["closed_at"] + timedelta(days=cfg.days_for(label))
            prev = due.get(r["item_id"])
            if prev is None or at > prev.due_at:   # the latest review keeps it longest
                due[r["item_id"]] = DueItem(r["item_id"], r["item_kind"], label, r["closed_at"], at)
        out = [d for d in due.values() if d.due_at <= now and d.item_id not in held and d.item_id not in still_open]
        m, ri = schema.messages, review_items
        cutoff = now - timedelta(days=cfg.default_days)
        reviewed = exists().where(or_(ri.c.item_id == m.c.id, and_(m.c.conversation_id.is_not(None),
                                                                   ri.c.item_id == m.c.conversation_id)))
        q = (select(m.c.id, m.c.time).where(m.c.time.is_not(None), m.c.time <= cutoff, ~reviewed)
             .order_by(m.c.time, m.c.id))
        if limit is not None:
            q = q.limit(limit + len(held))
        for mid, t in conn.execute(q):
            if mid not in held:
                t = utc(t)
                out.append(DueItem(mid, "message", None, t, t + timedelta(days=cfg.default_days)))
    out.sort(key=lambda d: (d.due_at, d.item_id))
    return out[:limit] if limit is not None else out
