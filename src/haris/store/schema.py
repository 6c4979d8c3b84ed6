"""Tables of the store (SQLAlchemy Core).

The schema is the same on SQLite (embedded default) and PostgreSQL
(production). Alembic migrations in ``migrations/`` create and evolve it; this
module is their single source of truth. Every primary key is a stable id
(see :func:`haris.model.stable_id`), which is what makes re-ingesting and
resuming idempotent: a row that is already there is simply skipped.
"""
from __future__ import annotations

from sqlalchemy import (JSON, Column, DateTime, Float, ForeignKey, Index, Integer, MetaData,
                        String, Table, Text)
from sqlalchemy.dialects.postgresql import JSONB

# Constraint names are fixed so that migrations are the same on every backend.
metadata = MetaData(naming_convention={
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
})

JSONType = JSON().with_variant(JSONB(), "postgresql")
Id = String(40)
UTCDateTime = DateTime(timezone=True)

sources = Table(
    "sources", metadata,
    Column("id", String(64), primary_key=True),    # sha256 of the file's bytes: the same file is the same source
    Column("path", Text, nullable=False),
    Column("format", String(20), nullable=False),
    Column("size", Integer),
    Column("status", String(12), nullable=False),  # done (running states never commit: one transaction a file)
    Column("records", Integer, nullable=False, default=0),
    Column("ingested_at", UTCDateTime, nullable=False),
)

accounts = Table(
    "accounts", metadata,
    Column("id", Id, primary_key=True),
    Column("platform", String(20), nullable=False),
    Column("platform_id", Text, nullable=False),
    Column("handle", Text),
    Column("display_name", Text),
    Column("bio", Text),
    Index(None, "platform", "handle"),
)

channels = Table(
    "channels", metadata,
    Column("id", Id, primary_key=True),
    Column("platform", String(20), nullable=False),
    Column("platform_id", Text, nullable=False),
    Column("kind", String(20), nullable=False),
    Column("title", Text),
    Column("handle", Text),
)

conversations = Table(
    "conversations", metadata,
    Column("id", Id, primary_key=True),
    Column("platform", String(20), nullable=False),
    Column("channel_id", Id),
    Column("kind", String(20), nullable=False),
    Column("title", Text),
)

messages = Table(
    "messages", metadata,
    Column("id", Id, primary_key=True),
    Column("platform", String(20), nullable=False),
    Column("platform_id", Text, nullable=False),
    Column("channel_id", Id),
    Column("conversation_id", Id),
    Column("author_id", Id),
    Column("time", UTCDateTime),
    Column("text", Text, nullable=False),
    Column("reply_to_id", Id),
    Column("forwarded_from", Text),
    Column("forwarded_from_id", Id),
    Column("kind", String(20), nullable=False),
    Column("origin", Text),
    Column("source_id", String(64)),
    Column("lang", String(8)),
    Column("lang_confidence", Float),
    Column("analysed_version", String(40)),   # pipeline version that produced its entities and signals
    Index(None, "channel_id", "time"),
    Index(None, "conversation_id", "time"),
    Index(None, "author_id"),
)

media = Table(
    "media", metadata,
    Column("id", Id, primary_key=True),
    Column("message_id", Id, ForeignKey("messages.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("sha256", String(64)),
    Column("path", Text),
    Column("url", Text),
    Column("mime", Text),
    Column("size", Integer),
    Index(None, "message_id"),
    Index(None, "sha256"),
)

links = Table(
    "links", metadata,
    Column("id", Id, primary_key=True),
    Column("message_id", Id, ForeignKey("messages.id", ondelete="CASCADE"), nullable=False),
    Column("url", Text, nullable=False),
    Column("platform", String(20), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("domain", Text),
    Column("start", Integer),
    Column("end", Integer),
    Index(None, "message_id"),
    Index(None, "url"),
)

entities = Table(
    "entities", metadata,
    Column("id", Id, primary_key=True),
    Column("message_id", Id, ForeignKey("messages.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(12), nullable=False),
    Column("start", Integer, nullable=False),
    Column("end", Integer, nullable=False),
    Column("text", Text, nullable=False),
    Column("value", JSONType),
    Index(None, "message_id"),
    Index(None, "kind"),
)

signals = Table(
    "signals", metadata,
    Column("id", Id, primary_key=True),          # stable: item, policy, detector
    Column("item_id", Id, nullable=False),
    Column("item_kind", String(16), nullable=False),   # message, conversation, account
    Column("policy", String(32), nullable=False),
    Column("score", Float, nullable=False),
    Column("labels", JSONType, nullable=False),
    Column("detector", String(64), nullable=False),
    Column("detector_version", String(32), nullable=False),
    Column("evidence", JSONType, nullable=False),
    Column("data", JSONType),
    Column("created_at", UTCDateTime, nullable=False),
    Index(None, "item_id"),
    Index(None, "policy", "score"),
)
