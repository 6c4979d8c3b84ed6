"""Build the account graph from the store, incrementally.

:class:`GraphBuilder` reads messages, links and media and turns them into edge
events (see :mod:`haris.network.graph` for the node and edge types). It
remembers which messages it has already read (a sorted array of 64-bit hashes
of their ids, 8 bytes a message), so :meth:`GraphBuilder.update` called again
reads only what arrived since, whatever order it arrived in; ``since=`` also
limits the scan to messages at or after a time when the caller knows nothing
older arrived.

    builder = GraphBuilder(store)
    builder.update()                 # everything in the store
    builder.update()                 # later: only new messages become edges
    graph = builder.graph()

A reply whose parent arrives later is linked when the parent arrives. A
mention (``@handle``) becomes an edge when the handle is an account's or a
channel's in the store, and is counted as unresolved otherwise. Near-duplicate
texts from different accounts become ``near_duplicate`` edges through
:class:`haris.match.text.TextIndex` (MinHash LSH); without that module they are
skipped and the build stats say so.
"""
from __future__ import annotations

import hashlib
import json
import re
import shutil
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
from sqlalchemy import func, select

from haris.errors import HarisError, InputError
from haris.network.graph import NO_TIME, TYPE_CODE, EdgeTable, EmptyGraphError, NetworkGraph, NodeIndex, epoch
from haris.store import schema
from haris.store.db import Store

FORMAT_VERSION = 1
_MENTION = re.compile(r"(?<![\w@.])@([A-Za-z][A-Za-z0-9_]{2,31})\b")
_BATCH = 5000


def message_hash(ids: list[str]) -> np.ndarray:
    """64-bit hashes of message ids (stable across runs, unlike Python's ``hash``)."""
    return np.fromiter((int.from_bytes(hashlib.blake2b(i.encode(), digest_size=8).digest(), "little")
                        for i in ids), dtype=np.uint64, count=len(ids))


def _in_sorted(sorted_arr: np.ndarray, values: np.ndarray) -> np.ndarray:
    if not len(sorted_arr):
        return np.zeros(len(values), bool)
    pos = np.minimum(np.searchsorted(sorted_arr, values), len(sorted_arr) - 1)
    return sorted_arr[pos] == values


def destination_key(url: str, platform: str, kind: str, domain: str | None) -> str:
    """The node a link points to: the canonical URL of a messaging/social link, the domain of a website.

    Websites are grouped by domain because article URLs are rarely shared twice
    while the site that hosts them is the thing groups move to.
    """
    if platform == "web" or kind in ("web", "shortener"):
        host = (domain or urlsplit(url if "://" in url else "https://" + url).hostname or "").lower()
        return "domain:" + (host[4:] if host.startswith("www.") else host)
    parts = urlsplit(url if "://" in url else "https://" + url)
    host = (parts.hostname or "").lower()
    host = host[4:] if host.startswith("www.") else host
    path = parts.path.rstrip("/")
    return f"url:https://{host}{path}" + (f"?{parts.query}" if parts.query else "")


@dataclass
class UpdateStats:
    """What one :meth:`GraphBuilder.update` read and added."""

    messages_read: int = 0
    messages_new: int = 0
    events: dict[str, int] = field(default_factory=dict)
    unresolved_mentions: int = 0
    near_duplicates: str = "on"

    def to_dict(self) -> dict:
        return {"messages_read": self.messages_read, "messages_new": self.messages_new, "events": self.events,
                "unresolved_mentions": self.unresolved_mentions, "near_duplicates": self.near_duplicates}


class GraphBuilder:
    """Collects edge events from a store; :meth:`graph` folds them into a :class:`NetworkGraph`."""

    def __init__(self, store: Store | str | None = None, *, near_duplicates: bool = True,
                 near_duplicate_threshold: float = 0.7, min_text_chars: int = 30, max_duplicate_links: int = 10):
        self.store = store if isinstance(store, Store) else Store.open(store)
        self.nodes = NodeIndex()
        self.edges = EdgeTable()
        self.seen = np.empty(0, np.uint64)       # sorted hashes of messages already read
        self.min_text_chars = min_text_chars
        self.max_duplicate_links = max_duplicate_links
        self._texts = None                       # haris.match.text.TextIndex, when available
        self._text_authors: list[int] = []       # TextIndex entry id -> author vertex
        self.near_duplicates = "off"
        if near_duplicates:
            try:
                from haris.match.text import TextIndex
            except ImportError:
                self.near_duplicates = "skipped: haris.match.text (MinHash) is not installed"
            else:
                self._texts = TextIndex(threshold=near_duplicate_threshold)
                self.near_duplicates = "on"

    # -- reading -------------------------------------------------------------------
    def update(self, since: datetime | None = None) -> UpdateStats:
        """Read messages not read before (at or after ``since`` when given) and add their edges."""
        stats = UpdateStats(near_duplicates=self.near_duplicates)
        counts = {t: 0 for t in TYPE_CODE}
        seen_before = self.seen
        new_hashes: list[np.ndarray] = []
        mentions: list[tuple[int, str, str, int]] = []
        m, parent = schema.messages, schema.messages.alias("parent")
        q = (select(m.c.id, m.c.platform, m.c.author_id, m.c.channel_id, m.c.time, m.c.forwarded_from_id,
                    m.c.text, parent.c.author_id.label("parent_author"))
             .select_from(m.outerjoin(parent, parent.c.id == m.c.reply_to_id)))
        if since is not None:
            q = q.where(m.c.time >= since)
        with self.store.connect() as conn:
            for rows in conn.execution_options(stream_results=True, yield_per=_BATCH).execute(q).partitions():
                hashes = message_hash([r.id for r in rows])
                fresh = ~_in_sorted(seen_before, hashes)
                stats.messages_read += len(rows)
                new_hashes.append(hashes[fresh])
                for r, ok in zip(rows, fresh.tolist()):
                    if ok:
                        self._message(r, counts, mentions)
            new = np.unique(np.concatenate(new_hashes)) if new_hashes else np.empty(0, np.uint64)
            stats.messages_new = int(len(new))
            if len(new):
                self._links(conn, since, new, counts)
                self._media(conn, since, new, counts)
                if len(seen_before):
                    self._late_parents(conn, since, new, seen_before, counts)
                stats.unresolved_mentions = self._resolve_mentions(conn, mentions, counts)
        self.seen = np.union1d(self.seen, new)
        stats.events = {t: n for t, n in counts.items() if n}
        return stats

    def _node(self, key: str | None) -> int | None:
        return None if not key else self.nodes.add(key)

    def _message(self, r, counts: dict[str, int], mentions: list) -> None:
        author, channel = self._node(r.author_id), self._node(r.channel_id)
        t = epoch(r.time)
        add = self.edges.add
        if author is not None and channel is not None:
            add(author, channel, TYPE_CODE["member"], t)
            counts["member"] += 1
        if author is not None and r.parent_author:
            add(author, self.nodes.add(r.parent_author), TYPE_CODE["reply"], t)
            counts["reply"] += 1
        if r.forwarded_from_id:
            who = author if author is not None else channel
            if who is not None:
                add(who, self.nodes.add(r.forwarded_from_id), TYPE_CODE["forward"], t)
                counts["forward"] += 1
        text = r.text or ""
        if author is not None and "@" in text:
            for h in _MENTION.findall(text):
                mentions.append((author, h.lower(), r.platform, t))
        if self._texts is not None and author is not None and len(text) >= self.min_text_chars:
            self._near_duplicate(author, text, t, counts)

    def _near_duplicate(self, author: int, text: str, t: int, counts: dict[str, int]) -> None:
        others: list[int] = []
        for entry, _sim in self._texts.query(text):
            a = self._text_authors[entry]
            if a != author and a not in others:
                others.append(a)
                if len(others) >= self.max_duplicate_links:
                    break
        for a in others:
            self.edges.add(author, a, TYPE_CODE["near_duplicate"], t)
            counts["near_duplicate"] += 1
        if self._texts.add([(len(self._text_authors), text)]):
            self._text_authors.append(author)

    def _joined_rows(self, conn, table, cols, since, extra=None):
        m = schema.messages
        q = select(table.c.message_id, m.c.author_id, m.c.channel_id, m.c.time, *cols).join(
            m, m.c.id == table.c.message_id)
        if since is not None:
            q = q.where(m.c.time >= since)
        if extra is not None:
            q = q.where(extra)
        return conn.execution_options(stream_results=True, yield_per=_BATCH).execute(q).partitions()

    def _links(self, conn, since, new: np.ndarray, counts) -> None:
        ln = schema.links
        for rows in self._joined_rows(conn, ln, (ln.c.url, ln.c.platform, ln.c.kind, ln.c.domain), since):
            keep = _in_sorted(new, message_hash([r.message_id for r in rows]))
            for r, ok in zip(rows, keep.tolist()):
                who = self._node(r.author_id) if r.author_id else self._node(r.channel_id)
                if ok and who is not None:
                    dest = destination_key(r.url, r.platform, r.kind, r.domain)
                    self.edges.add(who, self.nodes.add(dest), TYPE_CODE["link"], epoch(r.time))
                    counts["link"] += 1

    def _media(self, conn, since, new: np.ndarray, counts) -> None:
        md = schema.media
        for rows in self._joined_rows(conn, md, (md.c.sha256,), since, md.c.sha256.isnot(None)):
            keep = _in_sorted(new, message_hash([r.message_id for r in rows]))
            for r, ok in zip(rows, keep.tolist()):
                who = self._node(r.author_id) if r.author_id else self._node(r.channel_id)
                if ok and who is not None:
                    self.edges.add(who, self.nodes.add("media:" + r.sha256.lower()), TYPE_CODE["media"],
                                   epoch(r.time))
                    counts["media"] += 1

    def _late_parents(self, conn, since, new: np.ndarray, seen_before: np.ndarray, counts) -> None:
        """Replies read in an earlier update whose parent message arrived only now."""
        child, parent = schema.messages.alias("child"), schema.messages.alias("parent")
        q = (select(child.c.id, child.c.author_id, child.c.time, parent.c.id.label("parent_id"),
                    parent.c.author_id.label("parent_author"))
             .join(parent, parent.c.id == child.c.reply_to_id))
        if since is not None:
            q = q.where(parent.c.time >= since)
        for rows in conn.execution_options(stream_results=True, yield_per=_BATCH).execute(q).partitions():
            parent_new = _in_sorted(new, message_hash([r.parent_id for r in rows]))
            child_old = _in_sorted(seen_before, message_hash([r.id for r in rows]))
            for r, a, b in zip(rows, parent_new.tolist(), child_old.tolist()):
                if a and b and r.author_id and r.parent_author:
                    self.edges.add(self.nodes.add(r.author_id), self.nodes.add(r.parent_author),
                                   TYPE_CODE["reply"], epoch(r.time))
                    counts["reply"] += 1

    def _resolve_mentions(self, conn, mentions: list, counts) -> int:
        """Mentions to edges, by the handles of accounts and channels (same platform preferred)."""
        if not mentions:
            return 0
        by_handle: dict[str, dict[str, str]] = {}
        for table in (schema.accounts, schema.channels):
            q = select(table.c.id, table.c.platform, table.c.handle).where(table.c.handle.isnot(None))
            for rows in conn.execution_options(stream_results=True, yield_per=50000).execute(q).partitions():
                for r in rows:
                    by_handle.setdefault(r.handle.lstrip("@").lower(), {}).setdefault(r.platform, r.id)
        unresolved = 0
        for author, handle, platform, t in mentions:
            found = by_handle.get(handle)
            if not found:
                unresolved += 1
                continue
            target = found.get(platform) or next(iter(found.values()))
            self.edges.add(author, self.nodes.add(target), TYPE_CODE["mention"], t)
            counts["mention"] += 1
        return unresolved

    # -- results -------------------------------------------------------------------------
    def graph(self) -> NetworkGraph:
        """The graph of everything read so far; :class:`EmptyGraphError` when there is nothing."""
        if not len(self.nodes):
            where = self.store.engine.url.render_as_string(hide_password=True)
            raise EmptyGraphError(
                f"no messages with an author or a channel in {where}: nothing to build a network from "
                f"(ingest exports first: haris ingest FILE)")
        g = NetworkGraph.from_table(self.nodes.keys, self.nodes.kinds, self.edges, index=dict(self.nodes.ids))
        g.stats["messages"] = int(len(self.seen))
        g.stats["near_duplicates"] = self.near_duplicates
        return g

    # -- persistence (plain arrays and JSON: loading a saved graph cannot run code) -----------
    def save(self, folder: str | Path) -> None:
        """Write the builder's state to ``folder`` so a later run can :meth:`load` it and update."""
        folder = Path(folder)
        tmp = folder.with_name(f".{folder.name}.tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        src, dst, et, tm, w = self.edges.arrays()
        np.savez(tmp / "graph.npz", keys=np.array(self.nodes.keys, dtype=str),
                 kinds=np.frombuffer(self.nodes.kinds, np.int8), src=src, dst=dst, etype=et, time=tm, weight=w,
                 seen=self.seen, text_authors=np.array(self._text_authors, np.int64))
        (tmp / "state.json").write_text(json.dumps({"format": FORMAT_VERSION, "near_duplicates": self.near_duplicates,
                                                    "min_text_chars": self.min_text_chars}))
        if self._texts is not None:
            self._texts.save(tmp / "texts")
        if folder.exists():
            shutil.rmtree(folder)
        tmp.rename(folder)

    @classmethod
    def load(cls, folder: str | Path, store: Store | str | None = None) -> "GraphBuilder":
        """A builder from a folder written by :meth:`save`, reading new messages from ``store``."""
        folder = Path(folder)
        try:
            state = json.loads((folder / "state.json").read_text())
            data = np.load(folder / "graph.npz", allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise InputError(str(folder), f"not a saved network graph: {exc}",
                             expected="a folder written by `haris network build --save`") from None
        if state.get("format") != FORMAT_VERSION:
            raise InputError(str(folder), f"saved graph format {state.get('format')}",
                             expected=f"format {FORMAT_VERSION}")
        b = cls(store, near_duplicates=state["near_duplicates"] == "on", min_text_chars=state["min_text_chars"])
        b.nodes = NodeIndex(data["keys"].tolist(), data["kinds"].tolist())
        b.edges.extend(data["src"], data["dst"], data["etype"], data["time"], data["weight"])
        b.seen = data["seen"]
        if b._texts is not None:
            if not (folder / "texts").exists():
                raise HarisError(f"{folder}: the saved graph has no near-duplicate index; rebuild it")
            from haris.match.text import TextIndex

            b._texts = TextIndex.load(folder / "texts")
            b._text_authors = data["text_authors"].tolist()
        return b


def count_messages(store: Store) -> int:
    with store.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(schema.messages)).scalar_one())


def build_graph(store: Store | str | None = None, **builder_kw) -> NetworkGraph:
    """The whole store's graph in one call (see :class:`GraphBuilder` for incremental builds)."""
    builder = GraphBuilder(store, **builder_kw)
    builder.update()
    return builder.graph()


__all__ = ["GraphBuilder", "UpdateStats", "build_graph", "destination_key", "message_hash", "NO_TIME",
           "EmptyGraphError"]
