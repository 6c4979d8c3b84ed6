"""Load benchmark of the service: single items posted to /v1/items, and the console's queue page.

    .venv/bin/python bench/api_load.py [--seconds 15] [--clients 50] [--workers 1,2]
                                       [--open-rates 250,80%] [--queue-items 100000]
                                       [--backends sqlite,postgres] [--parts load,queue]

For each backend (SQLite in a temporary file; PostgreSQL in a fresh schema of
``--pg-url``, dropped afterwards) and each number of server processes, it
starts the server as ``haris serve --workers N`` does
(:func:`haris.service.serve.serve`), then:

1. **API load** — ``--clients`` concurrent clients, one keep-alive connection
   each, post one synthetic item at a time for ``--seconds``:

   * *closed loop*: a client sends its next item as soon as the last is
     answered — the server's throughput, and the latency at saturation;
   * *open loop* at each of ``--open-rates`` (items a second in all, spread
     evenly over the clients; ``80%`` means 80% of the closed-loop throughput
     just measured). Latency counts from the moment an item was *due*, so a
     server that falls behind is not flattered (no coordinated omission).

   For each run: throughput, latency p50/p90/p99/max, CPU per item of the
   server processes, of PostgreSQL's backends serving them, of the client and
   of the whole machine; SQL statements per item and items per transaction,
   counted inside the server processes.
2. **Queue page** — inserts ``--queue-items`` review items (with their
   messages) straight into the store, logs a reviewer in through the form,
   and times ``GET /queue`` (first page, a filtered page, a deep page) and one
   item page.

The clients share the machine's cores with the server and the database, so
they are a minimal HTTP/1.1 client on asyncio streams (about 0.1 ms of CPU a
request; httpx's async client spent 7-8 ms a request here, more than the
server, and was what an earlier version of this benchmark measured).
The aim is p99 under 100 ms for single items at 50 clients on PostgreSQL.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
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


STATS_DIR_ENV = "HARIS_BENCH_STATS_DIR"


def counting_app():
    """The service's app as ``haris serve`` builds it, with counters for this benchmark (runs in the server).

    Each server process writes, every 0.25 s, the SQL statements and transactions its store has run and the
    item groups its pipeline has committed to ``$HARIS_BENCH_STATS_DIR/<pid>.json``.
    """
    from sqlalchemy import event

    from haris.service.app import create_app

    app = create_app()
    counts = {"statements": 0, "transactions": 0}

    def count(key):
        def listener(*_args):
            counts[key] += 1
        return listener

    engine = app.state.store.engine
    event.listen(engine, "before_cursor_execute", count("statements"))
    event.listen(engine, "commit", count("transactions"))
    event.listen(engine, "rollback", count("transactions"))
    out = Path(os.environ[STATS_DIR_ENV]) / f"{os.getpid()}.json"

    def write_forever():
        while True:
            pipeline = app.state.items
            tmp = out.with_suffix(".tmp")
            tmp.write_text(json.dumps({**counts, "groups": pipeline.groups, "items": pipeline.grouped_items}))
            tmp.replace(out)
            time.sleep(0.25)

    threading.Thread(target=write_forever, daemon=True).start()
    return app


def read_stats(folder: Path) -> dict[str, int]:
    """The counters of every server process, summed."""
    total = {"statements": 0, "transactions": 0, "groups": 0, "items": 0, "processes": 0}
    for f in folder.glob("*.json"):
        for k, v in json.loads(f.read_text()).items():
            total[k] += v
        total["processes"] += 1
    return total


def _pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


# -- CPU accounting (Linux /proc; NaN elsewhere) ---------------------------------------------------------------
def _proc_stats() -> dict[int, tuple[int, int]]:
    """pid -> (parent pid, user + system ticks) of every process."""
    stats = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                raw = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            fields = raw[raw.rindex(")") + 2:].split()
            stats[int(entry)] = (int(fields[1]), int(fields[11]) + int(fields[12]))
    return stats


class CpuMeter:
    """CPU seconds used by the server's process tree, chosen PostgreSQL backends, this process and the machine."""

    def __init__(self, server_pid: int, db_pids: callable):
        self.server_pid, self.db_pids = server_pid, db_pids

    def sample(self) -> dict[str, float]:
        tick = os.sysconf("SC_CLK_TCK")
        try:
            stats = _proc_stats()
            with open("/proc/stat") as f:
                v = [int(x) for x in f.readline().split()[1:]]
        except OSError:
            return {k: float("nan") for k in ("server", "db", "client", "machine")}
        tree, frontier = {self.server_pid}, [self.server_pid]
        while frontier:
            parent = frontier.pop()
            for child, (ppid, _) in stats.items():
                if ppid == parent and child not in tree:
                    tree.add(child)
                    frontier.append(child)
        t = os.times()
        return {"server": sum(stats[p][1] for p in tree if p in stats) / tick,
                "db": sum(stats[p][1] for p in self.db_pids() if p in stats) / tick,
                "client": t.user + t.system,
                "machine": (sum(v) - v[3] - v[4]) / tick}       # all but idle and iowait


# -- databases and the server ----------------------------------------------------------------------------------
class Database:
    """A throw-away database: a SQLite file, or a fresh PostgreSQL schema."""

    def __init__(self, backend: str, workdir: Path, pg_url: str):
        self.backend, self.schema, self.tag = backend, None, "haris-bench-" + uuid.uuid4().hex[:8]
        if backend == "sqlite":
            self.url = f"sqlite:///{workdir / 'bench.db'}"
            return
        import psycopg

        self.dsn = pg_url.replace("postgresql+psycopg://", "postgresql://")
        self.schema = "bench_" + uuid.uuid4().hex[:10]
        with psycopg.connect(self.dsn, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f"CREATE SCHEMA {self.schema}")
        sep = "&" if "?" in pg_url else "?"
        # application_name tags the server's connections, so that their backends' CPU can be found
        self.url = f"{pg_url}{sep}options=-csearch_path%3D{self.schema}&application_name={self.tag}"

    def backend_pids(self) -> list[int]:
        if not self.schema:
            return []
        import psycopg

        with psycopg.connect(self.dsn, autocommit=True) as conn:
            return [r[0] for r in conn.execute("SELECT pid FROM pg_stat_activity WHERE application_name = %s",
                                               (self.tag,))]

    def drop(self) -> None:
        if self.schema:
            import psycopg

            with psycopg.connect(self.dsn, autocommit=True) as conn:
                conn.execute(f"DROP SCHEMA {self.schema} CASCADE")


class Server:
    """The service as ``haris serve --workers N --no-access-log`` runs it, with statement counters."""

    def __init__(self, db_url: str, workers: int, workdir: Path):
        import socket

        self.workers = workers
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.log, self.stats_dir = workdir / "server.log", workdir / "stats"
        self.stats_dir.mkdir()
        self.base = f"http://127.0.0.1:{self.port}"
        here = str(Path(__file__).resolve().parent)
        env = {**os.environ, "HARIS_DATABASE_URL": db_url, STATS_DIR_ENV: str(self.stats_dir),
               "PYTHONPATH": os.pathsep.join(filter(None, [here, os.environ.get("PYTHONPATH")]))}
        code = ("import sys; from haris.service.serve import serve; sys.exit(serve("
                f"'api_load:counting_app', factory=True, host='127.0.0.1', port={self.port}, "
                f"workers={workers}, log_level='warning', access_log=False, proxy_headers=True))")
        self.proc = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.DEVNULL,
                                     stderr=open(self.log, "wb"))   # a file: a full pipe would block it
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited: {self.log.read_text(errors='replace')[-2000:]}")
            try:
                if httpx.get(f"{self.base}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        raise RuntimeError("the server did not start within 90 s")

    def stats(self) -> dict[str, int]:
        time.sleep(0.6)         # the workers write their counters every 0.25 s
        return read_stats(self.stats_dir)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()


# -- 1. API load -----------------------------------------------------------------------------------------------
class HttpConnection:
    """One keep-alive HTTP/1.1 connection that POSTs JSON and reads the status and body (no more)."""

    def __init__(self, port: int, secret: str):
        self.port, self.reader, self.writer = port, None, None
        self.head = (f"POST /v1/items HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
                     f"Authorization: Bearer {secret}\r\n")

    async def post(self, body: bytes) -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        self.writer.write(f"{self.head}Content-Length: {len(body)}\r\n\r\n".encode() + body)
        head = await self.reader.readuntil(b"\r\n\r\n")
        found = re.search(rb"\r\ncontent-length: *(\d+)", head, re.IGNORECASE)
        await self.reader.readexactly(int(found.group(1)) if found else 0)
        return int(head[9:12])

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def _load(port: int, secret: str, clients: int, seconds: float, rate: float | None = None) -> dict:
    """``clients`` clients posting single items for ``seconds``: closed loop, or open loop at ``rate``/s."""
    latencies: list[float] = []
    errors: dict[str, int] = {}
    run = uuid.uuid4().hex[:8]
    start = time.perf_counter()
    deadline = start + seconds
    interval = clients / rate if rate else 0.0

    async def client(n: int) -> None:
        conn, i = HttpConnection(port, secret), 0
        due = start + (n * interval / clients if rate else 0.0)
        try:
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
                    status = str(await conn.post(json.dumps(item).encode()))
                except (OSError, asyncio.IncompleteReadError) as exc:
                    status, conn = type(exc).__name__, HttpConnection(port, secret)
                if status == "200":
                    latencies.append(time.perf_counter() - t0)
                else:
                    errors[status] = errors.get(status, 0) + 1
                due += interval
        finally:
            conn.close()

    await asyncio.gather(*(client(n) for n in range(clients)))
    elapsed = time.perf_counter() - start
    ms = [x * 1000 for x in latencies]
    return {"requests": len(ms), "errors": errors, "seconds": elapsed, "rps": len(ms) / elapsed,
            "p50": _pct(ms, 50), "p90": _pct(ms, 90), "p99": _pct(ms, 99), "max": max(ms, default=float("nan"))}


def _measured(server: Server, meter: CpuMeter, run) -> dict:
    """Run one load phase; add CPU, statements and items per transaction, per item."""
    stats0, cpu0 = server.stats(), meter.sample()
    out = run()
    cpu1, stats1 = meter.sample(), server.stats()
    n = max(1, out["requests"])
    for k in cpu0:
        out[f"cpu_{k}"] = (cpu1[k] - cpu0[k]) * 1000 / n
    out["cores_busy"] = (cpu1["machine"] - cpu0["machine"]) / out["seconds"]
    items = stats1["items"] - stats0["items"]
    out["statements"] = (stats1["statements"] - stats0["statements"]) / max(1, items)
    out["transactions"] = (stats1["transactions"] - stats0["transactions"]) / max(1, items)
    out["group"] = items / max(1, stats1["groups"] - stats0["groups"])
    return out


def _warm(server: Server, secret: str) -> None:
    """Post items on fresh connections until every server process has loaded its models and answered."""
    deadline, i = time.monotonic() + 300, 0
    while time.monotonic() < deadline:
        for _ in range(4 * server.workers):
            r = httpx.post(f"{server.base}/v1/items", json={"id": f"warm-{i}", "text": TEXTS[i % len(TEXTS)]},
                           headers={"Authorization": f"Bearer {secret}"}, timeout=120)   # a new connection each
            assert r.status_code == 200, server.log.read_text(errors="replace")[-3000:]
            i += 1
        time.sleep(0.3)
        done = [json.loads(f.read_text())["items"] for f in server.stats_dir.glob("*.json")]
        if len(done) == server.workers and min(done) >= len(TEXTS):
            return
    raise RuntimeError("some server process never answered")


def _load_runs(server: Server, db: Database, secret: str, args) -> list[dict]:
    _warm(server, secret)
    meter = CpuMeter(server.proc.pid, db.backend_pids)
    closed = _measured(server, meter, lambda: asyncio.run(_load(server.port, secret, args.clients, args.seconds)))
    closed["title"] = "closed loop"
    runs = [closed]
    for spec in filter(None, (x.strip() for x in args.open_rates.split(","))):
        rate = closed["rps"] * float(spec[:-1]) / 100 if spec.endswith("%") else float(spec)
        rate = max(1.0, round(rate))
        run = _measured(server, meter,
                        lambda: asyncio.run(_load(server.port, secret, args.clients, args.seconds, rate=rate)))
        run["title"] = f"open loop {rate:.0f}/s" + (f" ({spec} of closed)" if spec.endswith("%") else "")
        runs.append(run)
    return runs


# -- 2. the queue page with many review items ------------------------------------------------------------------
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


def _queue_timings(base: str, review_id: str, meter: CpuMeter, rounds: int = 15) -> dict[str, float]:
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
            cpu0 = meter.sample()["server"]
            for _ in range(rounds):
                t0 = time.perf_counter()
                r = http.get(path)
                times.append((time.perf_counter() - t0) * 1000)
                assert r.status_code == 200
            out[name + " cpu"] = (meter.sample()["server"] - cpu0) * 1000 / rounds
            out[name] = statistics.median(times)
            out[name + " p95"] = _pct(times, 95)
        return out


def run_backend(backend: str, workers: int, args) -> dict:
    from haris.service import auth
    from haris.store.db import Store

    with tempfile.TemporaryDirectory(prefix="haris-api-bench-") as tmp:
        db = Database(backend, Path(tmp), args.pg_url)
        try:
            store = Store.open(db.url)
            _key, secret = auth.create_api_key(store, "bench", ["items:write"], rate_per_minute=10_000_000)
            auth.create_user(store, "bench-reviewer", PASSWORD, ["reviewer"])
            server = Server(db.url, workers, Path(tmp))
            try:
                runs = _load_runs(server, db, secret, args) if "load" in args.parts else []
                fill, queue = 0.0, {}
                if "queue" in args.parts:
                    t0 = time.perf_counter()
                    rid = _fill_queue(store, args.queue_items)
                    fill = time.perf_counter() - t0
                    queue = _queue_timings(server.base, rid, CpuMeter(server.proc.pid, db.backend_pids))
            finally:
                server.stop()
            store.dispose()
        finally:
            db.drop()
    return {"backend": backend, "workers": workers, "runs": runs, "fill_seconds": fill, "queue": queue}


def _print(res: dict, args) -> None:
    print(f"\n[{res['backend']}, {res['workers']} server process(es)]")
    if res["runs"]:
        print(f"  POST /v1/items, single items, {args.clients} clients, {args.seconds:.0f} s a run; latency in ms, "
              f"CPU in ms an item (server / database / client / whole machine)")
        for r in res["runs"]:
            print(f"  {r['title']:<30} {r['rps']:5.0f} items/s  p50 {r['p50']:6.1f}  p90 {r['p90']:6.1f}  "
                  f"p99 {r['p99']:6.1f}  max {r['max']:6.1f}  errors {r['errors'] or 0}\n"
                  f"  {'':<30} CPU {r['cpu_server']:.2f} / {r['cpu_db']:.2f} / {r['cpu_client']:.2f} / "
                  f"{r['cpu_machine']:.2f} ({r['cores_busy']:.2f} cores busy); "
                  f"SQL an item: {r['statements']:.2f} statements, {r['transactions']:.2f} commits "
                  f"({r['group']:.1f} items a transaction)")
    if res["queue"]:
        print(f"  queue filled with {args.queue_items} review items in {res['fill_seconds']:.1f} s")
    for name, ms in res["queue"].items():
        if not name.endswith(("p95", "cpu")):
            print(f"  {name:<26} median {ms:7.1f} ms   p95 {res['queue'][name + ' p95']:7.1f} ms   "
                  f"server CPU {res['queue'][name + ' cpu']:6.1f} ms")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=15)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--workers", default="1,2", help="server processes, one run each (e.g. 1,2)")
    ap.add_argument("--open-rates", default="250,80%",
                    help="open-loop runs: items a second in all (250 = 50 clients × 5/s), or a share of the "
                         "closed-loop throughput (80%%)")
    ap.add_argument("--queue-items", type=int, default=100_000)
    ap.add_argument("--backends", default="sqlite,postgres")
    ap.add_argument("--pg-url", default=PG_URL)
    ap.add_argument("--parts", default="load,queue", help="load (POST /v1/items), queue (the console's queue page)")
    args = ap.parse_args(argv)
    from haris.engines.core import Analyzer

    print(f"{args.clients} clients, {os.cpu_count()} CPUs shared by clients, server and database; "
          f"analyzer {Analyzer().version}")
    for backend in (b.strip() for b in args.backends.split(",")):
        if backend == "postgres":
            try:
                import psycopg

                psycopg.connect(args.pg_url.replace("postgresql+psycopg://", "postgresql://"), connect_timeout=3).close()
            except Exception as exc:     # no server here: say so and go on
                print(f"\n[postgres] skipped: cannot connect to {args.pg_url}: {exc}")
                continue
        for i, workers in enumerate(int(w) for w in args.workers.split(",")):
            parts = args.parts if i == 0 else args.parts.replace("queue", "")   # the queue page once a backend
            _print(run_backend(backend, workers, argparse.Namespace(**{**vars(args), "parts": parts})), args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
