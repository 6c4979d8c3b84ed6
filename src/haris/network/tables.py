"""Tables of the networks stage (defined on the store's shared metadata).

``network_actions`` records that an account was actioned (banned, suspended,
removed) and when: the ban-evasion search (:mod:`haris.network.evasion`)
scores every account first seen *after* that moment against it. One row per
(account, time): marking the same action twice changes nothing.

The migration is ``haris/store/migrations/versions/0004_network.py``.
"""
from __future__ import annotations

from sqlalchemy import Column, DateTime, Index, String, Table, Text

from haris.store.schema import metadata

UTCDateTime = DateTime(timezone=True)

network_actions = Table(
    "network_actions", metadata,
    Column("id", String(40), primary_key=True),          # stable_id("action", account_id, at)
    Column("account_id", String(40), nullable=False),
    Column("at", UTCDateTime, nullable=False),           # when the platform actioned it
    Column("reason", Text, nullable=False, default=""),
    Column("created_at", UTCDateTime, nullable=False),   # when it was recorded here
    Index(None, "account_id"),
    Index(None, "at"),
)
