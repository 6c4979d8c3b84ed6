"""Generic JSONL and CSV: the documented schema, the mapping, and derived ids."""
from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone

import pytest

from haris import ingest
from haris.errors import ConfigError, InputError
from haris.model import Message, stable_id
from ingest_helpers import FIXTURES, assert_well_ordered, message, split

JSONL = FIXTURES / "generic.jsonl"
CSV = FIXTURES / "generic.csv"
CSV_MAPPING = {"text": "body", "author": "user_id", "time": "created", "channel": "room",
               "channel_type": "room_type", "reply_to": "parent"}


def read(path, fmt=None, **kw):
    records = list(ingest.read(path, fmt, **kw))
    assert_well_ordered(records)
    return records


@pytest.fixture(scope="module")
def jsonl():
    return read(JSONL)


def test_jsonl_fields(jsonl):
    accounts, channels, conversations, messages = split(jsonl)
    m1 = message(messages, "m1")
    assert (m1.text, m1.time) == ("Hello group, meeting at 6", datetime(2024, 5, 1, 10, tzinfo=timezone.utc))
    assert accounts[m1.author_id].display_name == "Dana Example"
    chan = channels[m1.channel_id]
    assert (chan.platform, chan.platform_id, chan.kind, chan.title) == ("generic", "c1", "group", "Example Parents")
    assert conversations[m1.conversation_id].channel_id == chan.id        # the chat is the conversation
    assert m1.origin == f"{JSONL}:1"


def test_jsonl_reply_links_media_and_unix_time(jsonl):
    *_, messages = split(jsonl)
    m2 = message(messages, "m2")
    assert m2.reply_to_id == message(messages, "m1").id
    assert m2.time == datetime.fromtimestamp(1714557660, timezone.utc)
    (link,) = m2.links
    assert m2.text[link.start:link.end] == link.url == "https://example.com/agenda"
    local, remote = m2.media
    assert local.path == "generic_media/pic1.png" and local.kind == "photo"
    assert local.sha256 == hashlib.sha256((FIXTURES / "generic_media" / "pic1.png").read_bytes()).hexdigest()
    assert (remote.url, remote.path, remote.sha256) == ("https://example.com/img/2.jpg", None, None)


def test_row_without_id_gets_line_and_content_id(jsonl):
    *_, messages = split(jsonl)
    m = [m for m in messages if m.text == "No id on this row"][0]
    assert m.platform_id.startswith("L4-") and len(m.platform_id) == 3 + 12
    assert m.time == datetime(2024, 5, 1, 8, 2, tzinfo=timezone.utc)       # +02:00 converted to UTC
    assert m.forwarded_from == "Example News"
    assert m.forwarded_from_id == stable_id("acct", "generic", "n1")
    assert [r.id for r in read(JSONL)] == [r.id for r in jsonl]


def test_platform_and_conversation_fields(jsonl):
    _, _, conversations, messages = split(jsonl)
    m4 = message(messages, "m4")
    assert m4.platform == "twitter" and m4.channel_id is None
    assert m4.id == Message.make_id("twitter", "", "m4")
    assert conversations[m4.conversation_id].kind == "thread"


def test_csv_with_mapping_semicolons_and_multi_line_cells():
    records = read(CSV, mapping=CSV_MAPPING)
    accounts, channels, _, messages = split(records)
    assert [m.platform_id for m in messages] == ["r1", "r2", "r3"]
    assert messages[0].text == "First row; with a semicolon"
    assert messages[1].text == "A row\nspanning two lines"
    assert [m.origin.rsplit(":", 1)[1] for m in messages] == ["2", "3", "5"]     # the line each row starts on
    assert messages[1].reply_to_id == messages[0].id and messages[2].reply_to_id == messages[1].id
    assert channels[messages[0].channel_id].kind == "private"
    assert accounts[messages[0].author_id].platform_id == "u1"
    assert [link.url for link in messages[2].links] == ["https://t.me/example_channel"]
    assert messages[1].time == datetime.fromtimestamp(1714636860, timezone.utc)


def test_nested_jsonl_columns_through_dotted_mapping(tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_text(json.dumps({"body": {"plain": "hi"}, "user": {"id": 42, "name": "Ann"}}) + "\n")
    accounts, _, _, messages = split(read(path, "jsonl",
                                          mapping={"text": "body.plain", "author": "user.id", "author_name": "user.name"}))
    assert messages[0].text == "hi"
    assert accounts[messages[0].author_id].platform_id == "42"
    assert accounts[messages[0].author_id].display_name == "Ann"


def test_missing_text_names_file_line_and_field(tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_text('{"text": "ok"}\n{"id": "x", "body": "no text"}\n')
    with pytest.raises(InputError) as err:
        list(ingest.read(path, "jsonl"))
    assert (err.value.path, err.value.line) == (str(path), 2)
    assert "'text'" in err.value.problem


def test_csv_without_a_text_column_is_refused_at_the_header(tmp_path):
    path = tmp_path / "rows.csv"
    path.write_text("id,body\n1,hello\n")
    with pytest.raises(InputError) as err:
        list(ingest.read(path, "csv"))
    assert err.value.line == 1 and "'text'" in err.value.problem
    assert [m.text for m in read(path, "csv", mapping={"text": "body"}) if isinstance(m, Message)] == ["hello"]


@pytest.mark.parametrize("row,field", [
    ({"text": "a", "time": "yesterday"}, "time"),
    ({"text": "a", "platform": "myspace"}, "platform"),
    ({"text": "a", "channel": "c", "channel_type": "forum"}, "channel_type"),
    ({"text": "a", "links": "[not json"}, "links"),
])
def test_invalid_values_name_the_field(tmp_path, row, field):
    path = tmp_path / "rows.jsonl"
    path.write_text(json.dumps(row) + "\n")
    with pytest.raises(InputError) as err:
        list(ingest.read(path, "jsonl"))
    assert err.value.line == 1 and field in err.value.problem


def test_mapping_errors():
    with pytest.raises(ConfigError, match="unknown fields"):
        ingest.read(JSONL, "jsonl", mapping={"txt": "body"})
    with pytest.raises(ConfigError, match="applies to jsonl and csv"):
        ingest.read(FIXTURES / "telegram_full.json", "telegram", mapping={"text": "body"})


def test_too_many_cells_names_the_line(tmp_path):
    path = tmp_path / "rows.csv"
    path.write_text("id,text\n1,hello\n2,hello,extra\n")
    with pytest.raises(InputError) as err:
        list(ingest.read(path, "csv"))
    assert err.value.line == 3
