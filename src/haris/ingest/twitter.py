"""Twitter/X API v2 JSON: a response object, an array of them, or JSON Lines.

A v2 response is ``{"data": [tweets], "includes": {"users", "tweets",
"media"}, "meta"}``. Each line of a JSONL file is one such response (what
``twarc2`` and most collectors write) or one bare tweet. A response is one
page of at most a few hundred tweets, so a JSONL file streams page by page;
a single pretty-printed response is streamed with ijson, ``includes`` first
(it comes after ``data`` in the file, but tweets need their authors).

What becomes what:

- ``author_id`` -> :class:`Account` (``username`` -> handle, ``name`` -> display
  name, ``description`` -> bio) and the author's :class:`Channel` of kind
  ``timeline``;
- ``conversation_id`` -> :class:`Conversation` (kind ``thread``);
- ``referenced_tweets``: ``replied_to`` -> ``reply_to_id``; ``quoted`` and
  ``retweeted`` -> ``forwarded_from_id``, the referenced tweet's author when
  ``includes.tweets`` names it;
- ``entities.urls`` -> links (``expanded_url``, span of the t.co URL in the text);
- ``attachments.media_keys`` -> :class:`Media` from ``includes.media``.

Tweet ids are unique across Twitter, so message ids do not depend on the
author: ``Message.make_id("twitter", "", tweet_id)``. Tweets that appear only
in ``includes.tweets`` (the quoted or retweeted ones) are yielded too, after
the page's ``data``.
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

from haris.errors import InputError
from haris.ingest._json import JsonSource, ijson_backend, json_errors
from haris.ingest._links import make_link
from haris.ingest._text import json_lines
from haris.model import Account, Channel, Conversation, Link, Media, Message, Record, stable_id

PLATFORM = "twitter"
MEDIA_KINDS = {"photo": "photo", "video": "video", "animated_gif": "animation"}
TWEET_KEYS = frozenset({"author_id", "created_at", "conversation_id", "edit_history_tweet_ids",
                        "referenced_tweets", "public_metrics", "entities", "attachments",
                        "in_reply_to_user_id", "possibly_sensitive", "reply_settings", "lang"})
_FIRST_LINE_LIMIT = 16 << 20


def looks_like_tweet(obj: dict) -> bool:
    """True for a v2 tweet object: id and text plus at least two tweet-only fields."""
    return "id" in obj and "text" in obj and len(TWEET_KEYS.intersection(obj)) >= 2


def looks_like_response(obj: dict) -> bool:
    """True for a v2 response object."""
    data = obj.get("data")
    if isinstance(data, list):
        return not data or (isinstance(data[0], dict) and "id" in data[0] and "text" in data[0])
    return isinstance(data, dict) and "id" in data and ("includes" in obj or "text" in data)


def read(path: Path) -> Iterator[Record]:
    """Records of a Twitter API v2 JSON or JSONL file."""
    path = Path(path)
    reader = _Reader(path)
    if _is_json_lines(path):
        for number, _offset, obj in json_lines(path, "one complete JSON object per line"):
            yield from reader.value(obj, f"{path}:{number}", number)
        return
    yield from _read_document(reader, path)


def _is_json_lines(path: Path) -> bool:
    """True when the first non-blank line is a complete JSON value (JSONL, or a one-line document)."""
    with open(path, "rb") as fh:
        for raw in iter(lambda: fh.readline(_FIRST_LINE_LIMIT), b""):
            if raw.strip():
                if not raw.endswith(b"\n") and len(raw) >= _FIRST_LINE_LIMIT:
                    return False
                try:
                    json.loads(raw.decode("utf-8-sig"))
                    return True
                except (ValueError, UnicodeDecodeError):
                    return False
    return False


def _read_document(reader: "_Reader", path: Path) -> Iterator[Record]:
    with JsonSource(path) as src, json_errors(src):
        first = next(ijson_backend.parse(src), None)
    if first is None:
        return
    if first[1] == "start_array":
        with JsonSource(path) as src, json_errors(src):
            for i, obj in enumerate(ijson_backend.items(src, "item")):
                yield from reader.value(obj, f"{path}#item/{i}", None)
        return
    if first[1] != "start_map":
        raise InputError(path, f"the JSON is a {first[1]}", offset=0,
                         expected="a Twitter API v2 response object or an array of them")
    with JsonSource(path) as src, json_errors(src):
        includes = next(ijson_backend.items(src, "includes"), None) or {}
    page = _Page(includes)
    count = 0
    with JsonSource(path) as src, json_errors(src):
        for tweet in ijson_backend.items(src, "data.item"):
            yield from reader.tweet(tweet, page, f"{path}#data/{count}")
            count += 1
    if count == 0:
        with JsonSource(path) as src, json_errors(src):
            data = next(ijson_backend.items(src, "data"), None)
        if isinstance(data, dict):
            yield from reader.tweet(data, page, f"{path}#data")
        elif data is None and not includes:
            raise InputError(path, "no 'data' in this JSON", expected="a Twitter API v2 response with 'data'")
    yield from reader.included_tweets(page, f"{path}#includes.tweets")


class _Page:
    """The ``includes`` of one response, looked up by id."""

    def __init__(self, includes: dict):
        self.users = {str(u.get("id")): u for u in includes.get("users") or [] if isinstance(u, dict)}
        self.tweets = {str(t.get("id")): t for t in includes.get("tweets") or [] if isinstance(t, dict)}
        self.media = {m.get("media_key"): m for m in includes.get("media") or [] if isinstance(m, dict)}
        self.done: set[str] = set()    # tweet ids of this page already yielded


class _Reader:
    def __init__(self, path: Path):
        self.path = path
        self.seen: set[str] = set()           # accounts, channels, conversations already yielded
        self.timelines: dict[str, str] = {}   # author id -> channel id
        self.pending: list[Record] = []

    def value(self, obj, origin: str, line: int | None) -> Iterator[Record]:
        """Records of one JSON value that is a response or a bare tweet."""
        if isinstance(obj, dict) and ("data" in obj or "includes" in obj):
            page = _Page(obj.get("includes") or {})
            data = obj.get("data")
            tweets = data if isinstance(data, list) else [data] if isinstance(data, dict) else []
            for i, tweet in enumerate(tweets):
                yield from self.tweet(tweet, page, f"{origin}#data/{i}")
            yield from self.included_tweets(page, f"{origin}#includes.tweets")
        elif isinstance(obj, dict) and "id" in obj and "text" in obj:
            yield from self.tweet(obj, _Page({}), origin)
        else:
            raise InputError(self.path, "a JSON value that is neither a v2 response nor a tweet", line=line,
                             expected="{\"data\": [...], \"includes\": {...}} or a tweet with 'id' and 'text'")

    def included_tweets(self, page: _Page, origin: str) -> Iterator[Record]:
        for i, (tid, tweet) in enumerate(page.tweets.items()):
            if tid not in page.done:
                yield from self.tweet(tweet, page, f"{origin}/{i}")

    def tweet(self, tw: dict, page: _Page, origin: str) -> Iterator[Record]:
        if not isinstance(tw, dict) or tw.get("id") is None or tw.get("text") is None:
            raise InputError(self.path, f"a tweet without 'id' or 'text' at {origin}",
                             expected="tweet objects with 'id' and 'text'")
        tid = str(tw["id"])
        page.done.add(tid)
        author_pid = tw.get("author_id")
        author = channel = None
        if author_pid is not None:
            author_pid = str(author_pid)
            author = self._account(author_pid, page)
            channel = self._timeline(author_pid, page)

        conversation = None
        conv_pid = tw.get("conversation_id")
        if conv_pid is not None:
            conversation = self._conversation(str(conv_pid), tid, channel, page)

        note = tw.get("note_tweet")
        if isinstance(note, dict) and note.get("text"):
            text, entities = note["text"], note.get("entities") or {}
        else:
            text, entities = tw["text"], tw.get("entities") or {}

        reply_to = fwd_name = fwd_id = None
        for ref in tw.get("referenced_tweets") or []:
            kind, ref_id = ref.get("type"), str(ref.get("id"))
            if kind == "replied_to":
                reply_to = Message.make_id(PLATFORM, "", ref_id)
            elif kind in ("quoted", "retweeted") and fwd_id is None:
                source = page.tweets.get(ref_id)
                if source and source.get("author_id") is not None:
                    src_author = str(source["author_id"])
                    fwd_id = self._account(src_author, page)
                    fwd_name = (page.users.get(src_author) or {}).get("username")
                elif kind == "retweeted" and text.startswith("RT @"):
                    fwd_name = text[4:].split(":", 1)[0].strip() or None   # "RT @handle: ..."

        msg = Message(
            id=Message.make_id(PLATFORM, "", tid), platform=PLATFORM, platform_id=tid,
            channel_id=channel, author_id=author, time=self._time(tw, origin), text=text,
            conversation_id=conversation, reply_to_id=reply_to, forwarded_from=fwd_name,
            forwarded_from_id=fwd_id, links=self._links(text, entities),
            media=self._media(tw, page), origin=origin)
        if self.pending:
            yield from self.pending
            self.pending.clear()
        yield msg

    def _account(self, user_id: str, page: _Page) -> str:
        acct_id = stable_id("acct", PLATFORM, user_id)
        if acct_id not in self.seen:
            self.seen.add(acct_id)
            user = page.users.get(user_id) or {}
            self.pending.append(Account(id=acct_id, platform=PLATFORM, platform_id=user_id,
                                        handle=user.get("username"), display_name=user.get("name"),
                                        bio=user.get("description") or None))
        return acct_id

    def _timeline(self, user_id: str, page: _Page) -> str:
        chan_id = self.timelines.get(user_id)
        if chan_id is None:
            user = page.users.get(user_id) or {}
            chan = Channel.make(PLATFORM, user_id, kind="timeline", title=user.get("name"),
                                handle=user.get("username"))
            chan_id = self.timelines[user_id] = chan.id
            self.pending.append(chan)
        return chan_id

    def _conversation(self, conv_pid: str, tid: str, channel: str | None, page: _Page) -> str:
        conv_id = stable_id("conv", PLATFORM, conv_pid)
        if conv_id not in self.seen:
            self.seen.add(conv_id)
            # the thread belongs to the timeline of whoever wrote its first tweet, when known
            if conv_pid != tid:
                root = page.tweets.get(conv_pid)
                channel = self._timeline(str(root["author_id"]), page) \
                    if root and root.get("author_id") is not None else None
            self.pending.append(Conversation(id=conv_id, platform=PLATFORM, channel_id=channel, kind="thread"))
        return conv_id

    def _time(self, tw: dict, origin: str) -> datetime | None:
        created = tw.get("created_at")
        if created is None:
            return None
        try:
            t = datetime.fromisoformat(str(created).replace("Z", "+00:00"))
        except ValueError:
            raise InputError(self.path, f"invalid created_at {created!r} at {origin}",
                             expected="an ISO 8601 time such as 2024-03-01T10:00:00.000Z") from None
        return t.astimezone(timezone.utc) if t.tzinfo else t.replace(tzinfo=timezone.utc)

    @staticmethod
    def _links(text: str, entities: dict) -> list[Link]:
        links = []
        for u in entities.get("urls") or []:
            short = u.get("url") or ""
            target = u.get("unwound_url") or u.get("expanded_url") or short
            if not target:
                continue
            start, end = u.get("start"), u.get("end")
            if not (isinstance(start, int) and isinstance(end, int) and short and text[start:end] == short):
                # indices disagree with the text (HTML-escaped text, older payloads): find the t.co URL
                at = text.find(short) if short else -1
                start, end = (at, at + len(short)) if at >= 0 else (None, None)
            links.append(make_link(target, start, end))
        return links

    @staticmethod
    def _media(tw: dict, page: _Page) -> list[Media]:
        keys = (tw.get("attachments") or {}).get("media_keys") or []
        media = []
        for key in keys:
            m = page.media.get(key) or {}
            media.append(Media(id=stable_id("media", PLATFORM, key), kind=MEDIA_KINDS.get(m.get("type"), "unknown"),
                               url=m.get("url") or m.get("preview_image_url")))
        return media
