from datetime import datetime, timezone

from sqlalchemy import select

from haris.store import schema
from haris.store.db import Store


def _acct(i, name="a"):
    return dict(id=f"acc_{i}", platform="telegram", platform_id=str(i), handle=name)


def test_migrations_create_every_table(store):
    assert set(store.table_names()) >= {
        "sources", "accounts", "channels", "conversations", "messages", "media", "links", "entities",
        "signals", "alembic_version"}


def test_reopen_is_a_no_op_migration(db_url):
    Store.open(db_url).dispose()
    s = Store.open(db_url)  # second upgrade finds nothing to do
    assert "messages" in s.table_names()


def test_insert_ignore_skips_existing_keys(store):
    with store.begin() as conn:
        store.insert_ignore(conn, schema.accounts, [_acct(1), _acct(2)])
    with store.begin() as conn:
        store.insert_ignore(conn, schema.accounts, [_acct(2, "changed"), _acct(3)])
    assert store.count(schema.accounts) == 3
    assert store.get(schema.accounts, "acc_2")["handle"] == "a"


def test_upsert_updates_existing_rows(store):
    row = dict(id="sig_1", item_id="msg_1", item_kind="message", policy="terrorism", score=0.2,
               labels=[], detector="d", detector_version="1", evidence=[], data={},
               created_at=datetime(2026, 1, 1, tzinfo=timezone.utc))
    with store.begin() as conn:
        store.upsert(conn, schema.signals, [row])
        store.upsert(conn, schema.signals, [dict(row, score=0.9, labels=["claim"])])
    got = store.get(schema.signals, "sig_1")
    assert got["score"] == 0.9 and got["labels"] == ["claim"]
    assert store.count(schema.signals) == 1


def test_failed_transaction_leaves_nothing(store):
    try:
        with store.begin() as conn:
            store.insert_ignore(conn, schema.accounts, [_acct(10)])
            raise RuntimeError("killed mid-file")
    except RuntimeError:
        pass
    assert store.count(schema.accounts) == 0


def test_large_batches_are_split_under_parameter_limits(store):
    rows = [_acct(i) for i in range(12000)]
    with store.begin() as conn:
        store.insert_ignore(conn, schema.accounts, rows)
    assert store.count(schema.accounts) == 12000


def test_json_columns_round_trip(store):
    with store.begin() as conn:
        store.insert_ignore(conn, schema.messages, [dict(id="msg_1", platform="x", platform_id="1", text="t", kind="message")])
        store.insert_ignore(conn, schema.entities, [dict(id="ent_1", message_id="msg_1", kind="price", start=0, end=3,
                                                         text="$40", value={"amount": 40.0, "currency": "USD"})])
    with store.connect() as conn:
        v = conn.execute(select(schema.entities.c.value)).scalar_one()
    assert v == {"amount": 40.0, "currency": "USD"}
