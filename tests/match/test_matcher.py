"""End to end: banks in the store, a Matcher, Signals. Images and videos are generated (see conftest)."""
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from haris.detect.base import Detector
from haris.match.banks import BankStore, Entry
from haris.match.hashing import hash_file, vpdq_to_signal
from haris.match.matcher import Matcher
from haris.model import Link, Media, Message

KNOWN = [12, 13, 14]          # seeds of the "known bad" generated images
UNRELATED = [21, 22, 23, 24, 25]


@pytest.fixture
def banks(store):
    return BankStore(store)


@pytest.fixture
def pdq_bank(banks, image_file):
    banks.create_bank("known-images", "pdq", "terrorism")
    entries = []
    for seed in KNOWN:
        h = hash_file(image_file(seed))
        entries.append(Entry(signal=h.pdq, quality=h.pdq_quality, label=f"generated {seed}"))
    banks.add_entries("known-images", entries)
    return banks


@pytest.mark.parametrize("variant", ["resized", "jpeg50", "cropped", "watermarked", "all"])
def test_variants_of_known_images_match(pdq_bank, image_file, tmp_path, variant):
    matcher = Matcher(pdq_bank.store, cache_dir=tmp_path / "cache")
    for seed in KNOWN:
        [signal] = matcher.match_media(image_file(seed, variant))
        assert signal.policy == "terrorism" and signal.labels == ["bank:known-images"]
        ev = signal.evidence[0]
        assert ev.kind == "hash" and ev.label == "known-images"
        assert ev.detail["entry_label"] == f"generated {seed}" and ev.detail["signal_type"] == "pdq"
        assert 0 <= ev.detail["distance"] <= 31
        assert signal.score == pytest.approx(1 - ev.detail["distance"] / 256, abs=1e-4)


def test_unrelated_images_do_not_match(pdq_bank, image_file, tmp_path):
    matcher = Matcher(pdq_bank.store, cache_dir=tmp_path / "cache")
    for seed in UNRELATED:
        assert matcher.match_media(image_file(seed)) == []
        assert matcher.match_media(image_file(seed, "all")) == []


def test_low_quality_images_are_not_matched(banks, tmp_path):
    from PIL import Image

    flat = tmp_path / "flat.png"
    Image.new("RGB", (400, 300), (120, 120, 120)).save(flat)
    h = hash_file(flat)
    assert h.pdq_quality < 50
    banks.create_bank("b", "pdq", "terrorism")
    banks.add_entries("b", [h.pdq])
    matcher = Matcher(banks.store, cache_dir=tmp_path / "cache")
    assert matcher.match_media(flat) == []
    assert Matcher(banks.store, cache_dir=tmp_path / "c2", min_quality=0).match_media(flat) != []


def test_exact_hash_banks(banks, image_file, tmp_path):
    path = image_file(31)
    h = hash_file(path)
    banks.create_bank("files-md5", "md5", "child_exploitation")
    banks.create_bank("files-sha", "sha256", "trafficking")
    banks.add_entries("files-md5", [h.md5])
    banks.add_entries("files-sha", [h.sha256])
    signals = Matcher(banks.store, cache_dir=tmp_path / "c").match_media(path)
    assert {(s.policy, s.score, tuple(s.labels)) for s in signals} == {
        ("child_exploitation", 1.0, ("bank:files-md5",)), ("trafficking", 1.0, ("bank:files-sha",))}
    assert Matcher(banks.store, cache_dir=tmp_path / "c").match_media(image_file(31, "jpeg50")) == []


def test_urls_and_domains(banks, tmp_path):
    banks.create_bank("sellers", "url", "trafficking")
    banks.create_bank("sites", "domain", "terrorism")
    banks.add_entries("sellers", ["https://t.me/example_seller", "t.me/joinchat/ExAmPlE"])
    banks.add_entries("sites", ["example.org"])
    m = Matcher(banks.store, cache_dir=tmp_path / "c")
    [s] = m.match_urls(["https://telegram.me/s/Example_Seller/12?single"])
    assert s.policy == "trafficking" and s.evidence[0].detail["matched"] == "https://t.me/example_seller"
    assert s.evidence[0].text == "https://telegram.me/s/Example_Seller/12?single"
    assert [x.policy for x in m.match_urls(["t.me/+ExAmPlE"])] == ["trafficking"]
    assert m.match_urls(["t.me/+example"]) == []                          # invite codes are case-sensitive
    assert [x.policy for x in m.match_urls(["http://cdn.example.org/x.mp4"])] == ["terrorism"]
    assert m.match_urls(["https://example.com/", "not a url", "https://t.me/example_sellers"]) == []


def test_text_bank(banks, tmp_path):
    banks.create_bank("posts", "text", "terrorism", threshold=0.6)
    banks.add_entries("posts", [Entry(signal="New release from the example brigade is out now, follow our "
                                             "channel for daily statements", label="release post")])
    m = Matcher(banks.store, cache_dir=tmp_path / "c")
    [s] = m.match_text("🔥 NEW release from the example brigade is out now!! follow our channel for weekly "
                       "statements https://t.me/example_new")
    ev = s.evidence[0]
    assert s.policy == "terrorism" and ev.kind == "text" and ev.detail["entry_label"] == "release post"
    assert 0.6 <= ev.detail["similarity"] == s.score < 1
    assert m.match_text("News: the example brigade channel was removed by the platform today") == []


def test_disabled_deleted_and_expired_are_not_matched(banks, tmp_path):
    banks.create_bank("a", "url", "trafficking")
    banks.create_bank("b", "url", "terrorism")
    past = datetime.now(timezone.utc) - timedelta(hours=1)
    banks.add_entries("a", ["t.me/example_a", Entry(signal="t.me/example_old", expires_at=past)])
    banks.add_entries("b", ["t.me/example_a"])
    m = Matcher(banks.store, cache_dir=tmp_path / "c")
    assert {s.policy for s in m.match_urls(["t.me/example_a"])} == {"trafficking", "terrorism"}
    assert m.match_urls(["t.me/example_old"]) == []
    banks.disable("a")
    banks.delete("b")
    m.refresh()
    assert m.match_urls(["t.me/example_a"]) == []
    banks.enable("a")
    m.refresh()
    assert [s.policy for s in m.match_urls(["t.me/example_a"])] == ["trafficking"]


def test_index_cache_is_reused_updated_and_rebuilt(banks, image_file, tmp_path):
    cache = tmp_path / "cache"
    banks.create_bank("imgs", "pdq", "terrorism")
    banks.add_entries("imgs", [hash_file(image_file(41)).pdq])
    Matcher(banks.store, cache_dir=cache)
    [folder] = (cache / "banks").glob("*/pdq-*")
    stamp = (folder / "index.json").stat().st_mtime_ns

    Matcher(banks.store, cache_dir=cache)                 # unchanged bank: loaded, not rewritten
    assert (folder / "index.json").stat().st_mtime_ns == stamp

    banks.add_entries("imgs", [hash_file(image_file(42)).pdq])
    m = Matcher(banks.store, cache_dir=cache)             # one new entry: added to the cached index
    assert len(m.match_media(image_file(42, "jpeg50"))) == 1
    assert '"version": 2' in (folder / "index.json").read_text()

    first = next(banks.entries("imgs"))
    banks.remove_entries("imgs", [first.id])              # removal: rebuilt without it
    m = Matcher(banks.store, cache_dir=cache)
    assert m.match_media(image_file(41)) == [] and len(m.match_media(image_file(42))) == 1


def test_a_corrupt_cache_is_rebuilt(banks, image_file, tmp_path):
    cache = tmp_path / "cache"
    banks.create_bank("imgs", "pdq", "terrorism")
    banks.add_entries("imgs", [hash_file(image_file(41)).pdq])
    Matcher(banks.store, cache_dir=cache)
    [folder] = (cache / "banks").glob("*/pdq-*")
    (folder / "index.json").write_text("{ not json")
    assert len(Matcher(banks.store, cache_dir=cache).match_media(image_file(41))) == 1


def test_detect_on_a_message(pdq_bank, image_file, tmp_path):
    pdq_bank.create_bank("sellers", "url", "trafficking")
    pdq_bank.add_entries("sellers", ["t.me/example_seller"])
    matcher = Matcher(pdq_bank.store, cache_dir=tmp_path / "c")
    assert isinstance(matcher, Detector) and matcher.scope == "message"
    text = "New pictures, ask here t.me/example_seller"
    msg = Message(id="msg_1", platform="telegram", platform_id="1", channel_id=None, author_id=None, time=None,
                  text=text, links=[Link(url="https://t.me/example_seller", start=22, end=41)],
                  media=[Media(id="med_1", kind="photo", path=str(image_file(12, "jpeg50"))),
                         Media(id="med_2", kind="photo", path=str(tmp_path / "missing.jpg"), sha256="ab" * 32)])
    analysed = SimpleNamespace(original=text, links=msg.links, message=msg, item_id=msg.id)
    signals = {s.policy: s for s in matcher.detect(analysed)}
    assert set(signals) == {"terrorism", "trafficking"}
    assert all(s.item_id == "msg_1" and s.detector == "bank-match" for s in signals.values())
    url_ev = signals["trafficking"].evidence[0]
    assert (url_ev.kind, url_ev.start, url_ev.end) == ("url", 22, 41)
    # Only text: links found in it are matched too.
    assert [s.policy for s in matcher.detect(SimpleNamespace(original=text))] == ["trafficking"]


def test_videos_match_by_share_of_frames(banks, video_file, tmp_path):
    known = hash_file(video_file([1, 2, 3, 4, 5, 6], "known"))
    banks.create_bank("clips", "vpdq", "terrorism")
    banks.add_entries("clips", [Entry(signal=vpdq_to_signal(known.vpdq), label="generated clip")])
    m = Matcher(banks.store, cache_dir=tmp_path / "c")

    smaller = video_file([1, 2, 3, 4, 5, 6], "smaller", size=(160, 120), crf=40)
    [s] = m.match_media(smaller)
    ev = s.evidence[0]
    assert s.policy == "terrorism" and ev.detail["signal_type"] == "vpdq"
    assert ev.detail["query_match_percent"] == 100.0 and ev.detail["compared_match_percent"] == 100.0

    excerpt = video_file([3, 4, 5], "excerpt")                 # half of the banked video
    [s] = m.match_media(excerpt)
    assert s.evidence[0].detail["query_match_percent"] == 100.0
    assert s.evidence[0].detail["compared_match_percent"] == 50.0

    assert m.match_media(video_file([31, 32, 33, 34], "other")) == []
    mixed = video_file([1, 2, 31, 32, 33], "mixed")            # 40% of its frames: under the 80% default
    assert m.match_media(mixed) == []
    lenient = Matcher(banks.store, cache_dir=tmp_path / "c", vpdq_query_percent=30)
    assert len(lenient.match_media(mixed)) == 1
