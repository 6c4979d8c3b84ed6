"""Tables of the act-and-report stage (defined on the store's shared metadata).

* ``webhook_endpoints``: where actions go (a platform's receiver), with the
  secret that signs them. The secret is stored because haris must sign with it;
  when ``HARIS_SECRET_KEY`` is set it is stored encrypted (``fernet:…``),
  otherwise in clear (``plain:…``) and the database must be protected like a
  password file (see docs/act_and_report.md).
* ``webhook_deliveries``: one row per action to send, durable: the worker
  picks up rows whose ``next_attempt_at`` has come, so a crash loses nothing.
  ``status`` is pending, delivered or dead (the dead-letter list).
* ``webhook_attempts``: every attempt with its status code, error, duration and time.
* ``retention_holds``: preservation holds; an item under a live hold is never
  listed for deletion.
* ``authority_reports``: CyberTipline-style reports exported or submitted.

The migration is ``haris/store/migrations/versions/0008_act.py``.
"""
from __future__ import annotations

from sqlalchemy import (JSON, BigInteger, Boolean, Column, DateTime, ForeignKey, Index, Integer, String, Table,
                        Text)
from sqlalchemy.dialects.postgresql import JSONB

from haris.store.schema import metadata

JSONType = JSON().with_variant(JSONB(), "postgresql")
TS = DateTime(timezone=True)
Id = String(40)
AutoId = BigInteger().with_variant(Integer(), "sqlite")

webhook_endpoints = Table(
    "webhook_endpoints", metadata,
    Column("id", Id, primary_key=True),
    Column("name", String(120), nullable=False, unique=True),
    Column("url", Text, nullable=False),
    Column("secret", Text, nullable=False),            # "fernet:<token>" or "plain:<secret>"
    Column("events", JSONType, nullable=False),        # remove_item, suspend_account, preserve, ...
    Column("platform", String(40)),                    # the platform it acts for; NULL: every platform
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", TS, nullable=False),
)

webhook_deliveries = Table(
    "webhook_deliveries", metadata,
    Column("id", Id, primary_key=True),
    Column("endpoint_id", Id, ForeignKey("webhook_endpoints.id", ondelete="CASCADE"), nullable=False),
    Column("url", Text, nullable=False),               # the endpoint's, or a same-origin callback URL
    Column("event", String(32), nullable=False),
    Column("idempotency_key", String(80), nullable=False, unique=True),   # stable per action
    Column("body", Text, nullable=False),              # the exact bytes sent (UTF-8 JSON), the same on every try
    Column("status", String(12), nullable=False),      # pending, delivered, dead
    Column("attempts", Integer, nullable=False, default=0),
    Column("max_attempts", Integer, nullable=False),
    Column("next_attempt_at", TS, nullable=False),
    Column("last_status_code", Integer),
    Column("last_error", Text),
    Column("review_item_id", Id),
    Column("item_id", Text),
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
    Column("delivered_at", TS),
    Index(None, "status", "next_attempt_at"),
    Index(None, "review_item_id"),
)

webhook_attempts = Table(
    "webhook_attempts", metadata,
    Column("id", AutoId, primary_key=True, autoincrement=True),
    Column("delivery_id", Id, ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("at", TS, nullable=False),
    Column("status_code", Integer),
    Column("error", Text),
    Column("duration_ms", Integer, nullable=False),
    Index(None, "delivery_id"),
)

retention_holds = Table(
    "retention_holds", metadata,
    Column("id", Id, primary_key=True),                # stable: item and reason
    Column("item_id", Id, nullable=False),
    Column("reason", Text, nullable=False),
    Column("until", TS, nullable=False),
    Column("created_by", Text, nullable=False),
    Column("created_at", TS, nullable=False),
    Index(None, "item_id"),
)

authority_reports = Table(
    "authority_reports", metadata,
    Column("id", Id, primary_key=True),
    Column("case_id", Id, nullable=False),
    Column("kind", String(24), nullable=False),        # cybertipline
    Column("incident_type", Text, nullable=False),
    Column("status", String(16), nullable=False),      # exported, submitted, failed
    Column("sha256", String(64), nullable=False),      # of the report XML
    Column("remote_id", Text),                          # the report id the receiver gave back
    Column("error", Text),
    Column("created_at", TS, nullable=False),
    Column("submitted_at", TS),
    Index(None, "case_id"),
)
