"""Format detection from content, and finding input files in folders."""
from __future__ import annotations

import json

import pytest

from haris import ingest
from haris.errors import InputError, UnknownFormatError
from haris.model import Message
from ingest_helpers import EXAMPLES, FIXTURES, assert_well_ordered

EXPECTED_EXAMPLES = {
    "generic/messages.csv": "csv",
    "generic/messages.jsonl": "jsonl",
    "telegram/grooming_chat/result.json": "telegram",
    "telegram/result.json": "telegram",
    "twitter/search_response.json": "twitter",
    "whatsapp/WhatsApp Chat - Example Souq/_chat.txt": "whatsapp",
    "whatsapp/WhatsApp Chat with Famille Example.txt": "whatsapp",
}


def test_every_example_is_found_detected_and_read():
    found = {p.relative_to(EXAMPLES).as_posix(): ingest.detect_format(p) for p in ingest.iter_files([EXAMPLES])}
    assert found == EXPECTED_EXAMPLES
    for rel in EXPECTED_EXAMPLES:
        records = list(ingest.read(EXAMPLES / rel))
        assert_well_ordered(records)
        assert sum(isinstance(r, Message) for r in records) >= 9


@pytest.mark.parametrize("rel,fmt", [
    ("telegram_single/result.json", "telegram"), ("telegram_full.json", "telegram"),
    ("whatsapp_android/WhatsApp Chat with Example Group.txt", "whatsapp"),
    ("twitter_response.json", "twitter"), ("twitter_lines.jsonl", "twitter"),
    ("generic.jsonl", "jsonl"), ("generic.csv", "csv"),
])
def test_fixtures_are_detected(rel, fmt):
    assert ingest.detect_format(FIXTURES / rel) == fmt


def test_detection_reads_content_not_the_extension(tmp_path):
    odd = tmp_path / "export.dat"
    odd.write_text(json.dumps({"name": "X", "type": "personal_chat", "id": 1, "messages": []}))
    assert ingest.detect_format(odd) == "telegram"
    lying = tmp_path / "chat.csv"
    lying.write_text("13/01/2024, 09:00 - Ann: hi, there\n")
    assert ingest.detect_format(lying) == "whatsapp"
    rows = tmp_path / "rows.txt"
    rows.write_text('{"text": "hello", "author": "a"}\n{"text": "again", "author": "b"}\n')
    assert ingest.detect_format(rows) == "jsonl"
    minified = tmp_path / "min.json"
    minified.write_text(json.dumps({"about": "x", "chats": {"list": []}}))
    assert ingest.detect_format(minified) == "telegram"


@pytest.mark.parametrize("content,seen", [
    (b"", "empty"),
    (b"  \n\n\t\n", "empty"),
    (b"\x89PNG\r\n\x1a\n" + bytes(200), "PNG"),
    (b"PK\x03\x04" + bytes(200), "ZIP"),
    (bytes(range(256)) * 4, "binary"),
    (b"\x00\x00\x00\x18ftypmp42" + bytes(100), "MP4"),
    (bytes([0x80 + i % 100 for i in range(600)]), "binary"),
    (b"Dear diary,\nnothing to report today.\n", "Dear diary"),
    (b"<!DOCTYPE html>\n<html><body>messages</body></html>", "HTML"),
    (b'{"hello": "world", "n": 1}\n{"hello": "again"}\n'.replace(b"\n{", b"\n\n{"), None),
])
def test_unknown_empty_and_binary_files_are_refused(tmp_path, content, seen):
    path = tmp_path / "input.bin"
    path.write_bytes(content)
    if seen is None:                         # any object per line is generic JSONL (checked when read)
        assert ingest.detect_format(path) == "jsonl"
        return
    with pytest.raises(UnknownFormatError) as err:
        ingest.detect_format(path)
    assert str(path) in str(err.value) and seen in str(err.value)
    with pytest.raises(UnknownFormatError):
        ingest.read(path)


def test_json_that_is_no_known_export_lists_its_keys(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"settings": {"a": 1}, "version": 3}, indent=2))
    with pytest.raises(UnknownFormatError, match="settings"):
        ingest.detect_format(path)


def test_unknown_format_name_is_refused():
    with pytest.raises(UnknownFormatError, match="one of telegram"):
        ingest.read(FIXTURES / "generic.jsonl", "facebook")


def test_iter_files_skips_media_hidden_and_readme(tmp_path):
    (tmp_path / "export" / "photos").mkdir(parents=True)
    (tmp_path / "export" / "result.json").write_text("{}")
    (tmp_path / "export" / "photos" / "photo_1.jpg").write_bytes(b"x")
    (tmp_path / "export" / "video.mp4").write_bytes(b"x")
    (tmp_path / "export" / "messages.html").write_text("<html>")
    (tmp_path / "export" / "README.md").write_text("about")
    (tmp_path / "export" / "readme.txt").write_text("about")
    (tmp_path / "export" / ".hidden.json").write_text("{}")
    (tmp_path / "export" / ".cache").mkdir()
    (tmp_path / "export" / ".cache" / "x.json").write_text("{}")
    (tmp_path / "b.csv").write_text("text\nhi\n")
    (tmp_path / "a.txt").write_text("x")
    assert [p.relative_to(tmp_path).as_posix() for p in ingest.iter_files([tmp_path])] == \
        ["a.txt", "b.csv", "export/result.json"]
    # a file given by name is read even when a folder walk would skip it
    assert list(ingest.iter_files(tmp_path / "export" / ".hidden.json")) == [tmp_path / "export" / ".hidden.json"]


def test_iter_files_refuses_a_missing_path(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        list(ingest.iter_files([tmp_path / "missing"]))
