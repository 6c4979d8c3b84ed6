"""Conversations to score: assembled from messages, from the store, or from an eval file.

A :class:`ConversationView` is a thread in time order with its participants. Order: the
platform's time when every message has one; a message without a time keeps its place
after the message before it (its time is carried forward from the last known one), so
out-of-order and partly timed exports still replay in a sensible order.

>>> from haris.model import Message
>>> msgs = [Message(id=f"m{i}", platform="generic", platform_id=str(i), channel_id="c", author_id=a,
...                 time=None, text=t, conversation_id="c") for i, (a, t) in enumerate([("x", "hi"), ("y", "hey")])]
>>> [c.participants for c in assemble(msgs)]
[['x', 'y']]
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Iterable, Iterator

from haris.errors import InputError
from haris.model import Message

MAX_PARTICIPANTS = 5   # private chats and small groups: grooming happens there, not in broadcast channels
NO_THREAD = "\x00no-conversation"


@dataclass(slots=True)
class ConversationView:
    """A thread in time order: what the conversation detector reads."""

    id: str
    messages: list[Message]
    participants: list[str] = field(default_factory=list)
    platform: str = "generic"
    channel_id: str | None = None
    kind: str = "unknown"
    lang: str | None = None       # the known language (an eval file says it), else identified while reading

    def __len__(self) -> int:
        return len(self.messages)


def _sort_key_time(t: datetime | None) -> float | None:
    if t is None:
        return None
    if t.tzinfo is None:
        t = t.replace(tzinfo=timezone.utc)
    return t.timestamp()


def in_time_order(messages: list[Message]) -> list[Message]:
    """Messages by time; untimed ones stay after their predecessor (stable, never raises)."""
    last: float | None = None
    keyed = []
    for pos, m in enumerate(messages):
        try:
            ts = _sort_key_time(m.time)
        except (OverflowError, ValueError, OSError):
            ts = None
        if ts is None:
            ts = last if last is not None else float("-inf")
        else:
            last = ts
        keyed.append((ts, pos, m))
    keyed.sort(key=lambda k: (k[0], k[1]))
    return [m for _, _, m in keyed]


def _participants(messages: Iterable[Message]) -> list[str]:
    seen: dict[str, None] = {}
    for m in messages:
        if m.author_id is not None:
            seen.setdefault(m.author_id, None)
    return list(seen)


def assemble(messages: Iterable[Message], *, max_participants: int | None = None) -> list[ConversationView]:
    """Group messages into conversations (by conversation_id, else channel), each in time order.

    Service messages (joins, pins) are left out. With ``max_participants``, larger threads
    are left out too (broadcast channels and big groups are not where grooming is scored).
    """
    groups: dict[str, list[Message]] = defaultdict(list)
    for m in messages:
        if getattr(m, "kind", "message") != "message":
            continue
        groups[m.conversation_id or m.channel_id or NO_THREAD].append(m)
    out = []
    for cid, msgs in groups.items():
        people = _participants(msgs)
        if max_participants is not None and len(people) > max_participants:
            continue
        first = msgs[0]
        out.append(ConversationView(id=cid, messages=in_time_order(msgs), participants=people,
                                    platform=first.platform, channel_id=first.channel_id))
    return out


def load_conversations(store: Any, *, max_participants: int = MAX_PARTICIPANTS,
                       conversation_ids: Iterable[str] | None = None,
                       limit: int | None = None) -> Iterator[ConversationView]:
    """Conversations from the store's messages table: private chats and groups of ≤ ``max_participants``.

    Broadcast channels (channels.kind == "channel") are skipped. Conversations stream one
    at a time (messages are read in conversation order), so memory holds one thread.
    """
    from sqlalchemy import and_, func, or_, select

    from haris.store import schema

    m, ch = schema.messages, schema.channels
    sizes = (select(m.c.conversation_id)
             .select_from(m.outerjoin(ch, m.c.channel_id == ch.c.id))
             .where(m.c.conversation_id.is_not(None), m.c.kind == "message",
                    or_(ch.c.kind.is_(None), ch.c.kind != "channel"))
             .group_by(m.c.conversation_id)
             .having(func.count(func.distinct(m.c.author_id)) <= max_participants))
    if conversation_ids is not None:
        sizes = sizes.where(m.c.conversation_id.in_(list(conversation_ids)))
    sizes = sizes.order_by(m.c.conversation_id)
    if limit is not None:
        sizes = sizes.limit(limit)
    kinds = {}
    with store.connect() as conn:
        ids = [r[0] for r in conn.execute(sizes)]
        if not ids:
            return
        for r in conn.execute(select(ch.c.id, ch.c.kind)):
            kinds[r[0]] = r[1]
    for start in range(0, len(ids), 500):
        batch = ids[start:start + 500]
        query = (select(m).where(and_(m.c.conversation_id.in_(batch), m.c.kind == "message"))
                 .order_by(m.c.conversation_id, m.c.time, m.c.id))
        with store.connect() as conn:
            current: str | None = None
            rows: list[dict] = []
            for row in conn.execute(query).mappings():
                if row["conversation_id"] != current and rows:
                    yield _view(current, rows, kinds)
                    rows = []
                current = row["conversation_id"]
                rows.append(dict(row))
            if rows:
                yield _view(current, rows, kinds)


def _view(cid: str | None, rows: list[dict], kinds: dict[str, str]) -> ConversationView:
    msgs = [Message(id=r["id"], platform=r["platform"], platform_id=r["platform_id"], channel_id=r["channel_id"],
                    author_id=r["author_id"], time=r["time"], text=r["text"] or "",
                    conversation_id=r["conversation_id"], kind=r["kind"], origin=r["origin"]) for r in rows]
    langs = Counter(r["lang"] for r in rows if r.get("lang"))
    lang = None
    if langs:
        top, n = langs.most_common(1)[0]
        if n >= 3 and n / sum(langs.values()) >= 0.6:
            lang = top
    first = rows[0]
    return ConversationView(id=str(cid), messages=in_time_order(msgs), participants=_participants(msgs),
                            platform=first["platform"], channel_id=first["channel_id"],
                            kind=kinds.get(first["channel_id"] or "", "unknown"), lang=lang)


def conversation_from_eval_row(row: dict, *, path: str = "<eval>", line: int | None = None) -> ConversationView:
    """A conversation from one line of a conversation eval file (see evaluate.py for the format)."""
    raw = row.get("messages")
    if not isinstance(raw, list):
        raise InputError(path, "conversation without a message list", line=line,
                         expected='"messages": [{"sender": ..., "text": ...}, ...]')
    cid = str(row.get("id") or f"line-{line}")
    msgs = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            raise InputError(path, f"message {i} is not an object", line=line, expected='{"sender": ..., "text": ...}')
        t = item.get("time")
        when = None
        if isinstance(t, str) and t:
            try:
                when = datetime.fromisoformat(t.replace("Z", "+00:00"))
            except ValueError:
                raise InputError(path, f"message {i}: time {t!r} is not ISO 8601", line=line,
                                 expected="a time like 2025-03-01T18:02:00Z") from None
        sender = item.get("sender")
        msgs.append(Message(id=str(item.get("id") or f"{cid}:{i}"), platform="generic", platform_id=str(i),
                            channel_id=cid, author_id=None if sender is None else str(sender), time=when,
                            text=str(item.get("text") or ""), conversation_id=cid))
    return ConversationView(id=cid, messages=in_time_order(msgs), participants=_participants(msgs),
                            lang=row.get("lang") or None)
