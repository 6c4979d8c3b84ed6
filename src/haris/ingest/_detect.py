"""Which format a file is in, from its first bytes (the extension is only a tie-breaker).

Order of the checks, and why:

1. empty, or binary (known magic numbers, NUL bytes, mostly undecodable):
   refused with what was seen, e.g. "a ZIP archive";
2. a first line that starts a WhatsApp message (a date, a time, a sender;
   iOS lines start with ``[``, so this comes before JSON);
3. starts with ``{`` or ``[``: a JSON document or JSON Lines. Telegram and
   Twitter are told apart by their keys (a Telegram export has ``chats`` or
   ``messages``; a Twitter response has ``data``/``includes``; a tweet has
   ``id``, ``text`` and tweet-only fields); any other object per line is
   generic ``jsonl``;
4. a header row with a delimiter that the next rows repeat: ``csv``.
"""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import ijson

from haris.errors import UnknownFormatError
from haris.ingest import twitter, whatsapp
from haris.ingest._json import ijson_backend
from haris.ingest._text import encoding_of, read_head

EXPECTED = ("a Telegram Desktop result.json, a WhatsApp .txt chat export, Twitter API v2 JSON/JSONL, "
            "or JSONL/CSV in the generic schema (docs/formats.md)")

_MAGIC = (
    (b"PK\x03\x04", "a ZIP archive (unzip the export first)"),
    (b"\x89PNG", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"), (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"), (b"\x1f\x8b", "a gzip archive (decompress it first)"),
    (b"SQLite format 3", "an SQLite database"), (b"OggS", "an Ogg audio file"),
    (b"RIFF", "a RIFF (WebP/WAV/AVI) file"), (b"7z\xbc\xaf", "a 7-Zip archive"),
    (b"Rar!", "a RAR archive"), (b"\x7fELF", "an executable"),
)
_TELEGRAM_KEYS = {"chats", "left_chats", "personal_information", "frequent_contacts", "contacts",
                  "profile_pictures"}
_CSV_DELIMITERS = (",", ";", "\t", "|")


def detect_format(path: Path) -> str:
    path = Path(path)
    head = read_head(path)
    codec, bom = encoding_of(head)
    body = head[bom:]
    if not body.strip(b" \t\r\n\0"):
        raise UnknownFormatError(path, "the file is empty", offset=0, expected=EXPECTED)
    for magic, what in _MAGIC:
        if body.startswith(magic):
            raise UnknownFormatError(path, f"binary file: {what}", offset=0, expected=EXPECTED)
    if body[4:8] == b"ftyp":
        raise UnknownFormatError(path, "binary file: an MP4/MOV video", offset=0, expected=EXPECTED)
    if codec == "utf-8" and b"\0" in body:
        raise UnknownFormatError(path, f"binary file (NUL bytes; starts with {body[:16]!r})", offset=0,
                                 expected=EXPECTED)
    text = body.decode(codec, errors="replace")
    if text.count("\ufffd") > max(8, len(text) // 20):
        raise UnknownFormatError(path, f"binary file (mostly not text; starts with {body[:16]!r})", offset=0,
                                 expected=EXPECTED)
    stripped = text.lstrip()
    first_line = next((ln for ln in stripped.splitlines() if ln.strip()), "")
    if stripped[:14].lower().startswith(("<!doctype html", "<html")):
        raise UnknownFormatError(path, "an HTML page (Telegram's HTML export?)", offset=0,
                                 expected="for Telegram, an export in machine-readable JSON (result.json)")
    if whatsapp.header_layout(first_line):      # before JSON: an iOS chat line starts with "["
        return "whatsapp"
    if stripped[:1] in ("{", "["):
        return _json_format(path, body if codec == "utf-8" else text.encode("utf-8"), first_line)
    if _looks_like_csv(text, path):
        return "csv"
    raise UnknownFormatError(path, f"not a format haris reads; the first line is {first_line[:80]!r}",
                             line=1, expected=EXPECTED)


def _json_format(path: Path, head: bytes, first_line: str) -> str:
    one_line = None
    try:
        one_line = json.loads(first_line)
    except ValueError:
        pass
    if isinstance(one_line, dict):
        return _object_format(one_line)
    keys, first_item = _top_level(head)
    if keys is not None:
        if keys & _TELEGRAM_KEYS or ("messages" in keys and keys & {"name", "type", "id"}):
            return "telegram"
        if "data" in keys or "includes" in keys:
            return "twitter"
        raise UnknownFormatError(path, f"JSON with top-level keys {sorted(keys)[:12]}", offset=0,
                                 expected="a Telegram export (chats, messages) or a Twitter response (data, includes)")
    if isinstance(first_item, dict):
        if "data" in first_item or twitter.looks_like_tweet(first_item):
            return "twitter"
        raise UnknownFormatError(path, f"a JSON array of objects with keys {sorted(first_item)[:12]}", offset=0,
                                 expected="JSON Lines (one object per line) for generic messages, "
                                          "or an array of Twitter API v2 responses or tweets")
    raise UnknownFormatError(path, "JSON that is neither an object nor an array of objects", offset=0,
                             expected=EXPECTED)


def _object_format(obj: dict) -> str:
    """The format of a file whose first line is the complete JSON object ``obj``."""
    if obj.keys() & _TELEGRAM_KEYS or ("messages" in obj and obj.keys() & {"name", "type", "id"}):
        return "telegram"
    if twitter.looks_like_response(obj) or twitter.looks_like_tweet(obj):
        return "twitter"
    return "jsonl"


def _top_level(head: bytes) -> tuple[set[str] | None, object]:
    """(top-level keys seen in ``head``, or None for an array; the array's first item, if complete)."""
    keys: set[str] = set()
    is_array = False
    try:
        events = ijson_backend.parse(io.BytesIO(head))
        for prefix, event, value in events:
            if prefix == "" and event == "start_array":
                is_array = True
                break
            if prefix == "" and event == "map_key":
                keys.add(value)
    except ijson.JSONError:
        pass     # head is cut mid-document: the keys seen so far are enough
    if not is_array:
        return keys, None
    try:
        for item in ijson_backend.items(io.BytesIO(head), "item"):
            return None, item
    except ijson.JSONError:
        pass
    return None, None


def _looks_like_csv(text: str, path: Path) -> bool:
    rows = [ln for ln in text.splitlines()[:20] if ln.strip()]
    if len(text) >= 60_000 and len(rows) > 1:
        rows = rows[:-1]          # the last line may be cut by the sniffing window
    if not rows:
        return False
    header = rows[0]
    counts = {d: header.count(d) for d in _CSV_DELIMITERS}
    delimiter = max(counts, key=counts.get)
    if not counts[delimiter]:
        return False
    width = len(next(csv.reader([header], delimiter=delimiter)))
    if len(rows) == 1:
        return path.suffix.lower() in (".csv", ".tsv")
    sample = "\n".join(rows[1:])
    widths = [len(r) for r in csv.reader(io.StringIO(sample), delimiter=delimiter) if r]
    # quoted cells spanning lines make some physical lines short; most rows must match the header
    matching = sum(1 for w in widths if w == width)
    return matching >= max(1, len(widths) // 2) or path.suffix.lower() in (".csv", ".tsv") and matching > 0
