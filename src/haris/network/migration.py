"""Migration between apps: where each community's links point, week by week, and when that shifts.

For each community, every link its members post is counted in weekly buckets
(weeks start on Monday, UTC) by the platform it points to: Telegram, TamTam,
WhatsApp, Twitter/X, other social networks, and ``web`` (standalone sites).
The *basis* is the community's invite links when it posted at least
``min_links`` of them (invite links are how a group tells its members where to
go next), else all its links.

**When a shift starts** is found by a two-segment likelihood split on the
sequence of links in time order: for a platform P, each link is a trial
"points to P or not"; for every split position the log-likelihood of two
Bernoulli segments (share p₁ before, p₂ after) is compared with one segment,
``G = 2 (LL₁ + LL₂ − LL₀)``; the best split is kept when G ≥ ``min_g``
(default 15: a stricter bar than the χ²₁ 3.84 because the split position is
itself chosen from the data) and the share rose by at least ``min_rise``
(default 0.25). The platform with the largest significant rise is the
destination; the one whose share fell most at the same split is the origin.
The start reported is the midpoint between the last link before the split
and the first link after it (the change happened somewhere in between). This is
the Telegram → TamTam move: a channel's invite links stop pointing to t.me
and start pointing to tt.me within days.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import numpy as np
from sqlalchemy import select

from haris.network.communities import Partition
from haris.network.graph import NO_TIME, NetworkGraph, epoch, from_epoch
from haris.store import schema
from haris.store.db import Store

WEEK = 7 * 86400
_MONDAY = int(datetime(1970, 1, 5, tzinfo=timezone.utc).timestamp())   # the first Monday of the epoch


@dataclass
class Shift:
    platform_to: str
    platform_from: str | None
    start: datetime
    share_before: float
    share_after: float
    g: float
    links_before: int
    links_after: int

    def to_dict(self) -> dict:
        return {"from": self.platform_from, "to": self.platform_to, "start": self.start.isoformat(),
                "share_before": round(self.share_before, 3), "share_after": round(self.share_after, 3),
                "g": round(self.g, 1), "links_before": self.links_before, "links_after": self.links_after}


def two_segment_split(hits: np.ndarray, min_side: int = 5) -> tuple[int, float, float, float] | None:
    """Best split of a 0/1 sequence into two Bernoulli segments: (index of the first 'after' trial, G, p₁, p₂).

    >>> k, g, p1, p2 = two_segment_split(np.array([0] * 20 + [1] * 20))
    >>> k, round(p1, 2), round(p2, 2)
    (20, 0.0, 1.0)
    """
    n = len(hits)
    if n < 2 * min_side:
        return None
    c = np.concatenate([[0], np.cumsum(hits, dtype=np.float64)])
    k = np.arange(min_side, n - min_side + 1)
    x1, n1 = c[k], k.astype(np.float64)
    x2, n2 = c[n] - x1, n - n1

    def ll(x, m):
        p = np.divide(x, m, out=np.zeros_like(x, dtype=np.float64), where=m > 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            a = np.where(x > 0, x * np.log(np.where(p > 0, p, 1)), 0.0)
            b = np.where(m - x > 0, (m - x) * np.log(np.where(p < 1, 1 - p, 1)), 0.0)
        return a + b

    total = ll(np.array([c[n]]), np.array([float(n)]))[0]
    g = 2 * (ll(x1, n1) + ll(x2, n2) - total)
    i = int(np.argmax(g))
    return int(k[i]), float(g[i]), float(x1[i] / n1[i]), float(x2[i] / n2[i])


def detect_shift(times: np.ndarray, platforms: list[str], *, min_g: float = 15.0, min_rise: float = 0.25,
                 min_side: int = 5) -> Shift | None:
    """The largest significant rise of one platform's share in a time-ordered sequence of links."""
    order = np.argsort(times, kind="stable")
    times = times[order]
    plats = np.array(platforms, dtype=object)[order]
    best: Shift | None = None
    for p in sorted(set(platforms)):
        hits = (plats == p).astype(np.float64)
        res = two_segment_split(hits, min_side)
        if res is None:
            continue
        k, g, p1, p2 = res
        if g < min_g or p2 - p1 < min_rise:
            continue
        if best is None or (p2 - p1) > (best.share_after - best.share_before):
            before, after = Counter(plats[:k].tolist()), Counter(plats[k:].tolist())
            nb, na = k, len(plats) - k
            falls = {q: before[q] / nb - after.get(q, 0) / na for q in before if q != p}
            origin = max(falls, key=falls.get) if falls and max(falls.values()) > 0 else None
            # The change happened between the last link before the split and the first after it.
            best = Shift(p, origin, from_epoch(int((times[k - 1] + times[k]) // 2)), p1, p2, g, nb, na)
    return best


def _links_by_community(store: Store, graph: NetworkGraph, partition: Partition):
    m, ln = schema.messages, schema.links
    q = select(m.c.author_id, m.c.channel_id, m.c.time, ln.c.platform, ln.c.kind).join(m, m.c.id == ln.c.message_id)
    out: dict[int, list[tuple[int, str, str]]] = defaultdict(list)
    with store.connect() as conn:
        for rows in conn.execution_options(stream_results=True, yield_per=20000).execute(q).partitions():
            for author, channel, t, platform, kind in rows:
                v = graph.index.get(author) if author else graph.index.get(channel)
                s = epoch(t)
                if v is not None and s != NO_TIME:
                    out[int(partition.membership[v])].append((s, platform, kind))
    return out


def migration_report(store: Store, graph: NetworkGraph, partition: Partition, *, communities: list[int] | None = None,
                     min_links: int = 20, min_g: float = 15.0, min_rise: float = 0.25) -> list[dict]:
    """Per community: weekly link shares per platform and the detected shift, if any (shifted communities first)."""
    by_comm = _links_by_community(store, graph, partition)
    chosen = communities if communities is not None else sorted(by_comm)
    reports = []
    for c in chosen:
        links = by_comm.get(c, [])
        if len(links) < min_links:
            continue
        invites = [x for x in links if x[2] == "invite"]
        basis, use = ("invites", invites) if len(invites) >= min_links else ("all links", links)
        times = np.array([x[0] for x in use], dtype=np.int64)
        plats = [x[1] for x in use]
        shift = detect_shift(times, plats, min_g=min_g, min_rise=min_rise)
        reports.append({"community": c, "basis": basis, "links": len(use), "weeks": weekly_shares(times, plats),
                        "shift": shift.to_dict() if shift else None})
    reports.sort(key=lambda r: (r["shift"] is None, -(r["shift"] or {}).get("g", 0), r["community"]))
    return reports


def weekly_shares(times: np.ndarray, platforms: list[str]) -> list[dict]:
    """[{"week": Monday ISO date, "links": n, "shares": {platform: share}}] in time order."""
    weeks: dict[int, Counter] = defaultdict(Counter)
    for t, p in zip(times.tolist(), platforms):
        weeks[(t - _MONDAY) // WEEK][p] += 1
    out = []
    for w in sorted(weeks):
        n = sum(weeks[w].values())
        monday = datetime.fromtimestamp(_MONDAY + w * WEEK, timezone.utc).date()
        out.append({"week": monday.isoformat(), "links": n,
                    "shares": {p: round(k / n, 3) for p, k in weeks[w].most_common()}})
    return out


def days_between(a: datetime, b: datetime) -> float:
    return abs((a - b) / timedelta(days=1))
