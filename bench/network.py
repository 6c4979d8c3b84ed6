"""Benchmark of the network stage at platform scale: build + Leiden + PageRank on 2M accounts / 10M edges.

The graph is a planted-partition stochastic block model sampled directly with
numpy (communities of contiguous vertex ranges; each edge stays inside its
source's community with probability ``--p-in``, else goes anywhere), fed to
:class:`haris.network.graph.EdgeTable` as typed, time-stamped events and folded
by :class:`~haris.network.graph.NetworkGraph` exactly as the store-backed
builder does. Timings are wall-clock seconds (and, as ``cpu_s``, the CPU seconds the
process used, which is what to compare on a shared, busy machine); memory is
the process's peak resident set (``resource.getrusage(...).ru_maxrss``).

In the same run, NetworkX's Louvain (``networkx.community.louvain_communities``)
and igraph's Leiden are compared on the subgraph induced by the first
``--sample`` vertices (whole communities). NetworkX is a bench-only dependency:
``pip install networkx``; without it that comparison is skipped.

    .venv/bin/python bench/network.py                      # 2,000,000 accounts, 10,000,000 edges
    .venv/bin/python bench/network.py --nodes 200000 --edges 1000000 --json

Aim: the 2M graph within 3 minutes and 8 GB.
"""
from __future__ import annotations

import argparse
import json
import resource
import sys
import time

import numpy as np


def peak_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2   # ru_maxrss is in KiB on Linux


def planted_partition(n: int, m: int, community_size: int, p_in: float, seed: int):
    """Edge arrays of a planted-partition graph: (src, dst, planted community of every vertex)."""
    rng = np.random.default_rng(seed)
    src = rng.integers(0, n, m, dtype=np.int64)
    comm = np.arange(n, dtype=np.int64) // community_size
    inside = rng.random(m) < p_in
    base = comm[src] * community_size
    size = np.minimum(community_size, n - base)
    dst = np.where(inside, base + (rng.random(m) * size).astype(np.int64), rng.integers(0, n, m, dtype=np.int64))
    return src, dst, comm


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--nodes", type=int, default=2_000_000)
    ap.add_argument("--edges", type=int, default=10_000_000)
    ap.add_argument("--community-size", type=int, default=200)
    ap.add_argument("--p-in", type=float, default=0.8)
    ap.add_argument("--sample", type=int, default=100_000, help="Vertices in the NetworkX comparison.")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)

    from sklearn.metrics import adjusted_rand_score

    from haris.network.communities import detect_communities
    from haris.network.graph import EDGE_TYPES, KIND_CODE, EdgeTable, NetworkGraph

    out: dict = {"nodes": args.nodes, "edges": args.edges, "community_size": args.community_size, "p_in": args.p_in}
    t_all, cpu_all = time.perf_counter(), time.process_time()

    t = time.perf_counter()
    src, dst, planted = planted_partition(args.nodes, args.edges, args.community_size, args.p_in, args.seed)
    rng = np.random.default_rng(args.seed + 1)
    types = rng.integers(0, len(EDGE_TYPES), args.edges, dtype=np.int8)
    times = rng.integers(1_767_225_600, 1_798_761_600, args.edges, dtype=np.int64)   # during 2026
    out["generate_s"] = round(time.perf_counter() - t, 1)

    t = time.perf_counter()
    table = EdgeTable()
    table.extend(src, dst, types, times)
    del src, dst, types, times
    keys = [f"acc_{i:020x}" for i in range(args.nodes)]
    graph = NetworkGraph.from_table(keys, np.full(args.nodes, KIND_CODE["account"], np.int8), table)
    del table
    folded_s = time.perf_counter() - t
    und = graph.undirected()
    out["build_s"] = round(time.perf_counter() - t, 1)
    out["build_fold_s"] = round(folded_s, 1)
    out["folded_edges"] = int(len(graph.src))
    out["undirected_edges"] = und.ecount()
    out["peak_gb_after_build"] = round(peak_gb(), 2)

    t = time.perf_counter()
    part = detect_communities(graph, seed=args.seed)
    out["leiden_s"] = round(time.perf_counter() - t, 1)
    out["leiden_communities"] = part.count
    out["leiden_modularity"] = round(part.modularity, 4)
    out["leiden_ari_vs_planted"] = round(float(adjusted_rand_score(planted, part.membership)), 4)

    t = time.perf_counter()
    pr = und.pagerank(weights="weight")
    out["pagerank_s"] = round(time.perf_counter() - t, 1)
    out["pagerank_sum"] = round(float(np.sum(pr)), 4)
    out["total_s"] = round(time.perf_counter() - t_all, 1)
    out["cpu_s"] = round(time.process_time() - cpu_all, 1)
    out["peak_gb"] = round(peak_gb(), 2)

    out["sample"] = compare_on_sample(und, planted, args.sample, args.seed)
    out["peak_gb_with_sample"] = round(peak_gb(), 2)
    out["aim_met"] = out["total_s"] <= 180 and out["peak_gb"] <= 8
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        for k, v in out.items():
            print(f"{k:28} {v}")
    return out


def compare_on_sample(und, planted: np.ndarray, n: int, seed: int) -> dict:
    """igraph Leiden vs NetworkX Louvain on the subgraph induced by the first ``n`` vertices."""
    import random

    import igraph as ig
    from sklearn.metrics import adjusted_rand_score

    sub = und.induced_subgraph(range(min(n, und.vcount())))
    res: dict = {"nodes": sub.vcount(), "edges": sub.ecount()}
    truth = planted[: sub.vcount()]
    t = time.perf_counter()
    ig.set_random_number_generator(random.Random(seed))
    cl = sub.community_leiden(objective_function="modularity", weights="weight")
    ig.set_random_number_generator(random)
    res["igraph_leiden_s"] = round(time.perf_counter() - t, 2)
    res["igraph_leiden_modularity"] = round(sub.modularity(cl.membership, weights="weight"), 4)
    res["igraph_leiden_ari"] = round(float(adjusted_rand_score(truth, cl.membership)), 4)
    try:
        import networkx as nx
    except ImportError:
        res["networkx"] = "skipped: pip install networkx (bench-only dependency)"
        return res
    t = time.perf_counter()
    g = nx.Graph()
    g.add_nodes_from(range(sub.vcount()))
    g.add_weighted_edges_from((e.source, e.target, w) for e, w in zip(sub.es, sub.es["weight"]))
    res["networkx_convert_s"] = round(time.perf_counter() - t, 2)
    t = time.perf_counter()
    comms = nx.community.louvain_communities(g, weight="weight", seed=seed)
    res["networkx_louvain_s"] = round(time.perf_counter() - t, 2)
    membership = np.empty(sub.vcount(), np.int64)
    for i, c in enumerate(comms):
        membership[list(c)] = i
    res["networkx_louvain_modularity"] = round(sub.modularity(membership.tolist(), weights="weight"), 4)
    res["networkx_louvain_ari"] = round(float(adjusted_rand_score(truth, membership)), 4)
    res["networkx_version"] = nx.__version__
    return res


if __name__ == "__main__":
    main(sys.argv[1:])
