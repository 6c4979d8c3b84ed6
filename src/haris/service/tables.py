"""Tables of the service: people and keys, the review workflow, user reports, the audit log."""
from sqlalchemy import (JSON, BigInteger, Boolean, Column, DateTime, Float, ForeignKey, Index, Integer,
                        String, Table, Text)
from sqlalchemy.dialects.postgresql import JSONB

from haris.store.schema import metadata

JSONType = JSON().with_variant(JSONB(), "postgresql")
TS = DateTime(timezone=True)
Id = String(40)

users = Table(
    "users", metadata,
    Column("id", Id, primary_key=True),
    Column("username", String(120), nullable=False, unique=True),
    Column("password_hash", Text, nullable=False),       # argon2id
    Column("roles", JSONType, nullable=False),            # admin, reviewer, senior_reviewer, auditor, victim_data
    Column("language", String(8), nullable=False, default="en"),
    Column("active", Boolean, nullable=False, default=True),
    Column("failed_logins", Integer, nullable=False, default=0),
    Column("locked_until", TS),
    Column("created_at", TS, nullable=False),
)

sessions = Table(
    "sessions", metadata,
    Column("id", String(64), primary_key=True),          # SHA-256 of the cookie token; the token itself is never stored
    Column("user_id", Id, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", TS, nullable=False),
    Column("expires_at", TS, nullable=False),
    Column("last_seen_at", TS, nullable=False),
)

api_keys = Table(
    "api_keys", metadata,
    Column("id", Id, primary_key=True),
    Column("name", Text, nullable=False),
    Column("prefix", String(16), nullable=False, unique=True),   # shown to people, to tell keys apart
    Column("key_hash", String(64), nullable=False),             # SHA-256 of the secret (high-entropy: no KDF needed)
    Column("scopes", JSONType, nullable=False),                  # items:write, reports:write, read, banks:write, policies:write
    Column("rate_per_minute", Integer, nullable=False, default=600),
    Column("created_at", TS, nullable=False),
    Column("revoked_at", TS),
)

review_items = Table(
    "review_items", metadata,
    Column("id", Id, primary_key=True),
    Column("item_id", Id, nullable=False),             # message, conversation or account id
    Column("item_kind", String(16), nullable=False),
    Column("policy", String(32)),
    Column("score", Float),
    Column("priority", String(8), nullable=False),     # urgent, high, normal, low
    Column("priority_rank", Integer, nullable=False),  # 3..0, for sorting: a child at risk first
    Column("queue", String(40), nullable=False),
    Column("source", String(16), nullable=False),      # proactive, user_report
    Column("status", String(24), nullable=False),      # open, needs_second_review, closed
    Column("decision", JSONType),                      # the policy engine's decision that queued it
    Column("assigned_to", Id),
    Column("case_id", Id),
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
    Column("closed_at", TS),
    Index(None, "status", "priority_rank", "created_at"),
    Index(None, "item_id"),
    # The console's filters walk these in queue order (and count per queue from the first one
    # without reading the table); migration 0007_console.
    Index(None, "queue", "status", "priority_rank", "created_at"),
    Index(None, "policy", "status", "priority_rank", "created_at"),
    Index(None, "assigned_to", "status"),
)

decisions = Table(
    "decisions", metadata,
    Column("id", Id, primary_key=True),
    Column("review_item_id", Id, ForeignKey("review_items.id", ondelete="CASCADE"), nullable=False),
    Column("item_id", Id, nullable=False),
    Column("reviewer_id", Id, nullable=False),
    Column("stage", String(8), nullable=False),        # first, second
    Column("label", String(32), nullable=False),       # a policy id or "benign"
    Column("action", String(24), nullable=False),
    Column("reason", Text, nullable=False),
    Column("agrees", Boolean),                         # second review: confirms the first decision?
    Column("created_at", TS, nullable=False),
    Index(None, "item_id"),
    Index(None, "review_item_id"),
)

cases = Table(
    "cases", metadata,
    Column("id", Id, primary_key=True),
    Column("title", Text, nullable=False),
    Column("kind", String(16), nullable=False),        # network, conversation, manual
    Column("status", String(16), nullable=False),
    Column("created_by", Id),
    Column("created_at", TS, nullable=False),
)

user_reports = Table(
    "user_reports", metadata,
    Column("id", Id, primary_key=True),
    Column("platform", String(40)),
    Column("reporter", Text),
    Column("item_id", Text),
    Column("account_id", Text),
    Column("category", String(32), nullable=False),
    Column("text", Text),
    Column("callback_url", Text),
    Column("status", String(16), nullable=False),
    Column("created_at", TS, nullable=False),
)

audit_log = Table(
    "audit_log", metadata,
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("at", TS, nullable=False),
    Column("actor", Text, nullable=False),
    Column("action", String(48), nullable=False),
    Column("target", Text),
    Column("detail", JSONType, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
)

# A reviewer's reveal of one media file, valid for one session and a few minutes
# (the console re-blurs after that). Kept in the database rather than in process
# memory so that the reveal (a POST) and the original's GET may reach different
# server processes. Migration 0007_console.
media_grants = Table(
    "media_grants", metadata,
    Column("session_id", String(64), ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True),
    Column("media_id", Id, primary_key=True),
    Column("expires_at", TS, nullable=False),
)
