"""Generic JSON Lines and CSV: one message per row, in a documented schema.

The schema (docs/formats.md has the full table): ``text`` is required;
``id``, ``time``, ``author``, ``author_name``, ``author_handle``, ``channel``,
``channel_name``, ``channel_type``, ``conversation``, ``reply_to``,
``forwarded_from``, ``forwarded_from_id``, ``platform``, ``lang``, ``media``
and ``links`` are optional. ``mapping`` renames source columns to these
fields; for JSONL a source name may be a dotted path into nested objects::

    read(path, "csv", mapping={"text": "body", "author": "user_id"})
    read(path, "jsonl", mapping={"author": "user.id", "author_name": "user.name"})

A row without ``id`` gets ``L<line>-<hash>``: its line number and the first
12 hex digits of the SHA-256 of its text, time and author. Re-reading the
same file gives the same ids; two identical messages on different lines stay
two messages.
"""
from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import get_args

from haris.errors import ConfigError, InputError
from haris.ingest._links import find_links, kind_from_name, locate_links, media_file
from haris.ingest._text import json_lines, lines
from haris.model import Account, Channel, ChannelKind, Conversation, Media, Message, Platform, Record, stable_id

FIELDS = ("id", "text", "time", "author", "author_name", "author_handle", "channel", "channel_name",
          "channel_type", "conversation", "reply_to", "forwarded_from", "forwarded_from_id", "platform",
          "lang", "media", "links")
REQUIRED = ("text",)
PLATFORMS = frozenset(get_args(Platform))
CHANNEL_KINDS = frozenset(get_args(ChannelKind))
_UTC = timezone.utc


def check_mapping(mapping: dict | None) -> dict[str, str]:
    """The mapping, validated: keys are schema fields, values are source column names."""
    if not mapping:
        return {}
    if not isinstance(mapping, dict):
        raise ConfigError(f"mapping must be a dict of field -> source column, not {type(mapping).__name__}")
    unknown = sorted(set(mapping) - set(FIELDS))
    if unknown:
        raise ConfigError(f"mapping names unknown fields {unknown}; the fields are: {', '.join(FIELDS)}")
    bad = [k for k, v in mapping.items() if not isinstance(v, str) or not v]
    if bad:
        raise ConfigError(f"mapping values must be column names (strings); check {bad}")
    return dict(mapping)


def read_jsonl(path: Path, mapping: dict | None = None) -> Iterator[Record]:
    """Records of a JSONL file, one message per non-blank line."""
    path = Path(path)
    rows = _Rows(path, check_mapping(mapping))
    for number, offset, obj in json_lines(path):
        if not isinstance(obj, dict):
            raise InputError(path, f"a JSON {type(obj).__name__} instead of an object", line=number,
                             offset=offset, expected="one JSON object per line")
        yield from rows.row(obj, number, nested=True)


def read_csv(path: Path, mapping: dict | None = None) -> Iterator[Record]:
    """Records of a CSV file with a header row (delimiter , ; tab or |, detected)."""
    path = Path(path)
    rows = _Rows(path, check_mapping(mapping))
    source = lines(path)
    state = {"line": 0}

    def text_lines() -> Iterator[str]:
        for number, _offset, text in source:
            state["line"] = number
            yield text + "\n"

    feed = text_lines()
    header_line = next(feed, None)
    if header_line is None:
        raise InputError(path, "the file is empty", expected="a header row naming the columns")
    delimiter = _delimiter(header_line)
    header = next(csv.reader([header_line], delimiter=delimiter))
    header = [h.strip() for h in header]
    for field in REQUIRED:
        column = rows.mapping.get(field, field)
        if column not in header:
            raise InputError(path, f"no column {column!r} for the required field {field!r}; "
                                   f"the columns are {header}", line=1,
                             expected="a header row with a text column (or a mapping to one)")
    reader = csv.reader(feed, delimiter=delimiter)
    while True:
        start = state["line"] + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise InputError(path, f"invalid CSV ({exc})", line=start, expected="well-formed CSV rows") from None
        if not any(c.strip() for c in cells):
            continue
        if len(cells) > len(header):
            raise InputError(path, f"{len(cells)} cells for {len(header)} columns", line=start,
                             expected=f"at most {len(header)} cells, as in the header (quote cells with '{delimiter}')")
        yield from rows.row(dict(zip(header, cells)), start, nested=False)


def _delimiter(header: str) -> str:
    counts = {d: header.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


class _Rows:
    """Turns rows (dicts keyed by source column) into records, remembering what was yielded.

    Channels, conversations and accounts repeat on many rows: their ids are
    computed once per file and kept in dicts (as many entries as there are
    distinct channels, threads and people, not rows).
    """

    def __init__(self, path: Path, mapping: dict[str, str]):
        self.path = path
        self.name = str(path)
        self.mapping = mapping
        self.columns = [(f, mapping.get(f, f)) for f in FIELDS]
        self.dotted = [(f, c.split(".")) for f, c in self.columns if "." in c]
        self.channels: dict[tuple[str, str], Channel] = {}
        self.conversations: dict[tuple[str, str, str], str] = {}
        self.accounts: dict[tuple[str, str], str] = {}

    def _values(self, row: dict, nested: bool) -> dict:
        """field -> value of one row; empty cells are None (except text, which may be empty)."""
        values = {f: row.get(c) for f, c in self.columns}
        if nested:
            for field, parts in self.dotted:
                if values[field] is None:
                    value = row
                    for part in parts:
                        value = value.get(part) if isinstance(value, dict) else None
                    values[field] = value
        for field, value in values.items():
            if value == "" and field != "text":
                values[field] = None
        return values

    def row(self, row: dict, line: int, *, nested: bool) -> list[Record]:
        v = self._values(row, nested)
        text = v["text"]
        if text is None:
            raise InputError(self.path, f"missing field 'text' (column {self.mapping.get('text', 'text')!r})",
                             line=line, expected="every row to have a text (it may be empty)")
        if not isinstance(text, str):
            text = str(text)
        platform = str(v["platform"] or "generic")
        if platform not in PLATFORMS:
            raise InputError(self.path, f"unknown platform {platform!r}", line=line,
                             expected=f"one of {', '.join(sorted(PLATFORMS))}")
        when = self._time(v["time"], line)
        author = _str(v["author"])
        pid = _str(v["id"])
        if pid is None:
            digest = hashlib.sha256(f"{text}\x1f{when}\x1f{author}".encode("utf-8")).hexdigest()[:12]
            pid = f"L{line}-{digest}"

        out: list[Record] = []
        channel_pid = _str(v["channel"])
        channel = self._channel(out, platform, channel_pid, v, line) if channel_pid is not None else None
        conv_id = self._conversation(out, platform, channel, channel_pid, _str(v["conversation"]))
        author_id = None
        if author is not None:
            author_id = self._account(out, platform, author, _str(v["author_name"]), _str(v["author_handle"]))
        fwd_id = _str(v["forwarded_from_id"])
        if fwd_id is not None:
            fwd_id = self._account(out, platform, fwd_id, _str(v["forwarded_from"]), None)

        reply = _str(v["reply_to"])
        urls = _list(v["links"], self.path, line, "links")
        out.append(Message(
            id=Message.make_id(platform, channel_pid or "", pid), platform=platform, platform_id=pid,
            channel_id=channel.id if channel else None, author_id=author_id, time=when, text=text,
            conversation_id=conv_id,
            reply_to_id=Message.make_id(platform, channel_pid or "", reply) if reply is not None else None,
            forwarded_from=_str(v["forwarded_from"]), forwarded_from_id=fwd_id,
            links=locate_links(text, urls) if urls else find_links(text),
            media=self._media(_list(v["media"], self.path, line, "media"), platform, channel_pid, pid),
            origin=f"{self.name}:{line}"))
        return out

    def _channel(self, out: list[Record], platform: str, channel_pid: str, v: dict, line: int) -> Channel:
        channel = self.channels.get((platform, channel_pid))
        if channel is None:
            kind = str(v["channel_type"] or "unknown")
            if kind not in CHANNEL_KINDS:
                raise InputError(self.path, f"unknown channel_type {kind!r}", line=line,
                                 expected=f"one of {', '.join(sorted(CHANNEL_KINDS))}")
            channel = self.channels[(platform, channel_pid)] = Channel.make(
                platform, channel_pid, kind=kind, title=_str(v["channel_name"]))
            out.append(channel)
        return channel

    def _conversation(self, out: list[Record], platform: str, channel: Channel | None, channel_pid: str | None,
                      thread: str | None) -> str | None:
        if thread is None and channel is None:
            return None
        key = (platform, channel_pid or "", thread or "")
        conv_id = self.conversations.get(key)
        if conv_id is None:
            if thread is not None:
                conv = Conversation(id=stable_id("conv", platform, channel_pid or "", thread), platform=platform,
                                    channel_id=channel.id if channel else None, kind="thread")
            else:
                # no thread given: the chat is the conversation, as for Telegram chats
                conv = Conversation(id=stable_id("conv", platform, channel_pid), platform=platform,
                                    channel_id=channel.id, kind=channel.kind, title=channel.title)
            conv_id = self.conversations[key] = conv.id
            out.append(conv)
        return conv_id

    def _account(self, out: list[Record], platform: str, pid: str, name: str | None, handle: str | None) -> str:
        acct_id = self.accounts.get((platform, pid))
        if acct_id is None:
            acct = Account.make(platform, pid, display_name=name, handle=handle)
            acct_id = self.accounts[(platform, pid)] = acct.id
            out.append(acct)
        return acct_id

    def _time(self, value, line: int) -> datetime | None:
        if value is None:
            return None
        try:
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return datetime.fromtimestamp(value, _UTC)
            s = str(value).strip()
            if s.replace(".", "", 1).isdigit():
                return datetime.fromtimestamp(float(s), _UTC)
            t = datetime.fromisoformat(s.replace("Z", "+00:00") if s.endswith("Z") else s)
            return t.astimezone(_UTC) if t.tzinfo else t.replace(tzinfo=_UTC)
        except (ValueError, OverflowError, OSError):
            raise InputError(self.path, f"invalid time {value!r} in field 'time'", line=line,
                             expected="ISO 8601 (2024-03-01T10:00:00Z) or unix seconds") from None

    def _media(self, items: list[str], platform: str, channel_pid: str | None, pid: str) -> list[Media]:
        media = []
        for i, ref in enumerate(items):
            media_id = stable_id("media", platform, channel_pid or "", pid, i)
            kind = kind_from_name(ref.split("?", 1)[0])
            if "://" in ref:
                media.append(Media(id=media_id, kind=kind, url=ref))
            else:
                media.append(media_file(media_id, kind, ref, self.path.parent))
        return media


def _str(value) -> str | None:
    if value is None:
        return None
    s = str(value).strip()
    return s or None


def _list(value, path: Path, line: int, field: str) -> list[str]:
    """A list field: a JSON list, or in CSV a JSON array or values separated by '|'."""
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v).strip() for v in value if v is not None and str(v).strip()]
    s = str(value).strip()
    if s.startswith("["):
        try:
            parsed = json.loads(s)
        except json.JSONDecodeError:
            raise InputError(path, f"field {field!r} starts like a JSON array but is not one", line=line,
                             expected="a JSON array of strings or values separated by '|'") from None
        return _list(parsed, path, line, field)
    return [p.strip() for p in s.split("|") if p.strip()]
