"""Shared fixtures: a store on SQLite and on a real PostgreSQL server.

PostgreSQL tests use ``HARIS_TEST_POSTGRES_URL`` (default: the local server
on 127.0.0.1:5432, database ``test``, which .ci/run starts when it is not
running). Each test gets its own schema, dropped afterwards, so tests never
see each other's rows. When no server can be reached the PostgreSQL variant
is skipped with the reason printed by ``-ra``.
"""
from __future__ import annotations

import os
import uuid

import pytest

PG_URL = os.environ.get("HARIS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _pg_available() -> str | None:
    try:
        import psycopg

        dsn = PG_URL.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(dsn, connect_timeout=3):
            return None
    except Exception as exc:  # no server, no driver, auth
        return f"PostgreSQL not reachable at {PG_URL}: {exc}"


_PG_REASON = _pg_available()


@pytest.fixture
def pg_url():
    """A PostgreSQL URL whose search_path is a fresh, private schema."""
    if _PG_REASON:
        pytest.skip(_PG_REASON)
    import psycopg

    name = "t_" + uuid.uuid4().hex[:12]
    dsn = PG_URL.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {name}")
    sep = "&" if "?" in PG_URL else "?"
    yield f"{PG_URL}{sep}options=-csearch_path%3D{name}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {name} CASCADE")


@pytest.fixture
def sqlite_url(tmp_path):
    return f"sqlite:///{tmp_path / 'haris.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request, tmp_path):
    """Run the test once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'haris.db'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def store(db_url):
    from haris.store.db import Store

    s = Store.open(db_url)
    yield s
    s.dispose()
