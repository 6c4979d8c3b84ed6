"""Referral packages for internet referral units and platforms (the Europol IRU model).

    haris report referral --policy terrorism --from 2026-01-01 --to 2026-01-31 --out DIR

One row per actioned item (a closed review whose standing decision labels it
with the policy and acts on it), grouped by platform, as ``<platform>.csv``
and ``<platform>.json``, with ``index.json`` summarising the package:

platform, url (``https://t.me/<channel>/<id>``, ``https://x.com/i/status/<id>``
when derivable), platform_id (the platform's own id: always there, and what a
platform looks up when there is no URL), account, policy, sub_label, language,
first_seen, evidence_hash (SHA-256 of the item's canonical JSON: the same hash
as in the case's evidence bundle), decided_at, action, item_id, review_id.

Referral packages are for terrorism and trafficking; child exploitation goes
to NCMEC (``haris report ncmec``), not to referral lists.
"""
from __future__ import annotations

import csv
import json
from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import select

from haris.act.evidence import record_of
from haris.act.items import (closed_reviews, evidence_hash, iso, item_url, jsonable, messages_of, profile_url,
                             rows_by_id, user_report, utc)
from haris.detect.base import TERRORISM, TRAFFICKING
from haris.errors import ConfigError
from haris.store import schema
from haris.store.db import Store

REFERRAL_POLICIES = (TERRORISM, TRAFFICKING)
FIELDS = ("platform", "url", "platform_id", "account", "policy", "sub_label", "language", "first_seen",
          "evidence_hash", "decided_at", "action", "item_id", "review_id")


@dataclass
class ReferralRow:
    platform: str
    url: str | None
    platform_id: str
    account: str | None
    policy: str
    sub_label: str
    language: str | None
    first_seen: str | None
    evidence_hash: str
    decided_at: str | None
    action: str
    item_id: str
    review_id: str


def referral_rows(store: Store, policy: str, start: datetime | None, end: datetime | None) -> list[ReferralRow]:
    """Rows for items actioned under ``policy`` whose review closed in [start, end)."""
    if policy not in REFERRAL_POLICIES:
        raise ConfigError(f"referral packages are for {' and '.join(REFERRAL_POLICIES)}, not {policy!r}"
                          + (" (child exploitation is reported to NCMEC: haris report ncmec)"
                             if policy == "child_exploitation" else ""))
    rows: list[ReferralRow] = []
    with store.connect() as conn:
        reviews = closed_reviews(conn, start, end, labels=[policy], acted_only=True)
        for r in reviews:
            f = r["final"]
            common = dict(policy=policy, decided_at=iso(f["created_at"]), action=f["action"], review_id=r["id"])
            if r["item_kind"] == "report":
                rep = jsonable(user_report(conn, r["item_id"]) or {"id": r["item_id"]})
                rows.append(ReferralRow(platform=rep.get("platform") or "unknown", url=None,
                                        platform_id=rep.get("item_id") or r["item_id"], account=rep.get("account_id"),
                                        sub_label="user_report", language=None, first_seen=rep.get("created_at"),
                                        evidence_hash=evidence_hash(rep), item_id=r["item_id"], **common))
                continue
            msgs = messages_of(conn, r)
            if not msgs:
                continue
            first = min(msgs, key=lambda m: (utc(m["time"]) or datetime.max.replace(tzinfo=timezone.utc), m["id"]))
            chan = (rows_by_id(conn, schema.channels, [first["channel_id"]]).get(first["channel_id"] or "") or {})
            acc = (rows_by_id(conn, schema.accounts, [first["author_id"]]).get(first["author_id"] or "") or {})
            sigs = conn.execute(select(schema.signals.c.labels, schema.signals.c.score)
                                .where(schema.signals.c.item_id.in_([r["item_id"], first["id"]]),
                                       schema.signals.c.policy == policy)
                                .order_by(schema.signals.c.score.desc())).all()
            sub = ";".join(dict.fromkeys(lbl for labels, _ in sigs for lbl in (labels or [])
                                         if not lbl.startswith("bank:"))) or policy
            if r["item_kind"] == "message":
                url, pid = item_url(first["platform"], first["platform_id"], chan.get("handle")), first["platform_id"]
                ehash = evidence_hash(record_of(first))
            else:   # a conversation or an account: the thread's or the profile's address
                url = (profile_url(acc.get("platform"), acc.get("handle")) if r["item_kind"] == "account"
                       else profile_url(chan.get("platform"), chan.get("handle")))
                pid = (acc.get("platform_id") if r["item_kind"] == "account" else chan.get("platform_id")) or r["item_id"]
                ehash = evidence_hash([record_of(m) for m in msgs])
            account = ("@" + acc["handle"].lstrip("@")) if acc.get("handle") else acc.get("platform_id")
            rows.append(ReferralRow(platform=first["platform"], url=url, platform_id=str(pid), account=account,
                                    sub_label=sub, language=first.get("lang"), first_seen=iso(first["time"]),
                                    evidence_hash=ehash, item_id=r["item_id"], **common))
    rows.sort(key=lambda x: (x.platform, x.first_seen or "", x.item_id))
    return rows


def write_package(rows: list[ReferralRow], out_dir: str | Path, *, policy: str, start: datetime | None,
                  end: datetime | None) -> dict:
    """Write ``<platform>.csv`` and ``<platform>.json`` per platform and ``index.json``; returns the index."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    groups: dict[str, list[ReferralRow]] = defaultdict(list)
    for r in rows:
        groups[r.platform].append(r)
    meta = {"policy": policy, "from": iso(start), "to": iso(end), "generated_at": iso(datetime.now(timezone.utc))}
    index = {**meta, "items": len(rows), "platforms": {}}
    for platform, items in sorted(groups.items()):
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in platform) or "unknown"
        with open(out / f"{safe}.csv", "w", encoding="utf-8", newline="") as f:
            w = csv.DictWriter(f, FIELDS)
            w.writeheader()
            for r in items:
                w.writerow({k: "" if v is None else v for k, v in asdict(r).items()})
        (out / f"{safe}.json").write_text(json.dumps({**meta, "platform": platform,
                                                      "items": [asdict(r) for r in items]},
                                                     indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        index["platforms"][platform] = {"items": len(items), "csv": f"{safe}.csv", "json": f"{safe}.json"}
    (out / "index.json").write_text(json.dumps(index, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return index
