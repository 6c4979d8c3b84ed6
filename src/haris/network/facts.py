"""What the store knows about accounts, read in bulk for the network analyses.

Every function takes a :class:`~haris.store.db.Store` and returns plain dicts
keyed by account (or channel) id. Aggregates (first/last activity, languages,
flagged items per policy) are computed by the database with ``GROUP BY``;
per-account details (texts, links, media) are read only for the accounts asked
about, in chunks that stay under every backend's parameter limit.

Flagged items are message ids whose signal score is at least the threshold
(default 0.5), attributed to the message's author; signals about an account
(``item_kind = 'account'``) count for that account.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Iterable, Iterator

from sqlalchemy import func, select

from haris.network.graph import epoch
from haris.store import schema
from haris.store.db import Store

DEFAULT_THRESHOLD = 0.5
_CHUNK = 500


def _chunks(ids: Iterable[str]) -> Iterator[list[str]]:
    ids = list(dict.fromkeys(i for i in ids if i))
    for i in range(0, len(ids), _CHUNK):
        yield ids[i:i + _CHUNK]


@dataclass(slots=True)
class AccountInfo:
    id: str
    platform: str | None = None
    handle: str | None = None
    display_name: str | None = None
    bio: str | None = None

    @property
    def label(self) -> str:
        """What a person would call it: @handle, else the display name, else the id."""
        if self.handle:
            return "@" + self.handle.lstrip("@")
        return self.display_name or self.id


def account_info(store: Store, ids: Iterable[str]) -> dict[str, AccountInfo]:
    """Profiles of the given accounts and channels (channels: title as display name); missing ids get a bare entry."""
    out: dict[str, AccountInfo] = {}
    a, c = schema.accounts, schema.channels
    with store.connect() as conn:
        for chunk in _chunks(ids):
            for r in conn.execute(select(a.c.id, a.c.platform, a.c.handle, a.c.display_name, a.c.bio)
                                  .where(a.c.id.in_(chunk))):
                out[r.id] = AccountInfo(r.id, r.platform, r.handle, r.display_name, r.bio)
            for r in conn.execute(select(c.c.id, c.c.platform, c.c.handle, c.c.title).where(c.c.id.in_(chunk))):
                out[r.id] = AccountInfo(r.id, r.platform, r.handle, r.title, None)
            for i in chunk:
                out.setdefault(i, AccountInfo(i))
    return out


def all_accounts(store: Store) -> dict[str, AccountInfo]:
    """Every account's profile (for the name search of ban evasion)."""
    a = schema.accounts
    with store.connect() as conn:
        rows = conn.execute(select(a.c.id, a.c.platform, a.c.handle, a.c.display_name, a.c.bio))
        return {r.id: AccountInfo(r.id, r.platform, r.handle, r.display_name, r.bio) for r in rows}


def activity(store: Store) -> dict[str, tuple[int, int, int]]:
    """author id -> (first seen, last seen, messages); times in epoch seconds (NO_TIME when unknown)."""
    m = schema.messages
    q = (select(m.c.author_id, func.min(m.c.time), func.max(m.c.time), func.count())
         .where(m.c.author_id.isnot(None)).group_by(m.c.author_id))
    with store.connect() as conn:
        return {r[0]: (epoch(_dt(r[1])), epoch(_dt(r[2])), int(r[3])) for r in conn.execute(q)}


def _dt(v):
    # SQLite hands aggregates of DateTime columns back as strings.
    if isinstance(v, str):
        from datetime import datetime

        return datetime.fromisoformat(v)
    return v


def languages(store: Store) -> dict[str, Counter]:
    """author id -> messages per language (``messages.lang``; '?' when not identified)."""
    m = schema.messages
    q = (select(m.c.author_id, m.c.lang, func.count()).where(m.c.author_id.isnot(None))
         .group_by(m.c.author_id, m.c.lang))
    out: dict[str, Counter] = defaultdict(Counter)
    with store.connect() as conn:
        for author, lang, n in conn.execute(q):
            out[author][lang or "?"] += int(n)
    return out


def link_platforms(store: Store) -> dict[str, Counter]:
    """author id -> links posted per platform the link points to."""
    m, ln = schema.messages, schema.links
    q = (select(m.c.author_id, ln.c.platform, func.count()).join(m, m.c.id == ln.c.message_id)
         .where(m.c.author_id.isnot(None)).group_by(m.c.author_id, ln.c.platform))
    out: dict[str, Counter] = defaultdict(Counter)
    with store.connect() as conn:
        for author, platform, n in conn.execute(q):
            out[author][platform] += int(n)
    return out


def flag_counts(store: Store, threshold: float = DEFAULT_THRESHOLD) -> dict[str, Counter]:
    """author id -> number of its items flagged per policy (score >= threshold)."""
    m, s = schema.messages, schema.signals
    out: dict[str, Counter] = defaultdict(Counter)
    q = (select(m.c.author_id, s.c.policy, func.count(func.distinct(s.c.item_id)))
         .join(m, m.c.id == s.c.item_id).where(s.c.score >= threshold, m.c.author_id.isnot(None))
         .group_by(m.c.author_id, s.c.policy))
    qa = (select(s.c.item_id, s.c.policy, func.count()).where(s.c.score >= threshold, s.c.item_kind == "account")
          .group_by(s.c.item_id, s.c.policy))
    with store.connect() as conn:
        for author, policy, n in conn.execute(q):
            out[author][policy] += int(n)
        for account, policy, n in conn.execute(qa):
            out[account][policy] += int(n)
    return out


def max_flag_score(store: Store, threshold: float = DEFAULT_THRESHOLD) -> dict[str, float]:
    """author id -> the highest score among its flagged items."""
    m, s = schema.messages, schema.signals
    q = (select(m.c.author_id, func.max(s.c.score)).join(m, m.c.id == s.c.item_id)
         .where(s.c.score >= threshold, m.c.author_id.isnot(None)).group_by(m.c.author_id))
    with store.connect() as conn:
        return {a: float(v) for a, v in conn.execute(q)}


def flagged_items(store: Store, authors: Iterable[str], threshold: float = DEFAULT_THRESHOLD,
                  per_author: int = 5) -> dict[str, list[dict]]:
    """author id -> its best flagged items: ``{"item_id", "policy", "score"}``, highest score first."""
    m, s = schema.messages, schema.signals
    best: dict[str, dict[tuple[str, str], float]] = defaultdict(dict)
    with store.connect() as conn:
        for chunk in _chunks(authors):
            q = (select(m.c.author_id, s.c.item_id, s.c.policy, s.c.score).join(m, m.c.id == s.c.item_id)
                 .where(s.c.score >= threshold, m.c.author_id.in_(chunk)))
            for author, item, policy, score in conn.execute(q):
                k = (item, policy)
                best[author][k] = max(best[author].get(k, 0.0), float(score))
    return {a: [{"item_id": i, "policy": p, "score": round(sc, 3)}
                for (i, p), sc in sorted(d.items(), key=lambda kv: -kv[1])[:per_author]]
            for a, d in best.items()}


@dataclass
class Content:
    """What one account posted: its texts (message id, time, text, channel id), link URLs and media hashes."""

    texts: list[tuple[str, int, str, str | None]] = field(default_factory=list)
    urls: set[str] = field(default_factory=set)
    media: set[str] = field(default_factory=set)


def content(store: Store, authors: Iterable[str], max_texts: int = 200) -> dict[str, Content]:
    """author id -> :class:`Content` (the most recent ``max_texts`` texts)."""
    m, ln, md = schema.messages, schema.links, schema.media
    out: dict[str, Content] = defaultdict(Content)
    with store.connect() as conn:
        for chunk in _chunks(authors):
            for r in conn.execute(select(m.c.author_id, m.c.id, m.c.time, m.c.text, m.c.channel_id)
                                  .where(m.c.author_id.in_(chunk)).order_by(m.c.time.desc())):
                c = out[r.author_id]
                if len(c.texts) < max_texts:
                    c.texts.append((r.id, epoch(r.time), r.text or "", r.channel_id))
            for author, url in conn.execute(select(m.c.author_id, ln.c.url).join(m, m.c.id == ln.c.message_id)
                                            .where(m.c.author_id.in_(chunk))):
                out[author].urls.add(url)
            for author, sha in conn.execute(select(m.c.author_id, md.c.sha256).join(m, m.c.id == md.c.message_id)
                                            .where(m.c.author_id.in_(chunk), md.c.sha256.isnot(None))):
                out[author].media.add(sha.lower())
    return out


def authors_of(store: Store, *, urls: Iterable[str] = (), media: Iterable[str] = ()) -> dict[str, set[str]]:
    """author id -> which of the given URLs / media hashes it posted (indexed look-ups)."""
    m, ln, md = schema.messages, schema.links, schema.media
    out: dict[str, set[str]] = defaultdict(set)
    with store.connect() as conn:
        for chunk in _chunks(urls):
            for author, url in conn.execute(select(m.c.author_id, ln.c.url).join(m, m.c.id == ln.c.message_id)
                                            .where(ln.c.url.in_(chunk), m.c.author_id.isnot(None))):
                out[author].add(url)
        for chunk in _chunks(media):
            for author, sha in conn.execute(select(m.c.author_id, md.c.sha256).join(m, m.c.id == md.c.message_id)
                                            .where(md.c.sha256.in_(chunk), m.c.author_id.isnot(None))):
                out[author].add(sha)
    return out
