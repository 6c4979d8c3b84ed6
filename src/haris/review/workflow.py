"""The review workflow: queues, assignment, decisions, second review, cases.

Rules that hold whatever the front end (API or console):

* Queues sort by severity, then age: a child at risk first (``urgent``), then
  the oldest item of the same priority.
* A reviewer's decision closes an item, except when it would suspend or
  remove an account or report to authorities: then it waits for a second
  review by a *different* person with the ``senior_reviewer`` role, who
  confirms or overturns it. (So does an item the policy already marked for a
  second review.)
* Every decision, assignment and case change is written to the audit log in
  the same transaction as the change itself.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import and_, func, select, update

from haris.errors import HarisError
from haris.model import stable_id
from haris.policy.model import PRIORITY_RANK
from haris.service import audit
from haris.service.auth import User
from haris.service.tables import cases, decisions, review_items
from haris.store.db import Store

LABELS = ("trafficking", "child_exploitation", "terrorism", "benign")
ACTIONS = ("no_action", "remove_item", "suspend_account", "preserve", "report", "safety_intervention")
NEEDS_SECOND_REVIEW = {"suspend_account", "report"}


class WorkflowError(HarisError):
    exit_code = 2


class Forbidden(WorkflowError):
    """The user's roles do not allow this."""


def _now() -> datetime:
    return datetime.now(timezone.utc)


def enqueue(conn, item_id: str, item_kind: str, decision: dict, *, policy: str | None, score: float | None,
            source: str = "proactive") -> str | None:
    """Queue an item as its policy decision says; idempotent per (item, queue). Returns the review id."""
    if decision.get("action", "none") == "none" or not decision.get("priority"):
        return None
    queue = decision.get("queue") or policy or "general"
    rid = stable_id("rev", "haris", item_id, queue)
    if conn.execute(select(review_items.c.id).where(review_items.c.id == rid)).first():
        return rid
    now = _now()
    conn.execute(review_items.insert().values(
        id=rid, item_id=item_id, item_kind=item_kind, policy=policy, score=score, priority=decision["priority"],
        priority_rank=PRIORITY_RANK[decision["priority"]], queue=queue, source=source, status="open",
        decision=decision, created_at=now, updated_at=now))
    return rid


def queue(store: Store, *, status: str | tuple[str, ...] = ("open", "needs_second_review"), queue: str | None = None,
          policy: str | None = None, assigned_to: str | None = None, limit: int = 50, offset: int = 0) -> list[dict]:
    statuses = (status,) if isinstance(status, str) else status
    q = select(review_items).where(review_items.c.status.in_(statuses))
    if queue:
        q = q.where(review_items.c.queue == queue)
    if policy:
        q = q.where(review_items.c.policy == policy)
    if assigned_to:
        q = q.where(review_items.c.assigned_to == assigned_to)
    q = q.order_by(review_items.c.priority_rank.desc(), review_items.c.created_at.asc(), review_items.c.id)
    with store.connect() as conn:
        return [dict(r) for r in conn.execute(q.limit(limit).offset(offset)).mappings()]


def counts(store: Store) -> dict[str, int]:
    with store.connect() as conn:
        rows = conn.execute(select(review_items.c.queue, func.count()).where(
            review_items.c.status.in_(("open", "needs_second_review"))).group_by(review_items.c.queue)).all()
    return {q: n for q, n in rows}


def get(store: Store, review_id: str) -> dict:
    with store.connect() as conn:
        row = conn.execute(select(review_items).where(review_items.c.id == review_id)).mappings().first()
        if row is None:
            raise WorkflowError(f"no review item {review_id!r}")
        out = dict(row)
        out["decisions"] = [dict(r) for r in conn.execute(
            select(decisions).where(decisions.c.review_item_id == review_id).order_by(decisions.c.created_at))
            .mappings()]
    return out


def assign(store: Store, review_id: str, user: User, to_user_id: str | None = None) -> None:
    if not user.has("reviewer", "senior_reviewer"):
        raise Forbidden("only reviewers take or assign items")
    target = to_user_id or user.id
    with store.begin() as conn:
        conn.execute(update(review_items).where(review_items.c.id == review_id)
                     .values(assigned_to=target, updated_at=_now()))
        audit.append(conn, user.username, "review.assign", review_id, {"to": target})


def decide(store: Store, review_id: str, user: User, *, label: str, action: str, reason: str,
           agrees: bool | None = None) -> dict:
    """Record a first or second decision; returns the review item as it is afterwards."""
    if label not in LABELS:
        raise WorkflowError(f"label must be one of {', '.join(LABELS)}")
    if action not in ACTIONS:
        raise WorkflowError(f"action must be one of {', '.join(ACTIONS)}")
    if not reason or not reason.strip():
        raise WorkflowError("a decision needs a reason")
    with store.begin() as conn:
        item = conn.execute(select(review_items).where(review_items.c.id == review_id)).mappings().first()
        if item is None:
            raise WorkflowError(f"no review item {review_id!r}")
        now = _now()
        if item["status"] == "open":
            if not user.has("reviewer", "senior_reviewer"):
                raise Forbidden("only reviewers decide")
            stage = "first"
            policy_wants_second = bool((item["decision"] or {}).get("second_review"))
            second = action in NEEDS_SECOND_REVIEW or (policy_wants_second and action != "no_action")
            status = "needs_second_review" if second else "closed"
        elif item["status"] == "needs_second_review":
            if not user.has("senior_reviewer"):
                raise Forbidden("a second review needs the senior_reviewer role")
            first = conn.execute(select(decisions).where(and_(decisions.c.review_item_id == review_id,
                                                              decisions.c.stage == "first"))).mappings().first()
            if first is not None and first["reviewer_id"] == user.id:
                raise Forbidden("the second review must be made by someone else")
            if agrees is None:
                agrees = first is not None and first["label"] == label and first["action"] == action
            stage, status = "second", "closed"
        else:
            raise WorkflowError(f"review item {review_id} is {item['status']}")
        did = stable_id("dec", "haris", review_id, stage)
        conn.execute(decisions.insert().values(
            id=did, review_item_id=review_id, item_id=item["item_id"], reviewer_id=user.id, stage=stage,
            label=label, action=action, reason=reason.strip(), agrees=agrees if stage == "second" else None,
            created_at=now))
        conn.execute(update(review_items).where(review_items.c.id == review_id).values(
            status=status, updated_at=now, closed_at=now if status == "closed" else None))
        audit.append(conn, user.username, f"decision.{stage}", item["item_id"],
                     {"review_id": review_id, "label": label, "action": action, "reason": reason.strip(),
                      **({"agrees": agrees} if stage == "second" else {})})
        # --- act hook (haris.act, issue 8): a closed item queues its platform action in this transaction ---
        if status == "closed":
            from haris.act.webhooks import on_review_closed

            on_review_closed(conn, review_id)
        # --- end act hook ---
    return get(store, review_id)


def create_case(store: Store, user: User, title: str, review_ids: list[str], kind: str = "manual") -> str:
    if not user.has("reviewer", "senior_reviewer"):
        raise Forbidden("only reviewers open cases")
    cid = stable_id("case", "haris", title, _now().isoformat())
    with store.begin() as conn:
        conn.execute(cases.insert().values(id=cid, title=title, kind=kind, status="open", created_by=user.id,
                                           created_at=_now()))
        if review_ids:
            conn.execute(update(review_items).where(review_items.c.id.in_(review_ids)).values(case_id=cid))
        audit.append(conn, user.username, "case.create", cid, {"title": title, "items": review_ids})
    return cid


def case(store: Store, case_id: str) -> dict[str, Any]:
    with store.connect() as conn:
        row = conn.execute(select(cases).where(cases.c.id == case_id)).mappings().first()
        if row is None:
            raise WorkflowError(f"no case {case_id!r}")
        items = [dict(r) for r in conn.execute(select(review_items).where(review_items.c.case_id == case_id)
                                               .order_by(review_items.c.priority_rank.desc())).mappings()]
    return {**dict(row), "items": items}
