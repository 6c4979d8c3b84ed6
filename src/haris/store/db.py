"""Opening the store, migrating it, and writing rows idempotently.

SQLite is the embedded default (a file, nothing to install); PostgreSQL is the
production store, chosen with ``HARIS_DATABASE_URL`` (e.g.
``postgresql+psycopg://haris@db/haris``). The same code runs on both: writes
go through :meth:`Store.insert_ignore` and :meth:`Store.upsert`, which use
each dialect's ``ON CONFLICT`` so that writing the same rows twice changes
nothing.

>>> store = Store.open("sqlite://")          # in memory
>>> with store.begin() as conn:
...     store.insert_ignore(conn, schema.accounts, [dict(id="acc_1", platform="x", platform_id="1")])
1
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

from sqlalchemy import Connection, Engine, Table, create_engine, event, inspect, select
from sqlalchemy.dialects import postgresql, sqlite

from haris.errors import ConfigError
from haris.store import schema

DEFAULT_URL = "sqlite:///haris.db"
MIGRATIONS = Path(__file__).parent / "migrations"

# SQLite caps bound parameters per statement (32766 on current builds); keep
# batches well under it whatever the width of the table.
_MAX_PARAMS = 30000


def database_url(url: str | None = None) -> str:
    """The URL to use: the one given, else ``HARIS_DATABASE_URL``, else ``sqlite:///haris.db``."""
    return url or os.environ.get("HARIS_DATABASE_URL") or DEFAULT_URL


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    # WAL lets the console read while a scan writes; NORMAL sync is safe with WAL
    # (a crash loses at most the last transaction, which is then redone).
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


class Store:
    """A database holding everything haris ingests, finds and decides."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.dialect = engine.dialect.name

    @classmethod
    def open(cls, url: str | None = None, *, migrate: bool = True, **engine_kw: Any) -> "Store":
        url = database_url(url)
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url[len("postgresql://"):]
        try:
            engine = create_engine(url, future=True, **engine_kw)
        except Exception as exc:  # bad URL, missing driver
            raise ConfigError(f"cannot open database {url!r}: {exc}") from exc
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
            db_file = engine.url.database
            if db_file and db_file != ":memory:":
                Path(db_file).parent.mkdir(parents=True, exist_ok=True)
        store = cls(engine)
        if migrate:
            store.upgrade()
        return store

    # -- schema -----------------------------------------------------------
    def upgrade(self, revision: str = "heads") -> None:
        """Bring the schema up to ``revision`` with Alembic.

        Each capability adds its tables in its own migration branching from the
        foundation, so the default target is every head.
        """
        from alembic import command
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        try:
            with self.engine.begin() as conn:
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, revision)
        except Exception as exc:
            raise ConfigError(f"cannot migrate database {self.engine.url!r}: {exc}") from exc

    def table_names(self) -> list[str]:
        return sorted(inspect(self.engine).get_table_names())

    # -- transactions and writes ------------------------------------------
    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """One transaction: everything inside commits together or not at all."""
        with self.engine.begin() as conn:
            yield conn

    def connect(self) -> Connection:
        return self.engine.connect()

    def _insert(self, table: Table):
        return (postgresql.insert if self.dialect == "postgresql" else sqlite.insert)(table)

    def _batches(self, table: Table, rows: Sequence[dict]) -> Iterator[Sequence[dict]]:
        size = max(1, _MAX_PARAMS // max(1, len(table.columns)))
        for i in range(0, len(rows), size):
            yield rows[i:i + size]

    def insert_ignore(self, conn: Connection, table: Table, rows: Iterable[dict]) -> int:
        """Insert rows whose primary key is new; skip the others. Returns rows given."""
        rows = list(rows)
        if not rows:
            return 0
        stmt = self._insert(table).on_conflict_do_nothing()
        for batch in self._batches(table, rows):
            conn.execute(stmt, list(batch))
        return len(rows)

    def upsert(self, conn: Connection, table: Table, rows: Iterable[dict],
               update: Sequence[str] | None = None) -> int:
        """Insert rows, or update the named columns (default: all but the key) where the key exists."""
        rows = list(rows)
        if not rows:
            return 0
        keys = [c.name for c in table.primary_key.columns]
        cols = update or [c for c in rows[0] if c not in keys]
        ins = self._insert(table)
        stmt = ins.on_conflict_do_update(index_elements=keys,
                                         set_={c: getattr(ins.excluded, c) for c in cols})
        for batch in self._batches(table, rows):
            conn.execute(stmt, list(batch))
        return len(rows)

    # -- reads ---------------------------------------------------------------
    def get(self, table: Table, id_: str) -> dict | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(table).where(table.c.id == id_)).mappings().first()
            return dict(row) if row else None

    def count(self, table: Table) -> int:
        from sqlalchemy import func

        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(table)).scalar_one())

    def source_done(self, conn: Connection, source_id: str) -> bool:
        t = schema.sources
        return conn.execute(select(t.c.id).where(t.c.id == source_id, t.c.status == "done")).first() is not None

    def dispose(self) -> None:
        self.engine.dispose()
