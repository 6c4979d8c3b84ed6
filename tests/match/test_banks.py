from datetime import datetime, timedelta, timezone

import pytest

from haris.errors import ConfigError, InputError
from haris.match.banks import BankFileError, BankStore, Entry

PDQ_A = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
PDQ_B = "0" * 63 + "1"


@pytest.fixture
def banks(store):
    return BankStore(store)


def test_create_list_show_disable_enable_delete(banks):
    b = banks.create_bank("known-clips", "pdq", "terrorism", description="generated test hashes")
    assert (b.name, b.signal_type, b.category, b.enabled, b.version, b.entries) == \
        ("known-clips", "pdq", "terrorism", True, 0, 0)
    banks.create_bank("sellers", "url", "trafficking")
    assert [x.name for x in banks.list_banks()] == ["known-clips", "sellers"]
    assert not banks.disable("known-clips").enabled
    assert [x.name for x in banks.list_banks(enabled_only=True)] == ["sellers"]
    assert banks.enable("known-clips").enabled
    banks.add_entries("known-clips", [PDQ_A, PDQ_B])
    assert banks.delete("known-clips") == 2
    assert [x.name for x in banks.list_banks()] == ["sellers"]
    with pytest.raises(ConfigError, match="no bank named"):
        banks.get_bank("known-clips")


@pytest.mark.parametrize("args, problem", [
    (("bad name!", "pdq", "terrorism"), "bad bank name"),
    (("b", "sha1", "terrorism"), "unknown signal type"),
    (("b", "pdq", "spam"), "unknown category"),
])
def test_create_checks_its_arguments(sqlite_url, args, problem):
    with pytest.raises(ConfigError, match=problem):   # checked before any write: one backend is enough
        BankStore(sqlite_url).create_bank(*args)


def test_thresholds_are_checked_per_type(banks):
    assert banks.create_bank("p", "pdq", "terrorism", threshold=20).threshold == 20
    assert banks.create_bank("t", "text", "terrorism", threshold=0.7).threshold == 0.7
    with pytest.raises(ConfigError, match="Hamming"):
        banks.create_bank("p2", "pdq", "terrorism", threshold=0.5)
    with pytest.raises(ConfigError, match="exactly"):
        banks.create_bank("m", "md5", "terrorism", threshold=3)
    with pytest.raises(ConfigError, match="already exists"):
        banks.create_bank("p", "md5", "terrorism")


def test_entries_are_canonical_deduplicated_and_versioned(banks):
    banks.create_bank("clips", "pdq", "child_exploitation")
    r1 = banks.add_entries("clips", [Entry(signal=PDQ_A.upper(), label="clip 1", quality=90), PDQ_A])
    assert (r1.added, r1.duplicates, r1.version) == (1, 1, 1)
    r2 = banks.add_entries("clips", [PDQ_A, Entry(signal=PDQ_B, category="trafficking", source="partner")])
    assert (r2.added, r2.duplicates, r2.version) == (1, 1, 2)
    entries = list(banks.entries("clips"))
    assert [(e.signal, e.label, e.category, e.quality) for e in entries] == [
        (PDQ_A, "clip 1", "child_exploitation", 90), (PDQ_B, None, "trafficking", None)]
    assert [e.signal for e in banks.entries("clips", since_version=1)] == [PDQ_B]
    assert entries[0].added_at.tzinfo is not None


def test_a_bad_entry_adds_nothing(banks):
    banks.create_bank("clips", "pdq", "terrorism")
    with pytest.raises(InputError, match="64 hex digits") as exc:
        banks.add_entries("clips", [PDQ_A, "abc"])
    assert exc.value.line == 2
    assert banks.get_bank("clips").entries == 0


def test_expiry_and_removal(banks):
    banks.create_bank("links", "url", "trafficking")
    past = datetime.now(timezone.utc) - timedelta(days=1)
    banks.add_entries("links", [Entry(signal="t.me/example_old", expires_at=past), "t.me/example_new"])
    assert [e.signal for e in banks.entries("links", include_expired=False)] == ["https://t.me/example_new"]
    first = next(banks.entries("links"))
    assert first.expired()
    assert banks.remove_entries("links", [first.id]) == 1
    b = banks.get_bank("links")
    assert b.entries == 1 and b.rebuild_version == b.version == 2


def test_import_reports_every_bad_line_and_imports_nothing(banks, tmp_path):
    banks.create_bank("clips", "pdq", "terrorism")
    f = tmp_path / "hashes.txt"
    f.write_text(f"# shared list\n{PDQ_A},100,clip a\nnot-a-hash\n{PDQ_B},abc\n\n{PDQ_B},90\n")
    with pytest.raises(BankFileError) as exc:
        banks.import_file("clips", f)
    assert [(b.number, b.unit) for b in exc.value.bad] == [(3, "line"), (4, "line")]
    assert "64 hex digits" in exc.value.bad[0].problem and "whole number" in exc.value.bad[1].problem
    assert "line 3" in str(exc.value) and exc.value.line == 3
    assert banks.get_bank("clips").entries == 0

    report = banks.import_file("clips", f, skip_bad=True)
    assert (report.added, report.duplicates, len(report.bad), report.format) == (2, 0, 2, "list")
    assert {(e.signal, e.quality, e.label, e.source) for e in banks.entries("clips")} == {
        (PDQ_A, 100, "clip a", "hashes.txt"), (PDQ_B, 90, None, "hashes.txt")}


def test_import_applies_defaults(banks, tmp_path):
    banks.create_bank("domains", "domain", "terrorism")
    f = tmp_path / "domains.txt"
    f.write_text("Example.com\nwww.example.org\tmirror\nhttps://sub.example.net/path\n")
    banks.import_file("domains", f, defaults=Entry(signal="", label="seed list", source="partner"))
    assert [(e.signal, e.label, e.source) for e in banks.entries("domains")] == [
        ("example.com", "seed list", "partner"), ("example.org", "mirror", "partner"),
        ("sub.example.net", "seed list", "partner")]


def test_text_entries_are_keyed_by_their_normalized_form(banks):
    banks.create_bank("posts", "text", "terrorism")
    r = banks.add_entries("posts", ["Join the example channel today for daily statements",
                                    "JOIN the example channel today, for daily statements!! 🔥 https://t.me/example_x"])
    assert (r.added, r.duplicates) == (1, 1)
    with pytest.raises(InputError, match="too short"):
        banks.add_entries("posts", ["join now"])
