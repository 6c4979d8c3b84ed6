"""RecordWriter(serial=True): one flush of many items leaves the rows of one flush per item."""
from datetime import datetime, timezone

from sqlalchemy import select

from haris.detect.base import Signal
from haris.model import Account, Link, Message
from haris.store import schema
from haris.store.db import Store
from haris.store.writer import RecordWriter

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


def _items() -> list[tuple[Account, Message, list[Signal]]]:
    """Items that collide: the same account renamed, the same message re-sent, a link twice in one message."""
    def msg(pid: str, text: str, links: list[Link]) -> Message:
        return Message(id=f"msg_{pid}", platform="example", platform_id=pid, channel_id=None,
                       author_id="acc_1", time=T0, text=text, links=links)

    def sig(pid: str, score: float) -> list[Signal]:
        return [Signal("trafficking", score, "rules", "1", item_id=f"msg_{pid}")]

    url = "https://example.com/a"
    return [
        (Account("acc_1", "example", "1", display_name="First"), msg("1", "one", [Link(url)]), sig("1", 0.2)),
        (Account("acc_1", "example", "1", display_name="Second"), msg("2", "two", []), sig("2", 0.3)),
        # the same link twice in one message: the item's own last row, as a flush of that item keeps
        (Account("acc_2", "example", "2"), msg("3", "three", [Link(url, start=0, end=5), Link(url, start=6, end=9)]),
         sig("3", 0.4)),
        (Account("acc_2", "example", "2", display_name="Later"), msg("1", "one, edited", [Link(url, start=1, end=2)]),
         sig("1", 0.9)),                        # msg 1 again: its first row stays, its signal is replaced
    ]


def _write(store: Store, *, serial: bool) -> None:
    with store.begin() as conn:
        w = RecordWriter(store, conn, serial=serial)
        for acct, m, sigs in _items():
            w.add(acct)
            w.add_message(m)
            w.add_signals(sigs)
            if serial:
                w.end_item()
            else:
                w.flush()          # the reference: one flush per item
        w.flush()


def _utc(value):
    """The reference is on SQLite, which gives times back without their zone."""
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value


def _rows(store: Store) -> dict:
    out = {}
    with store.connect() as conn:
        for t in (schema.accounts, schema.messages, schema.links, schema.signals):
            rows = [{k: _utc(v) for k, v in r.items() if k != "created_at"} for r in conn.execute(select(t)).mappings()]
            out[t.name] = sorted(rows, key=lambda r: r["id"])
    return out


def test_serial_flush_leaves_the_rows_of_one_flush_per_item(tmp_path, store):
    reference = Store.open(f"sqlite:///{tmp_path / 'reference.db'}")
    try:
        _write(reference, serial=False)
        _write(store, serial=True)
        got, want = _rows(store), _rows(reference)
    finally:
        reference.dispose()
    assert got == want
    assert [a["display_name"] for a in got["accounts"]] == ["First", None]
    assert next(m for m in got["messages"] if m["id"] == "msg_1")["text"] == "one"
    assert [(ln["message_id"], ln["start"]) for ln in got["links"]] in (
        [("msg_1", None), ("msg_3", 6)], [("msg_3", 6), ("msg_1", None)])
    assert {s["item_id"]: s["score"] for s in got["signals"]}["msg_1"] == 0.9


def test_serial_writes_rows_in_id_order(store):
    """Concurrent group commits then lock overlapping rows in the same order (no deadlock on PostgreSQL)."""
    seen = []
    with store.begin() as conn:
        w = RecordWriter(store, conn, serial=True)
        store_insert = store.insert_ignore
        store.insert_ignore = lambda c, table, rows: (seen.append((table.name, [r["id"] for r in rows])),
                                                      store_insert(c, table, rows))[1]
        for i in (3, 1, 2):
            w.add(Account(f"acc_{i}", "example", str(i)))
            w.end_item()
        w.flush()
    assert seen == [("accounts", ["acc_1", "acc_2", "acc_3"])]
