"""Communities: Leiden on the undirected weighted graph, and what each community is.

:func:`detect_communities` runs igraph's built-in Leiden with the modularity
objective (measured on 1M nodes / 4.8M edges: 9.6 s, against 117 s for the
``leidenalg`` package at the same modularity). Communities are numbered by
size, largest first. Leiden is randomised: ``seed`` makes a run repeatable.

:func:`describe_communities` says what each community is: its size, its
central accounts (PageRank on the community's own subgraph; betweenness too
when the community is small, since it costs O(V·E)), how many of its items
each policy flagged, the languages it writes in and the platforms it is on and
links to.

    part = detect_communities(graph, seed=1)
    reports = describe_communities(store, graph, part, top=10)
    reports[0]["size"]["accounts"], reports[0]["central"][0]["label"]
"""
from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass

import numpy as np

from haris.network import facts
from haris.network.graph import KIND_CODE, NODE_KINDS, EmptyGraphError, NetworkGraph
from haris.store.db import Store

BETWEENNESS_MAX_NODES = 2000


@dataclass
class Partition:
    """A community number for every vertex (0 = largest community) and the partition's modularity."""

    membership: np.ndarray
    modularity: float
    sizes: np.ndarray          # vertices per community

    @property
    def count(self) -> int:
        return len(self.sizes)

    def members(self, community: int) -> np.ndarray:
        return np.flatnonzero(self.membership == community)

    def community_of(self, v: int) -> int:
        return int(self.membership[v])


def detect_communities(graph: NetworkGraph, *, resolution: float = 1.0, seed: int = 0, iterations: int = 2,
                       type_weights: dict[str, float] | None = None) -> Partition:
    """Leiden (modularity) on ``graph.undirected()``; isolated vertices are communities of one."""
    import igraph as ig

    if graph.n == 0:
        raise EmptyGraphError("the network graph has no nodes")
    g = graph.undirected(type_weights)
    # igraph draws its random numbers from a Python Random-like object; a private one keeps runs repeatable
    # without touching the global generator other code relies on.
    ig.set_random_number_generator(random.Random(seed))
    try:
        cl = g.community_leiden(objective_function="modularity", weights="weight" if g.ecount() else None,
                                resolution=resolution, n_iterations=iterations)
    finally:
        ig.set_random_number_generator(random)
    raw = np.asarray(cl.membership, dtype=np.int64)
    sizes = np.bincount(raw)
    order = np.argsort(-sizes, kind="stable")          # renumber: 0 = largest
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    membership = rank[raw]
    q = g.modularity(membership.tolist(), weights="weight") if g.ecount() else 0.0
    return Partition(membership=membership, modularity=float(q), sizes=sizes[order])


def central_vertices(graph: NetworkGraph, vertices: np.ndarray, top: int = 5,
                     betweenness_max: int = BETWEENNESS_MAX_NODES) -> list[dict]:
    """The most central accounts among ``vertices`` (PageRank on their induced subgraph, betweenness when small)."""
    g = graph.undirected().induced_subgraph(vertices.tolist())
    weights = "weight" if g.ecount() else None
    pr = np.asarray(g.pagerank(weights=weights), dtype=float)
    bt = None
    if g.vcount() <= betweenness_max and g.ecount():
        # igraph reads weights as distances: a strong tie must be short.
        g.es["distance"] = [1.0 / w for w in g.es["weight"]]
        bt = np.asarray(g.betweenness(weights="distance", directed=False), dtype=float)
        n = g.vcount()
        if n > 2:
            bt = bt / ((n - 1) * (n - 2) / 2)
    is_account = graph.kinds[vertices] == KIND_CODE["account"]
    order = [i for i in np.argsort(-pr, kind="stable") if is_account[i]][:top]
    out = []
    for i in order:
        row = {"id": graph.keys[int(vertices[i])], "pagerank": round(float(pr[i]), 5)}
        if bt is not None:
            row["betweenness"] = round(float(bt[i]), 5)
        out.append(row)
    return out


def describe_communities(store: Store, graph: NetworkGraph, partition: Partition, *, top: int = 20,
                         min_accounts: int = 2, threshold: float = facts.DEFAULT_THRESHOLD,
                         communities: list[int] | None = None, central: int = 5) -> list[dict]:
    """A report per community (the ``top`` largest by accounts, or the ones named), largest first."""
    is_account = graph.kinds == KIND_CODE["account"]
    acc_sizes = np.bincount(partition.membership[is_account], minlength=partition.count)
    if communities is None:
        chosen = [int(c) for c in np.argsort(-acc_sizes, kind="stable") if acc_sizes[c] >= min_accounts][:top]
    else:
        chosen = [c for c in communities if 0 <= c < partition.count]
    if not chosen:
        return []
    flags, langs = facts.flag_counts(store, threshold), facts.languages(store)
    links = facts.link_platforms(store)
    members = {c: partition.members(c) for c in chosen}
    ids = [graph.keys[v] for c in chosen for v in members[c].tolist() if is_account[v]]
    info = facts.account_info(store, ids)
    reports = []
    for c in chosen:
        vs = members[c]
        kinds = Counter(NODE_KINDS[k] for k in graph.kinds[vs].tolist())
        accounts = [graph.keys[v] for v in vs.tolist() if is_account[v]]
        policy, lang, link_to = Counter(), Counter(), Counter()
        on = Counter(info[a].platform or "?" for a in accounts)
        for a in accounts:
            policy.update(flags.get(a, {}))
            lang.update(langs.get(a, {}))
            link_to.update(links.get(a, {}))
        cen = central_vertices(graph, vs, top=central)
        for row in cen:
            row["label"] = info.get(row["id"], facts.AccountInfo(row["id"])).label
        reports.append({
            "community": c,
            "size": {"nodes": int(len(vs)), "accounts": len(accounts), "channels": kinds.get("channel", 0),
                     "destinations": kinds.get("destination", 0) + kinds.get("domain", 0),
                     "media": kinds.get("media", 0)},
            "central": cen,
            "policies": dict(policy.most_common()),
            "flagged_accounts": sum(1 for a in accounts if flags.get(a)),
            "languages": dict(lang.most_common()),
            "platforms": dict(on.most_common()),
            "links_to": dict(link_to.most_common()),
            "channels": _top_of_kind(graph, vs, "channel", store),
            "destinations": _top_of_kind(graph, vs, ("destination", "domain"), None),
        })
    return reports


def _top_of_kind(graph: NetworkGraph, vs: np.ndarray, kind, store: Store | None, top: int = 5) -> list[dict]:
    kinds = (kind,) if isinstance(kind, str) else kind
    codes = [KIND_CODE[k] for k in kinds]
    picked = vs[np.isin(graph.kinds[vs], codes)]
    if not len(picked):
        return []
    deg = np.asarray(graph.undirected().strength(picked.tolist(), weights="weight"), dtype=float)
    best = picked[np.argsort(-deg, kind="stable")[:top]]
    info = facts.account_info(store, [graph.keys[v] for v in best.tolist()]) if store is not None else {}
    out = []
    for v in best.tolist():
        key = graph.keys[v]
        label = info[key].label if key in info else key.split(":", 1)[-1]
        out.append({"id": key, "label": label})
    return out
