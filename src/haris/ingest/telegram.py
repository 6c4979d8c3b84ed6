"""Telegram Desktop export (``result.json``), streamed.

Two layouts exist: a single-chat export (top-level ``name``, ``type``, ``id``,
``messages``) and a full export (``personal_information``, ``chats.list``,
``left_chats.list``, ...). A full export can be a gigabyte with most of it in
one chat, so no chat is ever loaded whole: ijson's C parser produces events,
:func:`_tap` watches them go by to note each chat's ``name``/``type``/``id``
(Telegram writes them before ``messages``) and ijson builds one message dict
at a time from the same events. A single-chat export needs no tap: its header
is read first and ijson builds its messages straight from the file (about
twice as fast).

What becomes what:

- chat -> :class:`Channel` (kind from the chat type) and one :class:`Conversation`;
- ``from_id``/``actor_id`` (``user123``, ``channel456``) -> :class:`Account`;
- ``text``/``text_entities`` (a string or a list of parts) -> plain text;
  ``link`` and ``text_link`` parts -> :class:`Link` with spans into that text;
- ``reply_to_message_id`` -> the replied message's stable id in the same chat
  (or in ``reply_to_peer_id``'s chat when given);
- ``photo``/``file`` -> :class:`Media`, hashed when the file is in the export folder;
- ``type: service`` -> ``kind="service"``, text ``"<action>: <title or members>"``.

Times come from ``date_unixtime`` (UTC); exports too old to have it give
``date`` in the exporting computer's local time, which is read as UTC.
"""
from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

from haris.errors import InputError
from haris.ingest._ids import IdPrefix
from haris.ingest._json import JsonSource, ijson_backend, json_errors
from haris.ingest._links import make_link, media_file
from haris.model import Account, Channel, Conversation, Media, Message, Record, stable_id

PLATFORM = "telegram"

CHAT_KINDS = {
    "personal_chat": "private", "bot_chat": "private", "saved_messages": "private",
    "private_group": "group", "private_supergroup": "group", "public_supergroup": "group",
    "public_channel": "channel", "private_channel": "channel",
}
MEDIA_KINDS = {
    "video_file": "video", "video_message": "video", "voice_message": "voice", "audio_file": "audio",
    "sticker": "sticker", "animation": "animation",
}
_FULL_KEYS = ("chats", "left_chats")
_UTC = timezone.utc


def read(path: Path) -> Iterator[Record]:
    """Records of a Telegram Desktop export, chat by chat, each message after what it refers to."""
    path = Path(path)
    layout, me, header = _layout(path)
    if me is not None:
        yield me
    reader = _Reader(path, seen={me.id} if me else set())
    if layout == "single":
        yield from reader.single_chat(header)
        return
    state = {"left": False}
    yield from reader.chats("chats.list.item", "chats.list.item.messages.item", state)
    if state["left"]:
        yield from reader.chats("left_chats.list.item", "left_chats.list.item.messages.item")


def _layout(path: Path) -> tuple[str, Account | None, dict]:
    """("single" or "full", the exporting user, the chat header of a single-chat export).

    Reads only the top of the file: it stops at the first ``chats``,
    ``left_chats`` or ``messages`` key.
    """
    personal: dict[str, object] = {}
    header: dict[str, object] = {}
    with JsonSource(path) as src, json_errors(src):
        for prefix, event, value in ijson_backend.parse(src):
            if prefix == "":
                if event == "map_key":
                    if value in _FULL_KEYS:
                        return "full", _me(personal), {}
                    if value == "messages":
                        return "single", None, header
                elif event == "start_array":
                    break
            elif prefix in ("name", "type", "id"):
                header[prefix] = value
            elif prefix.startswith("personal_information.") and event in ("string", "number"):
                personal[prefix[len("personal_information."):]] = value
    raise InputError(path, "no 'messages' or 'chats' at the top level of this JSON",
                     expected="a Telegram Desktop export (result.json) in JSON, not HTML")


def _me(personal: dict[str, object]) -> Account | None:
    if "user_id" not in personal:
        return None
    name = " ".join(str(personal[k]) for k in ("first_name", "last_name") if personal.get(k)) or None
    return Account.make(PLATFORM, f"user{personal['user_id']}", handle=personal.get("username") or None,
                        display_name=name, bio=personal.get("bio") or None)


def _tap(events, chat_prefix: str, msg_prefix: str, chats: deque, state: dict | None):
    """Pass parse events through, noting each chat's header and which chat each message is in.

    A message dict comes out of ijson only after its events went by, so the
    chat of each message is queued when its object starts and taken off the
    queue when the dict arrives. Only short prefixes (chat level) are looked
    at; message fields are longer and pass with one length test.
    """
    limit = len(msg_prefix)
    name_p, type_p, id_p = chat_prefix + ".name", chat_prefix + ".type", chat_prefix + ".id"
    chat: dict = {}
    for ev in events:
        p = ev[0]
        if len(p) <= limit:
            if p == msg_prefix:
                if ev[1] == "start_map":
                    chats.append(chat)
            elif not p:                                   # top level
                if ev[1] == "map_key" and ev[2] == "left_chats" and state is not None:
                    state["left"] = True
            elif p == chat_prefix:                        # a new chat of a full export
                if ev[1] == "start_map":
                    chat = {}
            elif p == id_p:
                chat["id"] = ev[2]
            elif p == name_p:
                chat["name"] = ev[2]
            elif p == type_p:
                chat["type"] = ev[2]
        yield ev


class _Chat:
    __slots__ = ("pid", "channel", "conversation", "message_id")

    def __init__(self, pid: str, channel: Channel, conversation: Conversation):
        self.pid, self.channel, self.conversation = pid, channel, conversation
        self.message_id = IdPrefix("msg", PLATFORM, pid)   # == Message.make_id(PLATFORM, pid, ·)


class _Reader:
    def __init__(self, path: Path, seen: set[str]):
        self.path = path
        self.name = str(path)
        self.base = path.parent
        self.seen = seen                        # ids of accounts/channels/conversations already yielded
        self.accounts: dict[str, str] = {}      # from_id -> account id
        self.pending: list[Record] = []         # records to yield before the next message

    def single_chat(self, header: dict) -> Iterator[Record]:
        """Messages of a single-chat export: one chat, so ijson's C parser builds them directly."""
        with JsonSource(self.path) as src, json_errors(src):
            yield from self._records(ijson_backend.items(src, "messages.item", use_float=True), src,
                                     lambda: header)

    def chats(self, chat_prefix: str, msg_prefix: str, state: dict | None = None) -> Iterator[Record]:
        """Messages of every chat of a full export under ``chat_prefix``, told apart by :func:`_tap`."""
        queue: deque = deque()
        with JsonSource(self.path) as src, json_errors(src):
            events = _tap(ijson_backend.parse(src, use_float=True), chat_prefix, msg_prefix, queue, state)
            yield from self._records(ijson_backend.items(events, msg_prefix), src, queue.popleft)

    def _records(self, items, src: JsonSource, header_of_next) -> Iterator[Record]:
        current: dict | None = None
        chat: _Chat | None = None
        pending = self.pending
        for m in items:
            if not isinstance(m, dict):
                raise InputError(self.path, f"a message that is {type(m).__name__}, not an object",
                                 offset=src.last_start, expected="each item of 'messages' to be an object")
            header = header_of_next()
            if header is not current:
                current, chat = header, self._chat(header)
            msg = self._message(m, chat)
            if pending:
                yield from pending
                pending.clear()
            yield msg

    def _chat(self, header: dict) -> _Chat:
        if header.get("id") is None:
            raise InputError(self.path, f"chat {header.get('name')!r} has no 'id' before its messages",
                             expected="Telegram Desktop's order: name, type, id, then messages")
        pid = str(header["id"])
        kind = CHAT_KINDS.get(str(header.get("type")), "unknown")
        title = header.get("name") or ("Saved Messages" if header.get("type") == "saved_messages" else None)
        channel = Channel.make(PLATFORM, pid, kind=kind, title=title)
        conv = Conversation(id=stable_id("conv", PLATFORM, pid), platform=PLATFORM, channel_id=channel.id,
                            kind=kind, title=title)
        for rec in (channel, conv):
            if rec.id not in self.seen:
                self.seen.add(rec.id)
                self.pending.append(rec)
        return _Chat(pid, channel, conv)

    def _account(self, from_id, name) -> str:
        key = str(from_id)
        acct_id = self.accounts.get(key)
        if acct_id is None:
            acct = Account.make(PLATFORM, key, display_name=name or None)
            acct_id = self.accounts[key] = acct.id
            if acct_id not in self.seen:
                self.seen.add(acct_id)
                self.pending.append(acct)
        return acct_id

    def _message(self, m: dict, chat: _Chat) -> Message:
        pid = m.get("id")
        if pid is None:
            raise InputError(self.path, f"a message without 'id' in chat {chat.pid}",
                             expected="every message to have an 'id'")
        service = m.get("type") == "service"
        if service:
            who, name = m.get("actor_id"), m.get("actor")
        else:
            who, name = m.get("from_id"), m.get("from")
        author = self._account(who, name) if who else None

        parts = m.get("text_entities")
        if not isinstance(parts, list):
            parts = m.get("text", "")
        text, links = _flatten(parts) if parts else ("", [])
        if service and not text:
            text = _describe_service(m)
        elif "poll" in m and not text:
            text = _describe_poll(m["poll"])

        reply_to = None
        reply = m.get("reply_to_message_id")
        if reply is not None:
            peer = m.get("reply_to_peer_id")
            reply_to = Message.make_id(PLATFORM, _peer_chat(peer), reply) if peer else chat.message_id(reply)

        fwd_name, fwd_id = m.get("forwarded_from"), m.get("forwarded_from_id")
        if fwd_id:
            fwd_id = self._account(fwd_id, fwd_name)

        media: list[Media] = []
        if "photo" in m or "file" in m:
            media = self._media(m, chat.pid, pid)

        return Message(
            id=chat.message_id(pid), platform=PLATFORM, platform_id=str(pid),
            channel_id=chat.channel.id, author_id=author, time=self._time(m, chat.pid),
            text=text, conversation_id=chat.conversation.id, reply_to_id=reply_to,
            forwarded_from=fwd_name, forwarded_from_id=fwd_id or None,
            kind="service" if service else "message", links=links, media=media,
            origin=f"{self.name}#chat={chat.pid}/msg={pid}")

    def _time(self, m: dict, chat_pid: str) -> datetime | None:
        unix = m.get("date_unixtime")
        try:
            if unix is not None:
                return datetime.fromtimestamp(int(unix), _UTC)
            date = m.get("date")
            if date is None:
                return None
            t = datetime.fromisoformat(date)
            return t.astimezone(_UTC) if t.tzinfo else t.replace(tzinfo=_UTC)
        except (ValueError, TypeError, OverflowError):
            raise InputError(self.path, f"message {m.get('id')} in chat {chat_pid} has an invalid date "
                             f"{unix if unix is not None else m.get('date')!r}",
                             expected="date_unixtime in seconds or an ISO 8601 date") from None

    def _media(self, m: dict, chat_pid: str, pid) -> list[Media]:
        media = []
        photo = m.get("photo")
        if photo:
            media.append(self._one_media(chat_pid, pid, "photo", "photo", photo, None,
                                         m.get("photo_file_size")))
        file = m.get("file")
        if file:
            kind = MEDIA_KINDS.get(m.get("media_type"), "file")
            media.append(self._one_media(chat_pid, pid, "file", kind, file, m.get("mime_type"),
                                         m.get("file_size")))
        return media

    def _one_media(self, chat_pid, pid, role, kind, rel, mime, size) -> Media:
        media_id = stable_id("media", PLATFORM, chat_pid, pid, role)
        size = size if isinstance(size, int) else None
        if not isinstance(rel, str) or rel.startswith("("):
            # "(File not included. Change data exporting settings to download.)"
            return Media(id=media_id, kind=kind, mime=mime, size=size)
        return media_file(media_id, kind, rel, self.base, mime=mime, size=size)


def _flatten(parts) -> tuple[str, list]:
    """Plain text and links from Telegram's text: a string or a list of strings and typed parts."""
    if isinstance(parts, str):
        return parts, []
    if not isinstance(parts, list):
        return str(parts), []
    out: list[str] = []
    links = []
    pos = 0
    for part in parts:
        if isinstance(part, str):
            s = part
        elif isinstance(part, dict):
            s = part.get("text") or ""
            if not isinstance(s, str):
                s = str(s)
            kind = part.get("type")
            if kind == "link" and s:
                links.append(make_link(s, pos, pos + len(s)))
            elif kind == "text_link" and part.get("href"):
                links.append(make_link(part["href"], pos, pos + len(s)))
        else:
            continue
        out.append(s)
        pos += len(s)
    return "".join(out), links


def _describe_service(m: dict) -> str:
    action = str(m.get("action") or "service")
    detail = m.get("title")
    if not detail and isinstance(m.get("members"), list):
        detail = ", ".join(str(x) for x in m["members"] if x)
    if not detail and m.get("inviter"):
        detail = str(m["inviter"])
    return f"{action}: {detail}" if detail else action


def _describe_poll(poll) -> str:
    if not isinstance(poll, dict):
        return ""
    lines = [str(poll.get("question") or "")]
    lines += [str(a.get("text") or "") for a in poll.get("answers") or [] if isinstance(a, dict)]
    return "\n".join(x for x in lines if x)


def _peer_chat(peer) -> str:
    """The chat id in a peer id such as ``channel123`` or ``user42``."""
    s = str(peer)
    return s.lstrip("abcdefghijklmnopqrstuvwxyz_") or s
