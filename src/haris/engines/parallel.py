"""Analyse messages on every core, with results identical to one process.

The reader and the store stay in the parent process (they are I/O and must
keep one transaction a file); only the analysis, which is CPU-bound, goes to
worker processes. Messages travel in batches and come back in the order they
were sent, and at most ``max_in_flight`` batches are out at once, so memory
stays bounded however large the input.
"""
from __future__ import annotations

import multiprocessing as mp
import os
from collections import deque
from typing import Iterable, Iterator

from haris.engines.core import Analyzer, ItemResult
from haris.model import Message

_analyzer: Analyzer | None = None


def _init_worker(database_url: str | None) -> None:
    global _analyzer
    from haris.store.db import Store

    # Each worker opens the store only to load the hash banks it matches against.
    _analyzer = Analyzer(store=Store.open(database_url, migrate=False))


def _analyse_batch(batch: list[Message]) -> list[ItemResult]:
    assert _analyzer is not None
    out = _analyzer.analyse_many(batch)
    for r in out:
        # The parent already holds the message: don't send it back twice (it is re-attached there).
        r.message = None
        r.analysed.message = None
    return out


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


class ParallelAnalyzer:
    """Same results as :class:`Analyzer`, computed by ``workers`` processes.

    Use as a context manager; :meth:`analyse_stream` takes any iterable of
    records and yields ``(record, result)`` pairs in input order (``result`` is
    None for records that are not messages).
    """

    def __init__(self, workers: int | None = None, batch_size: int = 256, max_in_flight: int | None = None,
                 database_url: str | None = None):
        self.database_url = database_url
        self.workers = workers or default_workers()
        self.batch_size = batch_size
        self.max_in_flight = max_in_flight or self.workers * 4
        self._pool = None
        from haris.store.db import Store

        self.version = Analyzer(store=Store.open(database_url)).version

    def __enter__(self) -> "ParallelAnalyzer":
        # forkserver: workers start clean (no inherited DB connections or threads) but cheaply.
        ctx = mp.get_context("forkserver")
        self._pool = ctx.Pool(self.workers, initializer=_init_worker, initargs=(self.database_url,))
        return self

    def __exit__(self, *exc) -> None:
        if self._pool is not None:
            self._pool.terminate() if exc[0] else self._pool.close()
            self._pool.join()
            self._pool = None

    def analyse_stream(self, records: Iterable) -> Iterator[tuple[object, ItemResult | None]]:
        assert self._pool is not None, "use ParallelAnalyzer as a context manager"
        pending: deque = deque()   # (records in this batch, async result of its messages)
        batch: list = []

        def drain(block_until: int) -> Iterator[tuple[object, ItemResult | None]]:
            while len(pending) > block_until:
                recs, fut = pending.popleft()
                results = iter(fut.get())
                for r in recs:
                    if isinstance(r, Message):
                        res = next(results)
                        res.message = res.analysed.message = r
                        yield (r, res)
                    else:
                        yield (r, None)

        for rec in records:
            batch.append(rec)
            if len(batch) >= self.batch_size:
                pending.append((batch, self._pool.apply_async(
                    _analyse_batch, ([r for r in batch if isinstance(r, Message)],))))
                batch = []
                yield from drain(self.max_in_flight)
        if batch:
            pending.append((batch, self._pool.apply_async(
                _analyse_batch, ([r for r in batch if isinstance(r, Message)],))))
        yield from drain(0)
