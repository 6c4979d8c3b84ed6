"""`haris show ID`: one stored record with everything known about it."""
from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.panel import Panel
from sqlalchemy import select

from haris.store import schema
from haris.store.db import Store

_KINDS = (("message", schema.messages), ("account", schema.accounts), ("channel", schema.channels),
          ("conversation", schema.conversations))


def _rows(conn, table, column, value, order=None) -> list[dict]:
    q = select(table).where(column == value)
    if order is not None:
        q = q.order_by(order)
    return [dict(r) for r in conn.execute(q).mappings()]


def lookup(database_url: str | None, item_id: str) -> dict[str, Any] | None:
    """The record with this id, whatever its kind, and what hangs off it; None if absent."""
    store = Store.open(database_url)
    try:
        with store.connect() as conn:
            for kind, table in _KINDS:
                row = conn.execute(select(table).where(table.c.id == item_id)).mappings().first()
                if row is None:
                    continue
                out: dict[str, Any] = {"kind": kind, "record": dict(row)}
                out["signals"] = _rows(conn, schema.signals, schema.signals.c.item_id, item_id)
                if kind == "message":
                    out["entities"] = _rows(conn, schema.entities, schema.entities.c.message_id, item_id,
                                            schema.entities.c.start)
                    out["links"] = _rows(conn, schema.links, schema.links.c.message_id, item_id)
                    out["media"] = _rows(conn, schema.media, schema.media.c.message_id, item_id)
                elif kind == "account":
                    out["recent_messages"] = [dict(r) for r in conn.execute(
                        select(schema.messages.c.id, schema.messages.c.time, schema.messages.c.text)
                        .where(schema.messages.c.author_id == item_id)
                        .order_by(schema.messages.c.time.desc()).limit(20)).mappings()]
                elif kind in ("channel", "conversation"):
                    col = schema.messages.c.channel_id if kind == "channel" else schema.messages.c.conversation_id
                    out["recent_messages"] = [dict(r) for r in conn.execute(
                        select(schema.messages.c.id, schema.messages.c.time, schema.messages.c.text)
                        .where(col == item_id).order_by(schema.messages.c.time.desc()).limit(20)).mappings()]
                return out
            return None
    finally:
        store.dispose()


def render(found: dict[str, Any], console: Console) -> None:
    from haris.report.terminal import bidi_mode, highlight

    mode = bidi_mode(console)
    rec = found["record"]
    lines = [f"[bold]{found['kind']}[/] {rec['id']}"]
    for k, v in rec.items():
        if k not in ("id", "text") and v not in (None, ""):
            lines.append(f"  {k}: {v}")
    console.print("\n".join(lines), highlight=False)
    if "text" in rec:
        spans = [(s["start"], s["end"]) for sig in found["signals"] for s in sig["evidence"] if "start" in s]
        console.print(Panel(highlight(rec["text"], spans, width=2000, mode=mode), title="text"))
    for sig in found["signals"]:
        console.print(f"[bold]{sig['policy']}[/] {sig['score']:.2f} {','.join(sig['labels'])} "
                      f"({sig['detector']} {sig['detector_version']})", highlight=False)
        for e in sig["evidence"][:12]:
            console.print(f"    {e['kind']}: {e['label']} {e.get('text', '')!r}", highlight=False)
    for e in found.get("entities", []):
        console.print(f"  entity {e['kind']} {e['text']!r} → {e['value']}", highlight=False)
    for ln in found.get("links", []):
        console.print(f"  link {ln['platform']}/{ln['kind']} {ln['url']}", highlight=False)
    for m in found.get("recent_messages", []):
        console.print(f"  {m['time']}  {m['id']}  {m['text'][:100]!r}", highlight=False)
