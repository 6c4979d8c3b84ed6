"""What a reviewer needs to see around an item, read from the store in a few bounded queries.

* :func:`marked` — a text with its evidence spans wrapped in ``<mark>``,
  escaped on the server (the offsets point into the *original* text).
* :func:`item_context` — the message, its thread, its author's history,
  network neighbours, bank matches, listings, the policy decision and the
  rules that fired.
* :func:`queue_snippets`, :func:`search_messages`, :func:`neighbour_in_queue`
  — the queue's previews, search, and j/k navigation.

Network neighbours come from the messages table (replies both ways, channels
shared); :mod:`haris.network` builds whole graphs for analyses, which is more
than one page view should pay for.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable

from markupsafe import Markup, escape
from sqlalchemy import Connection, and_, func, or_, select

from haris.detect.base import TRAFFICKING
from haris.policy.engine import BANK_DETECTOR
from haris.policy.model import PRIORITY_RANK
from haris.service.i18n import text_direction
from haris.service.tables import decisions, review_items, user_reports, users
from haris.store import schema

M, S, A = schema.messages, schema.signals, schema.accounts
ACTIVE = ("open", "needs_second_review")
RANKS = sorted(PRIORITY_RANK.values(), reverse=True)      # urgent (a child at risk) first
THREAD_WINDOW = 15          # messages before and after the item
HISTORY_LIMIT = 20
NEIGHBOUR_LIMIT = 10
_CLASS_SAFE = re.compile(r"[^a-z0-9_-]")


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    policy: str
    label: str


def marked(text: str, spans: Iterable[Span]) -> Markup:
    """``text`` as HTML with each span in ``<mark class="ev ev-<policy>" title="<labels>">``.

    Overlapping spans are cut at every boundary; a piece covered by several
    spans carries all their policies and labels. Spans outside the text are
    ignored (a stale offset must not break the page).

    >>> str(marked("sell <b>girl</b> 12", [Span(5, 16, "trafficking", "person_for_sale")]))
    'sell <mark class="ev ev-trafficking" title="person_for_sale">&lt;b&gt;girl&lt;/b&gt;</mark> 12'
    """
    good = [s for s in spans
            if isinstance(s.start, int) and isinstance(s.end, int) and 0 <= s.start < s.end <= len(text)]
    if not good:
        return Markup(escape(text))
    cuts = sorted({0, len(text), *(s.start for s in good), *(s.end for s in good)})
    pieces: list[tuple[str, frozenset[Span]]] = []
    for a, b in zip(cuts, cuts[1:]):
        cover = frozenset(s for s in good if s.start <= a and b <= s.end)
        if pieces and pieces[-1][1] == cover:                 # join neighbours covered by the same spans
            pieces[-1] = (pieces[-1][0] + text[a:b], cover)
        else:
            pieces.append((text[a:b], cover))
    out = []
    for piece, cover in pieces:
        if not cover:
            out.append(escape(piece))
            continue
        classes = " ".join(["ev"] + [f"ev-{_CLASS_SAFE.sub('', p.lower())}" for p in sorted({s.policy for s in cover})])
        title = ", ".join(sorted({s.label for s in cover}))
        out.append(Markup('<mark class="{}" title="{}">{}</mark>').format(classes, title, piece))
    return Markup("").join(out)


def spans_of(signal_rows: Iterable[dict]) -> dict[str, list[Span]]:
    """Evidence spans per item id from signal rows."""
    out: dict[str, list[Span]] = {}
    for s in signal_rows:
        for e in s.get("evidence") or []:
            if isinstance(e, dict) and isinstance(e.get("start"), int) and isinstance(e.get("end"), int):
                out.setdefault(s["item_id"], []).append(Span(e["start"], e["end"], s["policy"],
                                                             str(e.get("label") or s["policy"])))
    return out


def _signals(conn: Connection, item_ids: list[str]) -> list[dict]:
    if not item_ids:
        return []
    return [dict(r) for r in conn.execute(select(S).where(S.c.item_id.in_(item_ids))
                                          .order_by(S.c.score.desc())).mappings()]


def _accounts(conn: Connection, ids: Iterable[str | None]) -> dict[str, dict]:
    ids = sorted({i for i in ids if i})
    if not ids:
        return {}
    return {r["id"]: dict(r) for r in conn.execute(select(A).where(A.c.id.in_(ids))).mappings()}


def usernames(conn: Connection) -> dict[str, str]:
    """User ids to user names (a console has tens of users, not millions)."""
    return {r[0]: r[1] for r in conn.execute(select(users.c.id, users.c.username))}


def shown(message: dict, spans: list[Span] | None = None) -> dict:
    """A message row ready for a template: marked HTML, its direction and language."""
    text = message.get("text") or ""
    return {**message, "html": marked(text, spans or []), "dir": text_direction(text),
            "lang": message.get("lang") or None}


# -- the queue ------------------------------------------------------------------------------------------
def queue_snippets(conn: Connection, rows: list[dict], length: int = 160) -> dict[str, dict]:
    """A short preview per review item: the message text, the report text or the conversation title."""
    by_kind: dict[str, list[str]] = {}
    for r in rows:
        by_kind.setdefault(r["item_kind"], []).append(r["item_id"])
    texts: dict[str, str] = {}
    if by_kind.get("message"):
        texts.update({i: t for i, t in conn.execute(
            select(M.c.id, func.substr(M.c.text, 1, length)).where(M.c.id.in_(by_kind["message"])))})
    if by_kind.get("report"):
        texts.update({i: t or "" for i, t in conn.execute(
            select(user_reports.c.id, func.substr(user_reports.c.text, 1, length))
            .where(user_reports.c.id.in_(by_kind["report"])))})
    if by_kind.get("conversation"):
        texts.update({i: t or i for i, t in conn.execute(
            select(schema.conversations.c.id, schema.conversations.c.title)
            .where(schema.conversations.c.id.in_(by_kind["conversation"])))})
    return {r["id"]: {"text": texts.get(r["item_id"], ""), "dir": text_direction(texts.get(r["item_id"]))}
            for r in rows}


def walk_queue(conn: Connection, statuses: Iterable[str], *, queue: str | None = None, policy: str | None = None,
               assigned_to: str | None = None, after: dict | None = None, limit: int = 50,
               forward: bool = True) -> list[dict]:
    """Review items in queue order — severity, then age, then id, as :func:`haris.review.workflow.queue` —
    starting just after (or, ``forward=False``, just before) the item ``after``.

    One small query per (status, severity) pair, each an ordered range of an
    index — ``(status, priority_rank, created_at)``, or the ``(queue|policy,
    status, …)`` one when filtering — stopping once ``limit`` rows are found:
    a 100,000-item queue costs what a 100-item one does, and pages are keyset
    pages (no OFFSET to skip over).
    """
    R = review_items
    where, lead = [], []
    for col, value in ((R.c.queue, queue), (R.c.policy, policy), (R.c.assigned_to, assigned_to)):
        if value:
            where.append(col == value)
            lead = lead or [col]   # ordering by the (constant) filter column steers the planner to its index
    out: list[dict] = []
    for rank in (RANKS if forward else RANKS[::-1]):
        if after is not None and (rank > after["priority_rank"] if forward else rank < after["priority_rank"]):
            continue
        need = limit - len(out)
        chunk: list[dict] = []
        for status in statuses:
            q = select(R).where(R.c.status == status, R.c.priority_rank == rank, *where)
            if after is not None and rank == after["priority_rank"]:
                c, i = after["created_at"], after["id"]
                q = q.where(or_(R.c.created_at > c, and_(R.c.created_at == c, R.c.id > i)) if forward else
                            or_(R.c.created_at < c, and_(R.c.created_at == c, R.c.id < i)))
            order = (R.c.created_at, R.c.id) if forward else (R.c.created_at.desc(), R.c.id.desc())
            chunk += [dict(r) for r in conn.execute(q.order_by(*lead, *order).limit(need)).mappings()]
        chunk.sort(key=lambda r: (r["created_at"], r["id"]), reverse=not forward)
        out += chunk[:need]
        if len(out) >= limit:
            break
    return out


def queue_counts(conn: Connection) -> dict[str, int]:
    """Active items per queue (the numbers of :func:`haris.review.workflow.counts`).

    Grouped by (queue, status) with no filter, so that the database answers from
    the ``(queue, status, …)`` index alone instead of reading every row.
    """
    R = review_items
    out: dict[str, int] = {}
    for queue, status, n in conn.execute(select(R.c.queue, R.c.status, func.count()).group_by(R.c.queue, R.c.status)):
        if status in ACTIVE:
            out[queue] = out.get(queue, 0) + n
    return out


def neighbour_in_queue(conn: Connection, item: dict, forward: bool = True) -> str | None:
    """The next (or previous) active review item in queue order."""
    found = walk_queue(conn, ACTIVE, after=item, limit=1, forward=forward)
    return found[0]["id"] if found else None


# -- one item ----------------------------------------------------------------------------------------------
def thread(conn: Connection, message: dict) -> list[dict]:
    """The messages of the same conversation around ``message``, in time order."""
    conv = message.get("conversation_id")
    if not conv:
        return []
    base = select(M).where(M.c.conversation_id == conv)
    t = message.get("time")
    if t is None:    # no time to centre on: the conversation's first messages, and this one among them
        rows = [dict(r) for r in conn.execute(base.order_by(M.c.time, M.c.platform_id, M.c.id)
                                              .limit(2 * THREAD_WINDOW + 1)).mappings()]
        if all(r["id"] != message["id"] for r in rows):
            rows.append(message)
    else:
        before = list(conn.execute(base.where(or_(M.c.time < t, and_(M.c.time == t, M.c.id < message["id"])))
                                   .order_by(M.c.time.desc(), M.c.id.desc()).limit(THREAD_WINDOW)).mappings())
        after = list(conn.execute(base.where(or_(M.c.time > t, and_(M.c.time == t, M.c.id > message["id"])))
                                  .order_by(M.c.time, M.c.id).limit(THREAD_WINDOW)).mappings())
        rows = before[::-1] + [message] + after
    return [dict(r) for r in rows]


def account_history(conn: Connection, account_id: str, exclude: str | None) -> dict:
    """The account's latest other messages, and the review items and decisions on its messages."""
    own = select(M.c.id).where(M.c.author_id == account_id).scalar_subquery()
    msgs = [dict(r) for r in conn.execute(select(M).where(M.c.author_id == account_id, M.c.id != (exclude or ""))
                                          .order_by(M.c.time.desc()).limit(HISTORY_LIMIT)).mappings()]
    items = [dict(r) for r in conn.execute(select(review_items).where(review_items.c.item_id.in_(own))
                                           .order_by(review_items.c.created_at.desc()).limit(HISTORY_LIMIT))
             .mappings()]
    decided = [dict(r) for r in conn.execute(select(decisions).where(decisions.c.item_id.in_(own))
                                             .order_by(decisions.c.created_at.desc()).limit(HISTORY_LIMIT))
               .mappings()]
    count = conn.execute(select(func.count()).select_from(M).where(M.c.author_id == account_id)).scalar_one()
    return {"messages": msgs, "queued": items, "decisions": decided, "message_count": count}


def neighbours(conn: Connection, account_id: str) -> list[dict]:
    """Accounts linked to this one by replies (either way) or by posting in the same channels."""
    parent, child = M.alias("parent"), M.alias("child")
    scores: dict[str, dict] = {}

    def bump(other: str | None, key: str, n: int) -> None:
        if other and other != account_id:
            scores.setdefault(other, {"replies": 0, "channels": 0})[key] += n

    replies = child.join(parent, child.c.reply_to_id == parent.c.id)
    for other, n in conn.execute(select(child.c.author_id, func.count()).select_from(replies)
                                 .where(parent.c.author_id == account_id).group_by(child.c.author_id)):
        bump(other, "replies", n)      # they replied to this account
    for other, n in conn.execute(select(parent.c.author_id, func.count()).select_from(replies)
                                 .where(child.c.author_id == account_id).group_by(parent.c.author_id)):
        bump(other, "replies", n)      # this account replied to them
    chans = select(M.c.channel_id).where(M.c.author_id == account_id, M.c.channel_id.is_not(None)).distinct()
    for other, n in conn.execute(select(M.c.author_id, func.count(M.c.channel_id.distinct()))
                                 .where(M.c.channel_id.in_(chans.scalar_subquery()), M.c.author_id != account_id)
                                 .group_by(M.c.author_id).order_by(func.count(M.c.channel_id.distinct()).desc())
                                 .limit(NEIGHBOUR_LIMIT * 5)):
        bump(other, "channels", n)
    top = sorted(scores.items(), key=lambda kv: (-(2 * kv[1]["replies"] + kv[1]["channels"]), kv[0]))[:NEIGHBOUR_LIMIT]
    ids = [k for k, _ in top]
    accts = _accounts(conn, ids)
    flagged = dict(conn.execute(select(M.c.author_id, func.count(review_items.c.id))
                                .join(review_items, review_items.c.item_id == M.c.id)
                                .where(M.c.author_id.in_(ids)).group_by(M.c.author_id)).all()) if ids else {}
    return [{"id": k, **v, "account": accts.get(k), "flagged": flagged.get(k, 0)} for k, v in top]


def neighbour_review_ids(conn: Connection, account_id: str) -> list[str]:
    """The active review items of an account and its neighbours (for a network case)."""
    ids = [account_id] + [n["id"] for n in neighbours(conn, account_id)]
    return [r[0] for r in conn.execute(select(review_items.c.id).join(M, review_items.c.item_id == M.c.id)
                                       .where(M.c.author_id.in_(ids), review_items.c.status.in_(ACTIVE)))]


def conversation_review_ids(conn: Connection, conversation_id: str) -> list[str]:
    """Every review item on the conversation or on one of its messages."""
    msgs = select(M.c.id).where(M.c.conversation_id == conversation_id).scalar_subquery()
    return [r[0] for r in conn.execute(select(review_items.c.id).where(
        or_(review_items.c.item_id.in_(msgs), review_items.c.item_id == conversation_id)))]


def _message_for(conn: Connection, item: dict) -> dict | None:
    if item["item_kind"] == "message":
        row = conn.execute(select(M).where(M.c.id == item["item_id"])).mappings().first()
        return dict(row) if row else None
    if item["item_kind"] == "report":
        rep = conn.execute(select(user_reports.c.item_id).where(user_reports.c.id == item["item_id"])).scalar()
        if rep:
            row = conn.execute(select(M).where(or_(M.c.id == rep, M.c.platform_id == rep)).limit(1)).mappings().first()
            return dict(row) if row else None
    return None


def item_context(conn: Connection, item: dict) -> dict:
    """Everything the item page shows besides the decision forms."""
    ctx: dict = {"message": None, "thread": [], "account": None, "history": None, "neighbours": [],
                 "signals": [], "matches": [], "listings": [], "entities": [], "report": None}
    if item["item_kind"] == "report":
        rep = conn.execute(select(user_reports).where(user_reports.c.id == item["item_id"])).mappings().first()
        ctx["report"] = dict(rep) if rep else None
    msg = _message_for(conn, item)
    if item["item_kind"] == "conversation":
        first = conn.execute(select(M).where(M.c.conversation_id == item["item_id"]).order_by(M.c.time)
                             .limit(1)).mappings().first()
        ctx["thread"] = thread(conn, dict(first)) if first else []
    elif msg is not None:
        ctx["thread"] = thread(conn, msg)
    ids = sorted({m["id"] for m in ctx["thread"]} | ({msg["id"]} if msg else set())
                 | ({item["item_id"]} if item["item_kind"] != "message" else set()))
    sigs = _signals(conn, ids + ([msg["conversation_id"]] if msg and msg.get("conversation_id") else []))
    spans = spans_of(sigs)
    authors = _accounts(conn, [m.get("author_id") for m in ctx["thread"]] + [msg.get("author_id") if msg else None])
    ctx["thread"] = [{**shown(m, spans.get(m["id"])), "author": authors.get(m.get("author_id")),
                      "focal": msg is not None and m["id"] == msg["id"]} for m in ctx["thread"]]
    if msg is not None:
        ctx["message"] = {**shown(msg, spans.get(msg["id"])), "author": authors.get(msg.get("author_id"))}
        ctx["entities"] = [dict(r) for r in conn.execute(select(schema.entities).where(
            schema.entities.c.message_id == msg["id"]).order_by(schema.entities.c.start)).mappings()]
        if msg.get("author_id"):
            ctx["account"] = authors.get(msg["author_id"]) or {"id": msg["author_id"]}
            ctx["history"] = account_history(conn, msg["author_id"], msg["id"])
            ctx["history"]["messages"] = [shown(m) for m in ctx["history"]["messages"]]
            ctx["neighbours"] = neighbours(conn, msg["author_id"])
    focal = {msg["id"], msg.get("conversation_id")} if msg else {item["item_id"]}
    ctx["signals"] = [s for s in sigs if s["item_id"] in focal]
    ctx["matches"] = [{**(e.get("detail") or {}), "label": e.get("label"), "policy": s["policy"]}
                      for s in ctx["signals"] if s["detector"] == BANK_DETECTOR for e in s["evidence"] or []]
    ctx["listings"] = [(s["data"] or {}).get("listing") for s in ctx["signals"]
                       if s["policy"] == TRAFFICKING and isinstance((s["data"] or {}).get("listing"), dict)]
    return ctx


def rule_descriptions(conn: Connection, decision: dict | None, live) -> dict[str, str]:
    """Descriptions of the rules a decision names, from the policy version that made it when it is kept."""
    if not decision or not decision.get("rules"):
        return {}
    doc = live if live is not None and (live.id, live.version) == (decision.get("policy_id"),
                                                                    decision.get("policy_version")) else None
    if doc is None:
        try:
            from haris.policy.engine import load_policy
            from haris.policy.tables import policy_versions

            text = conn.execute(select(policy_versions.c.document).where(policy_versions.c.id == (
                f"{decision.get('policy_id')}@{decision.get('policy_version')}"))).scalar()
            doc = load_policy(text) if text else None
        except Exception:   # an old or foreign document: show the rule ids alone
            doc = None
    return {r.id: r.description for r in doc.rules} if doc is not None else {}


# -- search -------------------------------------------------------------------------------------------------
def messages_where(conn: Connection, where, limit: int, offset: int, highlight: str | None = None) -> list[dict]:
    """Messages matching ``where``, newest first, each with the review items on it (and ``highlight`` marked)."""
    rows = [dict(r) for r in conn.execute(select(M).where(where).order_by(M.c.time.desc(), M.c.id)
                                          .limit(limit).offset(offset)).mappings()]
    pattern = re.compile(re.escape(highlight), re.IGNORECASE) if highlight else None
    rids: dict[str, list[str]] = {}
    if rows:
        for rid, item_id in conn.execute(select(review_items.c.id, review_items.c.item_id)
                                         .where(review_items.c.item_id.in_([r["id"] for r in rows]))):
            rids.setdefault(item_id, []).append(rid)
    return [{**shown(r, [Span(m.start(), m.end(), "search", highlight or "")
                         for m in (pattern.finditer(r["text"] or "") if pattern else ())]),
             "review_ids": rids.get(r["id"], [])} for r in rows]


def search_messages(conn: Connection, q: str, limit: int, offset: int) -> list[dict]:
    """Messages whose text contains ``q`` (case-insensitive; a scan, bounded by ``limit``)."""
    return messages_where(conn, M.c.text.icontains(q, autoescape=True), limit, offset, highlight=q)
