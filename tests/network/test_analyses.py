"""Communities, expansion from seeds and migration on a small generated network."""
from __future__ import annotations

from collections import Counter
from datetime import datetime

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from haris.errors import HarisError
from haris.network.communities import describe_communities, detect_communities
from haris.network.expand import chapman, estimate_population, expand
from haris.network.migration import detect_shift, migration_report, two_segment_split


def _planted_community(data, graph, part, planted):
    members = [a for a, c in data.truth.community_of.items() if c == planted and a in graph.index]
    return Counter(int(part.membership[graph.index[a]]) for a in members).most_common(1)[0][0]


def test_communities_recover_the_planted_ones_and_say_what_they_are(small_network):
    data, store, graph = small_network
    part = detect_communities(graph, seed=1)
    deg = np.asarray(graph.undirected().degree())
    placed = [a for a in data.truth.community_of if a in graph.index and deg[graph.index[a]]]
    ari = adjusted_rand_score([data.truth.community_of[a] for a in placed],
                              [part.membership[graph.index[a]] for a in placed])
    assert ari >= 0.8
    assert detect_communities(graph, seed=1).membership.tolist() == part.membership.tolist()   # repeatable
    sup = _planted_community(data, graph, part, data.config.supporters_community)
    traf = _planted_community(data, graph, part, data.config.trafficking_community)
    reports = {r["community"]: r for r in describe_communities(store, graph, part)}
    assert max(reports[sup]["policies"], key=reports[sup]["policies"].get) == "terrorism"
    assert max(reports[traf]["policies"], key=reports[traf]["policies"].get) == "trafficking"
    assert list(reports[sup]["languages"]) == ["ar"]               # community 0 writes in Arabic
    assert reports[sup]["platforms"]["telegram"] >= 10
    central = reports[sup]["central"]
    assert central and central[0]["label"].startswith("@example_") and "betweenness" in central[0]
    assert all(graph.kind(graph.vid(c["id"])) == "account" for c in central)


def test_expansion_ranks_supporters_first_with_evidence(small_network):
    data, store, graph = small_network
    supporters = [a for a in data.truth.supporters if a in graph.index]
    seeds = supporters[:5]
    ex = expand(graph, seeds + ["acc_not_there"], store=store, top=10)
    assert ex.missing_seeds == ["acc_not_there"]
    top = [r.id for r in ex.ranked]
    assert sum(r in supporters for r in top) >= 8
    first = ex.ranked[0]
    assert first.seed_edges or first.shared_with_seeds
    assert all(e["seed"] in seeds for e in first.seed_edges)
    flagged = [r for r in ex.ranked if r.flagged]
    assert flagged and all(f["score"] >= 0.5 for r in flagged for f in r.flagged)


def test_expansion_needs_a_known_seed(small_network):
    _data, store, graph = small_network
    with pytest.raises(HarisError, match="none of the"):
        expand(graph, ["acc_nobody"], store=store)


def test_chapman_estimate():
    e = chapman(50, 40, 20)
    assert round(e.n_hat, 1) == 98.6 and e.ci_low >= 70 and e.ci_high > e.n_hat
    assert "not informative" in chapman(10, 10, 0).note
    with pytest.raises(ValueError):
        chapman(5, 5, 6)


def test_population_estimate_is_near_the_planted_size(small_network):
    data, store, graph = small_network
    supporters = [a for a in data.truth.supporters if a in graph.index]
    est = estimate_population(graph, supporters[:8], store=store)
    assert est["sample_a"] + est["sample_b"] >= est["overlap"] > 0
    assert 0.6 * len(supporters) <= est["estimate"] <= 1.6 * len(supporters)


def test_two_segment_split_finds_the_change():
    k, g, p1, p2 = two_segment_split(np.array([0] * 30 + [1] * 30, dtype=float))
    assert (k, p1, p2) == (30, 0.0, 1.0) and g > 50
    assert two_segment_split(np.array([1, 0])) is None


def test_shift_detection_reports_origin_destination_and_start():
    rng = np.random.default_rng(0)
    times = np.sort(rng.uniform(0, 100 * 86400, 200)).astype(np.int64)
    change = 60 * 86400
    plats = ["tamtam" if (t >= change and rng.random() < 0.9) else "telegram" for t in times]
    shift = detect_shift(times, plats)
    assert (shift.platform_from, shift.platform_to) == ("telegram", "tamtam")
    assert abs(shift.start.timestamp() - change) < 3 * 86400
    steady = ["telegram" if rng.random() < 0.7 else "web" for _ in times]
    assert detect_shift(times, steady) is None


def test_migration_report_finds_the_planted_move(small_network):
    data, store, graph = small_network
    part = detect_communities(graph, seed=1)
    mig = _planted_community(data, graph, part, data.config.migration_community)
    reports = migration_report(store, graph, part, min_links=10)
    shifted = [r for r in reports if r["shift"]]
    assert [r["community"] for r in shifted] == [mig]
    shift = shifted[0]["shift"]
    assert (shift["from"], shift["to"]) == ("telegram", "tamtam")
    start = datetime.fromisoformat(shift["start"])
    assert abs((start - data.truth.migration["at"]).total_seconds()) < 4 * 86400
    weeks = shifted[0]["weeks"]
    assert weeks[0]["shares"].get("telegram", 0) > 0.5 and weeks[-1]["shares"].get("tamtam", 0) > 0.5
    assert datetime.fromisoformat(weeks[0]["week"]).weekday() == 0
