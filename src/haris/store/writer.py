"""Turn records and analysis results into rows, in batches, idempotently.

A :class:`RecordWriter` lives inside one transaction (one input file). It
buffers rows per table and flushes them with ``INSERT … ON CONFLICT DO
NOTHING``, so memory stays bounded however large the file, and writing the
same file again adds nothing. Signals are upserted instead: a newer detector
version replaces the score it gave before.

``serial=True`` makes one flush of many items leave exactly the rows that
writing and flushing them one item at a time would. The caller marks where
each item ends (:meth:`RecordWriter.end_item`); within an item the last row
per id is kept (as one flush would), across items the *first* item's row
for the insert-only tables (a later one would have been ignored) and the
last for signals (a later one would have replaced it). Rows are written in
id order, so concurrent transactions lock overlapping rows in the same order
and cannot deadlock. The API's group commit relies on it
(:mod:`haris.service.items`).
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING, Iterable

from sqlalchemy import Connection, Table

from haris.model import Account, Channel, Conversation, Message, stable_id
from haris.store import schema
from haris.store.db import Store

if TYPE_CHECKING:  # imported for types only: the store does not depend on detectors
    from haris.detect.base import Signal
    from haris.text.analysis import AnalysedText

FLUSH_EVERY = 2000


def signal_row(sig: "Signal", item_kind: str = "message", now: datetime | None = None) -> dict:
    return dict(
        id=stable_id("sig", sig.policy, sig.item_id, sig.detector),
        item_id=sig.item_id, item_kind=item_kind, policy=sig.policy, score=float(sig.score),
        labels=list(sig.labels), detector=sig.detector, detector_version=sig.detector_version,
        evidence=[e.to_dict() for e in sig.evidence], data=sig.data or {},
        created_at=now or datetime.now(timezone.utc))


class RecordWriter:
    """Buffered, idempotent writes of one file's records inside one transaction."""

    _ignore_tables = (schema.accounts, schema.channels, schema.conversations, schema.messages,
                      schema.media, schema.links, schema.entities)

    def __init__(self, store: Store, conn: Connection, source_id: str | None = None, *, serial: bool = False):
        self.store = store
        self.conn = conn
        self.source_id = source_id
        self.serial = serial
        self.rows: dict[Table, list[dict]] = {t: [] for t in self._ignore_tables}
        # serial mode: the current item's rows (last per id), and the rows kept from earlier items (first per id)
        self._item_rows: dict[Table, dict[str, dict]] = {t: {} for t in self._ignore_tables}
        self._kept_rows: dict[Table, dict[str, dict]] = {t: {} for t in self._ignore_tables}
        self.signals: list[dict] = []
        self.pending = 0
        self.counts = {"accounts": 0, "channels": 0, "conversations": 0, "messages": 0, "signals": 0}

    # -- raw records ---------------------------------------------------------
    def add(self, record: Account | Channel | Conversation | Message) -> None:
        if isinstance(record, Message):
            self.add_message(record)
        elif isinstance(record, Account):
            self._buffer(schema.accounts, dict(
                id=record.id, platform=record.platform, platform_id=record.platform_id, handle=record.handle,
                display_name=record.display_name, bio=record.bio))
            self.counts["accounts"] += 1
        elif isinstance(record, Channel):
            self._buffer(schema.channels, dict(
                id=record.id, platform=record.platform, platform_id=record.platform_id, kind=record.kind,
                title=record.title, handle=record.handle))
            self.counts["channels"] += 1
        elif isinstance(record, Conversation):
            self._buffer(schema.conversations, dict(
                id=record.id, platform=record.platform, channel_id=record.channel_id, kind=record.kind,
                title=record.title))
            self.counts["conversations"] += 1
        else:  # a connector bug, not bad input
            raise TypeError(f"not a haris record: {type(record).__name__}")

    def add_message(self, m: Message, analysed: "AnalysedText | None" = None, version: str | None = None) -> None:
        t = m.time
        if t is not None and t.tzinfo is None:
            t = t.replace(tzinfo=timezone.utc)
        self._buffer(schema.messages, dict(
            id=m.id, platform=m.platform, platform_id=m.platform_id, channel_id=m.channel_id,
            conversation_id=m.conversation_id, author_id=m.author_id, time=t, text=m.text,
            reply_to_id=m.reply_to_id, forwarded_from=m.forwarded_from, forwarded_from_id=m.forwarded_from_id,
            kind=m.kind, origin=m.origin, source_id=self.source_id,
            lang=analysed.lang if analysed else None,
            lang_confidence=analysed.language.confidence if analysed else None,
            analysed_version=version if analysed else None))
        self.counts["messages"] += 1
        for md in m.media:
            self._buffer(schema.media, dict(id=md.id, message_id=m.id, kind=md.kind, sha256=md.sha256,
                                            path=md.path, url=md.url, mime=md.mime, size=md.size))
        links = analysed.links if analysed is not None else m.links
        for ln in links:
            self._buffer(schema.links, dict(
                id=stable_id("link", m.id, ln.url), message_id=m.id, url=ln.url, platform=ln.platform,
                kind=ln.kind, domain=ln.domain, start=ln.start, end=ln.end))
        if analysed is not None:
            for e in analysed.entities:
                self._buffer(schema.entities, dict(
                    id=stable_id("ent", m.id, e.kind, e.start, e.end), message_id=m.id, kind=e.kind,
                    start=e.start, end=e.end, text=e.text, value=_jsonable(e.value)))

    def add_signals(self, signals: Iterable["Signal"], item_kind: str = "message") -> None:
        now = datetime.now(timezone.utc)
        for s in signals:
            self.signals.append(signal_row(s, item_kind, now))
            self.counts["signals"] += 1
            self.pending += 1
        if self.pending >= FLUSH_EVERY and not self.serial:     # serial: only between items (end_item)
            self.flush()

    def end_item(self) -> None:
        """Serial mode: the rows added since the last call are one item's (see the module's doc)."""
        self._merge_item()
        if self.pending >= FLUSH_EVERY:
            self.flush()

    def _merge_item(self) -> None:
        for table, rows in self._item_rows.items():
            kept = self._kept_rows[table]
            for id_, row in rows.items():
                kept.setdefault(id_, row)
            rows.clear()

    # -- buffering -------------------------------------------------------------
    def _buffer(self, table: Table, row: dict) -> None:
        if self.serial:
            self._item_rows[table][row["id"]] = row
        else:
            self.rows[table].append(row)
        self.pending += 1
        if self.pending >= FLUSH_EVERY and not self.serial:
            self.flush()

    def flush(self) -> None:
        if self.serial:
            self._merge_item()
        # Parents before children: messages before the media, links and entities that point to them.
        for table in self._ignore_tables:
            if self.serial:
                kept = self._kept_rows[table]
                rows = [kept[k] for k in sorted(kept)]
                kept.clear()
            else:
                rows = _dedupe(self.rows[table])
                self.rows[table].clear()
            if rows:
                self.store.insert_ignore(self.conn, table, rows)
        if self.signals:
            self.store.upsert(self.conn, schema.signals, _dedupe(self.signals, by_id=self.serial))
            self.signals.clear()
        self.pending = 0


def _dedupe(rows: list[dict], *, by_id: bool = False) -> list[dict]:
    """The last row per id: one statement may not touch the same key twice (PostgreSQL); ``by_id``: in id order."""
    kept = {r["id"]: r for r in rows}
    return [kept[k] for k in sorted(kept)] if by_id else list(kept.values())


def _jsonable(value):
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return str(value)
