"""The in-memory graph: folding events, self-loops, duplicates, views, and odd shapes at scale."""
from __future__ import annotations

import numpy as np
import pytest

from haris.network.communities import detect_communities
from haris.network.graph import (
    KIND_CODE,
    NO_TIME,
    TYPE_CODE,
    EdgeTable,
    EmptyGraphError,
    NetworkGraph,
    NodeIndex,
    UnknownNodeError,
    node_kind_of,
)


def _graph(n, src, dst, types=None, times=None, kinds=None):
    t = EdgeTable()
    t.extend(src, dst, types if types is not None else [TYPE_CODE["reply"]] * len(src), times)
    keys = [f"acc_{i}" for i in range(n)]
    return NetworkGraph.from_table(keys, kinds if kinds is not None else [KIND_CODE["account"]] * n, t)


def test_duplicate_events_fold_into_one_weighted_edge_with_first_and_last_time():
    g = _graph(3, [0, 0, 0, 1], [1, 1, 1, 2], times=[30, 10, 20, 5])
    assert len(g.src) == 2
    e = int(np.flatnonzero((g.src == 0) & (g.dst == 1))[0])
    assert (g.weight[e], g.first[e], g.last[e]) == (3.0, 10, 30)
    assert g.stats["duplicate_events"] == 2


def test_self_loops_are_counted_and_dropped():
    g = _graph(2, [0, 1, 1], [0, 1, 0])
    assert g.stats["self_loops"] == 2
    assert list(zip(g.src.tolist(), g.dst.tolist())) == [(1, 0)]


def test_edges_of_different_types_between_the_same_pair_stay_apart():
    g = _graph(2, [0, 0], [1, 1], types=[TYPE_CODE["reply"], TYPE_CODE["mention"]])
    assert sorted(g.etype.tolist()) == [TYPE_CODE["reply"], TYPE_CODE["mention"]]
    und = g.undirected()
    assert und.ecount() == 1          # one undirected edge per pair, weights summed
    assert und.es[0]["weight"] == pytest.approx(2.0)


def test_events_without_time_keep_no_time_unless_another_event_has_one():
    g = _graph(3, [0, 1, 1], [1, 2, 2], times=[NO_TIME, NO_TIME, 50])
    first = dict(zip(zip(g.src.tolist(), g.dst.tolist()), g.first.tolist()))
    assert first[(0, 1)] == NO_TIME and first[(1, 2)] == 50


def test_an_edge_to_a_vertex_outside_the_graph_is_refused():
    with pytest.raises(ValueError):
        _graph(2, [0], [5])


def test_incident_sees_both_directions():
    g = _graph(3, [0, 2], [1, 0])
    inc = g.incident(0)
    assert sorted(zip(inc.other.tolist(), inc.outgoing.tolist())) == [(1, True), (2, False)]
    assert g.neighbours(1).tolist() == [0]


def test_node_index_and_kinds():
    idx = NodeIndex()
    assert idx.add("acc_x") == 0 and idx.add("cha_y") == 1 and idx.add("acc_x") == 0
    assert [node_kind_of(k) for k in ("acc_1", "cha_1", "url:https://t.me/+a", "domain:example.com",
                                      "media:ab")] == ["account", "channel", "destination", "domain", "media"]
    g = NetworkGraph.from_table(idx.keys, idx.kinds, EdgeTable())
    with pytest.raises(UnknownNodeError):
        g.vid("acc_missing")


def test_an_empty_graph_is_a_clear_error_for_communities():
    g = NetworkGraph.from_table([], [], EdgeTable())
    with pytest.raises(EmptyGraphError):
        detect_communities(g)


def test_vertices_without_edges_are_communities_of_one():
    g = _graph(5, [0], [1])
    part = detect_communities(g)
    assert part.count == 4 and part.membership[0] == part.membership[1]
    assert part.sizes.tolist() == [2, 1, 1, 1]     # numbered by size, largest first


def test_one_giant_component_splits_into_its_planted_blocks():
    rng = np.random.default_rng(1)
    n, block = 600, 100
    src = rng.integers(0, n, 6000)
    inside = (src // block) * block + rng.integers(0, block, 6000)
    dst = np.where(rng.random(6000) < 0.9, inside, rng.integers(0, n, 6000))
    g = _graph(n, src, dst)
    assert g.undirected().is_connected()
    part = detect_communities(g, seed=3)
    from sklearn.metrics import adjusted_rand_score
    assert adjusted_rand_score(np.arange(n) // block, part.membership) > 0.9


def test_a_million_tiny_components():
    n = 1_000_000
    src = np.arange(0, n, 2)
    g = _graph(n, src, src + 1)                 # 500,000 pairs
    part = detect_communities(g)
    assert part.count == n // 2
    assert (part.membership[0::2] == part.membership[1::2]).all()
    assert part.modularity > 0.99
