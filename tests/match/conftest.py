"""Generated media for the matching tests: gradients and shapes, never pictures of people.

The "known bad" images in these tests are synthetic: a colour gradient with
thirty random ellipses, rectangles and triangles, slightly blurred (PDQ needs
structure; flat images hash with low quality and pure noise hashes unstably
under JPEG). Videos are sequences of such images encoded with ffmpeg.
"""
from __future__ import annotations

import io
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter


def generated_image(seed: int, size: tuple[int, int] = (800, 600)) -> Image.Image:
    return _generated(seed, size).copy()


@lru_cache(maxsize=64)
def _generated(seed: int, size: tuple[int, int]) -> Image.Image:
    rng = np.random.default_rng(seed)
    w, h = size
    y, x = np.mgrid[0:h, 0:w]
    c0, c1 = rng.integers(0, 256, (2, 3))
    ang = rng.uniform(0, 2 * np.pi)
    t = ((x / w - .5) * np.cos(ang) + (y / h - .5) * np.sin(ang)) + .5
    img = Image.fromarray((c0 * (1 - t[..., None]) + c1 * t[..., None]).clip(0, 255).astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(img)
    for _ in range(30):
        cx, cy = rng.uniform(0.05, 0.95) * w, rng.uniform(0.05, 0.95) * h
        rx, ry = rng.uniform(0.04, 0.15) * w, rng.uniform(0.04, 0.15) * h
        color = tuple(int(v) for v in rng.integers(0, 256, 3))
        box = [cx - rx, cy - ry, cx + rx, cy + ry]
        kind = int(rng.integers(0, 3))
        if kind == 0:
            draw.ellipse(box, fill=color)
        elif kind == 1:
            draw.rectangle(box, fill=color)
        else:
            draw.polygon([(cx, cy - ry), (cx + rx, cy + ry), (cx - rx, cy + ry)], fill=color)
    return img.filter(ImageFilter.GaussianBlur(2))


def jpeg(img: Image.Image, quality: int) -> Image.Image:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality)
    buf.seek(0)
    return Image.open(buf).convert("RGB")


def crop_edges(img: Image.Image, fraction: float) -> Image.Image:
    """Cut ``fraction`` of the width and height off each edge."""
    w, h = img.size
    dx, dy = round(w * fraction), round(h * fraction)
    return img.crop((dx, dy, w - dx, h - dy))


def watermark(img: Image.Image, text: str = "example.com/channel") -> Image.Image:
    img = img.copy()
    ImageDraw.Draw(img).text((10, img.size[1] - 20), text, fill=(255, 255, 255))
    return img


VARIANTS = {
    "resized": lambda im: im.resize((im.size[0] // 2, im.size[1] // 2)),
    "jpeg50": lambda im: jpeg(im, 50),
    "cropped": lambda im: crop_edges(im, 0.01),
    "watermarked": watermark,
    "all": lambda im: watermark(jpeg(crop_edges(im.resize((im.size[0] * 2 // 3, im.size[1] * 2 // 3)), 0.01), 50)),
}


@pytest.fixture
def image_file(tmp_path):
    """``image_file(seed, variant=None, name=None)`` writes a generated image (PNG) and returns its path."""
    def make(seed: int, variant: str | None = None, name: str | None = None) -> Path:
        img = generated_image(seed)
        if variant:
            img = VARIANTS[variant](img)
        path = tmp_path / (name or f"img{seed}{'_' + variant if variant else ''}.png")
        img.save(path)
        return path
    return make


def _video_tools_reason() -> str | None:
    if shutil.which("ffmpeg") is None:
        return "ffmpeg is not installed (apt-get install ffmpeg)"
    try:
        import vpdq  # noqa: F401
    except ImportError:
        return "vpdq is not installed (needs FFmpeg -dev libraries and pkg-config; pip install vpdq)"
    return None


@pytest.fixture
def video_file(tmp_path):
    """``video_file(seeds, name, size=(320, 240), crf=23)``: one generated image per second, encoded as MP4."""
    reason = _video_tools_reason()
    if reason:
        pytest.skip(reason)

    def make(seeds: list[int], name: str, size: tuple[int, int] = (320, 240), crf: int = 23) -> Path:
        frames = tmp_path / f"frames_{name}"
        frames.mkdir()
        for i, seed in enumerate(seeds):
            generated_image(seed, (320, 240)).save(frames / f"f{i:03d}.png")
        out = tmp_path / f"{name}.mp4"
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-framerate", "1", "-i", str(frames / "f%03d.png"),
                        "-r", "10", "-vf", f"scale={size[0]}:{size[1]}", "-c:v", "libx264", "-crf", str(crf),
                        "-pix_fmt", "yuv420p", str(out)], check=True)
        return out
    return make
