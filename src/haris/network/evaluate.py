"""How well the network analyses recover what a generated network planted.

:func:`evaluate` generates a network (:mod:`haris.network.synth`), loads it
into a store, builds the graph from the store and runs every analysis, then
scores them against the planted truth:

- **communities**: adjusted Rand index and normalized mutual information
  between Leiden's communities and the planted ones, over accounts that have
  at least one edge (an account with no activity cannot be placed);
- **evaders**: precision and recall of (banned account, new account) pairs at
  the model's default cut-off, with the decoys and late joiners the
  generator planted as hard negatives;
- **migration**: the error in days between the detected start of the planted
  community's shift and the planted moment;
- **expansion**: precision and recall of the planted supporters among the
  top-ranked accounts (k = supporters not given as seeds), and the
  capture–recapture estimate of their number against the true number.

Targets on the default settings: evaders precision >= 0.9 and recall >= 0.8,
community ARI >= 0.8.

:func:`fit_evasion_weights` refits the evasion score's logistic model on
pairs from generated networks (other seeds than the evaluation's).
"""
from __future__ import annotations

import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

from haris.network import synth
from haris.network.build import GraphBuilder
from haris.network.communities import detect_communities
from haris.network.evasion import FEATURES, find_evaders, load_model
from haris.network.expand import estimate_population, expand
from haris.network.migration import days_between, migration_report
from haris.store.db import Store

TARGETS = {"evaders_precision": 0.9, "evaders_recall": 0.8, "communities_ari": 0.8}


def _load(seed: int, config: synth.SynthConfig | None, db_url: str | None, folder: str):
    data = synth.generate(config or synth.SynthConfig(seed=seed))
    store = Store.open(db_url or f"sqlite:///{Path(folder) / 'synth.db'}")
    synth.load_into_store(store, data)
    return data, store


def evaluate(seed: int = 0, config: synth.SynthConfig | None = None, db_url: str | None = None) -> dict:
    """Generate, load, build, analyse and score; returns the metrics (see the module doc)."""
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    timings: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="haris-network-eval-") as folder:
        t0 = time.perf_counter()
        data, store = _load(seed, config, db_url, folder)
        truth = data.truth
        timings["generate_and_load"] = time.perf_counter() - t0
        try:
            t0 = time.perf_counter()
            builder = GraphBuilder(store)
            builder.update()
            graph = builder.graph()
            timings["build"] = time.perf_counter() - t0

            t0 = time.perf_counter()
            part = detect_communities(graph, seed=seed)
            deg = np.asarray(graph.undirected().degree())
            placed = [a for a in truth.community_of if a in graph.index and deg[graph.index[a]] > 0]
            true = [truth.community_of[a] for a in placed]
            pred = [int(part.membership[graph.index[a]]) for a in placed]
            communities = {"ari": round(float(adjusted_rand_score(true, pred)), 4),
                           "nmi": round(float(normalized_mutual_info_score(true, pred)), 4),
                           "accounts_scored": len(placed), "planted": len(set(true)),
                           "found": len(set(pred)), "modularity": round(part.modularity, 4),
                           "accounts_without_edges": len(truth.community_of) - len(placed)}
            timings["communities"] = time.perf_counter() - t0

            t0 = time.perf_counter()
            evaders = _score_evaders(find_evaders(store, graph, avatars=data.avatars), truth)
            timings["evaders"] = time.perf_counter() - t0

            t0 = time.perf_counter()
            migration = _score_migration(store, graph, part, truth)
            timings["migration"] = time.perf_counter() - t0

            t0 = time.perf_counter()
            expansion = _score_expansion(store, graph, truth, seed)
            timings["expansion"] = time.perf_counter() - t0
        finally:
            store.dispose()
    met = {"evaders_precision": evaders["precision"] >= TARGETS["evaders_precision"],
           "evaders_recall": evaders["recall"] >= TARGETS["evaders_recall"],
           "communities_ari": communities["ari"] >= TARGETS["communities_ari"]}
    return {"seed": seed, "graph": {**graph.counts()["nodes"], "edges": int(len(graph.src)),
                                    "messages": graph.stats["messages"], "self_loops": graph.stats["self_loops"]},
            "communities": communities, "evaders": evaders, "migration": migration, "expansion": expansion,
            "targets": TARGETS, "targets_met": met, "timings_s": {k: round(v, 2) for k, v in timings.items()}}


def _score_evaders(matches, truth: synth.SynthTruth) -> dict:
    planted = {(e["banned"], e["evader"]): e for e in truth.evaders}
    decoys = {(d["banned"], d["decoy"]) for d in truth.decoys}
    found = {(m.banned["id"], m.candidate["id"]) for m in matches}
    tp = found & set(planted)
    missed = Counter(planted[k]["strength"] for k in set(planted) - found)
    return {"precision": round(len(tp) / len(found), 4) if found else 0.0,
            "recall": round(len(tp) / len(planted), 4) if planted else 0.0,
            "flagged": len(found), "planted": len(planted), "true_positives": len(tp),
            "decoys_flagged": len(found & decoys), "late_joiners_flagged": sum(
                1 for _b, c in found if c in set(truth.late_joiners)),
            "missed_by_strength": dict(missed)}


def _score_migration(store, graph, part, truth: synth.SynthTruth) -> dict:
    mig = truth.migration
    members = [a for a, c in truth.community_of.items() if c == mig["community"] and a in graph.index]
    found_comm = Counter(int(part.membership[graph.index[a]]) for a in members).most_common(1)
    if not found_comm:
        return {"detected": False, "planted_start": mig["at"].isoformat()}
    c = found_comm[0][0]
    rep = migration_report(store, graph, part, communities=[c])
    shift = rep[0]["shift"] if rep else None
    others = [r for r in migration_report(store, graph, part) if r["community"] != c and r["shift"]]
    out = {"planted_start": mig["at"].isoformat(), "planted": f"{mig['from']} -> {mig['to']}", "community": c,
           "detected": shift is not None, "false_shifts_elsewhere": len(others)}
    if shift:
        from datetime import datetime

        start = datetime.fromisoformat(shift["start"])
        out.update({"detected_start": shift["start"], "detected": f"{shift['from']} -> {shift['to']}",
                    "error_days": round(days_between(start, mig["at"]), 2)})
    return out


def _score_expansion(store, graph, truth: synth.SynthTruth, seed: int) -> dict:
    import random

    supporters = [a for a in truth.supporters if a in graph.index]
    rng = random.Random(seed)
    seeds = rng.sample(supporters, max(2, len(supporters) // 4))
    rest = set(supporters) - set(seeds)
    ex = expand(graph, seeds, store=store, top=len(rest), evidence=False)
    got = {r.id for r in ex.ranked}
    est = estimate_population(graph, seeds, store=store, split_seed=seed)
    return {"seeds": len(seeds), "supporters": len(supporters),
            "precision_at_k": round(len(got & rest) / len(got), 4) if got else 0.0,
            "recall_at_k": round(len(got & rest) / len(rest), 4) if rest else 0.0,
            "population_estimate": est["estimate"], "ci95": est["ci95"], "true_population": len(supporters),
            "estimate_note": est["note"]}


def evasion_pairs(seed: int, folder: str) -> tuple[np.ndarray, np.ndarray]:
    """Feature rows and labels of every candidate pair the search considers on one generated network."""
    data, store = _load(seed, None, None, folder)
    try:
        builder = GraphBuilder(store)
        builder.update()
        matches = find_evaders(store, builder.graph(), avatars=data.avatars, include_below=True)
    finally:
        store.dispose()
    planted = {(e["banned"], e["evader"]) for e in data.truth.evaders}
    x = np.array([[m.features[f] for f in FEATURES] for m in matches], dtype=float).reshape(-1, len(FEATURES))
    y = np.array([(m.banned["id"], m.candidate["id"]) in planted for m in matches], dtype=int)
    return x, y


def fit_evasion_weights(seeds: tuple[int, ...] = (101, 102, 103, 104, 105, 106), c: float = 10.0) -> dict:
    """A logistic model of the evasion features, fitted on generated pairs; ready to write as ``evasion.yaml``."""
    from sklearn.linear_model import LogisticRegression

    xs, ys = [], []
    with tempfile.TemporaryDirectory(prefix="haris-network-fit-") as folder:
        for s in seeds:
            sub = Path(folder) / str(s)
            sub.mkdir()
            x, y = evasion_pairs(s, str(sub))
            xs.append(x)
            ys.append(y)
    x, y = np.vstack(xs), np.concatenate(ys)
    model = LogisticRegression(C=c, max_iter=1000).fit(x, y)
    current = load_model()
    return {"cutoff": current.cutoff, "intercept": round(float(model.intercept_[0]), 2),
            "weights": {f: round(float(w), 2) for f, w in zip(FEATURES, model.coef_[0])},
            "fitted_on": {"seeds": list(seeds), "pairs": int(len(y)), "positives": int(y.sum())}}
