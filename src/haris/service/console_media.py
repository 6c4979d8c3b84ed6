"""Media in the console: blurred and greyscale by default, revealed on a logged click, never for child abuse.

What reviewers see follows the industry's wellbeing practice (blur, greyscale,
small size, reveal one file at a time, reveals expire):

* ``/media/{id}/blurred`` is a rendition made on the server (greyscale,
  strong Gaussian blur, at most ``RENDITION_SIZE`` pixels): the browser never
  receives the original until someone asks for it.
* A reveal is a POST that writes ``media.reveal`` to the audit log and, in the
  same transaction, a grant for that session and file lasting
  ``GRANT_TTL``; ``/media/{id}/original`` serves the file only under a live
  grant.
* Media of a child exploitation item is never served in any form: the page
  shows its hash only (hash matching, not viewing, is how such material is
  handled and reported).
"""
from __future__ import annotations

import hashlib
import io
import os
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageFilter, ImageOps, UnidentifiedImageError
from sqlalchemy import Connection, delete, or_, select

from haris.detect.base import CHILD_EXPLOITATION
from haris.service import audit
from haris.service.tables import decisions, media_grants, review_items
from haris.store import schema

GRANT_TTL = timedelta(minutes=5)
RENDITION_SIZE = 480
MAX_PIXELS = 64_000_000          # refuse decompression bombs rather than blur them
CHILD_QUEUES = ("child-safety",)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _session_key(token: str) -> str:
    # The same SHA-256 the sessions table is keyed by (so grants die with the session).
    return hashlib.sha256(token.encode()).hexdigest()


def media_row(conn: Connection, media_id: str) -> dict | None:
    row = conn.execute(select(schema.media).where(schema.media.c.id == media_id)).mappings().first()
    return dict(row) if row else None


def hash_only(conn: Connection, message_id: str) -> bool:
    """True when the message (or its conversation) is a child exploitation item: its media is never shown.

    Any of: a child exploitation signal on the message or its conversation, a
    review item for it in that policy or the child-safety queue, a decision
    labelling it so. Erring towards "hash only" is the point.
    """
    conv = conn.execute(select(schema.messages.c.conversation_id)
                        .where(schema.messages.c.id == message_id)).scalar()
    ids = [message_id] + ([conv] if conv else [])
    s, r, d = schema.signals, review_items, decisions
    if conn.execute(select(s.c.id).where(s.c.item_id.in_(ids), s.c.policy == CHILD_EXPLOITATION).limit(1)).first():
        return True
    if conn.execute(select(r.c.id).where(r.c.item_id.in_(ids), or_(r.c.policy == CHILD_EXPLOITATION,
                                                                     r.c.queue.in_(CHILD_QUEUES))).limit(1)).first():
        return True
    return conn.execute(select(d.c.id).where(d.c.item_id.in_(ids), d.c.label == CHILD_EXPLOITATION)
                        .limit(1)).first() is not None


def local_file(row: dict) -> Path | None:
    """The media's file when it is a readable local file (media known only by URL or hash has none)."""
    p = row.get("path")
    if not p:
        return None
    path = Path(p)
    return path if path.is_file() and os.access(path, os.R_OK) else None


def image_format(path: Path) -> str | None:
    """The Pillow format name (``PNG``, ``JPEG``…) when the file is an image, else None."""
    try:
        with Image.open(path) as im:
            return im.format
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        return None


@lru_cache(maxsize=256)
def _rendition(path: str, _mtime_ns: int, _size: int) -> bytes:
    with Image.open(path) as im:
        if im.width * im.height > MAX_PIXELS:
            raise ValueError("image too large to render")
        im.draft("L", (RENDITION_SIZE, RENDITION_SIZE))     # JPEG: decode small and grey directly
        im = ImageOps.exif_transpose(im).convert("L")
        im.thumbnail((RENDITION_SIZE, RENDITION_SIZE))
        radius = max(12, max(im.size) // 10)                # no shape, text or face survives this
        im = im.filter(ImageFilter.GaussianBlur(radius))
        out = io.BytesIO()
        im.save(out, format="PNG", optimize=False)
        return out.getvalue()


def blurred_png(path: Path) -> bytes | None:
    """A greyscale, blurred PNG rendition of an image file, or None when it is not an image."""
    st = path.stat()
    try:
        return _rendition(str(path), st.st_mtime_ns, st.st_size)
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None


def reveal(conn: Connection, token: str, actor: str, media: dict, review_id: str | None) -> None:
    """Audit the reveal and grant this session the original for ``GRANT_TTL`` (one transaction)."""
    key = _session_key(token)
    now = _now()
    conn.execute(delete(media_grants).where(media_grants.c.expires_at < now))
    conn.execute(delete(media_grants).where(media_grants.c.session_id == key,
                                            media_grants.c.media_id == media["id"]))
    conn.execute(media_grants.insert().values(session_id=key, media_id=media["id"], expires_at=now + GRANT_TTL))
    audit.append(conn, actor, "media.reveal", media["id"],
                 {"message_id": media["message_id"], "review_id": review_id, "sha256": media.get("sha256"),
                  "for_seconds": int(GRANT_TTL.total_seconds())})


def granted(conn: Connection, token: str, media_ids: list[str]) -> set[str]:
    """Which of ``media_ids`` this session may see unblurred right now."""
    if not media_ids:
        return set()
    rows = conn.execute(select(media_grants.c.media_id).where(
        media_grants.c.session_id == _session_key(token), media_grants.c.media_id.in_(media_ids),
        media_grants.c.expires_at > _now()))
    return {r[0] for r in rows}


def media_for(conn: Connection, message_id: str, token: str) -> list[dict]:
    """The media of one message, each with the ``state`` the page may show.

    ``hash_only`` (a child exploitation item), ``blurred`` or ``revealed`` (a
    local image; revealed under a live grant of this session), ``no_preview``
    (a local file that is not an image), ``absent`` (known by URL or hash only).
    """
    rows = [dict(r) for r in conn.execute(select(schema.media).where(schema.media.c.message_id == message_id)
                                          .order_by(schema.media.c.id)).mappings()]
    if not rows:
        return rows
    if hash_only(conn, message_id):
        for r in rows:
            r["state"] = "hash_only"
        return rows
    live = granted(conn, token, [r["id"] for r in rows])
    for r in rows:
        path = local_file(r)
        if path is None:
            r["state"] = "absent"            # known by URL or hash only: nothing to show
        elif image_format(path) is None:
            r["state"] = "no_preview"        # a local video or file: no rendition is made
        else:
            r["state"] = "revealed" if r["id"] in live else "blurred"
    return rows
