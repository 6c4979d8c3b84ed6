"""Exact PDQ range search: every banked hash within Hamming distance *t* of a query.

The default index is **multi-index hashing** (Norouzi, Punjani and Fleet,
"Fast exact search in Hamming space with multi-index hashing", TPAMI 2014),
written with NumPy over sorted arrays:

* the 256 bits are cut into *m* chunks (12-16 chunks of 16-22 bits, picked by
  a cost model from the bank size). Each chunk has a table: the bank's rows
  sorted by the chunk's value, and an offsets array giving, for every possible
  value, where its rows start;
* with ``t = m*r + a`` (0 <= a < m), a hash within distance *t* of the query
  has, by the pigeonhole principle, at least one of the first ``a+1`` chunks
  within distance *r* of the query's chunk, or one of the others within
  ``r-1`` (otherwise the distance would be at least ``(a+1)(r+1) + (m-a-1)r =
  t+1``). Probing those buckets therefore finds **every** match: recall is
  100% by construction, not by tuning;
* candidates are checked with a popcount of the XOR of the full 256 bits.

At t = 31 and 1,000,000 random hashes the cost model picks 13 chunks of
19-20 bits (6 probed to radius 2, 7 to radius 1): about 1,400 bucket probes
and 1,400 candidates a query, against 4,150 candidates for FAISS's
IndexBinaryMultiHash with 16 chunks of 16 bits and nflip=1 (see
docs/matching.md and bench/match.py for the measurements and the trade-off).
Small banks (under ~20,000 hashes) use FAISS's IndexBinaryFlat, which is faster
there. New hashes go to a small FAISS flat "delta" segment that is searched
alongside and merged into the main index when it grows past a tenth of it;
removed ids are filtered out until the next merge.

    index = PDQIndex.build(codes, ids, max_distance=31)   # codes: (n, 32) uint8; ids: int64
    index.search(query_codes)                              # (query row, id, distance) arrays
    index.save(path); PDQIndex.load(path)
"""
from __future__ import annotations

import itertools
import json
import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from math import comb
from pathlib import Path

import numpy as np

BITS = 256
CODE_BYTES = 32
FORMAT_VERSION = 1
# Per-operation costs measured on the development machine (one thread): a bucket probe
# (two offset reads, scattered) and a candidate check (id read, 32-byte gather, popcount).
_PROBE_NS, _CANDIDATE_NS, _FLAT_NS_PER_ROW = 36.0, 28.0, 1.3
_MAX_CHUNK_BITS = 22        # offsets of a 22-bit chunk take 16 MB
_MAX_MASKS_PER_CHUNK = 6000
_BATCH = 128                # queries per vectorized step: large enough to amortize, small enough for cache


def codes_from_hex(hashes: list[str]) -> np.ndarray:
    """PDQ hex strings to an (n, 32) uint8 array; ValueError names the first bad one."""
    out = np.empty((len(hashes), CODE_BYTES), dtype=np.uint8)
    for i, h in enumerate(hashes):
        try:
            b = bytes.fromhex(h)
        except ValueError:
            b = b""
        if len(b) != CODE_BYTES:
            raise ValueError(f"hash {i} is not 64 hex digits: {h!r}")
        out[i] = np.frombuffer(b, dtype=np.uint8)
    return out


def brute_force_search(codes: np.ndarray, queries: np.ndarray, max_distance: int
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ground truth: compare every query with every row (NumPy popcount). Returns (query row, row, distance)."""
    db = np.ascontiguousarray(codes).view(np.uint64)
    qs, rows, dists = [], [], []
    for i, q in enumerate(np.ascontiguousarray(queries).view(np.uint64)):
        d = np.bitwise_count(db ^ q).sum(axis=1, dtype=np.int32)
        hit = np.flatnonzero(d <= max_distance)
        qs.append(np.full(len(hit), i, dtype=np.int64))
        rows.append(hit.astype(np.int64))
        dists.append(d[hit])
    if not qs:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.int32)
    return np.concatenate(qs), np.concatenate(rows), np.concatenate(dists).astype(np.int32)


# -- the multi-index plan ------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Plan:
    """How the 256 bits are cut and how far each chunk is probed."""

    widths: tuple[int, ...]
    radii: tuple[int, ...]

    @classmethod
    def for_distance(cls, m: int, t: int) -> "Plan":
        base, extra = divmod(BITS, m)
        widths = [base + 1] * extra + [base] * (m - extra)
        r, a = divmod(t, m)
        # The first a+1 chunks (the widest: fewer rows share a bucket) get radius r, the rest r-1.
        radii = [r] * (a + 1) + [r - 1] * (m - a - 1)
        return cls(tuple(widths), tuple(radii))

    @property
    def probes(self) -> int:
        return sum(sum(comb(w, k) for k in range(r + 1)) for w, r in zip(self.widths, self.radii) if r >= 0)

    def expected_candidates(self, n: int) -> float:
        """Candidates a query draws from n uniformly random hashes (the worst case for hashing)."""
        return sum(sum(comb(w, k) for k in range(r + 1)) * n / (1 << w)
                   for w, r in zip(self.widths, self.radii) if r >= 0)

    def cost_ns(self, n: int) -> float:
        return _PROBE_NS * self.probes + _CANDIDATE_NS * self.expected_candidates(n)

    def usable(self) -> bool:
        return max(self.widths) <= _MAX_CHUNK_BITS and all(
            sum(comb(w, k) for k in range(r + 1)) <= _MAX_MASKS_PER_CHUNK
            for w, r in zip(self.widths, self.radii))


def choose_plan(n: int, t: int) -> Plan | None:
    """The cheapest exact plan for n hashes at distance t, or None when a flat scan is cheaper."""
    plans = [p for m in range(12, 33) if (p := Plan.for_distance(m, t)).usable()]
    best = min(plans, key=lambda p: p.cost_ns(n), default=None)
    if best is None or best.cost_ns(n) >= _FLAT_NS_PER_ROW * n:
        return None
    return best


def _words(codes: np.ndarray) -> np.ndarray:
    """(n, 32) bytes as (n, 4) native uint64 in big-endian bit order (bit 0 = first hex digit's top bit)."""
    return np.ascontiguousarray(codes).view(">u8").astype(np.uint64)


def _chunk(words: np.ndarray, start: int, width: int) -> np.ndarray:
    w0, off = divmod(start, 64)
    if off + width <= 64:
        v = (words[:, w0] >> np.uint64(64 - off - width)) & np.uint64((1 << width) - 1)
    else:
        hi, lo = 64 - off, width - (64 - off)
        v = ((words[:, w0] & np.uint64((1 << hi) - 1)) << np.uint64(lo)) | (words[:, w0 + 1] >> np.uint64(64 - lo))
    return v.astype(np.int64)


def _masks(width: int, radius: int) -> np.ndarray:
    out = [0]
    for k in range(1, radius + 1):
        out.extend(sum(1 << b for b in bits) for bits in itertools.combinations(range(width), k))
    return np.asarray(out, dtype=np.int64)


class _MultiIndex:
    """The sorted tables of one immutable segment of hashes."""

    def __init__(self, plan: Plan, rows: np.ndarray, offsets: np.ndarray):
        self.plan = plan
        self.rows = rows            # per table, the segment's row numbers sorted by chunk value
        self.offsets = offsets      # absolute start of every (table, value) bucket in rows
        self.starts = np.cumsum((0,) + plan.widths[:-1])
        sizes = [1 << w for w in plan.widths]
        self.bucket_base = np.concatenate(([0], np.cumsum(sizes)[:-1])).astype(np.int64)
        self.masks = [_masks(w, r) if r >= 0 else None for w, r in zip(plan.widths, plan.radii)]

    @classmethod
    def build(cls, plan: Plan, codes: np.ndarray) -> "_MultiIndex":
        n = len(codes)
        words = _words(codes)
        rows = np.empty(len(plan.widths) * n, dtype=np.int32)
        # int32 offsets halve the biggest array whenever every position fits (up to ~150M hashes).
        offsets = np.empty(sum(1 << w for w in plan.widths) + 1,
                           dtype=np.int32 if len(plan.widths) * n < 2**31 else np.int64)
        pos, at = 0, 0
        for j, w in enumerate(plan.widths):
            values = _chunk(words, int(np.sum(plan.widths[:j])), w)
            rows[pos:pos + n] = np.argsort(values, kind="stable")
            counts = np.bincount(values, minlength=1 << w)
            offsets[at] = pos
            np.cumsum(counts, out=offsets[at + 1:at + 1 + (1 << w)])
            offsets[at + 1:at + 1 + (1 << w)] += pos
            pos += n
            at += 1 << w
        return cls(plan, rows, offsets)

    def search(self, codes64: np.ndarray, queries: np.ndarray, t: int
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        nq = len(queries)
        qwords = _words(queries)
        keys = np.concatenate([(_chunk(qwords, int(s), w)[:, None] ^ mk[None, :]) + base
                               for s, w, mk, base in zip(self.starts, self.plan.widths, self.masks, self.bucket_base)
                               if mk is not None], axis=1)
        first = np.take(self.offsets, keys)
        count = np.take(self.offsets, keys + 1) - first
        per_query = count.sum(axis=1)
        count, first = count.ravel(), first.ravel()
        total = int(per_query.sum())
        ends = np.cumsum(count)
        pos = np.arange(total, dtype=np.int64) - np.repeat(ends - count - first, count)
        cand = np.take(self.rows, pos)
        qid = np.repeat(np.arange(nq, dtype=np.int64), per_query)
        x = np.take(codes64, cand, axis=0)
        x ^= np.take(np.ascontiguousarray(queries).view(np.uint64), qid, axis=0)
        bits = np.bitwise_count(x)
        dist = bits[:, 0].astype(np.int16)
        dist += bits[:, 1]
        dist += bits[:, 2]
        dist += bits[:, 3]
        keep = np.flatnonzero(dist <= t)
        qid, cand, dist = qid[keep], cand[keep].astype(np.int64), dist[keep].astype(np.int32)
        if len(keep) > 1:  # a row close in several chunks is found once per chunk
            _, first_seen = np.unique(qid * (len(codes64) + 1) + cand, return_index=True)
            qid, cand, dist = qid[first_seen], cand[first_seen], dist[first_seen]
        return qid, cand, dist


def _flat(codes: np.ndarray):
    import faiss

    index = faiss.IndexBinaryFlat(BITS)
    if len(codes):
        index.add(np.ascontiguousarray(codes))
    return index


def _flat_search(index, queries: np.ndarray, t: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if index.ntotal == 0 or len(queries) == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.int32)
    # FAISS keeps distances strictly below the radius: t + 1 keeps distance t.
    lims, dist, rows = index.range_search(np.ascontiguousarray(queries), t + 1)
    qid = np.repeat(np.arange(len(queries), dtype=np.int64), np.diff(lims.astype(np.int64)))
    return qid, rows.astype(np.int64), dist.astype(np.int32)


class PDQIndex:
    """Exact search of PDQ hashes within ``max_distance``, with integer ids, saved to and loaded from a folder."""

    def __init__(self, max_distance: int = 31, *, threads: int | None = None):
        self.max_distance = int(max_distance)
        # One thread by default: the search is bound by memory latency, and on two shared cores
        # a second thread helped only when the machine was otherwise idle (bench/match.py).
        self.threads = threads or 1
        self._codes = np.empty((0, CODE_BYTES), np.uint8)
        self._ids = np.empty(0, np.int64)
        self._mih: _MultiIndex | None = None
        self._main_flat = _flat(self._codes)
        self._delta_codes = np.empty((0, CODE_BYTES), np.uint8)
        self._delta_ids = np.empty(0, np.int64)
        self._delta_flat = _flat(self._delta_codes)
        self._removed = np.empty(0, np.int64)
        self.meta: dict = {}        # the owner's notes, saved with the index (e.g. the bank version it reflects)

    # -- building -------------------------------------------------------------------
    @classmethod
    def build(cls, codes: np.ndarray, ids: np.ndarray | None = None, max_distance: int = 31,
              **kw) -> "PDQIndex":
        index = cls(max_distance, **kw)
        codes = np.ascontiguousarray(codes, dtype=np.uint8).reshape(-1, CODE_BYTES)
        index._set_main(codes, np.arange(len(codes), dtype=np.int64) if ids is None
                        else np.asarray(ids, dtype=np.int64))
        return index

    def _set_main(self, codes: np.ndarray, ids: np.ndarray) -> None:
        self._codes, self._ids = codes, ids
        plan = choose_plan(len(codes), self.max_distance)
        self._mih = _MultiIndex.build(plan, codes) if plan else None
        self._main_flat = None if plan else _flat(codes)

    def add(self, codes: np.ndarray, ids: np.ndarray) -> None:
        """Add hashes: searchable at once, merged into the main index when the delta grows."""
        codes = np.ascontiguousarray(codes, dtype=np.uint8).reshape(-1, CODE_BYTES)
        self._delta_codes = np.concatenate([self._delta_codes, codes])
        self._delta_ids = np.concatenate([self._delta_ids, np.asarray(ids, dtype=np.int64)])
        self._delta_flat.add(codes)
        if len(self._delta_ids) > max(20_000, len(self._ids) // 10):
            self.compact()

    def remove(self, ids: np.ndarray | list[int]) -> None:
        """Stop returning these ids (they are dropped for good at the next compaction)."""
        ids = np.asarray(ids, dtype=np.int64)
        ids = ids[np.isin(ids, self._ids) | np.isin(ids, self._delta_ids)]   # unknown ids: nothing to hide
        self._removed = np.union1d(self._removed, ids)
        if len(self._removed) > max(1000, len(self) // 5):
            self.compact()

    def compact(self) -> None:
        """Merge the delta into the main index and drop removed ids."""
        codes = np.concatenate([self._codes, self._delta_codes])
        ids = np.concatenate([self._ids, self._delta_ids])
        if len(self._removed):
            keep = ~np.isin(ids, self._removed)
            codes, ids = codes[keep], ids[keep]
        self._removed = np.empty(0, np.int64)
        self._delta_codes, self._delta_ids = np.empty((0, CODE_BYTES), np.uint8), np.empty(0, np.int64)
        self._delta_flat = _flat(self._delta_codes)
        self._set_main(np.ascontiguousarray(codes), ids)

    def __len__(self) -> int:
        return len(self._ids) + len(self._delta_ids) - len(self._removed)

    @property
    def nbytes(self) -> int:
        """Memory held by the index's arrays (FAISS flat segments count their codes)."""
        arrays = [self._codes, self._ids, self._delta_codes, self._delta_ids, self._removed]
        if self._mih is not None:
            arrays += [self._mih.rows, self._mih.offsets]
        else:
            arrays.append(self._codes)   # the FAISS flat copy
        return int(sum(a.nbytes for a in arrays) + self._delta_codes.nbytes)

    @property
    def kind(self) -> str:
        return "mih" if self._mih is not None else "flat"

    @property
    def plan(self) -> Plan | None:
        return self._mih.plan if self._mih else None

    # -- searching --------------------------------------------------------------------
    def search(self, queries: np.ndarray, max_distance: int | None = None
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every stored hash within the distance of each query: arrays (query row, id, distance).

        ``max_distance`` may be lower than the index's (never higher: the
        multi-index guarantee holds up to the distance it was built for).
        """
        t = self.max_distance if max_distance is None else int(max_distance)
        if t > self.max_distance:
            raise ValueError(f"index built for distance <= {self.max_distance}, asked for {t}")
        queries = np.ascontiguousarray(queries, dtype=np.uint8).reshape(-1, CODE_BYTES)
        parts = [self._search_main(queries, t)]
        dq, drow, dd = _flat_search(self._delta_flat, queries, t)
        parts.append((dq, self._delta_ids[drow], dd))
        qid, ids, dist = (np.concatenate(a) for a in zip(*parts))
        if len(self._removed) and len(ids):
            keep = ~np.isin(ids, self._removed)
            qid, ids, dist = qid[keep], ids[keep], dist[keep]
        order = np.lexsort((ids, dist, qid))
        return qid[order], ids[order], dist[order]

    def _search_main(self, queries: np.ndarray, t: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if self._mih is None:
            qid, rows, dist = _flat_search(self._main_flat, queries, t)
            return qid, self._ids[rows], dist
        codes64 = self._codes.view(np.uint64)
        batches = [(b, queries[b:b + _BATCH]) for b in range(0, len(queries), _BATCH)]

        def one(batch: tuple[int, np.ndarray]):
            start, q = batch
            qid, rows, dist = self._mih.search(codes64, q, t)
            return qid + start, rows, dist

        if self.threads > 1 and len(batches) > 1:
            with ThreadPoolExecutor(self.threads) as pool:   # NumPy releases the GIL in the heavy steps
                results = list(pool.map(one, batches))
        else:
            results = [one(b) for b in batches]
        if not results:
            return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.int32)
        qid, rows, dist = (np.concatenate(a) for a in zip(*results))
        return qid, self._ids[rows], dist

    def search_hex(self, hashes: list[str], max_distance: int | None = None) -> list[list[tuple[int, int]]]:
        """For each hex hash, its (id, distance) matches, nearest first."""
        qid, ids, dist = self.search(codes_from_hex(hashes), max_distance)
        out: list[list[tuple[int, int]]] = [[] for _ in hashes]
        for q, i, d in zip(qid.tolist(), ids.tolist(), dist.tolist()):
            out[q].append((i, d))
        return out

    # -- persistence ------------------------------------------------------------------
    def save(self, folder: str | Path, extra: dict[str, np.ndarray] | None = None) -> None:
        """Write the index to ``folder`` (replaced atomically: readers never see half an index).

        ``extra`` arrays are saved alongside (``<name>.npy``), in the same atomic replacement.
        """
        folder = Path(folder)
        tmp = folder.with_name(f".{folder.name}.tmp-{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        arrays = {"codes": self._codes, "ids": self._ids, "delta_codes": self._delta_codes,
                  "delta_ids": self._delta_ids, "removed": self._removed}
        if self._mih is not None:
            arrays.update(rows=self._mih.rows, offsets=self._mih.offsets)
        arrays.update(extra or {})
        for name, arr in arrays.items():
            np.save(tmp / f"{name}.npy", arr)
        meta = {"format": FORMAT_VERSION, "max_distance": self.max_distance, "meta": self.meta,
                "plan": None if self._mih is None else {"widths": self._mih.plan.widths,
                                                        "radii": self._mih.plan.radii}}
        (tmp / "index.json").write_text(json.dumps(meta))
        old = folder.with_name(f".{folder.name}.old-{os.getpid()}")
        if folder.exists():
            folder.rename(old)
        tmp.rename(folder)
        shutil.rmtree(old, ignore_errors=True)

    @classmethod
    def load(cls, folder: str | Path, *, mmap: bool = False, **kw) -> "PDQIndex":
        """Read an index written by :meth:`save`; ``mmap=True`` maps the arrays instead of reading them."""
        folder = Path(folder)
        meta = json.loads((folder / "index.json").read_text())
        if meta.get("format") != FORMAT_VERSION:
            raise ValueError(f"{folder}: index format {meta.get('format')}, expected {FORMAT_VERSION}")
        mode = "r" if mmap else None

        def arr(name: str) -> np.ndarray:
            return np.load(folder / f"{name}.npy", mmap_mode=mode)

        index = cls(meta["max_distance"], **kw)
        index.meta = meta.get("meta") or {}
        index._codes, index._ids = arr("codes"), arr("ids")
        if meta["plan"]:
            plan = Plan(tuple(meta["plan"]["widths"]), tuple(meta["plan"]["radii"]))
            index._mih = _MultiIndex(plan, arr("rows"), arr("offsets"))
        else:
            index._main_flat = _flat(np.asarray(index._codes))
        index._delta_codes = np.load(folder / "delta_codes.npy")
        index._delta_ids = np.load(folder / "delta_ids.npy")
        index._delta_flat = _flat(index._delta_codes)
        index._removed = np.load(folder / "removed.npy")
        return index
