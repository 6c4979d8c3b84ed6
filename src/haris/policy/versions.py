"""The live policy and its history, kept in the store.

Activating a document stores it byte for byte with its SHA-256; the version
must grow, so a decision's ``policy_id@version`` always names one document.
"""
from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import select, update

from haris.errors import ConfigError
from haris.policy.engine import DEFAULT_POLICY, load_policy
from haris.policy.model import PolicyDoc
from haris.policy.tables import policy_versions as T
from haris.store.db import Store


def current(store: Store, policy_id: str = "default") -> tuple[PolicyDoc, str]:
    """The live document for ``policy_id`` and its YAML; the shipped default when none was activated."""
    with store.connect() as conn:
        row = conn.execute(select(T.c.document).where(T.c.policy_id == policy_id, T.c.active.is_(True))).first()
    if row is None:
        text = DEFAULT_POLICY.read_text(encoding="utf-8")
        return load_policy(text), text
    return load_policy(row[0]), row[0]


def activate(store: Store, path: str | Path, by: str | None = None) -> PolicyDoc:
    text = Path(path).read_text(encoding="utf-8")
    doc = load_policy(text)
    with store.begin() as conn:
        live = conn.execute(select(T.c.version).where(T.c.policy_id == doc.id, T.c.active.is_(True))).first()
        if live is not None and doc.version <= live[0]:
            raise ConfigError(f"{path}: version {doc.version} is not newer than the live version {live[0]} "
                              f"of policy {doc.id!r}; raise `version`")
        conn.execute(update(T).where(T.c.policy_id == doc.id).values(active=False))
        conn.execute(T.insert().values(
            id=f"{doc.id}@{doc.version}", policy_id=doc.id, version=doc.version, document=text,
            sha256=hashlib.sha256(text.encode()).hexdigest(), active=True,
            activated_at=datetime.now(timezone.utc), activated_by=by))
    return doc


def history(store: Store, policy_id: str | None = None) -> list[dict]:
    q = select(T.c.id, T.c.policy_id, T.c.version, T.c.sha256, T.c.active, T.c.activated_at, T.c.activated_by)
    if policy_id:
        q = q.where(T.c.policy_id == policy_id)
    with store.connect() as conn:
        return [dict(r) for r in conn.execute(q.order_by(T.c.policy_id, T.c.version)).mappings()]
