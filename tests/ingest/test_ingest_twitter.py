"""Twitter/X API v2: a response document, JSON Lines of responses and tweets, arrays."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from haris import ingest
from haris.errors import InputError
from haris.model import Message, stable_id
from ingest_helpers import FIXTURES, assert_well_ordered, message, split

RESPONSE = FIXTURES / "twitter_response.json"
LINES = FIXTURES / "twitter_lines.jsonl"


def read(path):
    records = list(ingest.read(path, "twitter"))
    assert_well_ordered(records)
    return records


@pytest.fixture(scope="module")
def response():
    return read(RESPONSE)


def test_authors_become_accounts_and_timelines(response):
    accounts, channels, _, messages = split(response)
    first = message(messages, "1700000000000000001")
    author = accounts[first.author_id]
    assert (author.platform_id, author.handle, author.display_name, author.bio) == \
        ("501", "example_news", "Example News", "Synthetic news account")
    timeline = channels[first.channel_id]
    assert (timeline.kind, timeline.platform_id, timeline.handle) == ("timeline", "501", "example_news")
    assert first.time == datetime(2024, 3, 1, 10, 0, tzinfo=timezone.utc)


def test_replies_and_conversations(response):
    _, channels, conversations, messages = split(response)
    root = message(messages, "1700000000000000001")
    reply = message(messages, "1700000000000000002")
    assert reply.reply_to_id == root.id == Message.make_id("twitter", "", "1700000000000000001")
    assert reply.conversation_id == root.conversation_id
    conv = conversations[root.conversation_id]
    assert conv.kind == "thread" and conv.channel_id == root.channel_id     # the root author's timeline


def test_quote_is_a_forward_from_the_quoted_author(response):
    accounts, _, _, messages = split(response)
    quote = message(messages, "1700000000000000003")
    assert quote.forwarded_from == "example_source"
    assert quote.forwarded_from_id == stable_id("acct", "twitter", "504")
    assert accounts[quote.forwarded_from_id].display_name == "Source Account"
    # the quoted tweet itself, known only from includes, is read too
    quoted = message(messages, "1700000000000000100")
    assert quoted.text == "Original quoted post" and quoted.origin.endswith("#includes.tweets/0")


def test_urls_become_links_with_spans_in_code_points(response):
    _, _, _, messages = split(response)
    m = message(messages, "1700000000000000001")
    (link,) = m.links
    assert link.url == "https://example.com/report"
    assert m.text[link.start:link.end] == "https://t.co/abc123"    # an emoji precedes the URL


def test_media_from_includes(response):
    _, _, _, messages = split(response)
    (media,) = message(messages, "1700000000000000001").media
    assert (media.kind, media.url, media.id) == \
        ("photo", "https://example.com/media/1.jpg", stable_id("media", "twitter", "3_1700000000000000009"))


def test_json_lines_of_responses_and_bare_tweets():
    accounts, channels, _, messages = split(read(LINES))
    assert [m.platform_id for m in messages] == ["1800000000000000001", "1800000000000000002"]
    assert messages[0].origin == f"{LINES}:1#data/0" and messages[1].origin == f"{LINES}:2"
    (link,) = messages[0].links
    assert messages[0].text[link.start:link.end] == "https://t.co/x1"
    # a retweet whose source is not in this line's includes: the name comes from "RT @name:"
    assert (messages[1].forwarded_from, messages[1].forwarded_from_id) == ("example_counter", None)
    assert accounts[messages[1].author_id].handle is None       # no includes: the id only


def test_wrong_entity_indices_are_corrected_by_finding_the_url(tmp_path):
    tweet = {"id": "1", "text": "a &amp; b https://t.co/zz", "author_id": "7", "created_at": "2024-01-01T00:00:00Z",
             "entities": {"urls": [{"start": 6, "end": 21, "url": "https://t.co/zz", "expanded_url": "https://example.com/z"}]}}
    path = tmp_path / "t.jsonl"
    path.write_text(json.dumps(tweet) + "\n")
    (m,) = [r for r in read(path) if isinstance(r, Message)]
    assert m.text[m.links[0].start:m.links[0].end] == "https://t.co/zz"


def test_pretty_printed_array_of_tweets(tmp_path):
    tweets = [{"id": str(i), "text": f"tweet {i}", "author_id": "7", "created_at": "2024-01-01T00:00:00Z",
               "edit_history_tweet_ids": [str(i)]} for i in range(3)]
    path = tmp_path / "tweets.json"
    path.write_text(json.dumps(tweets, indent=2))
    assert ingest.detect_format(path) == "twitter"
    *_, messages = split(read(path))
    assert [m.text for m in messages] == ["tweet 0", "tweet 1", "tweet 2"]
    assert messages[2].origin == f"{path}#item/2"


def test_single_tweet_response_with_data_object(tmp_path):
    doc = {"data": {"id": "5", "text": "one", "author_id": "7"}, "includes": {"users": [{"id": "7", "username": "u7"}]}}
    path = tmp_path / "one.json"
    path.write_text(json.dumps(doc, indent=2))
    accounts, _, _, messages = split(read(path))
    assert [m.text for m in messages] == ["one"] and accounts[messages[0].author_id].handle == "u7"


def test_reading_twice_gives_identical_records(response):
    assert read(RESPONSE) == response


def test_a_line_that_is_not_a_tweet_names_the_line(tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_text('{"data": []}\n{"hello": 1}\n')
    with pytest.raises(InputError) as err:
        list(ingest.read(path, "twitter"))
    assert err.value.line == 2
