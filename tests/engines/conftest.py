"""A real NATS JetStream server for the streaming tests.

Uses ``HARIS_NATS_URL`` (default nats://127.0.0.1:4222, which this kind of
machine runs and .ci/run starts when it is down). Each test gets its own
stream and subjects, deleted afterwards.
"""
from __future__ import annotations

import asyncio
import os
import socket
import uuid
from urllib.parse import urlparse

import pytest

NATS_URL = os.environ.get("HARIS_NATS_URL", "nats://127.0.0.1:4222")


def _nats_reason() -> str | None:
    u = urlparse(NATS_URL)
    try:
        with socket.create_connection((u.hostname, u.port or 4222), timeout=2) as s:
            info = s.recv(4096)
        if b'"jetstream":true' not in info.replace(b" ", b""):
            return f"NATS at {NATS_URL} runs without JetStream"
    except OSError as exc:
        return f"NATS not reachable at {NATS_URL}: {exc}"
    return None


@pytest.fixture
def stream_cfg():
    reason = _nats_reason()
    if reason:
        pytest.skip(reason)
    from haris.engines.stream import StreamConfig

    tag = uuid.uuid4().hex[:10]
    cfg = StreamConfig(url=NATS_URL, stream=f"HT_{tag}", subject=f"ht_{tag}.items",
                       decisions_stream=f"HTD_{tag}", decisions_subject=f"ht_{tag}.decisions",
                       dead_subject=f"ht_{tag}.dead", durable=f"w_{tag}", ack_wait=8.0)
    yield cfg

    async def cleanup():
        import nats

        nc = await nats.connect(NATS_URL)
        js = nc.jetstream()
        for name in (cfg.stream, cfg.decisions_stream):
            try:
                await js.delete_stream(name)
            except Exception:
                pass
        await nc.close()

    asyncio.run(cleanup())
