"""The tamper-evident audit log.

Every entry holds the SHA-256 of the previous entry's hash and its own
canonical content, so editing, deleting or reordering any entry breaks the
chain from that point on; :func:`verify` finds the first broken entry. The
database also refuses UPDATE and DELETE on the table (a trigger created by the
migration), so tampering takes a deliberate act that the chain then exposes.

What is written: every decision, every reveal of media, every view of a
victim's data, every change of policy, role, user or API key, every log-in
and failed log-in.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Connection, select, text

from haris.service.tables import audit_log as T
from haris.store.db import Store

GENESIS = "0" * 64


def _canonical(at: datetime, actor: str, action: str, target: str | None, detail: dict) -> str:
    at = at.astimezone(timezone.utc) if at.tzinfo else at.replace(tzinfo=timezone.utc)
    return json.dumps({"at": at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "actor": actor, "action": action,
                       "target": target, "detail": detail}, sort_keys=True, ensure_ascii=False,
                      separators=(",", ":"), default=str)


def entry_hash(prev_hash: str, at: datetime, actor: str, action: str, target: str | None, detail: dict) -> str:
    return hashlib.sha256((prev_hash + "\n" + _canonical(at, actor, action, target, detail)).encode()).hexdigest()


def _lock(conn: Connection) -> None:
    # Appends must be serialised or two entries could chain to the same predecessor.
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(7312001)"))
    # SQLite serialises writers on the database file already.


def append(conn: Connection, actor: str, action: str, target: str | None = None,
           detail: dict[str, Any] | None = None) -> str:
    """Append one entry inside the caller's transaction (so it commits with what it records)."""
    _lock(conn)
    detail = json.loads(json.dumps(detail or {}, default=str))
    prev = conn.execute(select(T.c.hash).order_by(T.c.seq.desc()).limit(1)).scalar()
    prev = prev or GENESIS
    at = datetime.now(timezone.utc)
    h = entry_hash(prev, at, actor, action, target, detail)
    conn.execute(T.insert().values(at=at, actor=actor, action=action, target=target, detail=detail,
                                   prev_hash=prev, hash=h))
    return h


def record(store: Store, actor: str, action: str, target: str | None = None, detail: dict | None = None) -> str:
    with store.begin() as conn:
        return append(conn, actor, action, target, detail)


@dataclass
class VerifyResult:
    ok: bool
    entries: int
    first_bad_seq: int | None = None
    problem: str | None = None

    def to_dict(self) -> dict:
        return {"ok": self.ok, "entries": self.entries, "first_bad_seq": self.first_bad_seq, "problem": self.problem}


def verify(store: Store) -> VerifyResult:
    """Walk the chain; report the first entry that was edited, deleted, inserted or reordered."""
    prev = GENESIS
    n = 0
    with store.connect() as conn:
        for row in conn.execute(select(T).order_by(T.c.seq)).mappings():
            n += 1
            if row["prev_hash"] != prev:
                return VerifyResult(False, n, row["seq"], "does not chain to the entry before it "
                                    "(an entry before it was deleted, inserted or edited)")
            h = entry_hash(prev, row["at"], row["actor"], row["action"], row["target"], row["detail"])
            if h != row["hash"]:
                return VerifyResult(False, n, row["seq"], "content does not match its hash (edited)")
            prev = row["hash"]
    return VerifyResult(True, n)


def entries(store: Store, *, target: str | None = None, action: str | None = None, limit: int = 200) -> list[dict]:
    q = select(T).order_by(T.c.seq.desc()).limit(limit)
    if target:
        q = q.where(T.c.target == target)
    if action:
        q = q.where(T.c.action == action)
    with store.connect() as conn:
        return [dict(r) for r in conn.execute(q).mappings()]
