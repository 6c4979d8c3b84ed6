"""Analyse a batch of records and store it in one transaction: shared by the stream engines.

NATS and Kafka workers differ only in how they receive and acknowledge; what
they do with a batch is this, so the guarantees (idempotent writes keyed by
stable ids, one commit per batch) are written once.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from haris.engines.core import Analyzer, ItemResult
from haris.model import Message
from haris.store.db import Store
from haris.store.writer import RecordWriter


@dataclass
class Outcome:
    token: Any                   # what the transport needs to acknowledge this record
    record: Any = None
    result: ItemResult | None = None
    error: Exception | None = None


def analyse_batch(analyzer: Analyzer, items: Iterable[tuple[Any, Any]], decode) -> list[Outcome]:
    """Decode and analyse each (token, payload); a failure is kept on its own outcome, not raised."""
    out = []
    for token, payload in items:
        try:
            out.append(Outcome(token, decode(payload)))
        except Exception as exc:  # poison record: the transport retries or dead-letters it
            out.append(Outcome(token, error=exc))
    todo = [o for o in out if isinstance(o.record, Message)]
    try:        # the whole batch at once: the sentence encoder runs in one batch
        for o, res in zip(todo, analyzer.analyse_many([o.record for o in todo])):
            o.result = res
    except Exception:   # one record broke the batch: analyse one by one, keep the failure on its own
        for o in todo:
            try:
                o.result = analyzer.analyse(o.record)
            except Exception as exc:
                o.error, o.result = exc, None
    return out


def store_batch(store: Store, version: str, outcomes: list[Outcome]) -> list[ItemResult]:
    """Write the good outcomes in one transaction; returns the message results written."""
    results = []
    with store.begin() as conn:
        w = RecordWriter(store, conn)
        for o in outcomes:
            if o.error is not None:
                continue
            if o.result is None:
                w.add(o.record)
            else:
                w.add_message(o.record, o.result.analysed, version)
                w.add_signals(o.result.signals)
                results.append(o.result)
        w.flush()
    return results
