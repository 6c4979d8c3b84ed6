"""Telegram Desktop export: both layouts, field by field."""
from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone

import pytest

from haris import ingest
from haris.ingest._ids import IdPrefix
from haris.ingest.telegram import CHAT_KINDS
from haris.model import Account, Channel, Conversation, Message, stable_id
from ingest_helpers import FIXTURES, assert_well_ordered, message, split

SINGLE = FIXTURES / "telegram_single" / "result.json"
FULL = FIXTURES / "telegram_full.json"


@pytest.fixture(scope="module")
def single():
    return list(ingest.read(SINGLE, "telegram"))


@pytest.fixture(scope="module")
def full():
    return list(ingest.read(FULL))


def test_single_chat_channel_and_conversation(single):
    accounts, channels, conversations, messages = split(single)
    assert_well_ordered(single)
    (channel,) = channels.values()
    assert (channel.platform, channel.platform_id, channel.kind, channel.title) == \
        ("telegram", "777000111", "private", "Example Chat")
    (conv,) = conversations.values()
    assert conv.channel_id == channel.id and conv.kind == "private"
    assert {m.conversation_id for m in messages} == {conv.id}
    assert len(messages) == 7


def test_authors_and_service_messages(single):
    accounts, _, _, messages = split(single)
    sam = message(messages, "2")
    assert accounts[sam.author_id].platform_id == "user1001"
    assert accounts[sam.author_id].display_name == "Sam Example"
    call = message(messages, "1")
    assert call.kind == "service" and call.text == "phone_call"
    assert call.author_id == sam.author_id          # the actor is the author of a service message
    assert sam.kind == "message" and sam.text == "Hello, how are you?"


def test_text_parts_are_flattened_and_links_have_spans(single):
    _, _, _, messages = split(single)
    m = message(messages, "3")
    assert m.text == "Fine. See t.me/example_news and this page today"
    assert [(m.text[link.start:link.end], link.url, link.platform, link.kind) for link in m.links] == [
        ("t.me/example_news", "https://t.me/example_news", "telegram", "profile"),
        ("this page", "https://example.com/page", "web", "web"),
    ]


def test_reply_resolves_to_the_replied_message(single):
    _, _, _, messages = split(single)
    assert message(messages, "3").reply_to_id == message(messages, "2").id
    # a reply into another chat uses that chat's id (reply_to_peer_id)
    assert message(messages, "7").reply_to_id == Message.make_id("telegram", "2002", 99)


def test_forward_names_the_source_and_links_its_account(single):
    accounts, _, _, messages = split(single)
    m = message(messages, "4")
    assert m.forwarded_from == "Example News"
    assert m.forwarded_from_id == stable_id("acct", "telegram", "channel2002")
    assert accounts[m.forwarded_from_id].display_name == "Example News"


def test_media_are_hashed_when_the_file_is_in_the_export(single):
    _, _, _, messages = split(single)
    (photo,) = message(messages, "4").media
    file = SINGLE.parent / "photos" / "photo_1@01-03-2024_10-02-00.jpg"
    assert (photo.kind, photo.path, photo.size) == ("photo", "photos/photo_1@01-03-2024_10-02-00.jpg", 16)
    assert photo.sha256 == hashlib.sha256(file.read_bytes()).hexdigest()
    (video,) = message(messages, "5").media
    assert (video.kind, video.mime, video.path) == ("video", "video/mp4", "video_files/clip.mp4")
    assert video.sha256 == hashlib.sha256((SINGLE.parent / "video_files" / "clip.mp4").read_bytes()).hexdigest()
    (voice,) = message(messages, "6").media
    assert (voice.kind, voice.path, voice.sha256, voice.mime) == ("voice", None, None, "audio/ogg")
    assert message(messages, "4").media[0].id != message(messages, "5").media[0].id


def test_times_prefer_unixtime_and_fall_back_to_date(single):
    _, _, _, messages = split(single)
    assert message(messages, "2").time == datetime(2024, 3, 1, 10, 0, tzinfo=timezone.utc)
    assert message(messages, "6").time == datetime(2024, 3, 1, 10, 4, tzinfo=timezone.utc)   # no date_unixtime


def test_full_export_reads_every_chat_and_left_chats(full):
    accounts, channels, conversations, messages = split(full)
    assert_well_ordered(full)
    assert isinstance(full[0], Account) and full[0].platform_id == "user1001"
    assert (full[0].handle, full[0].bio) == ("@example_sam", "Test account")
    assert sorted((c.platform_id, c.kind, c.title) for c in channels.values()) == [
        ("2002", "channel", "Example News"), ("3003", "group", "Example Market"), ("4004", "group", "Old Group")]
    assert len(conversations) == 3
    by_chat = {}
    for m in messages:
        by_chat.setdefault(channels[m.channel_id].platform_id, []).append(m.platform_id)
    assert by_chat == {"2002": ["10", "11"], "3003": ["1", "2", "3", "4"], "4004": ["7"]}


def test_full_export_fields(full):
    accounts, channels, _, messages = split(full)
    post = message(messages, "11")
    assert accounts[post.author_id].platform_id == "channel2002"
    assert post.origin == f"{FULL}#chat=2002/msg=11"
    invite = message(messages, "1")
    assert (invite.kind, invite.text) == ("service", "invite_members: Riley Test, Casey Sample")
    created = message(messages, "10")
    assert created.text == "create_channel: Example News"
    reply = message(messages, "3")
    assert reply.reply_to_id == message(messages, "2").id
    assert message(messages, "4").text == "Delivery day?\nMonday\nFriday"      # a poll keeps its words


def test_reading_twice_gives_identical_ids(full, single):
    again = list(ingest.read(FULL))
    assert [r.id for r in again] == [r.id for r in full]
    assert [r.id for r in ingest.read(SINGLE)] == [r.id for r in single]
    assert again == full


def test_id_prefix_matches_the_model_ids():
    ids = IdPrefix("msg", "telegram", "123")
    for pid in (1, 45, "999", 10**12):
        assert ids(pid) == Message.make_id("telegram", "123", pid)


@pytest.mark.parametrize("chat_type,kind", sorted(CHAT_KINDS.items()) + [("something_new", "unknown")])
def test_chat_types_map_to_channel_kinds(tmp_path, chat_type, kind):
    export = {"name": "X", "type": chat_type, "id": 5,
              "messages": [{"id": 1, "type": "message", "date": "2024-01-01T00:00:00",
                            "date_unixtime": "1704067200", "from": "A", "from_id": "user9", "text": "hi"}]}
    path = tmp_path / "result.json"
    path.write_text(json.dumps(export))
    records = list(ingest.read(path))
    (channel,) = [r for r in records if isinstance(r, Channel)]
    (conv,) = [r for r in records if isinstance(r, Conversation)]
    assert channel.kind == kind and conv.kind == kind


def test_messages_with_text_entities_only_and_no_author(tmp_path):
    export = {"name": "X", "type": "public_channel", "id": 8, "messages": [
        {"id": 1, "type": "message", "date_unixtime": "1704067200",
         "text_entities": [{"type": "plain", "text": "see "}, {"type": "link", "text": "https://example.com/a"}]}]}
    path = tmp_path / "result.json"
    path.write_text(json.dumps(export))
    (m,) = [r for r in ingest.read(path) if isinstance(r, Message)]
    assert m.author_id is None
    assert m.text == "see https://example.com/a"
    assert (m.links[0].start, m.links[0].end) == (4, 25)
