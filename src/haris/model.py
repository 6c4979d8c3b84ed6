"""The one data model for what platforms hold.

Every connector turns its export into these records; every later stage reads
them. Ids are derived from the platform and the platform's own ids (never from
the order of ingestion), so ingesting the same export twice yields the same ids
and the store can ignore what it already has.

The records are plain dataclasses with slots: cheap to create by the hundred
thousand, easy to turn into rows (:func:`dataclasses.asdict`) or JSON.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

Platform = Literal["telegram", "tamtam", "whatsapp", "twitter", "generic", "api"]
ChannelKind = Literal["channel", "group", "private", "timeline", "unknown"]
MediaKind = Literal["photo", "video", "animation", "audio", "voice", "sticker", "file", "unknown"]


def stable_id(kind: str, platform: str, *parts: object) -> str:
    """A short id that depends only on what it names.

    ``stable_id("msg", "telegram", chat_id, message_id)`` is the same on every
    run and every machine. 20 hex digits (80 bits) keep collisions negligible
    for billions of records while staying readable in a terminal.
    """
    key = "\x1f".join([kind, platform, *(str(p) for p in parts)])
    return kind[0:3] + "_" + hashlib.blake2b(key.encode("utf-8"), digest_size=10).hexdigest()


@dataclass(slots=True)
class Account:
    """A person or bot on a platform (or a name seen in an export with no id)."""

    id: str
    platform: str
    platform_id: str
    handle: str | None = None
    display_name: str | None = None
    bio: str | None = None

    @classmethod
    def make(cls, platform: str, platform_id: str, **kw) -> "Account":
        return cls(id=stable_id("acct", platform, platform_id), platform=platform,
                   platform_id=str(platform_id), **kw)


@dataclass(slots=True)
class Channel:
    """Where messages are posted: a channel, a group, a private chat or a timeline."""

    id: str
    platform: str
    platform_id: str
    kind: str = "unknown"
    title: str | None = None
    handle: str | None = None

    @classmethod
    def make(cls, platform: str, platform_id: str, **kw) -> "Channel":
        return cls(id=stable_id("chan", platform, platform_id), platform=platform,
                   platform_id=str(platform_id), **kw)


@dataclass(slots=True)
class Media:
    """A picture, video or file attached to a message; bytes are never stored here."""

    id: str
    kind: str
    sha256: str | None = None
    path: str | None = None
    url: str | None = None
    mime: str | None = None
    size: int | None = None


@dataclass(slots=True)
class Link:
    """A URL found in a message, classified by the platform it points to."""

    url: str
    platform: str = "web"        # telegram, whatsapp, tamtam, twitter, facebook, instagram, snapchat, web
    kind: str = "web"            # invite, profile, post, web
    domain: str = ""
    start: int | None = None     # span in the message's original text, when the link is in the text
    end: int | None = None


@dataclass(slots=True)
class Message:
    """One message or post, with everything the platform said about it.

    ``conversation_id`` groups messages into threads between participants: the
    chat itself for private chats and groups, the conversation for tweets.
    ``origin`` names where in the input the message came from (file and line or
    byte offset), so every finding can be traced back to its evidence.
    """

    id: str
    platform: str
    platform_id: str
    channel_id: str | None
    author_id: str | None
    time: datetime | None
    text: str
    conversation_id: str | None = None
    reply_to_id: str | None = None
    forwarded_from: str | None = None       # name as the platform shows it
    forwarded_from_id: str | None = None    # account or channel id, when known
    kind: str = "message"                   # message, service
    links: list[Link] = field(default_factory=list)
    media: list[Media] = field(default_factory=list)
    origin: str | None = None

    @staticmethod
    def make_id(platform: str, channel_platform_id: str, platform_id: str) -> str:
        return stable_id("msg", platform, channel_platform_id, platform_id)


@dataclass(slots=True)
class Conversation:
    """A thread between participants (a private chat, a group, a reply tree)."""

    id: str
    platform: str
    channel_id: str | None
    kind: str = "unknown"
    title: str | None = None


Record = Account | Channel | Conversation | Message


def message_to_dict(m: Message) -> dict:
    """A JSON-ready dict of a message (for streams, batch engines and the API)."""
    return {
        "id": m.id, "platform": m.platform, "platform_id": m.platform_id, "channel_id": m.channel_id,
        "author_id": m.author_id, "time": m.time.isoformat() if m.time else None, "text": m.text,
        "conversation_id": m.conversation_id, "reply_to_id": m.reply_to_id, "forwarded_from": m.forwarded_from,
        "forwarded_from_id": m.forwarded_from_id, "kind": m.kind, "origin": m.origin,
        "links": [{"url": ln.url, "platform": ln.platform, "kind": ln.kind, "domain": ln.domain,
                   "start": ln.start, "end": ln.end} for ln in m.links],
        "media": [{"id": md.id, "kind": md.kind, "sha256": md.sha256, "path": md.path, "url": md.url,
                   "mime": md.mime, "size": md.size} for md in m.media],
    }


def message_from_dict(d: dict) -> Message:
    """The inverse of :func:`message_to_dict`; ``time`` may be ISO 8601 or absent."""
    t = d.get("time")
    if isinstance(t, str):
        t = datetime.fromisoformat(t.replace("Z", "+00:00"))
    return Message(
        id=d["id"], platform=d.get("platform", "generic"), platform_id=str(d.get("platform_id", d["id"])),
        channel_id=d.get("channel_id"), author_id=d.get("author_id"), time=t, text=d.get("text") or "",
        conversation_id=d.get("conversation_id"), reply_to_id=d.get("reply_to_id"),
        forwarded_from=d.get("forwarded_from"), forwarded_from_id=d.get("forwarded_from_id"),
        kind=d.get("kind", "message"), origin=d.get("origin"),
        links=[Link(**ln) for ln in d.get("links") or []],
        media=[Media(**md) for md in d.get("media") or []])
