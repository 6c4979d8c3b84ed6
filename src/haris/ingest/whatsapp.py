"""WhatsApp chat export (``.txt``), as users hand it in as evidence.

Two layouts, each in many locales::

    12/01/2024, 10:15 - Alice: text          (Android)
    [12/01/2024, 10:15:30] Alice: text       (iOS)
    1/12/24, 10:15 PM - +1 555 0101: text    (US order, 12-hour clock)

Lines that do not start with a date continue the previous message. Phrases
WhatsApp writes itself (encryption notice, "X added Y", media placeholders,
attachment names) are data in ``data/whatsapp.yaml``, per language.

Rules this module follows (also in docs/formats.md):

- **Day or month first** is decided per file, in a first pass over its dates:
  a first number above 12 anywhere means day/month; else a second number above
  12 means month/day; else (every date ambiguous) month/day only when the file
  uses ``/`` dates and a 12-hour clock written AM/PM (the US layout),
  day/month otherwise (Arabic ص/م clocks included).
  A four-digit first number means year/month/day.
- **Times** are the exporting phone's local time, with no zone in the file;
  they are stored as if UTC.
- **Channel**: one per file. Its platform id is the chat name from the file
  name ("WhatsApp Chat with Example Group.txt" -> "Example Group"; for iOS's
  ``_chat.txt``, the name of its folder "WhatsApp Chat - Example Group"), else
  ``sha256:`` and the first 16 hex digits of the file's SHA-256.
- **Accounts**: a sender shown as a phone number gets the number in digits
  (``+15550101``) as platform id, the same in every chat; a sender shown by
  name is only known inside this chat, so its id includes the channel.
- **Message ids** come from (time, sender, how many messages the same sender
  sent at the same time before it), so re-reading a file gives the same ids.
- **Kind**: group when more than two people write or a group-only system line
  appears ("created group", "added"); private otherwise.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path

import yaml

from haris.errors import InputError
from haris.ingest._ids import IdPrefix
from haris.ingest._links import find_links, kind_from_name, media_file, sha256_of
from haris.ingest._text import lines
from haris.model import Account, Channel, Conversation, Media, Message, Record, stable_id

PLATFORM = "whatsapp"
MARKS = "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff"
_M = "[\u200e\u200f\u202a-\u202e\u2066-\u2069]*"
_DATE = rf"{_M}(?P<date>\d{{1,4}}{_M}[./-]{_M}\d{{1,2}}{_M}[./-]{_M}\d{{1,4}}){_M}"
_TIME = (rf"{_M}(?P<time>\d{{1,2}}[:.]\d{{2}}(?:[:.]\d{{2}})?)"
         rf"(?:[\s\u202f\u00a0]*(?P<ampm>[aApP]\.?\s?[mM]\.?|ص|م))?{_M}")
HEADERS = {
    "ios": re.compile(rf"{_M}\[{_DATE}[,،]?\s+{_TIME}\]\s?(?P<body>.*)"),
    "android": re.compile(rf"{_DATE}[,،]?\s+{_TIME}\s?[-–]\s(?P<body>.*)"),
}
_DATE_SPLIT = re.compile(r"[./-]")
_TIME_SPLIT = re.compile(r"[:.]")
_STRIP_MARKS = str.maketrans("", "", MARKS)
_PHONE = re.compile(r"\+?[\d\s().-]{7,}")
_UTC = timezone.utc
_MAX_TIMES = 4096      # distinct (time) keys remembered for message numbering; bounds memory


class _Phrases:
    """The phrase data of data/whatsapp.yaml, compiled once."""

    def __init__(self, data: dict):
        # All system phrases in one expression, so a line costs one C-level match, not one per
        # phrase. Phrases that start with a name ("[^:]+? added ...") share that name part, which
        # keeps the expression from rescanning the line once per phrase. Group "p<i>" is phrase i.
        entries = data["system"]
        actor = "[^:]+? "
        named = [(i, e["pattern"][len(actor):]) for i, e in enumerate(entries) if e["pattern"].startswith(actor)]
        fixed = [(i, e["pattern"]) for i, e in enumerate(entries) if not e["pattern"].startswith(actor)]
        groups = [f"(?P<p{i}>{p})" for i, p in fixed]
        if named:
            groups.append(actor + "(?:" + "|".join(f"(?P<p{i}>{p})" for i, p in named) + ")")
        self.system = re.compile("|".join(groups))
        self.system_group = {f"p{i}": bool(e.get("group")) for i, e in enumerate(entries)}
        self.omitted = {e["text"].casefold(): e["kind"] for e in data["media_omitted"]}
        inline = "|".join(re.escape(w) for w in data["attached"]["inline"])
        suffix = "|".join(re.escape(w) for w in data["attached"]["suffix"])
        self.attached_inline = re.compile(rf"<(?:{inline})\s*:\s*(?P<file>[^>]+)>\s*")
        self.attached_suffix = re.compile(rf"(?P<file>\S[^\n]*?\.\w{{1,5}}) \((?:{suffix})\)\s*")
        self.edited = tuple(data.get("edited", []))
        self.file_names = [re.compile(p) for p in data["file_name"]]


@lru_cache(maxsize=1)
def _phrases() -> _Phrases:
    return _Phrases(yaml.safe_load((Path(__file__).parent / "data" / "whatsapp.yaml").read_text("utf-8")))


def header_layout(line: str) -> str | None:
    """"ios" or "android" when ``line`` starts a WhatsApp message, else None."""
    for layout, rx in HEADERS.items():
        if rx.match(line):
            return layout
    return None


def _system(body: str) -> tuple[bool, bool]:
    """(is a system line, is a group-only system line) for a line body."""
    phrases = _phrases()
    m = phrases.system.fullmatch(body)
    if m is None:
        return False, False
    return True, phrases.system_group[m.lastgroup]


def _split(body: str) -> tuple[str | None, str, bool]:
    """(sender or None for a system line, text, group-only system line) of a line body."""
    body = body.lstrip(MARKS)
    is_sys, group = _system(body)
    if is_sys:
        return None, body, group
    sender, sep, text = body.partition(": ")
    if not sep:
        return None, body, False          # no "Name: " -> WhatsApp wrote it
    if text[:1] in MARKS and text[:1]:
        # iOS marks its own lines (media placeholders, "X added Y" under the group's name)
        stripped = text.lstrip(MARKS)
        is_sys, group = _system(stripped)
        if is_sys:
            return None, stripped, group
        text = stripped
    return sender.translate(_STRIP_MARKS).strip(), text, False


class _Survey:
    """What the first pass learns about a file: layout, date order, people, group or not."""

    def __init__(self, path: Path):
        self.layout: str | None = None
        self.max_first = self.max_second = 0
        self.year_first = False
        self.twelve_hour = False
        self.slash = False
        self.senders: set[str] = set()
        self.group_event = False
        dates: set[str] = set()     # each distinct date is looked at once
        header = None
        for number, offset, line in lines(path):
            if self.layout is None:
                if not line.strip(MARKS + " \t"):
                    continue
                self.layout = header_layout(line)
                header = HEADERS.get(self.layout)
                if self.layout is None:
                    raise InputError(path, f"the first line is not a WhatsApp message: {line[:60]!r}",
                                     line=number, offset=offset,
                                     expected="a line starting with a date and time, like "
                                              "'12/01/2024, 10:15 - Name: text' or '[12/01/2024, 10:15:30] Name: text'")
            m = header.match(line)
            if not m:
                continue
            date = m["date"]
            if date not in dates:
                dates.add(date)
                a, b, _c = _DATE_SPLIT.split(date.translate(_STRIP_MARKS))
                if len(a) == 4:
                    self.year_first = True
                else:
                    self.max_first = max(self.max_first, int(a))
                    self.max_second = max(self.max_second, int(b))
                if "/" in date:
                    self.slash = True
            if not self.twelve_hour and m["ampm"] and m["ampm"][0] in "aApP":
                self.twelve_hour = True     # AM/PM in Latin letters: the US layout when dates are ambiguous
            if len(self.senders) <= 2 and not self.group_event:     # until we know it is a group
                sender, _text, group = _split(m["body"])
                if sender:
                    self.senders.add(sender)
                self.group_event = self.group_event or group
        if self.layout is None:
            raise InputError(path, "the file has no messages", expected="a WhatsApp chat export")

    @property
    def order(self) -> str:
        if self.year_first:
            return "ymd"
        if self.max_first > 12:
            return "dmy"
        if self.max_second > 12:
            return "mdy"
        return "mdy" if self.twelve_hour and self.slash else "dmy"

    @property
    def kind(self) -> str:
        return "group" if self.group_event or len(self.senders) > 2 else "private"


def read(path: Path) -> Iterator[Record]:
    """Records of one WhatsApp chat export: channel, conversation, accounts, messages."""
    path = Path(path)
    survey = _Survey(path)
    phrases = _phrases()
    title = _title(path, phrases.file_names)
    chat_pid = title if title else "sha256:" + sha256_of(path)[:16]
    channel = Channel.make(PLATFORM, chat_pid, kind=survey.kind, title=title)
    conv = Conversation(id=stable_id("conv", PLATFORM, chat_pid), platform=PLATFORM,
                        channel_id=channel.id, kind=survey.kind, title=title)
    yield channel
    yield conv

    header = HEADERS[survey.layout]
    order = survey.order
    message_id = IdPrefix("msg", PLATFORM, chat_pid)
    accounts: dict[str, Account] = {}
    counts: dict[tuple[str, str], int] = {}
    base, name = path.parent, str(path)

    def finish(sender: str | None, text: list[str], when: datetime, origin: str) -> Iterator[Record]:
        author = None
        if sender is not None:
            author = accounts.get(sender)
            if author is None:
                author = accounts[sender] = _account(sender, chat_pid)
                yield author
        key = (when.isoformat(), author.platform_id if author else "")
        n = counts.get(key, 0)
        if n == 0 and len(counts) >= _MAX_TIMES:
            counts.clear()
        counts[key] = n + 1
        pid = f"{key[0]}|{key[1]}|{n}"
        body = "\n".join(text) if len(text) > 1 else text[0]
        media: list[Media] = []
        if sender is not None:
            body, media = _media(body, phrases, base, chat_pid, pid)
            for marker in phrases.edited:
                if body.endswith(marker):
                    body = body[: -len(marker)].rstrip()
        yield Message(
            id=message_id(pid), platform=PLATFORM, platform_id=pid, channel_id=channel.id,
            author_id=author.id if author else None, time=when.replace(tzinfo=_UTC), text=body,
            conversation_id=conv.id, kind="message" if sender is not None else "service",
            links=find_links(body), media=media, origin=origin)

    current = None     # (sender, text lines, time, origin) of the message being read
    for number, offset, line in lines(path):
        m = header.match(line)
        if m is None:
            if current is not None:
                current[1].append(line)
            continue
        if current is not None:
            yield from finish(*current)
        sender, text, _group = _split(m["body"])
        current = (sender, [text], _when(m, order, path, number, offset), f"{name}:{number}")
    if current is not None:
        yield from finish(*current)


def _title(path: Path, names) -> str | None:
    """The chat's name from the file name, or for iOS's ``_chat.txt`` from its folder's name."""
    candidates = [path.stem]
    if path.stem == "_chat":
        candidates.append(path.parent.name)
    for candidate in candidates:
        candidate = re.sub(r" \(\d+\)$", "", candidate)      # "... (1)" from a second download
        for rx in names:
            m = rx.fullmatch(candidate)
            if m:
                return m["name"].strip() or None
    return None


def _account(sender: str, chat_pid: str) -> Account:
    if _PHONE.fullmatch(sender):
        digits = re.sub(r"\D", "", sender)
        if len(digits) >= 7:
            pid = ("+" if sender.lstrip().startswith("+") else "") + digits
            return Account.make(PLATFORM, pid, display_name=sender)
    # a name is only known within its chat: two chats' "Mum" are not one person
    return Account(id=stable_id("acct", PLATFORM, chat_pid, sender), platform=PLATFORM,
                   platform_id=sender, display_name=sender)


@lru_cache(maxsize=4096)
def _ymd(date: str, order: str) -> tuple[int, int, int]:
    """(year, month, day) of a date as written, in the file's order; not yet validated."""
    a, b, c = (int(x) for x in _DATE_SPLIT.split(date.translate(_STRIP_MARKS)))
    if order == "ymd":
        year, month, day = a, b, c
    elif order == "mdy":
        month, day, year = a, b, c
    else:
        day, month, year = a, b, c
    return (year + 2000 if year < 100 else year), month, day


def _when(m: re.Match, order: str, path: Path, number: int, offset: int) -> datetime:
    year, month, day = _ymd(m["date"], order)
    parts = _TIME_SPLIT.split(m["time"])
    hour, minute = int(parts[0]), int(parts[1])
    second = int(parts[2]) if len(parts) > 2 else 0
    ampm = m["ampm"]
    if ampm:
        pm = ampm[0] in "pPم"
        if hour == 12:
            hour = 12 if pm else 0
        elif pm:
            hour += 12
    try:
        return datetime(year, month, day, hour, minute, second)
    except ValueError as exc:
        layout = {"dmy": "day/month/year", "mdy": "month/day/year", "ymd": "year/month/day"}[order]
        raise InputError(path, f"invalid date or time {m['date'].translate(_STRIP_MARKS)} {m['time']} ({exc})",
                         line=number, offset=offset,
                         expected=f"{layout}, the order the rest of this file uses") from None


def _media(text: str, phrases: _Phrases, base: Path, chat_pid: str, pid: str) -> tuple[str, list[Media]]:
    """The text without media placeholders, and the media they name."""
    head = text.lstrip(MARKS)
    if len(head) < 40:
        kind = phrases.omitted.get(head.strip().casefold())
        if kind is not None:
            return "", [Media(id=stable_id("media", PLATFORM, chat_pid, pid, 0), kind=kind)]
    if head[:1] == "<":
        m = phrases.attached_inline.match(head)
    elif " (" in head:
        m = phrases.attached_suffix.match(head)
    else:
        return text, []
    if m is None:
        return text, []
    file = m["file"].strip().translate(_STRIP_MARKS)
    media = media_file(stable_id("media", PLATFORM, chat_pid, pid, 0), _file_kind(file), file, base)
    return head[m.end():].lstrip(MARKS + "\n"), [media]


_PREFIX_KINDS = (("IMG-", "photo"), ("PHOTO-", "photo"), ("VID-", "video"), ("VIDEO-", "video"),
                 ("PTT-", "voice"), ("AUD-", "audio"), ("AUDIO-", "voice"), ("STK-", "sticker"),
                 ("STICKER-", "sticker"), ("GIF-", "animation"), ("DOC-", "file"))


def _file_kind(file: str) -> str:
    upper = file.upper()
    for prefix, kind in _PREFIX_KINDS:
        if upper.startswith(prefix) or f"-{prefix}" in upper:
            return kind
    return kind_from_name(file)
