import hashlib
import sys

import pytest
from PIL import Image

from haris.errors import InputError
from haris.match.hashing import (MediaHashes, VideoFrameHash, bits_to_hex, hamming, hash_file, vpdq_from_signal,
                                 vpdq_to_signal)


def test_image_gets_exact_and_pdq_hashes(image_file):
    path = image_file(1)
    h = hash_file(path)
    data = path.read_bytes()
    assert h.kind == "image" and h.size == len(data)
    assert h.md5 == hashlib.md5(data).hexdigest()
    assert h.sha256 == hashlib.sha256(data).hexdigest()
    assert len(h.pdq) == 64 and int(h.pdq, 16) >= 0
    assert h.pdq_quality >= 50 and (h.width, h.height) == (800, 600)


def test_pdq_hex_is_the_threatexchange_encoding(image_file):
    # python-threatexchange (and so HMA) turns pdqhash's bits into hex this way.
    from threatexchange.signal_type.pdq.pdq_hasher import pdq_from_file

    path = image_file(2)
    tx_hex, tx_quality = pdq_from_file(path)
    h = hash_file(path)
    assert (h.pdq, h.pdq_quality) == (tx_hex, tx_quality)
    assert bits_to_hex([1] + [0] * 255) == "8" + "0" * 63


def test_same_picture_reencoded_is_near_and_different_pictures_far(image_file):
    a, a2, b = hash_file(image_file(3)), hash_file(image_file(3, "jpeg50")), hash_file(image_file(4))
    assert a.sha256 != a2.sha256
    assert hamming(a.pdq, a2.pdq) <= 31 < hamming(a.pdq, b.pdq)


def test_other_files_get_exact_hashes_only(tmp_path):
    p = tmp_path / "notes.pdf"
    p.write_bytes(b"%PDF-1.4 example")
    h = hash_file(p)
    assert h.kind == "file" and h.pdq is None and h.vpdq is None
    assert h.sha256 == hashlib.sha256(b"%PDF-1.4 example").hexdigest()


@pytest.mark.parametrize("name, content, problem", [
    ("empty.jpg", b"", "empty file"),
    ("corrupt.jpg", b"\xff\xd8\xff\xe0 this is not really a jpeg" * 10, "corrupt"),
    ("text.png", b"hello", "not an image"),
])
def test_bad_images_are_input_errors(tmp_path, name, content, problem):
    p = tmp_path / name
    p.write_bytes(content)
    with pytest.raises(InputError, match=problem) as exc:
        hash_file(p)
    assert exc.value.path == str(p)


def test_truncated_image_is_an_input_error(image_file, tmp_path):
    whole = image_file(5).read_bytes()
    p = tmp_path / "truncated.png"
    p.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(InputError, match="truncated|corrupt"):
        hash_file(p)


def test_missing_file_and_folder_are_input_errors(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        hash_file(tmp_path / "nope.png")
    with pytest.raises(InputError, match="folder"):
        hash_file(tmp_path)


def test_decompression_bomb_is_refused_before_decoding(tmp_path):
    p = tmp_path / "bomb.png"
    Image.new("L", (4000, 3000)).save(p)            # 12 MP of nothing: a few KB on disk
    with pytest.raises(InputError, match="decompression bomb"):
        hash_file(p, max_pixels=1_000_000)
    assert hash_file(p, max_pixels=20_000_000).pdq_quality == 0   # allowed, and flat: quality 0


def test_pil_bomb_guard_is_turned_into_an_input_error(tmp_path, monkeypatch):
    # Our own limit is higher than PIL's here, so PIL's guard is what fires.
    p = tmp_path / "big.png"
    Image.new("L", (3000, 2000)).save(p)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1_000_000)
    with pytest.raises(InputError, match="decompression bomb"):
        hash_file(p, max_pixels=100_000_000)


def test_vpdq_signal_round_trip_and_errors():
    frames = [VideoFrameHash("ab" * 32, 100, 0.0), VideoFrameHash("cd" * 32, 80, 1.0)]
    s = vpdq_to_signal(frames)
    assert s == '["' + "ab" * 32 + ',100,0.0","' + "cd" * 32 + ',80,1.0"]'   # threatexchange's serialization
    assert vpdq_from_signal(s) == frames
    for bad in ("[]", "not json", '["xyz,1,0"]', '["' + "ab" * 32 + ',101,0"]'):
        with pytest.raises(ValueError):
            vpdq_from_signal(bad)


def test_video_gets_vpdq(video_file):
    h = hash_file(video_file([1, 2, 3], "clip"))
    assert h.kind == "video" and len(h.vpdq) == 3
    assert [f.timestamp for f in h.vpdq] == [0.0, 1.0, 2.0]
    assert all(f.quality >= 50 for f in h.vpdq)


def test_broken_video_is_an_input_error(video_file, tmp_path):
    whole = video_file([1, 2], "ok").read_bytes()
    p = tmp_path / "broken.mp4"
    p.write_bytes(whole[:300])
    with pytest.raises(InputError, match="cannot decode video"):
        hash_file(p)


def test_video_without_vpdq_gets_exact_hashes_and_a_note(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "vpdq", None)     # import vpdq -> ImportError
    p = tmp_path / "clip.mp4"
    p.write_bytes(b"\x00\x00\x00\x18ftypmp42 not decoded")
    h = hash_file(p)
    assert isinstance(h, MediaHashes) and h.vpdq is None and h.sha256
    assert "pip install vpdq" in h.notes[0]


def test_video_hash_is_a_valid_threatexchange_vpdq_signal(video_file):
    from threatexchange.extensions.vpdq.vpdq import VPDQSignal

    signal = vpdq_to_signal(hash_file(video_file([1, 2, 3], "clip")).vpdq)
    assert VPDQSignal.validate_signal_str(signal) == signal
    assert VPDQSignal.compare_hash(signal, signal).match
