"""PDQ matching benchmark: haris's multi-index hashing against brute force, FAISS and python-threatexchange.

Banks of random PDQ hashes (the worst case for any hashing scheme: real banks
cluster, which makes buckets uneven but leaves exactness intact); queries at
distance 31, half near-duplicates of bank entries (0-31 bits flipped) and half
random. Ground truth is a NumPy popcount brute force; every method's recall is
measured against it (haris must be 100%).

    .venv/bin/python bench/match.py                         # 100,000 and 1,000,000 hashes (~2 minutes)
    .venv/bin/python bench/match.py --sizes 10000000        # ten million (about 1.5 GB of RAM, ~10 minutes)
    .venv/bin/python bench/match.py --sizes 100000 --skip-tx --queries 500

Timings are wall clock on this machine; FAISS uses --threads OpenMP threads. The fast searches
run --repeat times and the best run counts (the machine is shared); the brute force and
python-threatexchange's one-query-at-a-time loop run once.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from haris.match.pdq_index import PDQIndex, brute_force_search  # noqa: E402

T = 31


def make_data(n: int, n_queries: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 256, (n, 32), dtype=np.uint8)
    queries = rng.integers(0, 256, (n_queries, 32), dtype=np.uint8)
    half = n_queries // 2
    queries[:half] = codes[rng.integers(0, n, half)]
    bits = np.unpackbits(queries[:half], axis=1)
    for row in bits:
        row[rng.choice(256, int(rng.integers(0, T + 1)), replace=False)] ^= 1
    queries[:half] = np.packbits(bits, axis=1)
    return codes, queries


def pairs(qid, ids) -> set[tuple[int, int]]:
    return set(zip(np.asarray(qid).tolist(), np.asarray(ids).tolist()))


def faiss_results(lims, ids) -> tuple[np.ndarray, np.ndarray]:
    lims = lims.astype(np.int64)
    return np.repeat(np.arange(len(lims) - 1), np.diff(lims)), ids


def timed(fn, *args, **kw):
    t = time.perf_counter()
    out = fn(*args, **kw)
    return out, time.perf_counter() - t


REPEAT = 3


def best(fn, *args, **kw):
    """The fastest of REPEAT runs: the machine is shared, and the minimum is the least disturbed run."""
    runs = [timed(fn, *args, **kw) for _ in range(REPEAT)]
    return runs[0][0], min(s for _, s in runs)


def run_size(n: int, n_queries: int, threads: int, skip_tx: bool, brute_queries: int) -> list[dict]:
    import faiss

    faiss.omp_set_num_threads(threads)
    print(f"\n== {n:,} random PDQ hashes, {n_queries:,} queries at distance <= {T} "
          f"(half near-duplicates), FAISS threads {threads} ==", flush=True)
    codes, queries = make_data(n, n_queries)
    gq = min(brute_queries, n_queries)
    (bq, brow, _), brute_s = timed(brute_force_search, codes, queries[:gq], T)
    truth = pairs(bq, brow)
    print(f"ground truth: NumPy brute force on {gq:,} queries, {len(truth):,} matches", flush=True)
    rows = [dict(method="NumPy popcount brute force", build=0.0, load=None, qps=gq / brute_s, recall=1.0,
                 mb=codes.nbytes / 1e6, exact="yes")]

    def score(q, ids) -> float:
        found = {p for p in pairs(q, ids) if p[0] < gq}
        return len(found & truth) / max(1, len(truth))

    flat = faiss.IndexBinaryFlat(256)
    _, b = timed(flat.add, codes)
    (lims, _, ids), s = best(flat.range_search, queries, T + 1)
    rows.append(dict(method="FAISS IndexBinaryFlat", build=b, load=None, qps=n_queries / s,
                     recall=score(*faiss_results(lims, ids)), mb=len(faiss.serialize_index_binary(flat)) / 1e6,
                     exact="yes"))
    del flat

    for nhash, bits, nflip, exact in ((16, 16, 1, "yes (pigeonhole)"), (16, 16, 0, "no"),
                                      (32, 8, 0, "yes (pigeonhole)")):
        if nhash == 32 and n > 2_000_000:
            continue   # ~4,000 rows a bucket at 1M already; hopeless beyond
        if nflip == 1 or nhash == 32:
            mh = faiss.IndexBinaryMultiHash(256, nhash, bits)
            _, b = timed(mh.add, codes)
        mh.nflip = nflip
        (lims, _, ids), s = (best if nhash == 16 else timed)(mh.range_search, queries, T + 1)
        rows.append(dict(method=f"FAISS IndexBinaryMultiHash {nhash}x{bits} nflip={nflip}", build=b, load=None,
                         qps=n_queries / s, recall=score(*faiss_results(lims, ids)), mb=None, exact=exact))
    del mh

    if not skip_tx:
        try:
            from threatexchange.signal_type.pdq.pdq_index import PDQIndex as TxIndex
        except ImportError as exc:
            print(f"python-threatexchange not available: {exc}")
        else:
            hexes = [c.tobytes().hex() for c in codes]
            tx, b = timed(TxIndex.build, ((h, i) for i, h in enumerate(hexes)))
            qhex = [q.tobytes().hex() for q in queries]
            t0 = time.perf_counter()
            found_q, found_i = [], []
            for k, h in enumerate(qhex):
                for m in tx.query(h):
                    found_q.append(k)
                    found_i.append(m.metadata)
            s = time.perf_counter() - t0
            rows.append(dict(method="python-threatexchange PDQIndex (query())", build=b, load=None,
                             qps=n_queries / s, recall=score(found_q, found_i), mb=None,
                             exact="yes (FAISS 16x16, nflip=1)"))
            del tx, hexes

    tmp = Path(tempfile.mkdtemp(prefix="haris-bench-"))
    try:
        for th in sorted({1, threads}):
            index, b = timed(PDQIndex.build, codes, None, T)
            index.threads = th
            index.search(queries[:64])      # warm up page cache and allocator
            (q, ids, _), s = best(index.search, queries)
            row = dict(method=f"haris PDQIndex, MIH {len(index.plan.widths)} chunks, {th} thread"
                       + ("s" if th > 1 else ""), build=b, qps=n_queries / s, recall=score(q, ids),
                       mb=index.nbytes / 1e6, exact="yes (pigeonhole)")
            _, save_s = timed(index.save, tmp / "ix")
            loaded, row["load"] = timed(PDQIndex.load, tmp / "ix")
            _, mmap_s = timed(PDQIndex.load, tmp / "ix", mmap=True)
            rows.append(row)
            if th == 1:
                plan = index.plan
                print(f"haris plan: widths {sorted(set(plan.widths))}, radii {sorted(set(plan.radii))}, "
                      f"{plan.probes:,} probes and ~{plan.expected_candidates(n):,.0f} candidates a query; "
                      f"save {save_s:.2f} s, load {row['load']:.2f} s (mmap {mmap_s:.3f} s), "
                      f"{sum(f.stat().st_size for f in (tmp / 'ix').iterdir()) / 1e6:.0f} MB on disk", flush=True)
            del index, loaded
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return rows


def print_table(n: int, rows: list[dict]) -> None:
    flat = next(r["qps"] for r in rows if r["method"] == "FAISS IndexBinaryFlat")
    brute = rows[0]["qps"]
    head = f"{'method':<50} {'build s':>8} {'load s':>7} {'queries/s':>10} {'x flat':>7} {'x brute':>8} " \
           f"{'recall':>8} {'MB':>7}  exact"
    print(head)
    print("-" * len(head))
    for r in rows:
        load = "" if r.get("load") is None else f"{r['load']:.2f}"
        mb = "" if r["mb"] is None else f"{r['mb']:.0f}"
        print(f"{r['method']:<50} {r['build']:>8.2f} {load:>7} {r['qps']:>10,.0f} {r['qps'] / flat:>7.2f} "
              f"{r['qps'] / brute:>8.1f} {r['recall']:>8.2%} {mb:>7}  {r['exact']}")
    bad = [r["method"] for r in rows if r["method"].startswith("haris") and r["recall"] < 1.0]
    if bad:
        print(f"FAIL: recall below 100% for {bad}")
        sys.exit(1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="100000,1000000", help="comma-separated bank sizes")
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--threads", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument("--brute-queries", type=int, default=1000,
                    help="queries checked against the brute force (the ground truth)")
    ap.add_argument("--skip-tx", action="store_true", help="leave out python-threatexchange's index")
    ap.add_argument("--repeat", type=int, default=3, help="timed runs of each fast search (the best counts)")
    args = ap.parse_args()
    global REPEAT
    REPEAT = max(1, args.repeat)
    for n in (int(s) for s in args.sizes.split(",")):
        rows = run_size(n, args.queries, args.threads, args.skip_tx,
                        args.brute_queries if n <= 2_000_000 else min(args.brute_queries, 200))
        print_table(n, rows)


if __name__ == "__main__":
    main()
