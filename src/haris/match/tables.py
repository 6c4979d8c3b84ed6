"""Tables of the hash banks (defined on the store's shared metadata).

A *bank* is a named list of signals of one type (PDQ hashes, vPDQ video
hashes, MD5 or SHA-256 digests, near-duplicate texts, URLs or domains) that
speak to one policy. Every change to a bank's entries bumps ``banks.version``
and stamps the new entries with it, so a cached index built at version *v*
is brought up to date by adding the entries with ``version > v``;
``rebuild_version`` records the last change that *removed* entries, after
which cached indexes are rebuilt instead.

The migration is ``migrations/versions/0002_banks.py``.
"""
from __future__ import annotations

from sqlalchemy import (JSON, BigInteger, Boolean, Column, DateTime, Float, ForeignKey, Index, Integer,
                        String, Table, Text, UniqueConstraint)
from sqlalchemy.dialects.postgresql import JSONB

from haris.store.schema import metadata

JSONType = JSON().with_variant(JSONB(), "postgresql")
UTCDateTime = DateTime(timezone=True)
# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit identity.
EntryId = BigInteger().with_variant(Integer(), "sqlite")

banks = Table(
    "banks", metadata,
    Column("id", String(40), primary_key=True),        # random: a re-created bank never reuses a cached index
    Column("name", String(120), nullable=False, unique=True),
    Column("signal_type", String(16), nullable=False),  # pdq, vpdq, md5, sha256, text, url, domain
    Column("category", String(32), nullable=False),     # policy id: trafficking, child_exploitation, terrorism
    Column("description", Text),
    Column("threshold", Float),                         # pdq/vpdq: max Hamming distance; text: min similarity
    Column("enabled", Boolean, nullable=False),
    Column("version", Integer, nullable=False),
    Column("rebuild_version", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

bank_entries = Table(
    "bank_entries", metadata,
    Column("id", EntryId, primary_key=True, autoincrement=True),
    Column("bank_id", String(40), ForeignKey("banks.id", ondelete="CASCADE"), nullable=False),
    Column("signal", Text, nullable=False),             # canonical form (lower-case hex, canonical URL, text)
    Column("signal_key", String(64), nullable=False),   # SHA-256 of the matching key: one entry per key per bank
    Column("quality", Integer),                         # PDQ quality when known
    Column("category", String(32), nullable=False),     # policy id (the bank's unless given)
    Column("label", Text),
    Column("source", Text),                             # who shared it: a file, an exchange, a person
    Column("added_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime),                  # not matched after this instant
    Column("version", Integer, nullable=False),         # the bank version that added it
    Column("meta", JSONType),
    UniqueConstraint("bank_id", "signal_key"),
    Index(None, "bank_id", "version"),
)
