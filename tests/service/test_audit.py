import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from haris.service import audit


def _fill(store, n=5):
    for i in range(n):
        audit.record(store, f"user{i}", "decision", f"msg_{i}", {"label": "trafficking", "i": i})


def test_an_untouched_chain_verifies(store):
    _fill(store)
    res = audit.verify(store)
    assert res.ok and res.entries == 5


def test_the_database_refuses_updates_and_deletes(store):
    _fill(store, 2)
    for stmt in ("UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="append-only"):
            with store.begin() as conn:
                conn.execute(text(stmt))
    assert audit.verify(store).ok


def _drop_trigger(conn):
    if conn.dialect.name == "sqlite":
        conn.execute(text("DROP TRIGGER audit_log_no_update"))
        conn.execute(text("DROP TRIGGER audit_log_no_delete"))
    else:
        conn.execute(text("DROP TRIGGER audit_log_append_only ON audit_log"))


def test_an_edited_entry_is_found(store):
    _fill(store)
    with store.begin() as conn:
        _drop_trigger(conn)
        conn.execute(text("UPDATE audit_log SET actor = 'someone-else' WHERE seq = 3"))
    res = audit.verify(store)
    assert not res.ok and res.first_bad_seq == 3 and "edited" in res.problem


def test_a_deleted_entry_is_found(store):
    _fill(store)
    with store.begin() as conn:
        _drop_trigger(conn)
        conn.execute(text("DELETE FROM audit_log WHERE seq = 2"))
    res = audit.verify(store)
    assert not res.ok and res.first_bad_seq == 3


def test_an_edited_detail_with_a_recomputed_own_hash_still_breaks_the_next_link(store):
    _fill(store)
    from haris.service.tables import audit_log

    with store.connect() as conn:
        row = conn.execute(audit_log.select().where(audit_log.c.seq == 2)).mappings().one()
    detail = {"label": "benign", "i": 1}
    forged = audit.entry_hash(row["prev_hash"], row["at"], row["actor"], row["action"], row["target"], detail)
    with store.begin() as conn:
        _drop_trigger(conn)
        conn.execute(audit_log.update().where(audit_log.c.seq == 2).values(detail=detail, hash=forged))
    res = audit.verify(store)
    # entry 2 is self-consistent now, so the break shows at entry 3, which chained to the old hash
    assert not res.ok and res.first_bad_seq == 3
