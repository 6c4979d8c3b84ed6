"""The REST API for platform integrations (``/v1``).

Every endpoint needs an API key (``Authorization: Bearer hk_…``) with the
right scope, or, for reads, a console session of a reviewer or auditor.
Items posted are analysed synchronously: the answer carries the signals, the
live policy's decision, and the review item when one was queued. They are
written by the process's :class:`~haris.service.items.ItemPipeline`, which
commits the items of concurrent requests together.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from haris.model import Account, Channel, Link, Media, Message, stable_id
from haris.service import audit
from haris.service.security import Principal, Problem, principal_for
from haris.service.tables import decisions as decisions_t
from haris.service.tables import user_reports
from haris.store import schema

router = APIRouter(prefix="/v1")
MAX_BATCH = 100


def require(scope: str):
    # async: a recently verified key is checked in the event loop, with no worker thread and no query
    async def dep(request: Request) -> Principal:
        p = await principal_for(request)
        if p is None:
            raise Problem(401, "Unauthorized", "an API key (Authorization: Bearer hk_…) or a session is required",
                          headers={"WWW-Authenticate": "Bearer"})
        if not p.can(scope):
            raise Problem(403, "Forbidden", f"this key or user lacks the {scope!r} scope")
        if p.key is not None:
            ok, wait = request.app.state.limiter.allow(p.key.id, p.key.rate_per_minute)
            if not ok:
                raise Problem(429, "Too Many Requests", f"rate limit of {p.key.rate_per_minute}/minute reached",
                              headers={"Retry-After": str(max(1, int(wait + 0.999)))})
        return p
    return dep


class MediaIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["photo", "video", "animation", "audio", "voice", "sticker", "file", "unknown"] = "unknown"
    url: str | None = Field(None, max_length=4096)
    sha256: str | None = Field(None, pattern=r"^[0-9a-fA-F]{64}$")


class ItemIn(BaseModel):
    """One message or post as a platform sends it."""

    model_config = ConfigDict(extra="forbid")
    id: str = Field(min_length=1, max_length=200, description="the platform's own id of the item")
    platform: str = Field("api", min_length=1, max_length=40, pattern=r"^[a-z0-9_.-]+$")
    text: str = Field("", max_length=100_000)
    time: datetime | None = None
    channel: str | None = Field(None, max_length=200)
    channel_kind: Literal["channel", "group", "private", "timeline", "unknown"] = "unknown"
    author: str | None = Field(None, max_length=200)
    author_name: str | None = Field(None, max_length=500)
    reply_to: str | None = Field(None, max_length=200)
    conversation: str | None = Field(None, max_length=200)
    links: list[str] = Field(default_factory=list, max_length=50)
    media: list[MediaIn] = Field(default_factory=list, max_length=20)


class ReportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    platform: str = Field("api", max_length=40)
    reporter: str | None = Field(None, max_length=200)
    item_id: str | None = Field(None, max_length=200)
    account_id: str | None = Field(None, max_length=200)
    category: Literal["trafficking", "child_exploitation", "terrorism", "other"]
    text: str | None = Field(None, max_length=10_000)
    callback_url: str | None = Field(None, max_length=2048)


def to_records(item: ItemIn) -> tuple[list, Message]:
    p = item.platform
    chan_pid = item.channel or f"author:{item.author or '-'}"
    recs: list = []
    author_id = None
    if item.author:
        acct = Account.make(p, item.author, display_name=item.author_name)
        author_id = acct.id
        recs.append(acct)
    chan = Channel.make(p, chan_pid, kind=item.channel_kind)
    recs.append(chan)
    t = item.time
    if t is not None and t.tzinfo is None:
        t = t.replace(tzinfo=timezone.utc)
    mid = Message.make_id(p, chan_pid, item.id)
    msg = Message(
        id=mid, platform=p, platform_id=item.id, channel_id=chan.id, author_id=author_id, time=t, text=item.text,
        conversation_id=stable_id("conv", p, item.conversation) if item.conversation else chan.id,
        reply_to_id=Message.make_id(p, chan_pid, item.reply_to) if item.reply_to else None,
        links=[Link(url=u) for u in item.links],
        media=[Media(id=stable_id("media", p, mid, i), kind=m.kind, url=m.url, sha256=m.sha256)
               for i, m in enumerate(item.media)],
        origin="api")
    return recs, msg


@router.post("/items", summary="Analyse one item or a batch (at most 100)")
async def post_items(request: Request, body: Annotated[ItemIn | list[ItemIn], Body()],
                     _p: Principal = Depends(require("items:write"))) -> Any:
    items = body if isinstance(body, list) else [body]
    if not items:
        raise Problem(422, "Unprocessable Content", "an empty batch")
    if len(items) > MAX_BATCH:
        raise Problem(413, "Content Too Large", f"at most {MAX_BATCH} items a request")
    results = await request.app.state.items.run([to_records(item) for item in items])
    return results if isinstance(body, list) else results[0]


@router.post("/reports", status_code=201, summary="Receive a user report")
def post_report(request: Request, body: ReportIn, p: Principal = Depends(require("reports:write"))) -> Any:
    from haris.review.workflow import enqueue

    store = request.app.state.store
    now = datetime.now(timezone.utc)
    rid = stable_id("rep", body.platform, body.item_id, body.account_id, body.reporter, now.isoformat())
    with store.begin() as conn:
        conn.execute(user_reports.insert().values(id=rid, platform=body.platform, reporter=body.reporter,
                                                  item_id=body.item_id, account_id=body.account_id,
                                                  category=body.category, text=body.text,
                                                  callback_url=body.callback_url, status="open", created_at=now))
        priority = "urgent" if body.category == "child_exploitation" else "high" if body.category != "other" else "normal"
        review_id = enqueue(conn, rid, "report", {"action": "queue", "priority": priority,
                                                  "queue": "user-reports"},
                            policy=None if body.category == "other" else body.category, score=None,
                            source="user_report")
        audit.append(conn, p.name, "report.received", rid, {"category": body.category})
    return {"id": rid, "review_id": review_id, "status": "open"}


def _one(request: Request, table, id_: str, what: str) -> dict:
    with request.app.state.store.connect() as conn:
        row = conn.execute(select(table).where(table.c.id == id_)).mappings().first()
    if row is None:
        raise Problem(404, "Not Found", f"no {what} {id_!r}")
    return dict(row)


@router.get("/items/{item_id}")
def get_item(request: Request, item_id: str, _p: Principal = Depends(require("read"))) -> Any:
    row = _one(request, schema.messages, item_id, "item")
    with request.app.state.store.connect() as conn:
        row["signals"] = [dict(r) for r in conn.execute(
            select(schema.signals).where(schema.signals.c.item_id == item_id)).mappings()]
        row["entities"] = [dict(r) for r in conn.execute(
            select(schema.entities).where(schema.entities.c.message_id == item_id)).mappings()]
    return row


@router.get("/accounts/{account_id}")
def get_account(request: Request, account_id: str, _p: Principal = Depends(require("read"))) -> Any:
    return _one(request, schema.accounts, account_id, "account")


@router.get("/conversations/{conversation_id}")
def get_conversation(request: Request, conversation_id: str, _p: Principal = Depends(require("read"))) -> Any:
    row = _one(request, schema.conversations, conversation_id, "conversation")
    with request.app.state.store.connect() as conn:
        row["messages"] = [dict(r) for r in conn.execute(
            select(schema.messages.c.id, schema.messages.c.author_id, schema.messages.c.time, schema.messages.c.text)
            .where(schema.messages.c.conversation_id == conversation_id)
            .order_by(schema.messages.c.time).limit(500)).mappings()]
    return row


@router.get("/decisions")
def list_decisions(request: Request, item_id: str | None = None, limit: int = 100,
                   _p: Principal = Depends(require("read"))) -> Any:
    q = select(decisions_t).order_by(decisions_t.c.created_at.desc()).limit(max(1, min(limit, 1000)))
    if item_id:
        q = q.where(decisions_t.c.item_id == item_id)
    with request.app.state.store.connect() as conn:
        return [dict(r) for r in conn.execute(q).mappings()]


@router.get("/cases/{case_id}")
def get_case(request: Request, case_id: str, _p: Principal = Depends(require("read"))) -> Any:
    from haris.review.workflow import WorkflowError, case

    try:
        return case(request.app.state.store, case_id)
    except WorkflowError:
        raise Problem(404, "Not Found", f"no case {case_id!r}") from None


@router.get("/policies")
def get_policies(request: Request, _p: Principal = Depends(require("read"))) -> Any:
    from haris.policy.versions import history

    doc = request.app.state.policy()
    return {"live": {"id": doc.id, "version": doc.version, "rules": [r.id for r in doc.rules]},
            "history": history(request.app.state.store)}
