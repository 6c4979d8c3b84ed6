"""The act tables and their migration (0008_act) agree, on SQLite and PostgreSQL."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import haris.act.tables  # noqa: F401  (defines the tables on the shared metadata)
from haris.store.schema import metadata

ACT_TABLES = {"webhook_endpoints", "webhook_deliveries", "webhook_attempts", "retention_holds", "authority_reports"}


def test_migration_creates_the_act_tables_as_defined(store):
    assert ACT_TABLES <= set(store.table_names())
    with store.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = compare_metadata(ctx, metadata)

    def table_of(diff):
        d = diff[0] if isinstance(diff, list) else diff
        for part in d[1:]:
            name = getattr(part, "name", None) if not isinstance(part, str) else None
            table = getattr(part, "table", None)
            if table is not None:
                return table.name
            if name in ACT_TABLES:
                return name
        return d[2] if len(d) > 2 and isinstance(d[2], str) else None

    mine = [d for d in diffs if table_of(d) in ACT_TABLES]
    assert mine == []
