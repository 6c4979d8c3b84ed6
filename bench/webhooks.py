"""Webhook delivery and evidence export benchmark.

1. Deliveries per second to a local receiver (a threaded http.server on 127.0.0.1) that answers
   500 to 10% of requests: every delivery is claimed, signed, sent, recorded (attempt row, status)
   and, when it failed, retried after a (short, for the benchmark) backoff until delivered. The
   baseline, measured in the same run, is the same number of bare signed POSTs with httpx and no
   store: the difference is what durability costs.
2. The time to export (and to verify) the signed evidence bundle of a case of 10,000 items, each
   with its signals, entities, a decision in the audit log and neighbouring messages.

    .venv/bin/python bench/webhooks.py                           # SQLite in a temporary folder
    .venv/bin/python bench/webhooks.py --deliveries 5000 --items 20000
    .venv/bin/python bench/webhooks.py --db postgresql+psycopg://postgres@127.0.0.1:5432/test

Timings are wall clock on a shared machine; each figure is one run.
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import httpx  # noqa: E402

from haris.act import webhooks  # noqa: E402
from haris.act.delivery import Backoff, Deliverer  # noqa: E402
from haris.store.db import Store  # noqa: E402


def receiver(failure_rate: float, seed: int = 0) -> tuple[ThreadingHTTPServer, str]:
    rng = random.Random(seed)
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True
        wbufsize = 1 << 16         # the status line, headers and body leave in one write

        def log_message(self, *a):
            pass

        def do_POST(self):
            self.rfile.read(int(self.headers.get("content-length") or 0))
            with lock:
                fail = rng.random() < failure_rate
            body = b"broken" if fail else b"ok"
            self.send_response(500 if fail else 200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/hook"


def bench_deliveries(store: Store, n: int, concurrency: int, url: str, tag: str) -> dict:
    ep, _ = webhooks.add_endpoint(store, f"bench-{tag}", url)
    with store.begin() as conn:
        endpoint = {"id": ep.id, "url": ep.url}
        for i in range(n):
            webhooks.enqueue(conn, endpoint, "remove_item", {"item": {"platform_id": str(i)}},
                             key=webhooks.idempotency_key(tag, str(i)), max_attempts=20)
    started = time.perf_counter()
    # Retries come due after 10-20 ms instead of 30 s: the benchmark measures throughput, not patience.
    with Deliverer(store, timeout=5, concurrency=concurrency, backoff=Backoff(base=0.02, cap=0.02)) as d:
        stats = d.drain(limit=200)
    wall = time.perf_counter() - started
    return {"deliveries": n, "attempts": stats.attempted, "delivered": stats.delivered, "dead": stats.dead,
            "seconds": wall, "delivered_per_s": stats.delivered / wall, "attempts_per_s": stats.attempted / wall}


def bench_bare_posts(n: int, url: str, concurrency: int) -> float:
    from concurrent.futures import ThreadPoolExecutor

    body = b'{"event":"remove_item","data":{"item":{"platform_id":"1"}}}'
    with httpx.Client(timeout=5) as client:
        def post(i: int) -> int:
            return client.post(url, content=body, headers={"Haris-Signature": webhooks.sign("s", body)}).status_code

        started = time.perf_counter()
        with ThreadPoolExecutor(concurrency) as pool:
            list(pool.map(post, range(n)))
        return n / (time.perf_counter() - started)


def seed_case(store: Store, n_items: int) -> str:
    """A case of n message items in 50 channels, each with a signal, an entity, a decision and its audit entry."""
    from haris.model import Account, Channel, Message, stable_id
    from haris.detect.base import Evidence, Signal
    from haris.service import audit
    from haris.service.tables import cases, decisions, review_items
    from haris.store.writer import RecordWriter

    t0 = datetime(2026, 1, 5, tzinfo=timezone.utc)
    now = datetime.now(timezone.utc)
    with store.begin() as conn:
        w = RecordWriter(store, conn)
        chans = [Channel.make("telegram", f"-100{c}", kind="channel", handle=f"example_chan_{c}") for c in range(50)]
        accts = [Account.make("telegram", str(5000 + a), handle=f"example_user_{a}") for a in range(500)]
        for r in chans + accts:
            w.add(r)
        ids = []
        for i in range(n_items * 2):          # every other message is an item; the rest are context
            ch = chans[i % 50]
            m = Message(id=Message.make_id("telegram", ch.platform_id, str(i)), platform="telegram",
                        platform_id=str(i), channel_id=ch.id, author_id=accts[i % 500].id,
                        time=t0 + timedelta(seconds=30 * i), text=f"synthetic post {i}: offer, age 1{i % 9}, price {i}")
            w.add_message(m)
            if i % 2 == 0:
                ids.append(m.id)
                w.add_signals([Signal(policy="trafficking", score=0.9, detector="bench", detector_version="1",
                                      labels=["sale"], item_id=m.id,
                                      evidence=[Evidence("lexicon", "offer", 0, 5, "offer")])])
        w.flush()
        cid = stable_id("case", "bench", n_items)
        conn.execute(cases.insert().values(id=cid, title="bench case", kind="network", status="open",
                                           created_by="bench", created_at=now))
        rows, decs = [], []
        for mid in ids:
            rid = stable_id("rev", "bench", mid)
            rows.append(dict(id=rid, item_id=mid, item_kind="message", policy="trafficking", score=0.9,
                             priority="high", priority_rank=2, queue="trafficking", source="proactive",
                             status="closed", decision={}, case_id=cid, created_at=now, updated_at=now, closed_at=now))
            decs.append(dict(id=stable_id("dec", "bench", rid), review_item_id=rid, item_id=mid, reviewer_id="bench",
                             stage="first", label="trafficking", action="remove_item", reason="bench",
                             created_at=now))
        store.insert_ignore(conn, review_items, rows)
        store.insert_ignore(conn, decisions, decs)
        for d in decs:
            audit.append(conn, "bench", "decision.first", d["item_id"], {"review_id": d["review_item_id"]})
    return cid


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--deliveries", type=int, default=2000)
    ap.add_argument("--concurrency", default="1,4,8")
    ap.add_argument("--items", type=int, default=10_000)
    ap.add_argument("--db", default=None, help="Store URL (default: SQLite in a temporary folder).")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="haris-bench-")
    os.environ.setdefault("HARIS_DATA_DIR", tmp)
    url, drop = private_schema(args.db) if args.db else (f"sqlite:///{tmp}/bench.db", None)
    try:
        run(Store.open(url), args, tmp)
    finally:
        if drop:
            drop()


def private_schema(url: str):
    """A PostgreSQL URL whose search_path is a new schema, and a function that drops it afterwards."""
    if not url.startswith("postgresql"):
        return url, None
    import uuid

    import psycopg

    name = "bench_" + uuid.uuid4().hex[:12]
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {name}")

    def drop() -> None:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {name} CASCADE")

    return f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{name}", drop


def run(store: Store, args, tmp: str) -> None:
    print(f"store: {store.dialect}")

    server, url = receiver(0.10)
    print(f"\n1. deliveries to a local receiver failing 10% of requests ({args.deliveries:,} deliveries)")
    for c in (int(x) for x in args.concurrency.split(",")):
        bare = bench_bare_posts(args.deliveries, url, c)
        r = bench_deliveries(store, args.deliveries, c, url, f"c{c}-{time.time_ns()}")
        print(f"   concurrency {c}: {r['delivered_per_s']:8.0f} delivered/s ({r['attempts_per_s']:.0f} attempts/s, "
              f"{r['attempts']:,} attempts for {r['delivered']:,} delivered, {r['dead']} dead) "
              f"| baseline bare signed POSTs, no store: {bare:.0f}/s")
    server.shutdown()

    print(f"\n2. evidence bundle of a case of {args.items:,} items")
    started = time.perf_counter()
    cid = seed_case(store, args.items)
    print(f"   seeding the case: {time.perf_counter() - started:.1f} s")
    from haris.act.evidence import export_case, verify_bundle

    out = Path(tmp) / "bundle.zip"
    started = time.perf_counter()
    res = export_case(store, cid, out, actor="bench")
    export_s = time.perf_counter() - started
    started = time.perf_counter()
    ok = verify_bundle(out).ok
    verify_s = time.perf_counter() - started
    print(f"   export: {export_s:.1f} s ({res.items:,} items, {res.files:,} files, "
          f"{out.stat().st_size / 1e6:.1f} MB) | verify: {verify_s:.1f} s ({'intact' if ok else 'FAILED'})")
    store.dispose()


if __name__ == "__main__":
    main()
