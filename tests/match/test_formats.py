import csv
import json
from datetime import datetime, timedelta, timezone

import pytest

from haris.errors import InputError
from haris.match.banks import BankFileError, BankStore, Entry
from haris.match.formats import detect_format

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)
LATER = T0 + timedelta(days=365)

SIGNALS = {
    "pdq": ["f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22", "0f" * 32],
    "md5": ["d41d8cd98f00b204e9800998ecf8427e", "0123456789abcdef0123456789abcdef"],
    "sha256": ["e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "ab" * 32],
    "vpdq": ['["' + "ab" * 32 + ',100,0.0","' + "cd" * 32 + ',90,1.0"]', '["' + "ef" * 32 + ',100,0.0"]'],
    "text": ["Synthetic example statement number one, join the example channel for more",
             "Synthetic example offer: item for sale, price 500, contact the example account"],
    "url": ["https://t.me/example_one", "https://example.com/offers?id=7"],
    "domain": ["example.com", "example.org"],
}
# What each format carries besides the signal.
CARRIES = {
    "list": {"label"},
    "tx-lines": set(),
    "tx-csv": {"label", "category", "added_at", "expires_at"},
    "json": {"label", "category", "source", "added_at", "expires_at"},
    "stix": {"label", "category", "source", "added_at", "expires_at"},
}
CASES = [(fmt, t) for fmt in CARRIES for t in SIGNALS
         if not (fmt in ("tx-lines", "tx-csv") and t in ("sha256", "domain"))
         and not (fmt == "stix" and t in ("vpdq", "text"))
         and not (fmt == "list" and t == "vpdq")]


@pytest.fixture
def banks(sqlite_url):
    # Formats are about files, not databases: SQLite only here (test_banks.py runs on both).
    from haris.store.db import Store

    store = Store.open(sqlite_url)
    yield BankStore(store)
    store.dispose()


@pytest.fixture
def both_banks(store):
    return BankStore(store)


def _fill(banks, name, signal_type):
    banks.create_bank(name, signal_type, "terrorism")
    a, b = SIGNALS[signal_type]
    banks.add_entries(name, [
        Entry(signal=a, label="first, with a comma", category="trafficking", source="partner-a",
              added_at=T0, expires_at=LATER, quality=95 if signal_type == "pdq" else None),
        Entry(signal=b, source="partner-b", added_at=T0)])


def _view(banks, name, fields):
    out = set()
    for e in banks.entries(name):
        out.add((e.signal,) + tuple(str(getattr(e, f)) for f in sorted(fields)))
    return out


@pytest.mark.parametrize("fmt, signal_type", CASES)
def test_export_then_import_gives_the_same_entries(banks, tmp_path, fmt, signal_type):
    _fill(banks, "src", signal_type)
    path = tmp_path / f"bank.{fmt}"
    assert banks.export_file("src", path, fmt) == 2
    banks.create_bank("dst", signal_type, "terrorism")
    report = banks.import_file("dst", path, fmt)
    assert (report.added, report.bad) == (2, [])
    assert _view(banks, "dst", CARRIES[fmt]) == _view(banks, "src", CARRIES[fmt])
    assert banks.import_file("dst", path, fmt).duplicates == 2     # importing again adds nothing


@pytest.mark.parametrize("fmt", ["list", "tx-lines", "tx-csv", "json", "stix"])
def test_format_is_detected_from_content(banks, tmp_path, fmt):
    _fill(banks, "src", "pdq")
    path = tmp_path / "bank.dat"
    banks.export_file("src", path, fmt)
    assert detect_format(path) == fmt


def test_tx_lines_are_read_by_python_threatexchange(banks, tmp_path):
    from threatexchange.exchanges.impl.file_api import FileCollaborationConfig, LocalFileSignalExchangeAPI
    from threatexchange.signal_type.pdq.signal import PdqSignal

    _fill(banks, "src", "pdq")
    path = tmp_path / "signals.txt"
    banks.export_file("src", path, "tx-lines")
    api = LocalFileSignalExchangeAPI(FileCollaborationConfig(filename=str(path), name="t", api="local_file",
                                                             enabled=True, signal_type=None))
    delta = next(api.fetch_iter([PdqSignal], None))
    assert {sig for (_, sig) in delta.updates} == set(SIGNALS["pdq"])
    assert {kind for (kind, _) in delta.updates} == {"pdq"}


def test_tx_csv_as_threatexchange_writes_it(both_banks, tmp_path):
    banks = both_banks
    # `threatexchange dataset -P --csv`: signal_type,signal_str,collab,category,tags
    path = tmp_path / "dataset.csv"
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["signal_type", "signal_str", "collab", "category", "tags"])
        w.writerow(["pdq", SIGNALS["pdq"][0], "Sample Collab", "POSITIVE_CLASS", "terrorism propaganda_clip"])
        w.writerow(["pdq", SIGNALS["pdq"][1], "Sample Collab", "NEGATIVE_CLASS", ""])
        w.writerow(["video_md5", SIGNALS["md5"][0], "Sample Collab", "INVESTIGATION_SEED", ""])
    banks.create_bank("clips", "pdq", "child_exploitation")
    with pytest.raises(BankFileError) as exc:
        banks.import_file("clips", path)
    assert [b.number for b in exc.value.bad] == [3, 4]
    assert "NEGATIVE_CLASS" in exc.value.bad[0].problem and "does not fit" in exc.value.bad[1].problem
    banks.import_file("clips", path, skip_bad=True)
    [e] = banks.entries("clips")
    assert (e.signal, e.category, e.label, e.source) == (SIGNALS["pdq"][0], "terrorism", "propaganda_clip",
                                                         "Sample Collab")


def test_hma_signal_objects(banks, tmp_path):
    path = tmp_path / "hma.json"
    path.write_text(json.dumps([
        {"pdq": SIGNALS["pdq"][0], "metadata": {"content_id": "clip-1", "content_uri": "https://example.com/1"}},
        {"video_md5": SIGNALS["md5"][0]},
        {"pdq": "nope"}]))
    banks.create_bank("clips", "pdq", "terrorism")
    report = banks.import_file("clips", path, skip_bad=True)
    assert [(b.number, b.unit) for b in report.bad] == [(2, "entry"), (3, "entry")]
    [e] = banks.entries("clips")
    assert (e.signal, e.label, e.meta) == (SIGNALS["pdq"][0], "clip-1", {"content_uri": "https://example.com/1"})


def test_stix_export_is_valid_stix_2_1(banks, tmp_path):
    import stix2

    _fill(banks, "src", "sha256")
    path = tmp_path / "bank.stix.json"
    banks.export_file("src", path)
    bundle = stix2.parse(path.read_text(), allow_custom=True)
    patterns = sorted(o.pattern for o in bundle.objects)
    assert patterns == sorted(f"[file:hashes.'SHA-256' = '{s}']" for s in SIGNALS["sha256"])
    first = next(o for o in bundle.objects if SIGNALS["sha256"][0] in o.pattern)
    assert first.valid_until == LATER and first.x_haris_category == "trafficking"
    # The same entry always gets the same indicator id, so partners can de-duplicate.
    again = tmp_path / "again.stix.json"
    banks.export_file("src", again)
    assert {o.id for o in stix2.parse(again.read_text(), allow_custom=True).objects} == {o.id for o in bundle.objects}


def test_stix_from_another_tool(banks, tmp_path):
    import stix2

    SHA1 = "aa" * 20
    ind = [stix2.Indicator(pattern=f"[file:hashes.MD5 = '{SIGNALS['md5'][0]}' OR file:hashes.'SHA-1' = '{SHA1}']",
                           pattern_type="stix", valid_from=T0, name="shared file", labels=["terrorism"]),
           stix2.Indicator(pattern="[ipv4-addr:value = '192.0.2.1']", pattern_type="stix", valid_from=T0),
           stix2.Identity(name="Example partner", identity_class="organization")]
    path = tmp_path / "partner.json"
    path.write_text(stix2.Bundle(*ind).serialize())
    banks.create_bank("files", "md5", "trafficking")
    report = banks.import_file("files", path, skip_bad=True)
    assert report.format == "stix" and report.added == 1
    assert [(b.number, "no md5" in b.problem) for b in report.bad] == [(2, True)]
    [e] = banks.entries("files")
    assert (e.signal, e.label, e.category) == (SIGNALS["md5"][0], "shared file", "terrorism")


def test_formats_that_cannot_carry_a_type_say_so(banks, tmp_path):
    _fill(banks, "t", "text")
    with pytest.raises(InputError, match="STIX"):
        banks.export_file("t", tmp_path / "x.json", "stix")
    _fill(banks, "d", "domain")
    with pytest.raises(InputError, match="threatexchange has no signal type"):
        banks.export_file("d", tmp_path / "x.txt", "tx-lines")


def test_broken_json_is_an_input_error_with_its_line(banks, tmp_path):
    banks.create_bank("clips", "pdq", "terrorism")
    path = tmp_path / "broken.json"
    path.write_text('{"entries": [\n{"signal": "00"},\n')
    with pytest.raises(InputError, match="not JSON") as exc:
        banks.import_file("clips", path)
    assert exc.value.line == 3
