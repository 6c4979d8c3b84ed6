"""Table of people at risk (defined on the store's shared metadata).

An ``at_risk_persons`` row is the likely minor of a flagged grooming conversation (later
also a person offered for sale): which conversation, which platform account, the language
to help them in, how far the grooming has gone, and whether an intervention was delivered.
These rows identify children: they are **restricted** data; only roles cleared for victim
protection may read them (the service enforces it), and nothing else in haris joins on them.

The migration is ``migrations/versions/0003_at_risk.py``.
"""
from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, DateTime, Float, Index, String, Table, Text
from sqlalchemy.dialects.postgresql import JSONB

from haris.store.schema import metadata

JSONType = JSON().with_variant(JSONB(), "postgresql")
UTCDateTime = DateTime(timezone=True)

at_risk_persons = Table(
    "at_risk_persons", metadata,
    Column("id", String(40), primary_key=True),          # stable: platform, conversation, account
    Column("policy", String(32), nullable=False),        # child_exploitation (trafficking later)
    Column("conversation_id", String(40), nullable=False),
    Column("platform", String(20), nullable=False),
    Column("account_id", String(40)),                    # haris account id, when the account is known
    Column("platform_account_id", Text),                 # the platform's own id of the person's account
    Column("lang", String(8)),                           # language to help them in
    Column("stage", String(24)),                         # current grooming stage when last seen
    Column("stages", JSONType, nullable=False),          # stages reached
    Column("score", Float, nullable=False),
    Column("action", String(32), nullable=False),        # the detector's recommended action
    Column("intervention_status", String(16), nullable=False),  # pending, delivered, declined
    Column("restricted", Boolean, nullable=False),       # always true: victim data
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index(None, "conversation_id"),
    Index(None, "platform", "platform_account_id"),
)
