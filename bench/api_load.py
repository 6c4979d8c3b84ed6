"""Load benchmark of the service: single items posted to /v1/items, and the console's queue page.

    .venv/bin/python bench/api_load.py [--seconds 20] [--clients 50] [--workers 1]
                                       [--queue-items 100000] [--backends sqlite,postgres]

For each backend (SQLite in a temporary file; PostgreSQL in a fresh schema of
``--pg-url``, dropped afterwards) it starts the real server (``uvicorn
haris.service.asgi:app`` in a subprocess), then:

1. **API load** — ``--clients`` concurrent clients (asyncio + httpx, one
   connection each, closed loop: a client sends its next item when the last
   one is answered) post one synthetic item at a time for ``--seconds``.
   Reports throughput and p50/p90/p99 latency measured by the client. The
   analysis is whatever :class:`haris.engines.core.Analyzer` runs today (its
   version is printed).
   Then an open-loop phase at half that throughput (or ``--paced-rps``): the
   latency a platform sees when the server is not saturated.
2. **Queue page** — inserts ``--queue-items`` review items (with their
   messages) straight into the store, logs a reviewer in through the form,
   and times ``GET /queue`` (first page, a filtered page, a deep page) and one
   item page.

The clients run on the same machine as the server and share its cores, so the
numbers are a floor for what the server does on its own. The aim is p99 under
100 ms for single items at 50 clients on PostgreSQL.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx

PG_URL = os.environ.get("HARIS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
PASSWORD = "a long enough password"
TEXTS = [   # synthetic, schematic (see the data rules in the brief)
    "Selling my car, 2015 model, $12,500, delivery soon. Call +1 555 0142",
    "للبيع سيارة موديل 2015 بسعر 12.500 دولار التسليم قريبا",
    "Réunion des parents d'élèves jeudi à 18h, salle 12",
    "New channel after the ban, join t.me/example_backup_7 and share",
    "For sale: woman, 25, price $3,700, delivery after the checkpoint",
    "Breaking: police rescue 12 victims of trafficking, NGO says",
    "Agneaux à vendre, 150 € pièce, livraison possible",
    "عيد ميلاد سعيد لابنتي عمرها ١٢ سنة اليوم",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def _tree_cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a process and its descendants, from /proc (Linux); NaN elsewhere."""
    try:
        stats = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    raw = Path(f"/proc/{entry}/stat").read_text()
                except OSError:
                    continue
                fields = raw[raw.rindex(")") + 2:].split()
                stats[int(entry)] = (int(fields[1]), int(fields[11]) + int(fields[12]))   # ppid, utime + stime
    except OSError:
        return float("nan")
    tree, frontier = {pid}, [pid]
    while frontier:
        parent = frontier.pop()
        for child, (ppid, _) in stats.items():
            if ppid == parent and child not in tree:
                tree.add(child)
                frontier.append(child)
    return sum(stats[p][1] for p in tree if p in stats) / os.sysconf("SC_CLK_TCK")


# -- databases --------------------------------------------------------------------------------------
class Database:
    """A throw-away database: a SQLite file, or a fresh PostgreSQL schema."""

    def __init__(self, backend: str, workdir: Path, pg_url: str):
        self.backend, self.schema = backend, None
        if backend == "sqlite":
            self.url = f"sqlite:///{workdir / 'bench.db'}"
        else:
            import psycopg

            self.dsn = pg_url.replace("postgresql+psycopg://", "postgresql://")
            self.schema = "bench_" + uuid.uuid4().hex[:10]
            with psycopg.connect(self.dsn, autocommit=True, connect_timeout=5) as conn:
                conn.execute(f"CREATE SCHEMA {self.schema}")
            sep = "&" if "?" in pg_url else "?"
            self.url = f"{pg_url}{sep}options=-csearch_path%3D{self.schema}"

    def drop(self) -> None:
        if self.schema:
            import psycopg

            with psycopg.connect(self.dsn, autocommit=True) as conn:
                conn.execute(f"DROP SCHEMA {self.schema} CASCADE")


class Server:
    """``uvicorn haris.service.asgi:app`` in a subprocess on a free loopback port."""

    def __init__(self, db_url: str, workers: int, log: Path):
        self.port = _free_port()
        self.log = log
        self.base = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "HARIS_DATABASE_URL": db_url}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "haris.service.asgi:app", "--host", "127.0.0.1", "--port",
             str(self.port), "--workers", str(workers), "--log-level", "warning", "--no-access-log"],
            env=env, stdout=subprocess.DEVNULL, stderr=open(log, "wb"))   # a file: a full pipe would block it
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited: {self.log.read_text(errors='replace')[-2000:]}")
            try:
                if httpx.get(f"{self.base}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        raise RuntimeError("the server did not start within 60 s")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()


# -- 1. API load -------------------------------------------------------------------------------------------
async def _load(base: str, secret: str, clients: int, seconds: float, rate: float | None = None) -> dict:
    """``clients`` concurrent clients posting single items for ``seconds``.

    ``rate`` None: closed loop (each client sends its next item as soon as the
    last is answered: the server's throughput, and latency at saturation).
    ``rate`` R: open loop at R items/s in all, spread over the clients; each
    latency counts from the moment the item was *due*, so a server that falls
    behind is not flattered (no coordinated omission).
    """
    latencies: list[float] = []
    errors: dict[str, int] = {}
    headers = {"Authorization": f"Bearer {secret}"}
    run = uuid.uuid4().hex[:8]
    start = time.perf_counter()
    deadline = start + seconds
    interval = clients / rate if rate else 0.0

    async def client(n: int, http: httpx.AsyncClient) -> None:
        i = 0
        due = start + (n * interval / clients if rate else 0.0)
        while True:
            if rate:
                if due >= deadline:
                    return
                await asyncio.sleep(max(0.0, due - time.perf_counter()))
            elif time.perf_counter() >= deadline:
                return
            i += 1
            item = {"id": f"{run}-{n}-{i}", "platform": "bench", "text": TEXTS[(n + i) % len(TEXTS)],
                    "channel": f"chan-{n % 10}", "author": f"user-{(n * 7 + i) % 500}",
                    "time": datetime.now(timezone.utc).isoformat()}
            t0 = due if rate else time.perf_counter()
            try:
                r = await http.post("/v1/items", json=item, headers=headers)
                status = str(r.status_code)
            except httpx.HTTPError as exc:
                status = type(exc).__name__
            if status == "200":
                latencies.append(time.perf_counter() - t0)
            else:
                errors[status] = errors.get(status, 0) + 1
            due += interval

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as http:
        await asyncio.gather(*(client(n, http) for n in range(clients)))
        elapsed = time.perf_counter() - start
    ms = [x * 1000 for x in latencies]
    return {"requests": len(ms), "errors": errors, "seconds": elapsed, "rps": len(ms) / elapsed,
            "p50": _pct(ms, 50), "p90": _pct(ms, 90), "p99": _pct(ms, 99), "max": max(ms, default=float("nan"))}


# -- 2. the queue page with many review items ---------------------------------------------------------------
def _fill_queue(store, n: int) -> str:
    """Insert ``n`` review items and their messages (bulk, idempotent); returns one review id."""
    from haris.model import stable_id
    from haris.service.tables import review_items
    from haris.store import schema

    now = datetime.now(timezone.utc)
    plan = [("urgent", 3, "child-safety", "child_exploitation"), ("high", 2, "trafficking", "trafficking"),
            ("normal", 1, "terrorism", "terrorism"), ("low", 0, "general", None)]
    batch_m, batch_r, first = [], [], None
    for i in range(n):
        priority, rank, queue, policy = plan[i % 7 % 4]
        mid = stable_id("msg", "bench", "queue", i)
        rid = stable_id("rev", "bench", mid, queue)
        first = first or rid
        t = now - timedelta(minutes=n - i)
        status = "closed" if i % 7 == 0 else "needs_second_review" if i % 19 == 0 else "open"
        batch_m.append(dict(id=mid, platform="bench", platform_id=str(i), channel_id=None, conversation_id=None,
                            author_id=None, time=t, text=TEXTS[i % len(TEXTS)], kind="message"))
        batch_r.append(dict(id=rid, item_id=mid, item_kind="message", policy=policy, score=0.5 + (i % 50) / 100,
                            priority=priority, priority_rank=rank, queue=queue, source="proactive", status=status,
                            decision={"action": "queue", "priority": priority, "queue": queue, "rules": []},
                            created_at=t, updated_at=t))
        if len(batch_r) >= 5000 or i == n - 1:
            with store.begin() as conn:
                store.insert_ignore(conn, schema.messages, batch_m)
                store.insert_ignore(conn, review_items, batch_r)
            batch_m, batch_r = [], []
    if store.dialect == "postgresql":     # what autovacuum would have done by then on a live system
        from sqlalchemy import text

        with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE review_items"))
            conn.execute(text("VACUUM ANALYZE messages"))
    return first


def _queue_timings(base: str, review_id: str, pid: int, rounds: int = 15) -> dict[str, float]:
    with httpx.Client(base_url=base, timeout=60, follow_redirects=False) as http:
        page = http.get("/login")
        token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        r = http.post("/login", data={"username": "bench-reviewer", "password": PASSWORD, "csrf": token})
        assert r.status_code == 303, r.text[:500]
        deep, depth = "/queue", 1
        while depth < 21:        # follow "next" (keyset pages) to page 21, or the last page
            found = re.search(r'href="([^"]+)" rel="next" id="queue-next"', http.get(deep).text)
            if not found:
                break
            deep, depth = found.group(1).replace("&amp;", "&"), depth + 1
        out = {}
        for name, path in (("queue", "/queue"), ("queue?policy=terrorism", "/queue?policy=terrorism"),
                           (f"queue, page {depth}", deep), ("item page", f"/items/{review_id}")):
            assert http.get(path).status_code == 200, path     # warm
            times = []
            cpu0 = _tree_cpu_seconds(pid)
            for _ in range(rounds):
                t0 = time.perf_counter()
                r = http.get(path)
                times.append((time.perf_counter() - t0) * 1000)
                assert r.status_code == 200
            out[name + " cpu"] = (_tree_cpu_seconds(pid) - cpu0) * 1000 / rounds
            out[name] = statistics.median(times)
            out[name + " p95"] = _pct(times, 95)
        return out


def run_backend(backend: str, args) -> dict:
    from haris.engines.core import Analyzer
    from haris.service import auth
    from haris.store.db import Store

    with tempfile.TemporaryDirectory(prefix="haris-api-bench-") as tmp:
        db = Database(backend, Path(tmp), args.pg_url)
        try:
            store = Store.open(db.url)
            _key, secret = auth.create_api_key(store, "bench", ["items:write"], rate_per_minute=10_000_000)
            auth.create_user(store, "bench-reviewer", PASSWORD, ["reviewer"])
            server = Server(db.url, args.workers, Path(tmp) / "server.log")
            try:
                load = paced = None
                if "load" in args.parts:
                    for i, text in enumerate(TEXTS * args.workers * 2):   # load models in every server process
                        warm = httpx.post(f"{server.base}/v1/items", json={"id": f"warm-{i}", "text": text},
                                          headers={"Authorization": f"Bearer {secret}"}, timeout=120)
                        assert warm.status_code == 200, server.log.read_text(errors="replace")[-3000:]
                    cpu0 = _tree_cpu_seconds(server.proc.pid)
                    load = asyncio.run(_load(server.base, secret, args.clients, args.seconds))
                    cpu = _tree_cpu_seconds(server.proc.pid) - cpu0
                    load["server_cpu_ms"] = cpu * 1000 / max(1, load["requests"])
                    rate = args.paced_rps or max(1.0, round(load["rps"] / 2))
                    paced = asyncio.run(_load(server.base, secret, args.clients, args.seconds, rate=rate))
                    paced["offered"] = rate
                fill, queue = 0.0, {}
                if "queue" in args.parts:
                    t0 = time.perf_counter()
                    rid = _fill_queue(store, args.queue_items)
                    fill = time.perf_counter() - t0
                    queue = _queue_timings(server.base, rid, server.proc.pid)
            finally:
                server.stop()
            store.dispose()
        finally:
            db.drop()
    try:
        version = Analyzer().version
    except Exception as exc:      # detectors still being built: say so, the queue numbers stand
        version = f"unavailable ({exc})"
    return {"backend": backend, "analyzer": version, "load": load, "paced": paced, "fill_seconds": fill,
            "queue": queue}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--workers", type=int, default=1, help="server processes")
    ap.add_argument("--paced-rps", type=float, default=0,
                    help="the open-loop phase: items a second in all, spread over the clients "
                         "(default: half the closed-loop throughput just measured)")
    ap.add_argument("--queue-items", type=int, default=100_000)
    ap.add_argument("--backends", default="sqlite,postgres")
    ap.add_argument("--pg-url", default=PG_URL)
    ap.add_argument("--parts", default="load,queue", help="load (POST /v1/items), queue (the console's queue page)")
    args = ap.parse_args(argv)
    print(f"{args.clients} clients, {args.seconds:.0f} s a backend, {args.workers} server process(es), "
          f"{os.cpu_count()} CPUs shared by clients and server")
    for backend in (b.strip() for b in args.backends.split(",")):
        if backend == "postgres":
            try:
                import psycopg

                dsn = args.pg_url.replace("postgresql+psycopg://", "postgresql://")
                psycopg.connect(dsn, connect_timeout=3).close()
            except Exception as exc:     # no server here: say so and go on
                print(f"\n[postgres] skipped: cannot connect to {args.pg_url}: {exc}")
                continue
        res = run_backend(backend, args)
        print(f"\n[{res['backend']}] analyzer: {res['analyzer']}")
        for title, ld in (("closed loop, as fast as answered", res["load"]),
                          ("open loop, {offered:.0f} items/s offered", res["paced"])):
            if ld is None:
                continue
            title = title.format(offered=ld.get("offered", 0))
            print(f"  POST /v1/items, single items, {args.clients} clients, {title}:\n"
                  f"    {ld['requests']} ok in {ld['seconds']:.1f} s = {ld['rps']:.0f} req/s; latency ms "
                  f"p50 {ld['p50']:.1f}  p90 {ld['p90']:.1f}  p99 {ld['p99']:.1f}  max {ld['max']:.1f}; "
                  f"errors {ld['errors'] or 0}"
                  + (f"\n    server process CPU per item {ld['server_cpu_ms']:.1f} ms"
                     if "server_cpu_ms" in ld else ""))
        if res["queue"]:
            print(f"  queue filled with {args.queue_items} review items in {res['fill_seconds']:.1f} s")
        for name, ms in res["queue"].items():
            if not name.endswith(("p95", "cpu")):
                print(f"  {name:<26} median {ms:7.1f} ms   p95 {res['queue'][name + ' p95']:7.1f} ms   "
                      f"server CPU {res['queue'][name + ' cpu']:6.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
