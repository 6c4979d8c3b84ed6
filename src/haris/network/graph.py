"""The account graph: numbered nodes, typed time-stamped edges, and the igraph views analyses use.

Nodes are accounts, channels/groups and external destinations (a messaging
link's canonical URL, a website's domain, a media file's SHA-256). Each has a
*key* (``acc_…``/``cha_…`` store ids, ``url:https://t.me/+…``,
``domain:example.com``, ``media:<sha256>``) and a number, its igraph vertex id.

Edges are events: *who* did *what* to *whom* and *when*. They are collected
into numpy arrays (:class:`EdgeTable`), never into Python dicts, and folded
into a :class:`NetworkGraph` with one edge per (source, target, type) carrying
the number of events and the first and last time. Analyses read the graph as
an undirected weighted :class:`igraph.Graph` (communities, PageRank) or walk
its edges through a compressed index (evidence for one account).

    >>> table = EdgeTable()
    >>> table.extend([0, 0, 1], [1, 1, 1], [TYPE_CODE["reply"]] * 3, [10, 20, 30])
    >>> g = NetworkGraph.from_table(["acc_a", "acc_b"], [0, 0], table)
    >>> g.weight.tolist(), g.first.tolist(), g.stats["self_loops"]   # two replies folded; one self-loop dropped
    ([2.0], [10], 1)
"""
from __future__ import annotations

import math
from array import array
from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np

from haris.errors import HarisError

NODE_KINDS = ("account", "channel", "destination", "domain", "media")
KIND_CODE = {k: i for i, k in enumerate(NODE_KINDS)}

# Edge directions: reply author -> replied author; mention author -> mentioned account;
# forward forwarder -> forwarded account/channel; member account -> channel posted in;
# link account -> destination/domain; media account -> media file; near_duplicate author -> earlier author.
EDGE_TYPES = ("reply", "mention", "forward", "member", "link", "media", "near_duplicate")
TYPE_CODE = {t: i for i, t in enumerate(EDGE_TYPES)}

# Edge weight of one event of each type when the typed graph is folded into the
# undirected weighted graph that communities and PageRank read. Links count half:
# a popular web domain shared by unrelated groups should not glue them together.
DEFAULT_TYPE_WEIGHTS = {"reply": 1.0, "mention": 1.0, "forward": 1.0, "member": 1.0, "link": 0.5,
                        "media": 1.0, "near_duplicate": 1.0}

NO_TIME = np.iinfo(np.int64).min   # an event whose message has no time


class EmptyGraphError(HarisError):
    """The store (or the selection) holds nothing to build a network from."""


class UnknownNodeError(HarisError):
    """An account, channel or destination that is not in the graph."""


def node_kind_of(key: str) -> str:
    """The kind of a node from its key: store ids by prefix, destinations by their ``kind:`` prefix."""
    if key.startswith("cha_"):
        return "channel"
    head, sep, _ = key.partition(":")
    if sep and head in ("url", "domain", "media"):
        return {"url": "destination", "domain": "domain", "media": "media"}[head]
    return "account"


class NodeIndex:
    """Node keys to vertex numbers, in order of first appearance."""

    def __init__(self, keys: Iterable[str] = (), kinds: Iterable[int] = ()):
        self.keys: list[str] = list(keys)
        self.kinds = array("b", kinds)
        self.ids: dict[str, int] = {k: i for i, k in enumerate(self.keys)}

    def __len__(self) -> int:
        return len(self.keys)

    def add(self, key: str, kind: str | None = None) -> int:
        """The vertex number of ``key``, adding it (of ``kind``, else guessed from the key) when new."""
        v = self.ids.get(key)
        if v is None:
            v = self.ids[key] = len(self.keys)
            self.keys.append(key)
            self.kinds.append(KIND_CODE[kind or node_kind_of(key)])
        return v


class EdgeTable:
    """Append-only edge events held in numpy chunks (about 25 bytes an event)."""

    _BUFFER = 65536

    def __init__(self) -> None:
        self._chunks: list[tuple[np.ndarray, ...]] = []
        self._buf: tuple[array, array, array, array] = (array("q"), array("q"), array("b"), array("q"))

    def __len__(self) -> int:
        return sum(len(c[0]) for c in self._chunks) + len(self._buf[0])

    def add(self, src: int, dst: int, etype: int, time: int = NO_TIME) -> None:
        """One event (buffered; use :meth:`extend` for arrays)."""
        b = self._buf
        b[0].append(src)
        b[1].append(dst)
        b[2].append(etype)
        b[3].append(time)
        if len(b[0]) >= self._BUFFER:
            self._flush()

    def extend(self, src: Sequence[int] | np.ndarray, dst: Sequence[int] | np.ndarray,
               etype: Sequence[int] | np.ndarray, time: Sequence[int] | np.ndarray | None = None,
               weight: Sequence[float] | np.ndarray | None = None) -> None:
        """Many events at once: equal-length arrays of source, target, type code, time and weight."""
        s = np.asarray(src, dtype=np.int64)
        n = len(s)
        cols = (s, np.asarray(dst, dtype=np.int64), np.asarray(etype, dtype=np.int8),
                np.full(n, NO_TIME, np.int64) if time is None else np.asarray(time, dtype=np.int64),
                np.ones(n, np.float32) if weight is None else np.asarray(weight, dtype=np.float32))
        if any(len(c) != n for c in cols):
            raise ValueError("edge arrays must have the same length")
        if n:
            self._chunks.append(cols)

    def _flush(self) -> None:
        b = self._buf
        if len(b[0]):
            n = len(b[0])
            self._chunks.append((np.frombuffer(b[0], np.int64).copy(), np.frombuffer(b[1], np.int64).copy(),
                                 np.frombuffer(b[2], np.int8).copy(), np.frombuffer(b[3], np.int64).copy(),
                                 np.ones(n, np.float32)))
            self._buf = (array("q"), array("q"), array("b"), array("q"))

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(source, target, type, time, weight) of every event, concatenated into one chunk."""
        self._flush()
        if not self._chunks:
            return (np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.int8),
                    np.empty(0, np.int64), np.empty(0, np.float32))
        if len(self._chunks) > 1:
            self._chunks = [tuple(np.concatenate([c[i] for c in self._chunks]) for i in range(5))]
        return self._chunks[0]  # type: ignore[return-value]


@dataclass
class Incident:
    """The edges of one vertex: the other end, type code, weight, first/last time, and direction."""

    other: np.ndarray
    etype: np.ndarray
    weight: np.ndarray
    first: np.ndarray
    last: np.ndarray
    outgoing: np.ndarray


@dataclass
class NetworkGraph:
    """Nodes and folded edges (one per source, target, type), with igraph views built on demand."""

    keys: list[str]
    kinds: np.ndarray            # int8 codes into NODE_KINDS
    src: np.ndarray
    dst: np.ndarray
    etype: np.ndarray
    weight: np.ndarray           # number of events (or summed event weights)
    first: np.ndarray            # epoch seconds, NO_TIME when unknown
    last: np.ndarray
    stats: dict = field(default_factory=dict)
    _index: dict[str, int] | None = field(default=None, repr=False)
    _undirected: dict = field(default_factory=dict, repr=False)
    _csr: tuple[np.ndarray, ...] | None = field(default=None, repr=False)

    # -- construction ---------------------------------------------------------
    @classmethod
    def from_table(cls, keys: Sequence[str], kinds: Sequence[int] | np.ndarray, table: EdgeTable,
                   index: dict[str, int] | None = None) -> "NetworkGraph":
        """Fold events into one edge per (source, target, type); self-loops are counted and dropped."""
        src, dst, et, tm, w = table.arrays()
        n = len(keys)
        if len(src) and (src.min() < 0 or dst.min() < 0 or max(src.max(), dst.max()) >= n):
            raise ValueError(f"edge endpoint outside the {n} nodes")
        loops = src == dst
        stats = {"events": int(len(src)), "self_loops": int(loops.sum())}
        if loops.any():
            keep = ~loops
            src, dst, et, tm, w = src[keep], dst[keep], et[keep], tm[keep], w[keep]
        key = (src * n + dst) * len(EDGE_TYPES) + et
        order = np.argsort(key, kind="stable")
        key = key[order]
        starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if len(key) else np.empty(0, np.int64)
        tm = tm[order]
        known = tm != NO_TIME
        big = np.iinfo(np.int64).max
        first = np.minimum.reduceat(np.where(known, tm, big), starts) if len(key) else np.empty(0, np.int64)
        last = np.maximum.reduceat(tm, starts) if len(key) else np.empty(0, np.int64)
        first[first == big] = NO_TIME
        g = cls(keys=list(keys), kinds=np.asarray(kinds, dtype=np.int8),
                src=src[order][starts], dst=dst[order][starts], etype=et[order][starts],
                weight=np.add.reduceat(w[order].astype(np.float64), starts) if len(key) else np.empty(0),
                first=first, last=last, stats=stats, _index=index)
        stats["nodes"] = n
        stats["edges"] = int(len(g.src))
        stats["duplicate_events"] = int(stats["events"] - stats["self_loops"] - stats["edges"])
        return g

    # -- lookups ----------------------------------------------------------------
    @property
    def n(self) -> int:
        return len(self.keys)

    @property
    def index(self) -> dict[str, int]:
        if self._index is None:
            self._index = {k: i for i, k in enumerate(self.keys)}
        return self._index

    def vid(self, key: str) -> int:
        """The vertex number of ``key``; :class:`UnknownNodeError` when it is not in the graph."""
        v = self.index.get(key)
        if v is None:
            raise UnknownNodeError(f"{key!r} is not in the network graph (no activity in the store, or a typo)")
        return v

    def kind(self, v: int) -> str:
        return NODE_KINDS[int(self.kinds[v])]

    def accounts(self) -> np.ndarray:
        """Vertex numbers of every account."""
        return np.flatnonzero(self.kinds == KIND_CODE["account"])

    def counts(self) -> dict:
        """Nodes per kind and edges per type (for build reports)."""
        nk = np.bincount(self.kinds, minlength=len(NODE_KINDS)) if self.n else np.zeros(len(NODE_KINDS), int)
        ne = np.bincount(self.etype, minlength=len(EDGE_TYPES)) if len(self.etype) else np.zeros(len(EDGE_TYPES))
        ev = np.bincount(self.etype, weights=self.weight, minlength=len(EDGE_TYPES)) if len(self.etype) \
            else np.zeros(len(EDGE_TYPES))
        return {"nodes": {k: int(nk[i]) for i, k in enumerate(NODE_KINDS)},
                "edges": {t: int(ne[i]) for i, t in enumerate(EDGE_TYPES)},
                "events": {t: int(ev[i]) for i, t in enumerate(EDGE_TYPES)}}

    # -- views -----------------------------------------------------------------
    def undirected(self, type_weights: dict[str, float] | None = None):
        """An undirected igraph Graph, one edge per pair, ``weight`` = Σ type weight × (1 + ln events).

        The logarithm keeps one very chatty pair from outweighing many quieter ties.
        """
        import igraph as ig

        tw = {**DEFAULT_TYPE_WEIGHTS, **(type_weights or {})}
        cache_key = tuple(sorted(tw.items()))
        if cache_key in self._undirected:
            return self._undirected[cache_key]
        per_type = np.array([tw[t] for t in EDGE_TYPES], dtype=np.float64)
        w = per_type[self.etype] * (1.0 + np.log(np.maximum(self.weight, 1.0)))
        a, b = np.minimum(self.src, self.dst), np.maximum(self.src, self.dst)
        keep = w > 0
        a, b, w = a[keep], b[keep], w[keep]
        pair = a * self.n + b
        order = np.argsort(pair, kind="stable")
        pair = pair[order]
        starts = np.flatnonzero(np.r_[True, pair[1:] != pair[:-1]]) if len(pair) else np.empty(0, np.int64)
        g = ig.Graph(n=self.n, directed=False)
        if len(pair):
            g.add_edges(np.column_stack([a[order][starts], b[order][starts]]))
            g.es["weight"] = np.add.reduceat(w[order], starts).tolist()
        self._undirected[cache_key] = g
        return g

    def directed(self, vertices: Sequence[int] | np.ndarray | None = None):
        """A directed igraph Graph with every attribute (for exports), optionally induced on ``vertices``."""
        import igraph as ig

        if vertices is None:
            keep_v = np.arange(self.n)
        else:
            keep_v = np.unique(np.asarray(vertices, dtype=np.int64))
        remap = np.full(self.n, -1, np.int64)
        remap[keep_v] = np.arange(len(keep_v))
        mask = (remap[self.src] >= 0) & (remap[self.dst] >= 0) if len(self.src) else np.zeros(0, bool)
        g = ig.Graph(n=len(keep_v), directed=True)
        g.vs["key"] = [self.keys[v] for v in keep_v.tolist()]
        g.vs["kind"] = [NODE_KINDS[k] for k in self.kinds[keep_v].tolist()]
        g.vs["vid"] = keep_v.tolist()
        if mask.any():
            g.add_edges(np.column_stack([remap[self.src[mask]], remap[self.dst[mask]]]))
            g.es["type"] = [EDGE_TYPES[t] for t in self.etype[mask].tolist()]
            g.es["weight"] = self.weight[mask].tolist()
            g.es["first"] = [int(t) if t != NO_TIME else -1 for t in self.first[mask].tolist()]
            g.es["last"] = [int(t) if t != NO_TIME else -1 for t in self.last[mask].tolist()]
        return g

    def incident(self, v: int) -> Incident:
        """Every edge touching ``v`` (either direction), through a compressed index built once."""
        if self._csr is None:
            m = len(self.src)
            ends = np.concatenate([self.src, self.dst])
            order = np.argsort(ends, kind="stable")
            offsets = np.searchsorted(ends[order], np.arange(self.n + 1))
            edge = np.concatenate([np.arange(m), np.arange(m)])[order]
            outgoing = (order < m)
            self._csr = (offsets, edge, outgoing)
        offsets, edge, outgoing = self._csr
        e = edge[offsets[v]:offsets[v + 1]]
        out = outgoing[offsets[v]:offsets[v + 1]]
        other = np.where(out, self.dst[e], self.src[e])
        return Incident(other=other, etype=self.etype[e], weight=self.weight[e], first=self.first[e],
                        last=self.last[e], outgoing=out)

    def neighbours(self, v: int, kinds: Iterable[str] | None = None) -> np.ndarray:
        """Distinct neighbours of ``v`` (either direction), optionally only of the given node kinds."""
        other = np.unique(self.incident(v).other)
        if kinds is not None:
            codes = [KIND_CODE[k] for k in kinds]
            other = other[np.isin(self.kinds[other], codes)]
        return other


def epoch(t) -> int:
    """Epoch seconds of a datetime (naive = UTC, as SQLite returns it); NO_TIME for None."""
    if t is None:
        return NO_TIME
    if t.tzinfo is None:
        from datetime import timezone

        t = t.replace(tzinfo=timezone.utc)
    return int(math.floor(t.timestamp()))


def from_epoch(s: int):
    """The UTC datetime of epoch seconds; None for NO_TIME."""
    from datetime import datetime, timezone

    return None if s == NO_TIME or s is None else datetime.fromtimestamp(int(s), timezone.utc)
