"""People at risk: the likely minor of a flagged grooming conversation, recorded for protection.

>>> from haris.detect.base import Signal
>>> sig = Signal(policy="child_exploitation", score=0.93, detector="grooming", detector_version="1.0",
...              labels=["contact", "isolation"], item_id="conv_1",
...              data={"minor": "acc_2", "adult": "acc_1", "current_stage": "isolation",
...                    "action": "queue:review", "lang": "en"})
>>> p = at_risk_from_signal(sig, platform="telegram")
>>> (p.conversation_id, p.account_id, p.stage, p.intervention_status)
('conv_1', 'acc_2', 'isolation', 'pending')
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import select, update

from haris.detect.base import CHILD_EXPLOITATION, Signal
from haris.model import stable_id
from haris.protect.tables import at_risk_persons

STATUSES = ("pending", "delivered", "declined")


@dataclass(slots=True)
class AtRiskPerson:
    id: str
    policy: str
    conversation_id: str
    platform: str
    account_id: str | None
    platform_account_id: str | None
    lang: str | None
    stage: str | None
    stages: list[str] = field(default_factory=list)
    score: float = 0.0
    action: str = "none"
    intervention_status: str = "pending"
    restricted: bool = True
    created_at: datetime | None = None
    updated_at: datetime | None = None

    def to_row(self) -> dict[str, Any]:
        return asdict(self)


def at_risk_from_signal(signal: Signal, *, platform: str = "generic", platform_account_id: str | None = None,
                        lang: str | None = None, now: datetime | None = None) -> AtRiskPerson | None:
    """The record for the likely minor of a flagged grooming signal, or None.

    None when the signal is not a flagged ``child_exploitation`` conversation signal
    (recommended action "none") or names no likely minor.
    """
    data = signal.data or {}
    minor = data.get("minor")
    if signal.policy != CHILD_EXPLOITATION or not minor or data.get("action", "none") == "none":
        return None
    conversation_id = signal.item_id or ""
    now = now or datetime.now(timezone.utc)
    return AtRiskPerson(
        id=stable_id("risk", platform, conversation_id, minor), policy=CHILD_EXPLOITATION,
        conversation_id=conversation_id, platform=platform, account_id=str(minor),
        platform_account_id=platform_account_id, lang=lang or data.get("lang"), stage=data.get("current_stage"),
        stages=list(signal.labels), score=float(signal.score), action=str(data.get("action")),
        created_at=now, updated_at=now)


def record_at_risk(store: Any, person: AtRiskPerson) -> None:
    """Insert or refresh the record (stage, score, action; creation time and intervention status kept).

    When ``platform_account_id`` is unknown and the account is in the store, it is filled
    from ``accounts.platform_id``.
    """
    from haris.store import schema

    row = person.to_row()
    with store.begin() as conn:
        if row["platform_account_id"] is None and row["account_id"]:
            found = conn.execute(select(schema.accounts.c.platform_id)
                                 .where(schema.accounts.c.id == row["account_id"])).first()
            if found is not None:
                row["platform_account_id"] = found[0]
        store.upsert(conn, at_risk_persons, [row],
                     update=["stage", "stages", "score", "action", "lang", "platform_account_id", "updated_at"])


def mark_intervention(store: Any, person_id: str, status: str) -> bool:
    """Record what happened to the safety intervention (pending, delivered, declined)."""
    if status not in STATUSES:
        raise ValueError(f"unknown intervention status {status!r}; expected one of {', '.join(STATUSES)}")
    with store.begin() as conn:
        result = conn.execute(update(at_risk_persons).where(at_risk_persons.c.id == person_id)
                              .values(intervention_status=status, updated_at=datetime.now(timezone.utc)))
        return result.rowcount > 0


def at_risk_for_conversation(store: Any, conversation_id: str) -> list[dict]:
    """Records of one conversation (restricted data: callers check the reader's role)."""
    with store.connect() as conn:
        rows = conn.execute(select(at_risk_persons).where(at_risk_persons.c.conversation_id == conversation_id)
                            .order_by(at_risk_persons.c.created_at)).mappings()
        return [dict(r) for r in rows]
