"""Stored policy versions: every version ever activated is kept; one per id is live."""
from sqlalchemy import Boolean, Column, DateTime, Index, Integer, String, Table, Text

from haris.store.schema import metadata

policy_versions = Table(
    "policy_versions", metadata,
    Column("id", String(80), primary_key=True),        # "<policy id>@<version>"
    Column("policy_id", String(64), nullable=False),
    Column("version", Integer, nullable=False),
    Column("document", Text, nullable=False),           # the YAML as activated, byte for byte
    Column("sha256", String(64), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("activated_at", DateTime(timezone=True), nullable=False),
    Column("activated_by", Text),
    Index(None, "policy_id", "active"),
)
