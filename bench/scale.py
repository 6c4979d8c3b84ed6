"""Benchmark of the engines on the same generated items: local (1 and 2 processes), Spark, stream workers.

    .venv/bin/python bench/scale.py [--items 200000] [--skip spark,stream]

Prints items/s for each engine and the scaling ratios: local 2 processes
against 1 (aim ≥ 1.8×), Spark per core against the local engine per core
(aim: within 2×), 2 stream workers against 1. Stream workers need NATS with
JetStream (HARIS_NATS_URL, default 127.0.0.1:4222); Spark needs Java.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

TEXTS = ["Selling my car, 2015 model, $12,500, delivery soon. Call +1 555 0142",
         "للبيع سيارة موديل 2015 بسعر 12.500 دولار التسليم قريبا",
         "Happy birthday to my daughter, she is 12 today!",
         "For sale: girl, 12 years old, price $12,500, delivery after the checkpoint",
         "New channel after the ban, join t.me/example_backup_7 and share",
         "Agneaux à vendre, 150 € pièce, livraison possible à Lyon",
         "Reuters: the group advertised captives for sale on messaging apps, officials said",
         "خرفان للبيع في الموصل السعر 300 ألف دينار للتواصل @example_farm"]


def generate(path: Path, n: int) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(n):
            fh.write(json.dumps({"id": f"b{i}", "text": TEXTS[i % len(TEXTS)] + f" #{i % 97}",
                                 "author": f"u{i % 997}", "channel": f"c{i % 13}", "time": 1711962000 + i},
                                ensure_ascii=False) + "\n")


def local(path: Path, workers: int, tmp: Path) -> float:
    from haris.engines.local import scan

    db = tmp / f"local{workers}-{uuid.uuid4().hex[:6]}.db"
    t0 = time.perf_counter()
    rep = scan([path], database_url=f"sqlite:///{db}", workers=workers)
    dt = time.perf_counter() - t0
    return rep.messages / dt


def spark(path: Path, cores: int, tmp: Path) -> float:
    from haris.engines.spark import scan_spark, spark_session, stage_messages

    stage_dir = tmp / f"stage{cores}"
    stage_dir.mkdir(exist_ok=True)
    staged = stage_messages([path], stage_dir)   # staging is the driver's; time the analysis
    s = spark_session(f"local[{cores}]", "haris-bench")
    try:
        t0 = time.perf_counter()
        summary = scan_spark([staged], tmp / f"spark{cores}.parquet", spark=s, partitions=cores * 4)
        dt = time.perf_counter() - t0
    finally:
        s.stop()
    return summary["messages"] / dt


def stream(path: Path, workers: int, tmp: Path) -> float:
    from haris import ingest
    from haris.engines.stream import StreamConfig, publish_records

    tag = uuid.uuid4().hex[:8]
    cfg = StreamConfig(stream=f"HB_{tag}", subject=f"hb_{tag}.items", decisions_stream=f"HBD_{tag}",
                       decisions_subject=f"hb_{tag}.decisions", dead_subject=f"hb_{tag}.dead", durable=f"w{tag}")
    n = asyncio.run(publish_records(ingest.read(path), cfg))
    db = f"sqlite:///{tmp / f'stream{workers}-{tag}.db'}"
    from haris.store.db import Store

    Store.open(db).dispose()
    cmd = [sys.executable, "-m", "haris.cli", "--db", db, "worker", "--stream", cfg.stream, "--subject",
           cfg.subject, "--durable", cfg.durable, "--batch", "200", "--idle-exit", "3"]
    t0 = time.perf_counter()
    procs = [subprocess.Popen(cmd, stdout=subprocess.DEVNULL) for _ in range(workers)]
    for p in procs:
        p.wait()
    dt = time.perf_counter() - t0 - 3.0   # minus the idle wait before exiting
    return n / dt


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=int, default=200_000)
    ap.add_argument("--skip", default="")
    args = ap.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    tmp = Path(tempfile.mkdtemp(prefix="haris-scale-"))
    data = tmp / "items.jsonl"
    generate(data, args.items)
    print(f"{args.items:,} generated items in {data}", flush=True)
    res: dict[str, float] = {}
    for name, fn, arg in (("local x1", local, 1), ("local x2", local, 2), ("spark local[1]", spark, 1),
                          ("spark local[2]", spark, 2), ("stream x1", stream, 1), ("stream x2", stream, 2)):
        if name.split()[0] in skip:
            continue
        try:
            res[name] = fn(data, arg, tmp)
            print(f"{name:16} {res[name]:>10,.0f} items/s", flush=True)
        except Exception as exc:  # an engine that cannot run here is reported, not fatal
            print(f"{name:16} unavailable: {type(exc).__name__}: {exc}", flush=True)
    print("\nratios:")
    if "local x1" in res and "local x2" in res:
        print(f"  local 2 processes / 1:          {res['local x2'] / res['local x1']:.2f}x (aim >= 1.8x)")
    if "spark local[2]" in res and "local x1" in res:
        per_core = res["spark local[2]"] / 2
        print(f"  spark per core / local per core: {per_core / res['local x1']:.2f}x (aim within 2x, i.e. >= 0.5)")
    if "spark local[1]" in res and "spark local[2]" in res:
        print(f"  spark local[2] / local[1]:       {res['spark local[2]'] / res['spark local[1]']:.2f}x")
    if "stream x1" in res and "stream x2" in res:
        print(f"  stream 2 workers / 1:            {res['stream x2'] / res['stream x1']:.2f}x")


if __name__ == "__main__":
    main()
