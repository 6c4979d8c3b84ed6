"""Kafka source and sink, for platforms that already run Kafka, with the NATS engine's guarantees.

* Offsets are committed only after the batch's store transaction commits
  (``enable.auto.commit`` is off), so a worker killed at any point re-reads
  what it had not stored; stable ids make the re-write a no-op.
* A record that fails ``max_tries`` times in a row goes to the dead-letter
  topic with the error, and the partition moves on.
* Producers are idempotent (``enable.idempotence``) and key records by id.
* A bounded ``consume`` batch gives back-pressure.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Iterable

from haris.engines.stream import envelope, open_envelope
from haris.errors import ConfigError

log = logging.getLogger("haris.kafka")


@dataclass
class KafkaConfig:
    bootstrap: str = "127.0.0.1:9092"
    topic: str = "haris.items"
    decisions_topic: str = "haris.decisions"
    dead_topic: str = "haris.dead"
    group: str = "haris-worker"
    batch: int = 200
    max_tries: int = 3


def _producer(cfg: KafkaConfig):
    from confluent_kafka import Producer

    return Producer({"bootstrap.servers": cfg.bootstrap, "enable.idempotence": True, "linger.ms": 5,
                     "acks": "all"})


def publish_records(records: Iterable, cfg: KafkaConfig) -> int:
    """Produce records to the input topic, keyed by their stable id; returns how many."""
    p = _producer(cfg)
    errors: list[str] = []

    def on_delivery(err, _msg):
        if err is not None:
            errors.append(str(err))

    n = 0
    for rec in records:
        while True:
            try:
                p.produce(cfg.topic, key=rec.id.encode(), value=envelope(rec), on_delivery=on_delivery)
                break
            except BufferError:   # local queue full: wait for deliveries (back-pressure)
                p.poll(0.5)
        n += 1
        p.poll(0)
    if p.flush(60) > 0 or errors:
        raise ConfigError(f"kafka at {cfg.bootstrap}: {len(errors)} records not delivered: {errors[:3]}")
    return n


class KafkaWorker:
    """Consume, analyse, store, commit offsets, produce decisions."""

    def __init__(self, store, cfg: KafkaConfig, analyzer=None):
        from haris.engines.core import Analyzer

        self.store, self.cfg = store, cfg
        self.analyzer = analyzer or Analyzer(store=store)
        self.processed = 0
        self.dead = 0
        self._stop = False

    def stop(self) -> None:
        self._stop = True

    def run(self, *, idle_exit: float | None = None, limit: int | None = None) -> None:
        from confluent_kafka import Consumer

        from haris.engines.batch import analyse_batch, store_batch
        from haris.engines.local import result_line

        consumer = Consumer({"bootstrap.servers": self.cfg.bootstrap, "group.id": self.cfg.group,
                             "enable.auto.commit": False, "auto.offset.reset": "earliest",
                             # short session and heartbeat: a restarted worker rejoins in seconds
                             "session.timeout.ms": 6000, "heartbeat.interval.ms": 500,
                             "topic.metadata.refresh.interval.ms": 1000})
        producer = _producer(self.cfg)
        consumer.subscribe([self.cfg.topic])
        idle = 0.0
        tries: dict[tuple[int, int], int] = {}
        try:
            while not self._stop and (limit is None or self.processed < limit):
                msgs = consumer.consume(self.cfg.batch, timeout=1.0)
                msgs = [m for m in msgs if m.error() is None]
                if not msgs:
                    idle += 1.0
                    if idle_exit is not None and idle >= idle_exit:
                        break
                    continue
                idle = 0.0
                outcomes = analyse_batch(self.analyzer, ((m, m.value()) for m in msgs), open_envelope)
                bad = [o for o in outcomes if o.error is not None]
                retry_from = None
                for o in bad:
                    key = (o.token.partition(), o.token.offset())
                    tries[key] = tries.get(key, 0) + 1
                    if tries[key] >= self.cfg.max_tries:
                        producer.produce(self.cfg.dead_topic, key=o.token.key(), value=json.dumps({
                            "topic": o.token.topic(), "partition": key[0], "offset": key[1],
                            "error": f"{type(o.error).__name__}: {o.error}",
                            "data": (o.token.value() or b"").decode("utf-8", "replace")}).encode())
                        producer.flush(10)
                        self.dead += 1
                        tries.pop(key, None)
                    elif retry_from is None:
                        retry_from = o.token
                if retry_from is not None:
                    # Store nothing from this batch: rewind every partition it came from and try again.
                    from confluent_kafka import TopicPartition

                    first: dict[tuple[str, int], int] = {}
                    for m in msgs:
                        k = (m.topic(), m.partition())
                        first[k] = min(first.get(k, m.offset()), m.offset())
                    for (topic, part), off in first.items():
                        consumer.seek(TopicPartition(topic, part, off))
                    continue
                good = [o for o in outcomes if o.error is None]
                results = store_batch(self.store, self.analyzer.version, good) if good else []
                for res in results:
                    if res.signals:
                        producer.produce(self.cfg.decisions_topic, key=res.message.id.encode(),
                                         value=json.dumps(result_line(res), ensure_ascii=False).encode())
                producer.flush(30)
                # Only after the store committed: the next offset of every partition in this batch.
                from confluent_kafka import TopicPartition

                nxt: dict[tuple[str, int], int] = {}
                for m in msgs:
                    k = (m.topic(), m.partition())
                    nxt[k] = max(nxt.get(k, 0), m.offset() + 1)
                consumer.commit(offsets=[TopicPartition(t, p, o) for (t, p), o in nxt.items()],
                                asynchronous=False)
                self.processed += len(good)
        finally:
            consumer.close()
