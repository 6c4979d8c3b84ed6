"""Evidence bundles: everything about a case, hashed, with its chain of custody, signed.

    haris evidence export case_0123… --out bundle.zip
    haris evidence verify bundle.zip [--public-key key.pem | --fingerprint HEX]

A bundle (see :mod:`haris.act.bundle` for how it is signed and checked) holds:

=========================  ============================================================================
``case.json``              the case, its review items and every decision on them
``items/<id>.json``        each item: ``record`` (the platform content as ingested), ``evidence_hash``
                           (SHA-256 of the record's canonical JSON, the hash referral packages cite),
                           and what haris found: entities, signals, links, media rows
``context/*.json``         accounts and channels involved, and the neighbouring messages (the ones
                           before and after each item in its channel or conversation)
``media/<id><ext>``        media bytes, only where the policy allows (``data/evidence.yaml``); never for
                           child exploitation items, whose media appear in ``media/hashes.json`` only
``custody.json``           the timeline of collection and decisions: ingestion of the source files,
                           detections, queueing, every audit-log entry about the case, its items, review
                           items and media (with their hashes and whether the audit chain verifies),
                           the actions sent to the platform, reports to authorities
=========================  ============================================================================

The export itself is written to the audit log with the manifest's hash, so the
next bundle's custody timeline shows this one.
"""
from __future__ import annotations

import bisect
import json
import os
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import yaml
from sqlalchemy import Connection, select

from haris import __version__
from haris.act import bundle
from haris.act.items import (chunks, evidence_hash, iso, jsonable, message_docs, messages_of,
                             rows_by_id, sha256_hex, user_report, utc)
from haris.act.tables import authority_reports, webhook_deliveries
from haris.detect.base import CHILD_EXPLOITATION
from haris.errors import ConfigError, NotFoundError
from haris.service import audit
from haris.service.tables import audit_log, cases, decisions, review_items
from haris.store import schema
from haris.store.db import Store

EVIDENCE_FILE = Path(__file__).parent / "data" / "evidence.yaml"
FORMAT = "haris-evidence-bundle"
# The platform's content as ingested; what haris derived (language, analysis version) is kept apart.
RECORD_FIELDS = ("id", "platform", "platform_id", "channel_id", "conversation_id", "author_id", "time", "text",
                 "reply_to_id", "forwarded_from", "forwarded_from_id", "kind")


@dataclass(frozen=True)
class EvidenceRules:
    media: dict[str, bool]
    neighbours: int

    def media_allowed(self, labels: set[str]) -> bool:
        """Media bytes only when every label that applies allows them; child exploitation never does."""
        if CHILD_EXPLOITATION in labels:
            return False
        return all(self.media.get(label, False) for label in labels) if labels else False


def load_rules(path: str | Path | None = None) -> EvidenceRules:
    path = Path(path or os.environ.get("HARIS_EVIDENCE_RULES") or EVIDENCE_FILE)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read the evidence rules: {exc}") from None
    media = doc.get("media") or {}
    if not isinstance(media, dict) or not all(isinstance(v, bool) for v in media.values()):
        raise ConfigError(f"{path}: media must map a policy id to true or false")
    if media.get(CHILD_EXPLOITATION):
        raise ConfigError(f"{path}: media.{CHILD_EXPLOITATION} cannot be true: child exploitation media are never "
                          "put in a bundle (hashes only)")
    n = doc.get("neighbours", 5)
    if not isinstance(n, int) or n < 0 or n > 100:
        raise ConfigError(f"{path}: neighbours must be a whole number from 0 to 100, got {n!r}")
    return EvidenceRules({str(k): v for k, v in media.items()}, n)


def record_of(message_row: dict) -> dict:
    """The part of a message that is the platform's content (the input of its evidence hash)."""
    return jsonable({k: message_row.get(k) for k in RECORD_FIELDS})


@dataclass
class ExportResult:
    path: str
    case_id: str
    items: int
    files: int
    media_included: int
    media_withheld: int
    manifest_sha256: str
    fingerprint: str
    public_key_pem: str
    key_file: str

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in ("path", "case_id", "items", "files", "media_included",
                                               "media_withheld", "manifest_sha256", "fingerprint", "key_file")}


# -- collecting -------------------------------------------------------------------------------------
def _labels_by_item(conn: Connection, reviews: list[dict], message_ids: list[str]) -> dict[str, set[str]]:
    """Every label that applies to each message: review policies, decision labels, child-exploitation signals."""
    labels: dict[str, set[str]] = defaultdict(set)
    for r in reviews:
        for d in r["decisions"]:
            labels[r["item_id"]].add(d["label"])
        if r["policy"]:
            labels[r["item_id"]].add(r["policy"])
    for chunk in chunks(message_ids):
        s = schema.signals
        for item in conn.execute(select(s.c.item_id).where(s.c.item_id.in_(chunk), s.c.policy == CHILD_EXPLOITATION)):
            labels[item[0]].add(CHILD_EXPLOITATION)
    return labels


def _neighbours(conn: Connection, items: list[dict], n: int, exclude: set[str]) -> list[dict]:
    """The n messages before and after each item in its channel (by time), items themselves left out."""
    if n <= 0:
        return []
    m = schema.messages
    by_channel: dict[str, list[datetime]] = defaultdict(list)
    for it in items:
        if it.get("channel_id") and it.get("time"):
            by_channel[it["channel_id"]].append(utc(it["time"]))
    wanted: set[str] = set()
    cols = (m.c.id, m.c.time)
    for channel, times in by_channel.items():
        lo, hi = min(times), max(times)
        rows = list(conn.execute(select(*cols).where(m.c.channel_id == channel, m.c.time < lo)
                                 .order_by(m.c.time.desc(), m.c.id.desc()).limit(n)))[::-1]
        rows += list(conn.execute(select(*cols).where(m.c.channel_id == channel, m.c.time >= lo, m.c.time <= hi)
                                  .order_by(m.c.time, m.c.id)))
        rows += list(conn.execute(select(*cols).where(m.c.channel_id == channel, m.c.time > hi)
                                  .order_by(m.c.time, m.c.id).limit(n)))
        ids = [r[0] for r in rows]
        keys = [utc(r[1]) for r in rows]
        for t in times:
            i = bisect.bisect_left(keys, t)
            wanted.update(ids[max(0, i - n): i + n + 1])
    wanted -= exclude
    found = rows_by_id(conn, m, wanted)
    return sorted((jsonable({**record_of(r), "lang": r.get("lang")}) for r in found.values()),
                  key=lambda r: (r["channel_id"] or "", r["time"] or "", r["id"]))


def _media_file(row: dict, source_dirs: dict[str, Path]) -> Path | None:
    p = row.get("path")
    if not p:
        return None
    candidates = [Path(p)]
    if not Path(p).is_absolute() and row.get("_source_dir"):
        candidates.insert(0, source_dirs[row["_source_dir"]] / p)
    for c in candidates:
        if c.is_file() and os.access(c, os.R_OK):
            return c
    return None


def _custody(conn: Connection, case: dict, reviews: list[dict], messages: list[dict], media_ids: list[str]) -> dict:
    events: list[dict] = []
    src_ids = {m["source_id"] for m in messages if m.get("source_id")}
    for s in rows_by_id(conn, schema.sources, src_ids).values():
        events.append({"at": iso(s["ingested_at"]), "event": "collected", "actor": "haris", "target": s["id"],
                       "detail": {"file": s["path"], "format": s["format"], "sha256": s["id"], "size": s["size"]}})
    msg_ids = [m["id"] for m in messages]
    for chunk in chunks(msg_ids):
        s = schema.signals
        for r in conn.execute(select(s).where(s.c.item_id.in_(chunk)).order_by(s.c.created_at)).mappings():
            events.append({"at": iso(r["created_at"]), "event": "detected", "actor": r["detector"],
                           "target": r["item_id"], "detail": {"policy": r["policy"], "score": r["score"],
                                                              "detector_version": r["detector_version"]}})
    for r in reviews:
        events.append({"at": iso(r["created_at"]), "event": "queued", "actor": "haris", "target": r["id"],
                       "detail": {"item": r["item_id"], "queue": r["queue"], "priority": r["priority"],
                                  "source": r["source"]}})
    targets = {case["id"], *(r["id"] for r in reviews), *(r["item_id"] for r in reviews), *msg_ids, *media_ids}
    for chunk in chunks(targets):
        for a in conn.execute(select(audit_log).where(audit_log.c.target.in_(chunk))).mappings():
            events.append({"at": iso(a["at"]), "event": a["action"], "actor": a["actor"], "target": a["target"],
                           "detail": a["detail"], "audit": {"seq": a["seq"], "hash": a["hash"],
                                                            "prev_hash": a["prev_hash"]}})
    for chunk in chunks([r["id"] for r in reviews]):
        d = webhook_deliveries
        for w in conn.execute(select(d).where(d.c.review_item_id.in_(chunk))).mappings():
            events.append({"at": iso(w["created_at"]), "event": f"webhook.{w['event']}", "actor": "haris",
                           "target": w["item_id"], "detail": {"delivery": w["id"], "url": w["url"],
                                                              "status": w["status"], "attempts": w["attempts"],
                                                              "delivered_at": iso(w["delivered_at"]),
                                                              "last_error": w["last_error"]}})
    for rep in conn.execute(select(authority_reports).where(authority_reports.c.case_id == case["id"])).mappings():
        events.append({"at": iso(rep["created_at"]), "event": f"authority_report.{rep['status']}", "actor": "haris",
                       "target": case["id"], "detail": {"report": rep["id"], "kind": rep["kind"],
                                                        "sha256": rep["sha256"], "remote_id": rep["remote_id"]}})
    events.sort(key=lambda e: (e["at"] or "", e.get("audit", {}).get("seq", 0)))
    return {"events": jsonable(events)}


def collect(store: Store, case_id: str, rules: EvidenceRules) -> tuple[dict[str, bytes], dict]:
    """The bundle's files (name -> bytes) and counts, read in one consistent snapshot of the store."""
    files: dict[str, bytes] = {}
    counts = {"items": 0, "media_included": 0, "media_withheld": 0}

    def put(name: str, obj) -> None:
        files[name] = pretty_json(obj)

    with store.connect() as conn, conn.begin():
        case = conn.execute(select(cases).where(cases.c.id == case_id)).mappings().first()
        if case is None:
            raise NotFoundError(f"no case {case_id!r}")
        case = dict(case)
        reviews = [dict(r) for r in conn.execute(select(review_items).where(review_items.c.case_id == case_id)
                                                 .order_by(review_items.c.created_at, review_items.c.id)).mappings()]
        if not reviews:
            raise NotFoundError(f"case {case_id!r} has no review items: nothing to export")
        decs = defaultdict(list)
        for chunk in chunks([r["id"] for r in reviews]):
            for d in conn.execute(select(decisions).where(decisions.c.review_item_id.in_(chunk))
                                  .order_by(decisions.c.created_at)).mappings():
                decs[d["review_item_id"]].append(dict(d))
        for r in reviews:
            r["decisions"] = decs[r["id"]]
        messages: dict[str, dict] = {}
        item_messages: dict[str, list[str]] = {}
        reports: dict[str, dict] = {}
        for r in reviews:
            if r["item_kind"] == "report":
                reports[r["item_id"]] = user_report(conn, r["item_id"]) or {"id": r["item_id"], "missing": True}
                continue
            rows = messages_of(conn, r)
            item_messages[r["item_id"]] = [m["id"] for m in rows]
            for m in rows:
                messages[m["id"]] = m
        docs = {d["id"]: d for d in message_docs(conn, list(messages.values()))}
        labels = _labels_by_item(conn, reviews, list(messages))
        item_of = {mid: item for item, mids in item_messages.items() for mid in mids}
        src = rows_by_id(conn, schema.sources, {m["source_id"] for m in messages.values() if m.get("source_id")})
        source_dirs = {k: Path(v["path"]).parent for k, v in src.items()}
        hashes, media_ids = [], []
        for mid, doc in sorted(docs.items()):
            applies = labels.get(mid, set()) | labels.get(item_of.get(mid, ""), set())
            allowed = rules.media_allowed(applies)
            rec = record_of(messages[mid])
            for md in doc["media"]:
                media_ids.append(md["id"])
                md["_source_dir"] = messages[mid].get("source_id") if messages[mid].get("source_id") in src else None
                entry = {"media_id": md["id"], "message_id": mid, "kind": md["kind"], "sha256": md["sha256"],
                         "included": False}
                path = _media_file(md, source_dirs)
                md.pop("_source_dir")
                if not allowed:
                    entry["withheld"] = ("child exploitation: hashes only" if CHILD_EXPLOITATION in applies
                                         else f"not allowed for {', '.join(sorted(applies)) or 'unlabelled items'}")
                    counts["media_withheld"] += 1
                elif path is None:
                    entry["withheld"] = "the file is not available locally"
                else:
                    data = path.read_bytes()
                    entry.update(included=True, file=f"media/{md['id']}{path.suffix.lower()}",
                                 sha256_of_bytes=sha256_hex(data))
                    if md["sha256"] and md["sha256"] != entry["sha256_of_bytes"]:
                        entry["note"] = "the file's bytes differ from the hash recorded at ingestion"
                    files[entry["file"]] = data
                    counts["media_included"] += 1
                hashes.append(entry)
            put(f"items/{mid}.json", {"record": rec, "evidence_hash": evidence_hash(rec), "item_of": item_of.get(mid),
                                      "lang": doc.get("lang"), "entities": doc["entities"], "signals": doc["signals"],
                                      "links": doc["links"], "media": doc["media"]})
        for rid, rep in reports.items():
            put(f"items/{rid}.json", {"record": jsonable(rep), "evidence_hash": evidence_hash(jsonable(rep))})
        counts["items"] = len(docs) + len(reports)
        accounts = {m["author_id"] for m in messages.values() if m.get("author_id")}
        accounts |= {r["item_id"] for r in reviews if r["item_kind"] == "account"}
        channels = {m["channel_id"] for m in messages.values() if m.get("channel_id")}
        put("case.json", {"case": jsonable(case), "review_items": jsonable(reviews),
                          "items": {mid: evidence_hash(record_of(m)) for mid, m in sorted(messages.items())}})
        put("context/accounts.json", jsonable(sorted(rows_by_id(conn, schema.accounts, accounts).values(),
                                                     key=lambda r: r["id"])))
        put("context/channels.json", jsonable(sorted(rows_by_id(conn, schema.channels, channels).values(),
                                                     key=lambda r: r["id"])))
        put("context/neighbours.json", _neighbours(conn, list(messages.values()), rules.neighbours, set(messages)))
        put("media/hashes.json", hashes)
        put("custody.json", _custody(conn, case, reviews, list(messages.values()), media_ids))
    return files, counts


def pretty_json(obj) -> bytes:
    """Readable JSON (indented, sorted keys): the files people open."""
    return json.dumps(obj, indent=1, sort_keys=True, ensure_ascii=False, default=str).encode() + b"\n"


def export_case(store: Store, case_id: str, out: str | Path, *, actor: str = "cli",
                key_path: str | Path | None = None, rules: EvidenceRules | None = None) -> ExportResult:
    """Write the signed evidence bundle of a case to ``out`` and record the export in the audit log."""
    rules = rules or load_rules()
    key, kfile = bundle.signing_key(key_path)
    files, counts = collect(store, case_id, rules)
    chain = audit.verify(store)
    custody = json.loads(files["custody.json"])
    custody["audit_chain"] = chain.to_dict()
    files["custody.json"] = pretty_json(custody)
    meta = {"format": FORMAT, "version": 1, "case_id": case_id, "created_at": iso(datetime.now(timezone.utc)),
            "created_by": actor, "haris_version": __version__, "counts": counts}
    digest = bundle.write_bundle(out, files, meta, key)
    pub = key.public_key()
    with store.begin() as conn:
        audit.append(conn, actor, "evidence.export", case_id,
                     {"manifest_sha256": digest, "fingerprint": bundle.fingerprint(pub), "files": len(files),
                      "file": str(out), **counts})
    return ExportResult(str(out), case_id, counts["items"], len(files), counts["media_included"],
                        counts["media_withheld"], digest, bundle.fingerprint(pub), bundle.public_pem(pub).decode(),
                        str(kfile))


verify_bundle = bundle.verify_bundle
