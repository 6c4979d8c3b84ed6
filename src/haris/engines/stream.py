"""Streaming on NATS JetStream: publishers put records on a stream, workers analyse and store them.

Guarantees, and how they are kept:

* **Nothing lost**: a worker acknowledges a record only after the
  transaction that stores it (and its signals) has committed. A worker killed
  at any point leaves its unacknowledged records to be redelivered.
* **Nothing duplicated**: every write is keyed by the record's stable id
  (insert-or-ignore, upsert for signals), so a redelivered record changes
  nothing; publishers set ``Nats-Msg-Id`` so JetStream drops re-published
  duplicates inside its duplicate window.
* **Poison messages don't block**: a record that fails ``max_deliver`` times
  goes to the dead-letter subject with the error and is terminated.
* **Back-pressure**: workers pull a bounded batch, and the consumer's
  ``max_ack_pending`` caps what is outstanding, so a slow store slows intake
  instead of filling memory.

Several workers on the same durable consumer share the stream.
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
from dataclasses import asdict, dataclass
from typing import Iterable

from haris.errors import ConfigError
from haris.model import Account, Channel, Conversation, Message, message_from_dict, message_to_dict

log = logging.getLogger("haris.stream")

DEFAULT_URL = os.environ.get("HARIS_NATS_URL", "nats://127.0.0.1:4222")


@dataclass
class StreamConfig:
    url: str = DEFAULT_URL
    stream: str = "HARIS_ITEMS"
    subject: str = "haris.items"
    decisions_stream: str = "HARIS_DECISIONS"
    decisions_subject: str = "haris.decisions"
    dead_subject: str = "haris.dead"
    durable: str = "haris-worker"
    max_deliver: int = 5
    batch: int = 100
    ack_wait: float = 60.0
    max_ack_pending: int = 2000


# -- envelopes -------------------------------------------------------------
_TYPES = {"account": Account, "channel": Channel, "conversation": Conversation}


def envelope(record) -> bytes:
    if isinstance(record, Message):
        return json.dumps({"type": "message", "record": message_to_dict(record)}, ensure_ascii=False).encode()
    for name, cls in _TYPES.items():
        if isinstance(record, cls):
            return json.dumps({"type": name, "record": asdict(record)}, ensure_ascii=False).encode()
    raise TypeError(f"not a haris record: {type(record).__name__}")


def open_envelope(data: bytes):
    d = json.loads(data)
    if d["type"] == "message":
        return message_from_dict(d["record"])
    return _TYPES[d["type"]](**d["record"])


# -- setup -----------------------------------------------------------------
async def connect(cfg: StreamConfig):
    import nats

    try:
        nc = await nats.connect(cfg.url, connect_timeout=5, max_reconnect_attempts=3)
    except Exception as exc:
        raise ConfigError(f"cannot reach NATS at {cfg.url}: {exc}") from exc
    js = nc.jetstream()
    await ensure_streams(js, cfg)
    return nc, js


async def ensure_streams(js, cfg: StreamConfig) -> None:
    from nats.js.api import StreamConfig as JSStream

    for name, subjects in ((cfg.stream, [f"{cfg.subject}.>", cfg.subject]),
                           (cfg.decisions_stream, [f"{cfg.decisions_subject}.>", cfg.decisions_subject,
                                                   cfg.dead_subject])):
        try:
            await js.stream_info(name)
        except Exception:
            await js.add_stream(JSStream(name=name, subjects=subjects, duplicate_window=600.0))


# -- publishing ------------------------------------------------------------
async def publish_records(records: Iterable, cfg: StreamConfig | None = None) -> int:
    """Publish records (accounts, channels, conversations, messages) in order; returns how many."""
    cfg = cfg or StreamConfig()
    nc, js = await connect(cfg)
    n = 0
    try:
        pending = []
        for rec in records:
            kind = type(rec).__name__.lower()
            pending.append(js.publish(f"{cfg.subject}.{kind}", envelope(rec), headers={"Nats-Msg-Id": rec.id}))
            n += 1
            if len(pending) >= 500:   # bounded in-flight publishes: the server acknowledges each
                await asyncio.gather(*pending)
                pending = []
        if pending:
            await asyncio.gather(*pending)
    finally:
        await nc.drain()
    return n


# -- the worker --------------------------------------------------------------
class Worker:
    """Pull records, analyse messages, store everything, ack after commit, publish decisions."""

    def __init__(self, store, cfg: StreamConfig | None = None, analyzer=None):
        from haris.engines.core import Analyzer

        self.store = store
        self.cfg = cfg or StreamConfig()
        self.analyzer = analyzer or Analyzer(store=store)
        self.processed = 0
        self.dead = 0
        self._stop = asyncio.Event()

    def stop(self) -> None:
        self._stop.set()

    async def run(self, *, idle_exit: float | None = None, limit: int | None = None) -> None:
        """Work until stopped; with ``idle_exit`` stop after that many seconds without records."""
        from nats.errors import TimeoutError as NatsTimeout
        from nats.js.api import AckPolicy, ConsumerConfig

        nc, js = await connect(self.cfg)
        cc = ConsumerConfig(durable_name=self.cfg.durable, ack_policy=AckPolicy.EXPLICIT,
                            # unlimited redelivery: a store outage must never drop records; poison
                            # records are dead-lettered by our own count in _failed()
                            ack_wait=self.cfg.ack_wait, max_deliver=-1,
                            max_ack_pending=self.cfg.max_ack_pending)
        sub = await js.pull_subscribe(f"{self.cfg.subject}.>", durable=self.cfg.durable,
                                      stream=self.cfg.stream, config=cc)
        idle = 0.0
        try:
            while not self._stop.is_set() and (limit is None or self.processed < limit):
                try:
                    msgs = await sub.fetch(self.cfg.batch, timeout=1.0)
                except (NatsTimeout, asyncio.TimeoutError):   # nothing to fetch within the second
                    idle += 1.0
                    if idle_exit is not None and idle >= idle_exit:
                        break
                    continue
                idle = 0.0
                await self._handle(js, msgs)
        finally:
            # close, not drain: every message handled was acked or nak'ed already, and
            # draining a pull subscription can wait on a lingering fetch request.
            await nc.close()

    async def _handle(self, js, msgs) -> None:
        from haris.engines.batch import analyse_batch, store_batch
        from haris.engines.local import result_line

        outcomes = analyse_batch(self.analyzer, ((m, m.data) for m in msgs), open_envelope)
        for o in outcomes:
            if o.error is not None:   # a poison record: retry, then dead-letter; never block the batch
                await self._failed(js, o.token, o.error)
        good = [o for o in outcomes if o.error is None]
        if not good:
            return
        try:
            results = store_batch(self.store, self.analyzer.version, good)
        except Exception as exc:   # store down or failing: nothing acked, everything comes back
            log.warning("store write failed, %d records will be redelivered: %s", len(good), exc)
            for o in good:
                await o.token.nak(delay=2.0)
            await asyncio.sleep(1.0)
            return
        for res in results:
            if res.signals:
                await js.publish(f"{self.cfg.decisions_subject}.{res.top().policy}",
                                 json.dumps(result_line(res), ensure_ascii=False).encode(),
                                 headers={"Nats-Msg-Id": "decision-" + res.message.id})
        for o in good:
            await o.token.ack()
        self.processed += len(good)

    async def _failed(self, js, m, exc: Exception) -> None:
        delivered = m.metadata.num_delivered if m.metadata else 1
        if delivered >= self.cfg.max_deliver:
            await js.publish(self.cfg.dead_subject, json.dumps({
                "subject": m.subject, "error": f"{type(exc).__name__}: {exc}", "deliveries": delivered,
                "data": m.data.decode("utf-8", "replace")}).encode())
            await m.term()
            self.dead += 1
        else:
            await m.nak(delay=0.2 * delivered)


def run_worker(store, cfg: StreamConfig | None = None, *, idle_exit: float | None = None) -> Worker:
    """Run a worker in this process until SIGTERM/SIGINT (or idle_exit seconds without work)."""
    worker = Worker(store, cfg)

    async def main():
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, worker.stop)
        await worker.run(idle_exit=idle_exit)

    asyncio.run(main())
    return worker
