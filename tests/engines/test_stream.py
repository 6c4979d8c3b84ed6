"""The stream engine keeps its promises against a real NATS JetStream server."""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import pytest

from haris.engines.stream import Worker, publish_records
from haris.model import Message
from haris.store import schema
from haris.store.db import Store

T0 = datetime(2024, 3, 1, tzinfo=timezone.utc)
TEXTS = ["Selling my car, $12,500, delivery soon", "For sale: girl, 12 years old, $12,500, delivery soon",
         "عيد ميلاد سعيد لابنتي", "New channel after the ban, join t.me/example_backup"]


def _messages(n: int) -> list[Message]:
    return [Message(id=f"msg_s{i:06d}", platform="generic", platform_id=str(i), channel_id="chan_s",
                    author_id=f"acct_{i % 7}", time=T0 + timedelta(seconds=i), text=TEXTS[i % len(TEXTS)])
            for i in range(n)]


def _worker_cmd(db_url, cfg, idle_exit):
    return [sys.executable, "-m", "haris.cli", "--db", db_url, "worker", "--nats", cfg.url, "--ack-wait", str(cfg.ack_wait),
            "--stream", cfg.stream, "--subject", cfg.subject, "--durable", cfg.durable,
            "--batch", "50", "--idle-exit", str(idle_exit)]


def _dead_count(cfg) -> int:
    async def count():
        import nats

        nc = await nats.connect(cfg.url)
        js = nc.jetstream()
        info = await js.stream_info(cfg.decisions_stream)
        sub = await js.subscribe(cfg.dead_subject, stream=cfg.decisions_stream, ordered_consumer=True)
        n = 0
        try:
            while True:
                await sub.next_msg(timeout=1.0)
                n += 1
        except Exception:
            pass
        await nc.close()
        return n

    return asyncio.run(count())


@pytest.mark.slow
def test_sigkill_mid_stream_then_restart_stores_every_item_exactly_once(stream_cfg, sqlite_url):
    Store.open(sqlite_url).dispose()
    n = 10_000
    asyncio.run(publish_records(_messages(n), stream_cfg))
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(_worker_cmd(sqlite_url, stream_cfg, 30), env=env)
    store = Store.open(sqlite_url)
    deadline = time.time() + 120
    while store.count(schema.messages) < n // 5 and time.time() < deadline:
        time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)   # mid-stream, possibly between commit and ack
    proc.wait()
    stored_at_kill = store.count(schema.messages)
    assert 0 < stored_at_kill < n
    # The killed worker's unacknowledged batch comes back after ack_wait (8 s): idle longer than that.
    subprocess.run(_worker_cmd(sqlite_url, stream_cfg, 15), env=env, check=True, timeout=600)
    assert store.count(schema.messages) == n
    with store.connect() as conn:
        ids = {r[0] for r in conn.execute(schema.messages.select().with_only_columns(schema.messages.c.id))}
    assert ids == {m.id for m in _messages(n)}


def test_poison_record_is_dead_lettered_and_does_not_block(stream_cfg, sqlite_url):
    async def scenario():
        from haris.engines.stream import connect

        nc, js = await connect(stream_cfg)
        await js.publish(f"{stream_cfg.subject}.message", b'{"type": "message", "record": {"oops": 1}}')
        await nc.drain()
        await publish_records(_messages(20), stream_cfg)
        stream_cfg.max_deliver = 3
        w = Worker(Store.open(sqlite_url), stream_cfg)
        await w.run(idle_exit=4)
        return w

    w = asyncio.run(scenario())
    assert w.processed >= 20 and w.dead == 1       # processed counts deliveries; the store counts items
    assert Store.open(sqlite_url).count(schema.messages) == 20
    assert _dead_count(stream_cfg) == 1


def test_republishing_is_deduplicated_by_message_id(stream_cfg, sqlite_url):
    async def scenario():
        await publish_records(_messages(30), stream_cfg)
        await publish_records(_messages(30), stream_cfg)   # the same ids again
        from haris.engines.stream import connect

        nc, js = await connect(stream_cfg)
        info = await js.stream_info(stream_cfg.stream)
        await nc.drain()
        return info.state.messages

    assert asyncio.run(scenario()) == 30


def test_decisions_are_published_for_items_with_signals(stream_cfg, sqlite_url):
    """Every analysed message that produced a signal is published on the decisions subject."""
    async def scenario():
        await publish_records(_messages(8), stream_cfg)
        w = Worker(Store.open(sqlite_url), stream_cfg)
        await w.run(idle_exit=3)
        from haris.engines.stream import connect

        nc, js = await connect(stream_cfg)
        info = await js.stream_info(stream_cfg.decisions_stream)
        await nc.drain()
        return w, info.state.messages

    w, n_decisions = asyncio.run(scenario())
    assert w.processed == 8
    expected = sum(1 for m in _messages(8) if w.analyzer.analyse(m).signals)
    assert n_decisions == expected
