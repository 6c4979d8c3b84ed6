"""Return of banned accounts (ban evasion): who came back under a new name.

When an account is actioned, :func:`mark_actioned` records it with the time.
:func:`find_evaders` then scores every account first seen *after* that time
against it and lists the likely returns, each with the evidence that links
the two accounts:

1. **Candidates** are found cheaply first: handles and display names close to
   the old account's (rapidfuzz), accounts that share its contacts, groups,
   rare links or media (Adamic–Adar on the graph: a neighbour shared with few
   others counts more), accounts that mention it, and, when an avatar mapping
   is given, avatars within the PDQ match distance.
2. **Features** in [0, 1] are computed for each pair (see
   ``data/evasion.yaml`` for the list): name similarity and renumbering
   (abu_x_7 → abu_x_8), bio, avatar, Jaccard of contacts and of groups, repeated texts,
   shared rare links/media, and a "new account" announcement (lexicons in
   ``data/announcements/{ar,en,fr}.txt``).
3. **Score**: a logistic model, ``σ(intercept + Σ wᵢ·fᵢ)``, whose weights were
   fitted on generated networks and are kept in ``data/evasion.yaml``. A
   similar name alone stays below the cut-off: it needs a second kind of evidence.

Accounts have no avatar column; pass ``avatars={account_id: pdq_hex}`` when
the platform provides avatar hashes. Accounts with no messages have no "first
seen" time and are not candidates.
"""
from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Mapping

import numpy as np
import yaml
from sqlalchemy import select

from haris.detect.base import Evidence
from haris.errors import ConfigError
from haris.model import stable_id
from haris.network import facts
from haris.network import similarity as sim
from haris.network.graph import KIND_CODE, NO_TIME, TYPE_CODE, NetworkGraph, epoch, from_epoch
from haris.network.tables import network_actions
from haris.store.db import Store

FEATURES = ("name", "numbering", "bio", "avatar", "contacts", "groups", "texts", "shared_items", "announcement")
WEIGHTS_FILE = Path(__file__).parent / "data" / "evasion.yaml"
# Similarity that unrelated names and bios reach anyway (same alphabet, same common words).
NAME_FLOOR, BIO_FLOOR = 0.6, 0.6


@dataclass(frozen=True)
class Action:
    account_id: str
    at: datetime
    reason: str = ""


@dataclass(frozen=True)
class EvasionModel:
    intercept: float
    weights: dict[str, float]
    cutoff: float = 0.5

    def score(self, features: Mapping[str, float]) -> float:
        z = self.intercept + sum(self.weights.get(k, 0.0) * float(v) for k, v in features.items())
        return 1.0 / (1.0 + math.exp(-z))


def load_model(path: str | Path | None = None) -> EvasionModel:
    """The evasion score's weights (``data/evasion.yaml`` unless ``path`` is given)."""
    path = Path(path or WEIGHTS_FILE)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        weights = {k: float(doc["weights"].get(k, 0.0)) for k in FEATURES}
        return EvasionModel(float(doc["intercept"]), weights, float(doc.get("cutoff", 0.5)))
    except (OSError, KeyError, TypeError, ValueError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: not an evasion weights file ({exc}); expected intercept, weights, cutoff") from None


def mark_actioned(store: Store, account_id: str, at: datetime | None = None, reason: str = "") -> Action:
    """Record that ``account_id`` was actioned at ``at`` (default: now). Recording it twice changes nothing."""
    at = at or datetime.now(timezone.utc)
    if at.tzinfo is None:
        at = at.replace(tzinfo=timezone.utc)
    with store.begin() as conn:
        store.insert_ignore(conn, network_actions, [dict(
            id=stable_id("action", "network", account_id, at.isoformat()), account_id=account_id, at=at,
            reason=reason or "", created_at=datetime.now(timezone.utc))])
    return Action(account_id, at, reason or "")


def actions(store: Store) -> list[Action]:
    """Every recorded action, oldest first."""
    t = network_actions
    with store.connect() as conn:
        rows = conn.execute(select(t.c.account_id, t.c.at, t.c.reason).order_by(t.c.at, t.c.account_id))
        return [Action(a, at if at.tzinfo else at.replace(tzinfo=timezone.utc), r) for a, at, r in rows]


@dataclass
class EvasionMatch:
    """A likely return: the actioned account, the later account, the score and why."""

    banned: dict
    candidate: dict
    score: float
    features: dict[str, float]
    evidence: list[Evidence] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"banned": self.banned, "candidate": self.candidate, "score": round(self.score, 4),
                "features": {k: round(v, 3) for k, v in self.features.items()},
                "evidence": [e.to_dict() for e in self.evidence], "summary": self.summary()}

    def summary(self) -> list[str]:
        """One short sentence per piece of evidence, for people."""
        out = []
        for e in self.evidence:
            d = e.detail
            if e.label in ("name", "numbering"):
                step = f" ({d['step']:+d})" if d.get("step") is not None else ""
                out.append(f"{e.label}: {e.text}{step}")
            elif e.label == "bio":
                out.append(f"bio {e.weight:.0%} similar")
            elif e.label == "avatar":
                out.append(f"avatar PDQ distance {d['pdq_distance']}")
            elif e.label in ("contacts", "groups"):
                out.append(f"{d['count']} {e.label} shared")
            elif e.label == "texts":
                out.append(f"{len(d['repeated'])} texts repeated, {d['near_duplicate_events']} near-duplicates")
            elif e.label == "shared_items":
                out.append(f"{len(d['items'])} rare links/media shared")
            elif e.label == "announcement":
                out.append(f"announces {e.text!r}" + (" naming the old account" if d["names_old_account"] else ""))
        return out


def _text_key(text: str) -> int | None:
    try:
        from haris.match.text import matching_key
    except ImportError:
        matching_key = sim._fold  # noqa: N806 - the same idea without URL and handle removal
    key = matching_key(text)
    if len(key) < 20:
        return None
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "little")


class _Search:
    """Shared state of one evasion search (profiles, first-seen times, graph look-ups)."""

    def __init__(self, store: Store, graph: NetworkGraph, avatars: Mapping[str, str] | None):
        self.store, self.graph = store, graph
        self.profiles = facts.all_accounts(store)
        activity = facts.activity(store)
        self.first = {a: v[0] for a, v in activity.items() if v[0] != NO_TIME}
        self.avatars = {k: v.lower() for k, v in (avatars or {}).items() if sim.pdq_distance(v, v) == 0}
        self.ids = np.array(list(self.first), dtype=object)
        self.first_arr = np.array([self.first[i] for i in self.ids], dtype=np.int64)
        self._handles = [sim.handle_key(self.profiles.get(i, facts.AccountInfo(i)).handle) for i in self.ids]
        self._names = [sim.handle_key(self.profiles.get(i, facts.AccountInfo(i)).display_name) for i in self.ids]

    def later(self, t: int) -> np.ndarray:
        return np.flatnonzero(self.first_arr > t)

    def candidates(self, old: str, t: int, limit: int) -> list[str]:
        from rapidfuzz import fuzz, process

        later = self.later(t)
        later_set = set(self.ids[later].tolist()) - {old}
        if not later_set:
            return []
        prof = self.profiles.get(old, facts.AccountInfo(old))
        found: dict[str, float] = {}
        for query, pool, cut in ((sim.handle_key(prof.handle), self._handles, 70),
                                 (sim.handle_key(prof.display_name), self._names, 85)):
            if len(query) < 3:
                continue
            choices = {int(i): pool[i] for i in later if pool[i]}
            for _c, score, i in process.extract(query, choices, scorer=fuzz.ratio, score_cutoff=cut, limit=limit):
                found[self.ids[i]] = max(found.get(self.ids[i], 0.0), score / 100.0)
        for acc, aa in self._shared_neighbours(old, later_set, limit).items():
            found[acc] = max(found.get(acc, 0.0), aa)
        if old in self.avatars:
            for acc, h in self.avatars.items():
                d = sim.pdq_distance(self.avatars[old], h)
                if acc in later_set and d is not None and d <= sim.PDQ_MATCH_DISTANCE:
                    found[acc] = max(found.get(acc, 0.0), 1.0)
        ranked = sorted((a for a in found if a in later_set), key=lambda a: -found[a])
        return ranked[: 2 * limit]

    def _shared_neighbours(self, old: str, later_set: set[str], limit: int) -> dict[str, float]:
        """Later accounts by Adamic–Adar over the old account's neighbours, plus its direct neighbours."""
        g = self.graph
        v = g.index.get(old)
        if v is None:
            return {}
        scores: dict[str, float] = {}
        account = KIND_CODE["account"]
        for x in g.neighbours(v).tolist():
            if g.kinds[x] == account and g.keys[x] in later_set:
                scores[g.keys[x]] = scores.get(g.keys[x], 0.0) + 1.0
            others = g.neighbours(x, ("account",))
            if len(others) < 2:
                continue
            w = 1.0 / math.log(1 + len(others))
            for y in others.tolist():
                key = g.keys[y]
                if key in later_set:
                    scores[key] = scores.get(key, 0.0) + w
        best = sorted(scores, key=lambda k: -scores[k])[:limit]
        return {k: min(1.0, scores[k]) for k in best}


def find_evaders(store: Store, graph: NetworkGraph | None = None, *, avatars: Mapping[str, str] | None = None,
                 model: EvasionModel | None = None, cutoff: float | None = None, limit: int = 30,
                 include_below: bool = False) -> list[EvasionMatch]:
    """Likely returns of every actioned account, best first (only those at or above the cut-off by default)."""
    acts = actions(store)
    if not acts:
        return []
    if graph is None:
        from haris.network.build import build_graph

        graph = build_graph(store)
    model = model or load_model()
    cut = model.cutoff if cutoff is None else cutoff
    search = _Search(store, graph, avatars)
    matches: list[EvasionMatch] = []
    for act in acts:
        t = epoch(act.at)
        cands = search.candidates(act.account_id, t, limit)
        if not cands:
            continue
        matches.extend(_score_pairs(search, act, cands, model))
    matches.sort(key=lambda m: (-m.score, m.banned["id"], m.candidate["id"]))
    return matches if include_below else [m for m in matches if m.score >= cut]


def _score_pairs(search: _Search, act: Action, cands: list[str], model: EvasionModel) -> list[EvasionMatch]:
    store, g = search.store, search.graph
    old = act.account_id
    content = facts.content(store, [old, *cands])
    old_c = content.get(old, facts.Content())
    old_keys = {k for k in (_text_key(x[2]) for x in old_c.texts) if k is not None}
    shared_all = set().union(*((content.get(c, facts.Content()).urls | content.get(c, facts.Content()).media)
                               & (old_c.urls | old_c.media) for c in cands)) if cands else set()
    posters = {k: len(v) for k, v in _posters(store, shared_all).items()}
    old_p = search.profiles.get(old, facts.AccountInfo(old))
    ov = g.index.get(old)
    old_contacts = _neighbour_set(g, ov, "account")
    old_groups = _neighbour_set(g, ov, "channel")
    # Where the old account's circle meets: its groups and its contacts' groups.
    circle_groups = old_groups.union(*(_neighbour_set(g, x, "channel") for x in old_contacts))
    acted = epoch(act.at)
    out = []
    for c in cands:
        p = search.profiles.get(c, facts.AccountInfo(c))
        cc = content.get(c, facts.Content())
        f: dict[str, float] = {}
        ev: list[Evidence] = []
        # names
        hs, ds = sim.name_similarity(old_p.handle, p.handle), sim.name_similarity(old_p.display_name, p.display_name)
        f["name"] = _rescale(max(hs, ds), NAME_FLOOR)
        if max(hs, ds) >= 0.8:
            ev.append(Evidence("network", "name", text=f"{old_p.label} / {p.label}" if hs >= ds else
                               f"{old_p.display_name!r} / {p.display_name!r}", weight=round(max(hs, ds), 3)))
        renum, step = sim.numbering(old_p.handle, p.handle)
        # The next numbers (abu_x_7 -> abu_x_8) are the evasion pattern; any other renumbering half counts.
        f["numbering"] = (1.0 if step is not None and 1 <= step <= 3 else 0.5) if renum else 0.0
        if renum:
            ev.append(Evidence("network", "numbering", text=f"{old_p.label} -> {p.label}",
                               detail={"step": step} if step is not None else {}))
        bio = sim.text_similarity(old_p.bio, p.bio)
        f["bio"] = _rescale(bio, BIO_FLOOR)
        if bio >= 0.8:
            ev.append(Evidence("network", "bio", text=p.bio, weight=round(bio, 3)))
        d = sim.pdq_distance(search.avatars.get(old), search.avatars.get(c))
        f["avatar"] = 1.0 if d is not None and d <= sim.PDQ_MATCH_DISTANCE else 0.0
        if f["avatar"]:
            ev.append(Evidence("hash", "avatar", detail={"pdq_distance": d}))
        # contacts and groups (the pair itself left out)
        cv = g.index.get(c)
        for name, a_set, b_set in (("contacts", old_contacts - {cv}, _neighbour_set(g, cv, "account") - {ov}),
                                   ("groups", old_groups, _neighbour_set(g, cv, "channel"))):
            f[name] = sim.jaccard(a_set, b_set)
            if a_set & b_set:
                shared = sorted(a_set & b_set)[:5]
                ev.append(Evidence("edge", name, weight=round(f[name], 3),
                                   detail={"shared": [g.keys[x] for x in shared], "count": len(a_set & b_set)}))
        # texts: repeated verbatim (after folding) or near-duplicate edges between the two
        keys = {k: x[0] for x in cc.texts if (k := _text_key(x[2])) is not None}
        repeated = [keys[k] for k in keys.keys() & old_keys]
        nd = _near_duplicate_events(g, ov, cv)
        f["texts"] = max(sim.overlap(set(keys), old_keys), min(1.0, nd / 3.0))
        if repeated or nd:
            ev.append(Evidence("network", "texts", weight=round(f["texts"], 3),
                               detail={"repeated": repeated[:5], "near_duplicate_events": nd}))
        # rare links and media both posted
        shared_items = (cc.urls | cc.media) & (old_c.urls | old_c.media)
        f["shared_items"] = min(1.0, sum(1.0 / max(1, posters.get(x, 2) - 1) for x in shared_items))
        if shared_items:
            ev.append(Evidence("network", "shared_items", weight=round(f["shared_items"], 3),
                               detail={"items": sorted(shared_items)[:5]}))
        # "new account" announcements: naming the old account, or in its groups soon after the action
        f["announcement"] = 0.0
        for mid, when, text, channel in cc.texts:
            phrase = sim.announcement(text)
            if not phrase:
                continue
            named = sim.refers_to(text, old_p.handle, old_p.display_name)
            near = channel is not None and g.index.get(channel) in circle_groups and 0 <= when - acted <= 30 * 86400
            value = 1.0 if named else (0.5 if near else 0.25)
            if value > f["announcement"]:
                f["announcement"] = value
                ev = [e for e in ev if e.label != "announcement"]
                ev.append(Evidence("lexicon", "announcement", text=phrase, weight=value,
                                   detail={"message_id": mid, "names_old_account": named,
                                           "in_old_circle_within_30_days": near}))
        first = search.first.get(c)
        out.append(EvasionMatch(
            banned={"id": old, "label": old_p.label, "actioned_at": act.at.isoformat(), "reason": act.reason},
            candidate={"id": c, "label": p.label, "first_seen": from_epoch(first).isoformat() if first else None,
                       "days_after_action": round((first - epoch(act.at)) / 86400, 1) if first else None},
            score=model.score(f), features=f, evidence=ev))
    return out


def _neighbour_set(g: NetworkGraph, v: int | None, kind: str) -> set[int]:
    return set(g.neighbours(v, (kind,)).tolist()) if v is not None else set()


def _rescale(similarity: float, floor: float) -> float:
    """Similarity above ``floor`` mapped to [0, 1]: unrelated names and bios still share letters and words."""
    return max(0.0, (similarity - floor) / (1.0 - floor))


def _near_duplicate_events(g: NetworkGraph, a: int | None, b: int | None) -> int:
    if a is None or b is None:
        return 0
    inc = g.incident(b)
    mask = (inc.other == a) & (inc.etype == TYPE_CODE["near_duplicate"])
    return int(inc.weight[mask].sum())


def _posters(store: Store, items: set[str]) -> dict[str, set[str]]:
    """item (URL or media hash) -> the accounts that posted it."""
    urls = [i for i in items if "://" in i]
    media = [i for i in items if "://" not in i]
    by_author = facts.authors_of(store, urls=urls, media=media)
    out: dict[str, set[str]] = {}
    for author, got in by_author.items():
        for x in got:
            out.setdefault(x, set()).add(author)
    return out
