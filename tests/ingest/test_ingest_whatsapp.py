"""WhatsApp .txt exports: layouts, locales, encodings and the lines WhatsApp writes itself."""
from __future__ import annotations

import hashlib
from datetime import datetime, timezone

import pytest

from haris import ingest
from haris.errors import InputError
from haris.model import Account, Channel, Message, stable_id
from ingest_helpers import FIXTURES, assert_well_ordered, split

ANDROID = FIXTURES / "whatsapp_android" / "WhatsApp Chat with Example Group.txt"
NNBSP, LRM, RLM = "\u202f", "\u200e", "\u200f"


def utc(*args):
    return datetime(*args, tzinfo=timezone.utc)


def read(path):
    records = list(ingest.read(path, "whatsapp"))
    assert_well_ordered(records)
    return records


def write(tmp_path, name, lines, encoding="utf-8", bom=b""):
    folder = tmp_path / "chat"
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_bytes(bom + "\n".join(lines).encode(encoding) + b"\n" if encoding.startswith("utf-8")
                     else bom + ("\n".join(lines) + "\n").encode(encoding))
    return path


@pytest.fixture(scope="module")
def android():
    return read(ANDROID)


def test_android_channel_from_file_name_and_group_kind(android):
    _, channels, conversations, messages = split(android)
    (channel,) = channels.values()
    assert (channel.platform_id, channel.title, channel.kind) == ("Example Group", "Example Group", "group")
    assert next(iter(conversations.values())).kind == "group"
    assert len(messages) == 11


def test_android_multi_line_message_and_origin(android):
    *_, messages = split(android)
    m = messages[3]
    assert m.text == "Good morning\nthis is a second line\nand a third"
    assert m.time == utc(2024, 1, 13, 9, 0)
    assert m.origin == f"{ANDROID}:4"
    assert messages[4].origin == f"{ANDROID}:7"       # after the two continuation lines


def test_android_system_lines_are_service_without_author(android):
    *_, messages = split(android)
    service = [(m.text, m.author_id) for m in messages if m.kind == "service"]
    assert [t for t, _ in service] == [
        "Messages and calls are end-to-end encrypted. No one outside of this chat, not even WhatsApp, "
        "can read or listen to them. Tap to learn more.",
        'Alice Example created group "Example Group"',
        "Alice Example added +1 555 0101",
        'Alice Example changed the subject from "A: B" to "Example Group"',   # a colon, yet no sender
        "Bob Test left",
    ]
    assert all(author is None for _, author in service)
    # a person writing words that look like a system line is still a person
    person = [m for m in messages if m.text == "Alice added Carol to the list"]
    assert person[0].kind == "message" and person[0].author_id is not None


def test_android_accounts_by_name_and_phone(android):
    accounts, channels, _, messages = split(android)
    chan = next(iter(channels.values()))
    by_pid = {a.platform_id: a for a in accounts.values()}
    assert set(by_pid) == {"Alice Example", "+15550101", "Bob Test"}
    assert by_pid["+15550101"].display_name == "+1 555 0101"
    # a phone number is the same person in every chat; a name only within its chat
    assert by_pid["+15550101"].id == stable_id("acct", "whatsapp", "+15550101")
    assert by_pid["Alice Example"].id == stable_id("acct", "whatsapp", chan.platform_id, "Alice Example")
    assert messages[4].author_id == by_pid["+15550101"].id


def test_android_media(android):
    *_, messages = split(android)
    omitted = messages[4]
    assert omitted.text == "" and [m.kind for m in omitted.media] == ["unknown"]
    assert omitted.media[0].path is None
    attached = messages[5]
    assert attached.text == "Look at this"
    (photo,) = attached.media
    file = ANDROID.parent / "IMG-20240113-WA0001.jpg"
    assert (photo.kind, photo.path) == ("photo", "IMG-20240113-WA0001.jpg")
    assert photo.sha256 == hashlib.sha256(file.read_bytes()).hexdigest()


def test_android_links_and_edited_marker(android):
    *_, messages = split(android)
    m = messages[-2]
    assert m.text == "join t.me/example_group now, or see https://example.com/info."
    assert [(m.text[link.start:link.end], link.platform) for link in m.links] == [
        ("t.me/example_group", "telegram"), ("https://example.com/info", "web")]


def test_same_sender_same_minute_gets_distinct_stable_ids(android):
    *_, messages = split(android)
    a, b = messages[-2], messages[-1]
    assert a.time == b.time and a.author_id == b.author_id
    assert a.platform_id.endswith("|0") and b.platform_id.endswith("|1")
    assert a.id != b.id
    again = [r.id for r in ingest.read(ANDROID)]
    assert again == [r.id for r in android]


def test_ios_utf16_twelve_hour_clock_marks_and_attachments(tmp_path):
    lines = [
        f"[1/13/24, 9:00:05{NNBSP}AM] Example Souq: {LRM}Messages and calls are end-to-end encrypted. No one "
        "outside of this chat, not even WhatsApp, can read or listen to them.",
        f"[1/13/24, 9:00:06{NNBSP}AM] {LRM}Abu Example created group “Example Souq”",
        f"[1/13/24, 12:01:00{NNBSP}AM] {LRM}Abu Example{LRM}: salam, 3andi sayara lel bay3",
        f"[1/13/24, 12:30:00{NNBSP}PM] {LRM}+44 7700 900123: {LRM}image omitted",
        f"[1/13/24, 9:31:00{NNBSP}PM] Bob Test: {LRM}<attached: 00000012-PHOTO-2024-01-13-21-31-00.jpg>",
        "caption on the next line",
    ]
    path = write(tmp_path, "_chat.txt", lines, "utf-16-le", b"\xff\xfe")
    path.rename(path.parent.parent / "chat" / "_chat.txt")
    records = read(path)
    accounts, channels, _, messages = split(records)
    assert [m.kind for m in messages] == ["service", "service", "message", "message", "message"]
    assert messages[0].author_id is None and messages[1].text == "Abu Example created group “Example Souq”"
    assert messages[2].time == utc(2024, 1, 13, 0, 1)          # 12 AM is midnight
    assert messages[3].time == utc(2024, 1, 13, 12, 30)        # 12 PM is noon
    assert messages[4].time == utc(2024, 1, 13, 21, 31)
    assert accounts[messages[2].author_id].platform_id == "Abu Example"      # marks removed from names
    assert accounts[messages[3].author_id].platform_id == "+447700900123"
    assert [m.kind for m in messages[3].media] == ["photo"] and messages[3].text == ""
    (photo,) = messages[4].media
    assert photo.path == "00000012-PHOTO-2024-01-13-21-31-00.jpg" and photo.sha256 is None
    assert messages[4].text == "caption on the next line"
    # no chat name in "_chat.txt" or its folder: the channel is named by the file's hash
    (channel,) = channels.values()
    assert channel.platform_id == "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    assert channel.kind == "group"


def test_ios_chat_named_by_its_folder(tmp_path):
    folder = tmp_path / "WhatsApp Chat - Example Team"
    folder.mkdir()
    path = folder / "_chat.txt"
    path.write_text("[13/01/2024, 09:00:00] Ann: hi\n[13/01/2024, 09:01:00] Ben: hello\n", encoding="utf-8")
    _, channels, _, messages = split(read(path))
    (channel,) = channels.values()
    assert (channel.platform_id, channel.kind) == ("Example Team", "private")   # two people, no group events
    assert messages[0].time == utc(2024, 1, 13, 9, 0)


@pytest.mark.parametrize("encoding,bom", [
    ("utf-8", b"\xef\xbb\xbf"), ("utf-16-le", b"\xff\xfe"), ("utf-16-be", b"\xfe\xff"), ("utf-8", b"")])
def test_encodings_and_byte_order_marks(tmp_path, encoding, bom):
    lines = ["13/01/2024, 09:00 - Ann: مرحبا café 👋", "second line", "13/01/2024, 09:01 - Ben: ok"]
    path = write(tmp_path, "WhatsApp Chat with Ann.txt", lines, encoding, bom)
    *_, messages = split(read(path))
    assert [m.text for m in messages] == ["مرحبا café 👋\nsecond line", "ok"]
    assert messages[1].origin.endswith(":3")


def test_us_month_first_with_ambiguous_dates_and_twelve_hour_clock(tmp_path):
    lines = ["1/2/24, 9:05 PM - Ann: hi", "1/3/24, 10:00 AM - Ben: hello"]
    *_, messages = split(read(write(tmp_path, "WhatsApp Chat with Ann.txt", lines)))
    assert messages[0].time == utc(2024, 1, 2, 21, 5)            # January 2nd, not February 1st
    assert messages[1].time == utc(2024, 1, 3, 10, 0)


def test_day_first_decided_by_a_day_above_twelve(tmp_path):
    lines = ["05/03/2024, 09:00 - Ann: a", "13/03/2024, 09:00 - Ann: b", "1/4/2024, 10:00 a.m. - Ben: c",
             "1/4/2024, 1:00 p.m. - Ben: d"]
    *_, messages = split(read(write(tmp_path, "WhatsApp Chat with Ann.txt", lines)))
    assert [m.time for m in messages] == [utc(2024, 3, 5, 9), utc(2024, 3, 13, 9), utc(2024, 4, 1, 10),
                                          utc(2024, 4, 1, 13)]


def test_month_first_decided_by_a_second_number_above_twelve(tmp_path):
    lines = ["3/5/24, 09:00 - Ann: a", "3/13/24, 09:00 - Ann: b"]
    *_, messages = split(read(write(tmp_path, "WhatsApp Chat with Ann.txt", lines)))
    assert [m.time for m in messages] == [utc(2024, 3, 5, 9), utc(2024, 3, 13, 9)]


def test_arabic_layout_with_marks_arabic_comma_and_clock(tmp_path):
    lines = [f"{RLM}5{RLM}/1{RLM}/2024، 10:15 م - {RLM}Ahmad{RLM}: مرحبا",
             f"5/1/2024، 9:00 ص - Ahmad: صباح الخير"]
    accounts, _, _, messages = split(read(write(tmp_path, "محادثة واتساب مع Ahmad.txt", lines)))
    assert messages[0].time == utc(2024, 1, 5, 22, 15)           # day first: ص/م is not the US layout
    assert messages[1].time == utc(2024, 1, 5, 9, 0)
    assert {a.platform_id for a in accounts.values()} == {"Ahmad"}


def test_french_system_lines_make_a_group(tmp_path):
    lines = ["05/03/2024, 19:02 - Les messages et les appels sont chiffrés de bout en bout. Appuyez pour en savoir plus.",
             "05/03/2024, 19:03 - Mounir a ajouté Samira", "05/03/2024, 19:04 - Mounir: Salut",
             "05/03/2024, 19:05 - Samira: <Médias omis>"]
    _, channels, _, messages = split(read(write(tmp_path, "Discussion WhatsApp avec Famille.txt", lines)))
    assert next(iter(channels.values())).kind == "group"          # only two senders, but "a ajouté"
    assert [m.kind for m in messages] == ["service", "service", "message", "message"]
    assert messages[3].media[0].kind == "unknown"


def test_invalid_date_names_line_and_expected_order(tmp_path):
    lines = ["13/01/2024, 09:00 - Ann: a", "31/02/2024, 09:00 - Ann: b"]
    with pytest.raises(InputError) as err:
        list(ingest.read(write(tmp_path, "WhatsApp Chat with Ann.txt", lines), "whatsapp"))
    assert err.value.line == 2 and "day/month/year" in err.value.expected


def test_a_file_that_does_not_start_with_a_message_is_refused(tmp_path):
    path = write(tmp_path, "notes.txt", ["Shopping list", "13/01/2024, 09:00 - Ann: a"])
    with pytest.raises(InputError) as err:
        list(ingest.read(path, "whatsapp"))
    assert err.value.line == 1 and "date and time" in err.value.expected


def test_records_are_dataclasses_of_the_model(android):
    assert isinstance(android[0], Channel)
    assert all(isinstance(r, (Account, Message)) for r in android[2:])
