"""Sharing what was actioned: STIX 2.1 indicators and hash lists, never the content.

    haris report stix --from 2026-01-01 --to 2026-01-31 --out indicators.stix.json
    haris report hashes --from … --to … --format tx-csv --out DIR

Indicators come from items whose review closed in the period with a decision
that acts on them: the URLs they carried, the domains of web links (not those
of the platforms themselves: an indicator for t.me would flag all of
Telegram), and the hashes of their media (SHA-256 as ingested; MD5, PDQ and
vPDQ when the file is available locally to hash). Each carries the policy as
its label; no text, name or file leaves.

Both outputs are written by the hash banks' own writers
(:mod:`haris.match.formats`), fed with a transient bank per signal type, so
that haris reads back what it shares (``haris bank import``): STIX through its
``stix`` writer (the per-type bundles merged into one bundle per export), hash
lists in its ``list``, ``json`` (HMA), ``tx-lines`` and ``tx-csv``
(python-threatexchange) formats. ThreatExchange has no SHA-256 signal type,
so SHA-256 lists are written in the list, json and stix formats only.
"""
from __future__ import annotations

import json
import tempfile
import uuid
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import select

from haris.act.items import closed_reviews, messages_of, utc
from haris.errors import ConfigError, InputError
from haris.store import schema
from haris.store.db import Store

EXTENSIONS = {"list": ".txt", "tx-lines": ".tx.txt", "tx-csv": ".csv", "json": ".json", "stix": ".stix.json"}
HASH_TYPES = ("sha256", "md5", "pdq", "vpdq")


def actioned_signals(store: Store, start: datetime | None, end: datetime | None,
                     policies: list[str] | None = None, *, hash_files: bool = True) -> dict[str, list]:
    """Entries per signal type (url, domain, sha256, md5, pdq, vpdq) from the items actioned in [start, end)."""
    from haris.match.banks import Entry
    from haris.match.signals import canonical_signal

    found: dict[str, dict[str, Entry]] = defaultdict(dict)

    def add(kind: str, raw: str | None, policy: str, at: datetime) -> None:
        if not raw:
            return
        try:
            value, key = canonical_signal(kind, raw)
        except ValueError:
            return   # not a valid signal of this type (a malformed URL, a short hash): nothing to share
        if key not in found[kind]:
            found[kind][key] = Entry(signal=value, label=f"{policy} actioned", category=policy, source="haris",
                                     added_at=at)

    with store.connect() as conn:
        reviews = closed_reviews(conn, start, end, labels=policies, acted_only=True)
        for r in reviews:
            policy, at = r["final"]["label"], utc(r["final"]["created_at"])
            if policy not in ("trafficking", "terrorism", "child_exploitation"):
                continue
            ids = [m["id"] for m in messages_of(conn, r)]
            if not ids:
                continue
            for ln in conn.execute(select(schema.links).where(schema.links.c.message_id.in_(ids))).mappings():
                add("url", ln["url"], policy, at)
                if ln["platform"] == "web" and ln["domain"]:
                    add("domain", ln["domain"], policy, at)
            for md in conn.execute(select(schema.media).where(schema.media.c.message_id.in_(ids))).mappings():
                add("sha256", md["sha256"], policy, at)
                if hash_files and md["path"] and Path(md["path"]).is_file():
                    _add_file_hashes(add, Path(md["path"]), md["kind"], policy, at)
    return {k: list(v.values()) for k, v in found.items()}


def _add_file_hashes(add, path: Path, kind: str, policy: str, at: datetime) -> None:
    from haris.match.hashing import hash_file

    try:
        h = hash_file(path, video=kind in ("video", "animation"))
    except Exception:  # noqa: BLE001 - a file that cannot be hashed keeps its ingested SHA-256 only
        return
    add("sha256", h.sha256, policy, at)
    add("pdq", h.pdq, policy, at)
    if h.kind == "video":   # ThreatExchange's md5 type is video_md5
        add("md5", h.md5, policy, at)
        if h.vpdq:
            from haris.match.hashing import vpdq_to_signal

            add("vpdq", vpdq_to_signal(h.vpdq), policy, at)


def _bank(signal_type: str, entries: list):
    from haris.match.banks import Bank

    now = datetime.now(timezone.utc)
    category = entries[0].category if entries else "terrorism"
    return Bank(id=f"export-{signal_type}", name=f"haris-actioned-{signal_type}", signal_type=signal_type,
                category=category, description="indicators of items actioned by haris", threshold=None,
                enabled=True, version=0, rebuild_version=0, created_at=now, updated_at=now)


def stix_bundle(store: Store, start: datetime | None, end: datetime | None, out: str | Path,
                policies: list[str] | None = None) -> dict:
    """One STIX 2.1 bundle of indicators for the period; returns counts per signal type."""
    import stix2

    from haris.match import formats

    signals = actioned_signals(store, start, end, policies)
    objects, counts = [], {}
    with tempfile.TemporaryDirectory() as tmp:
        for kind in ("url", "domain", "sha256", "md5", "pdq"):
            entries = signals.get(kind) or []
            if not entries:
                continue
            path = Path(tmp) / f"{kind}.json"
            counts[kind] = formats.write(path, "stix", _bank(kind, entries), entries)
            objects += json.loads(path.read_text(encoding="utf-8")).get("objects", [])
    bundle = stix2.Bundle(objects=[stix2.parse(o, allow_custom=True) for o in objects], allow_custom=True) \
        if objects else {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": []}
    text = bundle.serialize(pretty=True) if objects else json.dumps(bundle, indent=4)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(text + "\n", encoding="utf-8")
    return {"indicators": sum(counts.values()), "by_type": counts, "path": str(out)}


def hash_lists(store: Store, start: datetime | None, end: datetime | None, out_dir: str | Path, fmt: str = "tx-csv",
               policies: list[str] | None = None) -> dict:
    """A hash list per signal type in a bank format; returns the files written and the types skipped (why)."""
    from haris.match import formats

    if fmt not in EXTENSIONS:
        raise ConfigError(f"unknown hash list format {fmt!r}; formats are {', '.join(EXTENSIONS)}")
    signals = actioned_signals(store, start, end, policies)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written, skipped = {}, {}
    for kind in HASH_TYPES:
        entries = signals.get(kind) or []
        if not entries:
            continue
        path = out / f"actioned-{kind}{EXTENSIONS[fmt]}"
        try:
            written[str(path)] = formats.write(path, fmt, _bank(kind, entries), entries)
        except InputError as exc:   # the format cannot carry this type (ThreatExchange and SHA-256)
            skipped[kind] = exc.problem
    return {"format": fmt, "files": written, "skipped": skipped}
