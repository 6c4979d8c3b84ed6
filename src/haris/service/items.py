"""Items posted to ``/v1/items``: analysed, decided and stored with *group commit*.

A request does not open its own transaction. It hands its items to the
process's :class:`ItemPipeline` and awaits the answer; one writer thread takes
every request waiting at that moment (up to ``MAX_GROUP`` items), analyses
them, reads the live policy once, and writes all their rows in one
transaction: one statement per table instead of one per table and item, and
one commit instead of one per request. When the service is idle a group is a
single request, so nothing waits for company.

The rows left are exactly those the requests would have left one after the
other, in the order they arrived: the writer keeps the first row per id for
insert-only tables and the last for signals (``RecordWriter(serial=True)``, told
where each item ends),
and review items are queued item by item in order. A request whose analysis
fails gets its error alone; when a group's transaction fails, each request
of the group is retried in a transaction of its own, so one bad request
cannot fail the others.

>>> pipeline = ItemPipeline(store, Analyzer, LivePolicy(store))
>>> [answer] = await pipeline.run([(records, message)])   # from an async route
>>> answer["decision"]["action"]
'queue'
"""
from __future__ import annotations

import asyncio
import logging
import queue
import threading
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Sequence

from sqlalchemy import Connection, select

from haris.model import Account, Channel, Message
from haris.policy.engine import ItemFacts, decide
from haris.store.db import Store
from haris.store.writer import RecordWriter

if TYPE_CHECKING:
    from haris.engines.core import Analyzer, ItemResult
    from haris.policy.model import PolicyDoc

MAX_GROUP = 64          # items a transaction: past this, bigger groups save little and delay the first answer
Posted = tuple[Sequence[Account | Channel], Message]      # one item: its account/channel records and its message
log = logging.getLogger("haris.service.items")


class LivePolicy:
    """The live ``default`` policy, parsed once and re-parsed only when the live version changes.

    Parsing and validating the YAML takes 10-30 ms, far more than the rest of an
    item's work; checking which version is live is one indexed lookup, made for
    every group of items (on the group's own connection), so an activation
    takes effect at once, in every process.
    """

    def __init__(self, store: Store):
        self.store = store
        self._lock = threading.Lock()
        self._sha: str | None = None
        self._doc: PolicyDoc | None = None

    def on(self, conn: Connection) -> "PolicyDoc":
        """The live policy as ``conn`` sees it."""
        from haris.policy.tables import policy_versions as pv
        from haris.policy.versions import current

        live = conn.execute(select(pv.c.sha256).where(pv.c.policy_id == "default", pv.c.active.is_(True))
                            ).scalar() or "shipped-default"
        with self._lock:
            if self._sha != live:
                self._doc, self._sha = current(self.store)[0], live
            return self._doc

    def __call__(self) -> "PolicyDoc":
        with self.store.connect() as conn:
            return self.on(conn)


@dataclass(eq=False)
class _Request:
    items: list[Posted]
    future: Future = field(default_factory=Future)
    results: list["ItemResult"] = field(default_factory=list)


_STOP = object()


class ItemPipeline:
    """Analyse and store posted items; concurrent requests share a transaction (see the module's doc)."""

    def __init__(self, store: Store, analyzer: Callable[[], "Analyzer"], policy: LivePolicy, *,
                 max_group: int = MAX_GROUP):
        self.store, self.analyzer, self.policy, self.max_group = store, analyzer, policy, max_group
        # One queue per writer thread: after close() a new request starts a new thread with a new queue,
        # so a request can never land behind the stop mark of a thread that is leaving.
        self._queue: queue.SimpleQueue | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.groups = 0      # transactions written, and the items in them: the mean group size, for benchmarks
        self.grouped_items = 0

    async def run(self, items: list[Posted]) -> list[dict]:
        """The answers for ``items`` (in order), once they are committed."""
        return await asyncio.wrap_future(self.submit(items))

    def submit(self, items: list[Posted]) -> "Future[list[dict]]":
        request = _Request(list(items))
        with self._lock:
            if self._thread is None:     # started on first use: most apps made in tests never post an item
                self._queue = queue.SimpleQueue()
                self._thread = threading.Thread(target=self._serve, args=(self._queue,), name="haris-items",
                                                daemon=True)
                self._thread.start()
            self._queue.put(request)
        return request.future

    def close(self, timeout: float | None = 30) -> None:
        """Finish the requests already handed in, then stop the writer thread."""
        with self._lock:
            thread, self._thread = self._thread, None
            if thread is not None:
                self._queue.put(_STOP)
        if thread is not None:
            thread.join(timeout)

    # -- the writer thread -------------------------------------------------------------------------------
    def _serve(self, requests: queue.SimpleQueue) -> None:
        while True:
            first = requests.get()
            if first is _STOP:
                return
            group, size, stop = [first], len(first.items), False
            while size < self.max_group:
                try:
                    more = requests.get_nowait()
                except queue.Empty:
                    break
                if more is _STOP:
                    stop = True
                    break
                group.append(more)
                size += len(more.items)
            try:
                self._run_group(group)
            except BaseException as exc:      # a bug here must fail these requests, not the thread
                log.exception("item group failed")
                for r in group:
                    if not r.future.done():
                        r.future.set_exception(exc)
            if stop:
                return

    def _run_group(self, group: list[_Request]) -> None:
        live = [r for r in group if r.future.set_running_or_notify_cancel()]
        analyzer = self.analyzer()
        ready = []
        for r in live:
            try:
                r.results = analyzer.analyse_many([msg for _records, msg in r.items])
            except Exception as exc:        # this request's error, answered to it alone
                r.future.set_exception(exc)
            else:
                ready.append(r)
        if not ready:
            return
        try:
            answers = self._write(ready, analyzer.version)
        except Exception as exc:
            if len(ready) == 1:
                ready[0].future.set_exception(exc)
                return
            for r in ready:          # one transaction each, as if they had come alone
                try:
                    [answer] = self._write([r], analyzer.version)
                except Exception as one_exc:
                    r.future.set_exception(one_exc)
                else:
                    r.future.set_result(answer)
            return
        for r, answer in zip(ready, answers):
            r.future.set_result(answer)

    def _write(self, requests: list[_Request], version: str) -> list[list[dict]]:
        from haris.review.workflow import enqueue

        with self.store.begin() as conn:
            policy = self.policy.on(conn)
            writer = RecordWriter(self.store, conn, serial=True)
            decided = []
            for r in requests:
                for (records, msg), res in zip(r.items, r.results):
                    for rec in records:
                        writer.add(rec)
                    writer.add_message(msg, res.analysed, version)
                    writer.add_signals(res.signals)
                    writer.end_item()
                    decided.append((msg, res, decide(policy, ItemFacts.from_result(res))))
            writer.flush()
            answers = []
            for msg, res, d in decided:      # in arrival order: the first request to queue an item wins
                top = res.top()
                rid = enqueue(conn, msg.id, "message", d.to_dict(), policy=(d.policies or [None])[0] or
                              (top.policy if top else None), score=top.score if top else None)
                answers.append({"id": msg.id, "platform_id": msg.platform_id, "lang": res.analysed.lang,
                                "signals": [s.to_dict() for s in res.signals], "decision": d.to_dict(),
                                "review_id": rid})
        self.groups += 1
        self.grouped_items += len(answers)
        out, i = [], 0
        for r in requests:
            out.append(answers[i:i + len(r.items)])
            i += len(r.items)
        return out
