"""Alembic environment: migrations run on the connection haris hands over.

haris runs migrations itself when it opens a store (see haris.store.db), so
there is no alembic.ini to keep in sync; `haris db upgrade` does the same by hand.
"""
from alembic import context

from haris.store.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through haris.store.db.upgrade(), which passes a connection")

context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
