"""Bad input: each case raises InputError naming the file, where, and what was expected."""
from __future__ import annotations

import pytest

from haris import ingest
from haris.errors import InputError
from haris.model import Message
from ingest_helpers import FIXTURES

TELEGRAM = (FIXTURES / "telegram_full.json").read_bytes()


def write(tmp_path, name, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def drain(path, fmt=None, **kw):
    """Read until the error; return how many messages came before it."""
    count = 0
    for record in ingest.read(path, fmt, **kw):
        count += isinstance(record, Message)
    return count


def test_truncated_telegram_json_says_where_it_ends(tmp_path):
    cut = TELEGRAM.index(b'"Still available?"')
    path = write(tmp_path, "result.json", TELEGRAM[:cut])
    yielded = []
    with pytest.raises(InputError) as err:
        for record in ingest.read(path, "telegram"):
            yielded.append(record)
    e = err.value
    assert e.path == str(path) and e.offset == cut
    assert e.line == TELEGRAM[:cut].count(b"\n") + 1
    assert "truncated" in e.problem and "closing" in e.expected
    assert "chats.list.item.messages.item" in e.problem
    # streaming: the complete messages before the cut came out first; the error is not swallowed
    assert [m.platform_id for m in yielded if isinstance(m, Message)] == ["10", "11", "1", "2"]


def test_truncated_twitter_document(tmp_path):
    data = (FIXTURES / "twitter_response.json").read_bytes()
    path = write(tmp_path, "resp.json", data[: len(data) // 2])
    with pytest.raises(InputError) as err:
        drain(path, "twitter")
    assert err.value.offset == len(data) // 2 and "truncated" in err.value.problem


def test_invalid_json_syntax_points_at_the_bad_byte(tmp_path):
    data = TELEGRAM.replace(b'"Still available?",', b'"Still available?",,', 1)
    path = write(tmp_path, "result.json", data)
    with pytest.raises(InputError) as err:
        drain(path, "telegram")
    bad = data.index(b",,") + 1
    assert err.value.offset == bad and err.value.line == data[:bad].count(b"\n") + 1
    assert err.value.expected == "a quoted key or '}'"


def test_latin1_bytes_in_utf8_json(tmp_path):
    data = TELEGRAM.replace("Lambs for sale".encode(), "Agneaux à vendre".encode("latin-1"))
    path = write(tmp_path, "result.json", data)
    with pytest.raises(InputError) as err:
        drain(path, "telegram")
    bad = data.index(b"\xe0")
    assert (err.value.offset, err.value.line) == (bad, data[:bad].count(b"\n") + 1)
    assert "UTF-8" in err.value.problem and "\\xe0" in err.value.problem


@pytest.mark.parametrize("name,fmt,head,row", [
    ("WhatsApp Chat with Ann.txt", "whatsapp", b"13/01/2024, 09:00 - Ann: hi\n", b"13/01/2024, 09:01 - Ann: caf\xe9\n"),
    ("rows.csv", "csv", b"id,text\n1,hi\n", b"2,caf\xe9\n"),
    ("rows.jsonl", "jsonl", b'{"text": "hi"}\n', b'{"text": "caf\xe9"}\n'),
    ("tweets.jsonl", "twitter", b'{"id": "1", "text": "hi"}\n', b'{"id": "2", "text": "caf\xe9"}\n'),
])
def test_latin1_bytes_in_utf8_text_formats(tmp_path, name, fmt, head, row):
    data = head + row
    path = write(tmp_path, name, data)
    with pytest.raises(InputError) as err:
        drain(path, fmt)
    assert err.value.line == head.count(b"\n") + 1 and err.value.offset == data.index(b"\xe9")
    assert "not valid UTF-8" in err.value.problem


def test_mixed_encoding_is_never_replaced_silently(tmp_path):
    # UTF-8 for most of the file, then a Windows-1256 (Arabic) line
    data = "13/01/2024, 09:00 - Ann: مرحبا\n".encode() + "13/01/2024, 09:01 - Ann: مرحبا\n".encode("cp1256")
    path = write(tmp_path, "WhatsApp Chat with Ann.txt", data)
    with pytest.raises(InputError) as err:
        drain(path)
    assert err.value.line == 2


def test_broken_utf16_names_line_and_offset(tmp_path):
    good = "\ufeff13/01/2024, 09:00 - Ann: hi\n".encode("utf-16-le")
    path = write(tmp_path, "WhatsApp Chat with Ann.txt", good + b"\x00\xd8\x41\x00")   # lone surrogate
    with pytest.raises(InputError) as err:
        drain(path, "whatsapp")
    assert err.value.line == 2 and err.value.offset == len(good)


def test_invalid_jsonl_line(tmp_path):
    path = write(tmp_path, "rows.jsonl", b'{"text": "a"}\n{"text": "b",}\n')
    with pytest.raises(InputError) as err:
        drain(path, "jsonl")
    assert err.value.line == 2 and err.value.offset == len(b'{"text": "a"}\n{"text": "b",')


def test_telegram_json_without_chats(tmp_path):
    path = write(tmp_path, "result.json", b'{"about": "x", "personal_information": {"user_id": 1}}')
    with pytest.raises(InputError, match="no 'messages' or 'chats'"):
        drain(path, "telegram")


def test_missing_required_fields(tmp_path):
    path = write(tmp_path, "rows.csv", b"id,text\n1,hi\n2\n")
    with pytest.raises(InputError) as err:
        drain(path, "csv")
    assert err.value.line == 3 and "'text'" in err.value.problem
    path = write(tmp_path, "result.json", b'{"name": "x", "type": "personal_chat", "id": 1, "messages": [{"type": "message"}]}')
    with pytest.raises(InputError, match="without 'id'"):
        drain(path, "telegram")
    path = write(tmp_path, "result2.json", b'{"name": "x", "type": "personal_chat", "messages": [{"id": 1}]}')
    with pytest.raises(InputError, match="no 'id' before its messages"):
        drain(path, "telegram")


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="cannot open"):
        ingest.read(tmp_path / "nope.json")


@pytest.mark.parametrize("fmt", ingest.FORMATS)
def test_an_empty_file_is_an_error_in_every_format(tmp_path, fmt):
    path = write(tmp_path, "empty", b"")
    with pytest.raises(InputError):
        drain(path, fmt)
