"""Hashes of media files: exact (MD5, SHA-256) and perceptual (PDQ for images, vPDQ for videos).

PDQ and vPDQ are Meta's open perceptual hashes, the ones hash-sharing
programmes exchange; haris computes them with the maintained bindings
(``pdqhash``, ``vpdq``) and writes them the way python-threatexchange and HMA
do (64 lower-case hex digits; a vPDQ hash is a list of ``hex,quality,timestamp``
frame features), so hashes from haris match hashes from other platforms.

    h = hash_file("picture.png")
    h.kind, len(h.pdq), h.pdq_quality        # ('image', 64, 100)

Bad input raises :class:`haris.errors.InputError` naming the file: an empty
file, an image that is corrupt or truncated, an image over the pixel limit (a
decompression bomb), a video that cannot be decoded.
"""
from __future__ import annotations

import hashlib
import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from haris.errors import InputError

# Refuse images over this many pixels before decoding them: a 64-megapixel RGB
# image is already 192 MB in memory, and a small crafted PNG can claim far more.
DEFAULT_MAX_PIXELS = 64_000_000
# PDQ's own quality score (0-100); the PDQ authors advise not to match hashes
# of flat, featureless images, which score low. They are kept but not matched.
DEFAULT_MIN_QUALITY = 50
SECONDS_PER_VIDEO_HASH = 1.0

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".gif", ".webp", ".bmp", ".tif", ".tiff", ".jfif"})
VIDEO_SUFFIXES = frozenset({".mp4", ".m4v", ".mov", ".webm", ".mkv", ".avi", ".3gp", ".mpg", ".mpeg",
                            ".wmv", ".flv", ".ts"})


@dataclass(slots=True, frozen=True)
class VideoFrameHash:
    """One vPDQ feature: the PDQ hash of a frame, its quality and its time in seconds."""

    pdq: str
    quality: int
    timestamp: float

    def __str__(self) -> str:
        # Exactly python-threatexchange's VpdqCompactFeature.__str__ (timestamp to 3 significant
        # digits), so that a video hashed here serializes like one hashed by HMA.
        return f"{self.pdq},{self.quality},{self.timestamp:.3}"


@dataclass(slots=True)
class MediaHashes:
    """Everything haris knows how to hash about one file."""

    path: str
    kind: str                      # image, video or file (hashed exactly only)
    size: int
    md5: str
    sha256: str
    pdq: str | None = None
    pdq_quality: int | None = None
    vpdq: list[VideoFrameHash] | None = None
    width: int | None = None
    height: int | None = None
    notes: list[str] = field(default_factory=list)   # what could not be computed, and why

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"path": self.path, "kind": self.kind, "size": self.size, "md5": self.md5,
                             "sha256": self.sha256}
        if self.pdq is not None:
            d.update(pdq=self.pdq, pdq_quality=self.pdq_quality, width=self.width, height=self.height)
        if self.vpdq is not None:
            d["vpdq"] = vpdq_to_signal(self.vpdq)
            d["vpdq_frames"] = len(self.vpdq)
        if self.notes:
            d["notes"] = list(self.notes)
        return d


class VideoHashingUnavailable(RuntimeError):
    """vPDQ needs the optional ``vpdq`` package (built against FFmpeg)."""


# -- PDQ hex <-> bits ------------------------------------------------------------

def bits_to_hex(bits: np.ndarray) -> str:
    """256 bits (first bit most significant), as pdqhash returns them, to 64 hex digits."""
    return np.packbits(np.asarray(bits, dtype=np.uint8)).tobytes().hex()


def hex_to_bytes(pdq_hex: str) -> bytes:
    """64 hex digits to the 32 bytes the indexes store; ValueError when it is not a PDQ hash."""
    if len(pdq_hex) != 64:
        raise ValueError(f"a PDQ hash has 64 hex digits, not {len(pdq_hex)}")
    return bytes.fromhex(pdq_hex)


def hamming(a: str, b: str) -> int:
    """Hamming distance between two hex hashes of the same length."""
    return (int(a, 16) ^ int(b, 16)).bit_count()


# -- vPDQ serialization ----------------------------------------------------------

def vpdq_to_signal(frames: list[VideoFrameHash]) -> str:
    """The vPDQ signal string python-threatexchange and HMA exchange: a JSON list of ``hex,quality,time``."""
    return json.dumps([str(f) for f in frames], separators=(",", ":"))


def vpdq_from_signal(signal: str) -> list[VideoFrameHash]:
    """Parse a vPDQ signal string; ValueError says what is wrong."""
    try:
        items = json.loads(signal)
    except json.JSONDecodeError as exc:
        raise ValueError(f"a vPDQ hash is a JSON list of 'hex,quality,timestamp' strings: {exc.msg}") from None
    if not isinstance(items, list) or not items:
        raise ValueError("a vPDQ hash is a non-empty JSON list of 'hex,quality,timestamp' strings")
    frames = []
    for i, item in enumerate(items):
        parts = item.split(",") if isinstance(item, str) else []
        if len(parts) != 3:
            raise ValueError(f"vPDQ frame {i}: expected 'hex,quality,timestamp', got {item!r}")
        pdq, quality, ts = parts
        try:
            hex_to_bytes(pdq)
            q, t = int(quality), float(ts)
        except ValueError:
            raise ValueError(f"vPDQ frame {i}: expected 'hex,quality,timestamp', got {item!r}") from None
        if not 0 <= q <= 100 or t < 0:
            raise ValueError(f"vPDQ frame {i}: quality must be 0-100 and the timestamp >= 0")
        frames.append(VideoFrameHash(pdq.lower(), q, t))
    return frames


# -- hashing -----------------------------------------------------------------------

def _digests(path: Path) -> tuple[str, str, int]:
    md5, sha = hashlib.md5(usedforsecurity=False), hashlib.sha256()
    size = 0
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            md5.update(chunk)
            sha.update(chunk)
            size += len(chunk)
    return md5.hexdigest(), sha.hexdigest(), size


def pdq_from_image(image: Any) -> tuple[str, int]:
    """PDQ hash (hex) and quality of a decoded PIL image."""
    import pdqhash

    if image.mode != "RGB":
        image = image.convert("RGB")
    bits, quality = pdqhash.compute(np.asarray(image))
    return bits_to_hex(bits), int(quality)


def _hash_image(path: Path, out: MediaHashes, max_pixels: int) -> None:
    from PIL import Image, UnidentifiedImageError

    with warnings.catch_warnings():
        # PIL warns (and past twice its own limit, raises) on huge images; both mean "refuse".
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(path) as img:
                width, height = img.size
                if width * height > max_pixels:
                    raise InputError(path, f"image of {width}x{height} pixels is over the limit of "
                                           f"{max_pixels:,} pixels (possible decompression bomb)",
                                     expected="a smaller image, or a higher --max-pixels")
                img.load()
                out.pdq, out.pdq_quality = pdq_from_image(img)
                out.width, out.height = width, height
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise InputError(path, f"refused as a decompression bomb: {exc}") from None
        except UnidentifiedImageError:
            raise InputError(path, "not an image PIL can read (corrupt or unsupported)",
                             expected="JPEG, PNG, GIF, WebP, BMP or TIFF") from None
        except (OSError, SyntaxError, ValueError) as exc:  # truncated data, broken chunks
            raise InputError(path, f"corrupt or truncated image: {exc}") from None


def video_hashing_available() -> bool:
    try:
        import vpdq  # noqa: F401
    except ImportError:
        return False
    return True


def hash_video(path: str | Path, seconds_per_hash: float = SECONDS_PER_VIDEO_HASH) -> list[VideoFrameHash]:
    """vPDQ features of a video, one every ``seconds_per_hash`` seconds."""
    try:
        import vpdq
    except ImportError:
        raise VideoHashingUnavailable(
            "vPDQ needs the 'vpdq' package: install FFmpeg's -dev libraries and pkg-config "
            "(Debian: pkg-config libavcodec-dev libavformat-dev libavutil-dev libswscale-dev "
            "libswresample-dev libavfilter-dev libavdevice-dev), then `pip install vpdq`") from None
    try:
        features = vpdq.computeHash(str(path), seconds_per_hash=seconds_per_hash)
    except Exception as exc:  # the binding raises a bare Exception for anything it cannot decode
        raise InputError(path, f"cannot decode video: {exc}", expected="a video FFmpeg can read") from None
    if not features:
        raise InputError(path, "video has no frames to hash")
    return [VideoFrameHash(f.hex.lower(), int(f.quality), round(float(f.timestamp), 3)) for f in features]


def hash_file(path: str | Path, *, max_pixels: int = DEFAULT_MAX_PIXELS, video: bool = True) -> MediaHashes:
    """Hash one media file.

    The kind is decided by the file name's suffix: images get PDQ, videos get
    vPDQ (when the ``vpdq`` package is installed; otherwise a note says so),
    anything else gets the exact hashes only. A file whose suffix says image
    or video but whose content cannot be decoded is an :class:`InputError`.
    """
    p = Path(path)
    try:
        md5, sha256, size = _digests(p)
    except FileNotFoundError:
        raise InputError(p, "no such file") from None
    except IsADirectoryError:
        raise InputError(p, "is a folder, not a file") from None
    except OSError as exc:
        raise InputError(p, f"cannot read: {exc.strerror or exc}") from None
    if size == 0:
        raise InputError(p, "empty file (0 bytes)")
    suffix = p.suffix.lower()
    kind = "image" if suffix in IMAGE_SUFFIXES else "video" if suffix in VIDEO_SUFFIXES else "file"
    out = MediaHashes(path=str(p), kind=kind, size=size, md5=md5, sha256=sha256)
    if kind == "image":
        _hash_image(p, out, max_pixels)
    elif kind == "video" and video:
        try:
            out.vpdq = hash_video(p)
        except VideoHashingUnavailable as exc:
            out.notes.append(str(exc))
    return out
