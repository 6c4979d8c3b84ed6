"""Expansion from seed accounts, and how many such accounts the population holds.

:func:`expand` ranks the accounts around a set of seeds (say, confirmed
supporters) by two things:

- **connection to the seeds**: personalized PageRank restarting at the seeds
  on the undirected weighted graph. It is put on a 0–1 scale by its logarithm
  between the level every vertex would get at random (1/N) and the best
  non-seed account's value, so that it reads the same on any graph size;
- **their own content**: the highest score among the account's flagged items
  (signals at or above the threshold, default 0.5).

``score = (1 − content_weight) × network + content_weight × content``
(``content_weight`` 0.3 by default), and every ranked account carries its
evidence: its direct edges to seeds (type, events, direction), the groups,
links and media it shares with seeds, and its flagged items.

:func:`estimate_population` estimates how many accounts "like the seeds" the
whole population holds by **capture–recapture**: the seeds are split into two
random halves A and B (or two independent seed lists are given); each half is
expanded on its own; the accounts each expansion *captures* (its seeds plus
the accounts scoring at least ``found_at``) form two samples of sizes n₁ and
n₂ with m in common, and Chapman's estimator gives
``N̂ = (n₁+1)(n₂+1)/(m+1) − 1`` with its variance and a 95 % interval.

Assumptions, and what breaking them does: the population is closed over the
period (accounts created and banned in between make N̂ drift); the two
captures are independent (they are not quite: both expansions walk the same
graph and favour its well-connected core, which positively correlates them
and makes N̂ an *under*-estimate); every member can be caught (accounts with
no edges, or in a part of the graph no seed reaches, are not counted: N̂ is
about the reachable, active population). With m = 0 the estimate is not
informative, and the result says so.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

import numpy as np

from haris.errors import HarisError
from haris.network import facts
from haris.network.graph import EDGE_TYPES, KIND_CODE, NetworkGraph, from_epoch
from haris.store.db import Store


@dataclass
class Ranked:
    """One account found from the seeds, with why."""

    id: str
    label: str
    score: float
    network: float
    content: float
    pagerank: float
    seed_edges: list[dict] = field(default_factory=list)
    shared_with_seeds: list[dict] = field(default_factory=list)
    flagged: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"id": self.id, "label": self.label, "score": round(self.score, 4), "network": round(self.network, 4),
                "content": round(self.content, 4), "pagerank": float(f"{self.pagerank:.4g}"),
                "evidence": {"seed_edges": self.seed_edges, "shared_with_seeds": self.shared_with_seeds,
                             "flagged": self.flagged}}


@dataclass
class Expansion:
    seeds: list[str]
    missing_seeds: list[str]
    ranked: list[Ranked]
    scores: dict[str, float]        # every account reached: id -> score (for captures)

    def to_dict(self) -> dict:
        return {"seeds": self.seeds, "missing_seeds": self.missing_seeds,
                "ranked": [r.to_dict() for r in self.ranked]}


def expand(graph: NetworkGraph, seeds: list[str], *, store: Store | None = None, top: int = 50,
           damping: float = 0.85, content_weight: float = 0.3, threshold: float = facts.DEFAULT_THRESHOLD,
           evidence: bool = True) -> Expansion:
    """Rank accounts by connection to ``seeds`` and by their own flagged content (see the module doc)."""
    known = [s for s in dict.fromkeys(seeds) if s in graph.index]
    missing = [s for s in dict.fromkeys(seeds) if s not in graph.index]
    if not known:
        raise HarisError(f"none of the {len(missing)} seed accounts is in the network graph "
                         f"(no activity in the store, or wrong ids): {', '.join(missing[:5])}")
    seed_v = np.array([graph.index[s] for s in known])
    g = graph.undirected()
    ppr = np.asarray(g.personalized_pagerank(reset_vertices=seed_v.tolist(), damping=damping,
                                             weights="weight" if g.ecount() else None), dtype=float)
    accounts = graph.accounts()
    cand = accounts[~np.isin(accounts, seed_v)]
    cand = cand[ppr[cand] > 0]
    network = _log_scale(ppr[cand], graph.n)
    best = facts.max_flag_score(store, threshold) if store is not None else {}
    content = np.array([best.get(graph.keys[v], 0.0) for v in cand.tolist()])
    score = (1 - content_weight) * network + content_weight * content
    order = np.argsort(-score, kind="stable")
    scores = {graph.keys[int(cand[i])]: float(score[i]) for i in order.tolist()}
    chosen = [int(i) for i in order[:top]]
    ids = [graph.keys[int(cand[i])] for i in chosen]
    info = facts.account_info(store, ids) if store is not None else {}
    flagged = facts.flagged_items(store, ids, threshold) if (store is not None and evidence) else {}
    seed_set = set(seed_v.tolist())
    ranked = []
    for i in chosen:
        v = int(cand[i])
        key = graph.keys[v]
        r = Ranked(id=key, label=info[key].label if key in info else key, score=float(score[i]),
                   network=float(network[i]), content=float(content[i]), pagerank=float(ppr[v]))
        if evidence:
            r.seed_edges, r.shared_with_seeds = _seed_evidence(graph, v, seed_set)
            r.flagged = flagged.get(key, [])
        ranked.append(r)
    if evidence and store is not None:
        _label_evidence(store, ranked)
    return Expansion(seeds=known, missing_seeds=missing, ranked=ranked, scores=scores)


def _log_scale(p: np.ndarray, n: int) -> np.ndarray:
    if not len(p):
        return p
    lo, hi = math.log(1.0 / max(n, 1)), math.log(float(p.max()))
    if hi <= lo:
        return np.zeros_like(p)
    return np.clip((np.log(p) - lo) / (hi - lo), 0.0, 1.0)


def _seed_evidence(graph: NetworkGraph, v: int, seeds: set[int], limit: int = 8) -> tuple[list[dict], list[dict]]:
    inc = graph.incident(v)
    direct = []
    for k in np.flatnonzero(np.isin(inc.other, list(seeds))).tolist()[:limit]:
        direct.append({"seed": graph.keys[int(inc.other[k])], "type": EDGE_TYPES[int(inc.etype[k])],
                       "events": int(inc.weight[k]), "direction": "to seed" if inc.outgoing[k] else "from seed",
                       "last": _iso(int(inc.last[k]))})
    shared = []
    account = KIND_CODE["account"]
    for x in np.unique(inc.other).tolist():
        if graph.kinds[x] == account:
            continue
        with_seeds = [s for s in graph.neighbours(x).tolist() if s in seeds]
        if with_seeds:
            shared.append({"node": graph.keys[x], "kind": graph.kind(x), "seeds": len(with_seeds),
                           "example_seed": graph.keys[with_seeds[0]]})
    shared.sort(key=lambda d: -d["seeds"])
    return direct, shared[:limit]


def _label_evidence(store: Store, ranked: list[Ranked]) -> None:
    """Add readable labels (@handles, group titles) next to the ids in the evidence."""
    ids = {e["seed"] for r in ranked for e in r.seed_edges}
    ids |= {x for r in ranked for s in r.shared_with_seeds for x in (s["node"], s["example_seed"]) if ":" not in x}
    info = facts.account_info(store, ids)
    for r in ranked:
        for e in r.seed_edges:
            e["seed_label"] = info[e["seed"]].label
        for s in r.shared_with_seeds:
            s["label"] = info[s["node"]].label if s["node"] in info else s["node"].split(":", 1)[-1]


def _iso(t: int) -> str | None:
    d = from_epoch(t)
    return d.isoformat() if d else None


@dataclass
class Estimate:
    """A capture–recapture estimate of a population size with its 95 % interval."""

    n_hat: float
    ci_low: float
    ci_high: float
    n1: int
    n2: int
    m: int
    method: str = "chapman"
    note: str = ""

    def to_dict(self) -> dict:
        return {"estimate": round(self.n_hat, 1), "ci95": [round(self.ci_low, 1), round(self.ci_high, 1)],
                "sample_a": self.n1, "sample_b": self.n2, "overlap": self.m, "method": self.method,
                "note": self.note}


def chapman(n1: int, n2: int, m: int, z: float = 1.96) -> Estimate:
    """Chapman's bias-corrected Lincoln–Petersen estimate, with a normal-approximation interval.

    The lower bound is never below the number of distinct accounts actually seen (n₁ + n₂ − m).

    >>> round(chapman(50, 40, 20).n_hat, 1)
    98.6
    """
    if min(n1, n2, m) < 0 or m > min(n1, n2):
        raise ValueError(f"impossible capture counts n1={n1}, n2={n2}, m={m}")
    n_hat = (n1 + 1) * (n2 + 1) / (m + 1) - 1
    var = (n1 + 1) * (n2 + 1) * (n1 - m) * (n2 - m) / ((m + 1) ** 2 * (m + 2))
    half = z * math.sqrt(var)
    seen = n1 + n2 - m
    note = "no overlap between the two samples: the estimate is not informative" if m == 0 else (
        "small overlap (< 7): the interval is wide and the estimate biased" if m < 7 else "")
    return Estimate(n_hat, max(seen, n_hat - half), n_hat + half, n1, n2, m, note=note)


def estimate_population(graph: NetworkGraph, seeds: list[str], *, store: Store | None = None,
                        sample_b: list[str] | None = None, found_at: float = 0.5, split_seed: int = 0,
                        **expand_kw) -> dict:
    """Capture–recapture over two seed samples (see the module doc); returns the estimate and the captures."""
    seeds = [s for s in dict.fromkeys(seeds) if s in graph.index]
    if sample_b is None:
        shuffled = seeds[:]
        random.Random(split_seed).shuffle(shuffled)
        half = len(shuffled) // 2
        a, b = shuffled[:half], shuffled[half:]
    else:
        a, b = seeds, [s for s in dict.fromkeys(sample_b) if s in graph.index]
    if len(a) < 1 or len(b) < 1:
        raise HarisError("capture–recapture needs two non-empty seed samples (give at least 2 known seeds)")
    caught = []
    for sample in (a, b):
        ex = expand(graph, sample, store=store, top=0, evidence=False, **expand_kw)
        caught.append(set(sample) | {k for k, s in ex.scores.items() if s >= found_at})
    m = len(caught[0] & caught[1])
    est = chapman(len(caught[0]), len(caught[1]), m)
    return {**est.to_dict(), "found_at": found_at, "seeds_a": len(a), "seeds_b": len(b),
            "distinct_seen": len(caught[0] | caught[1]),
            "assumptions": "closed population; independent samples (network expansions are positively "
                           "dependent, which biases the estimate low); only accounts reachable in the graph count"}
