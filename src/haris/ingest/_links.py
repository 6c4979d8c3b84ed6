"""Links and media files, the same way for every connector.

:func:`make_link` builds a :class:`~haris.model.Link` and says which platform
it points to and whether it is an invite, a profile or a post, because the
networks stage follows invite links from one app to another.
:func:`find_links` is for formats whose platform marks no links (WhatsApp,
generic rows). :func:`media_file` hashes a file that sits beside an export.

    >>> make_link("t.me/+AbCdEf", 4, 16).kind
    'invite'
"""
from __future__ import annotations

import hashlib
import mimetypes
import re
from pathlib import Path

from haris.model import Link, Media

# host -> platform. Invite paths per platform decide kind="invite".
_PLATFORM_HOSTS = {
    "t.me": "telegram", "telegram.me": "telegram", "telegram.dog": "telegram",
    "chat.whatsapp.com": "whatsapp", "wa.me": "whatsapp", "whatsapp.com": "whatsapp",
    "tt.me": "tamtam", "tamtam.chat": "tamtam",
    "twitter.com": "twitter", "x.com": "twitter", "t.co": "twitter",
    "facebook.com": "facebook", "fb.com": "facebook", "fb.me": "facebook", "m.facebook.com": "facebook",
    "instagram.com": "instagram", "instagr.am": "instagram",
    "snapchat.com": "snapchat",
}

# A URL with a scheme, a www. host, or a messaging-app short host, up to a space
# or a closing bracket/quote; trailing punctuation is trimmed afterwards.
_URL = re.compile(
    r"(?:https?://|www\.|\b(?:t\.me|telegram\.me|chat\.whatsapp\.com|wa\.me|tt\.me|tamtam\.chat)/)"
    r"[^\s<>\"'«»()\[\]{}]+", re.IGNORECASE)
_TRAILING = ".,;:!?…،؛"
_PARTS = re.compile(r"[^:/]*://(?:[^@/?#]*@)?(?P<host>[^:/?#]*)(?::\d*)?(?P<path>[^?#]*)")


def make_link(url: str, start: int | None = None, end: int | None = None) -> Link:
    """A :class:`Link` for ``url`` as written (a scheme is added when missing), classified."""
    url = url.strip()
    absolute = url if "://" in url[:12] else "https://" + url
    # one regex instead of urlsplit (5x slower): this runs for every link of every message
    m = _PARTS.match(absolute)
    host, path = m["host"].lower(), m["path"].strip("/")
    domain = host[4:] if host.startswith("www.") else host
    platform = _PLATFORM_HOSTS.get(domain, "web")
    return Link(url=absolute, platform=platform, kind=_kind(platform, domain, path),
                domain=domain, start=start, end=end)


def _kind(platform: str, domain: str, path: str) -> str:
    if platform == "web" or not path:
        return "web" if platform == "web" else "profile"
    first, _, rest = path.partition("/")
    if platform == "telegram":
        if first.startswith("+") or first == "joinchat" or first == "addlist":
            return "invite"
        return "post" if rest else "profile"
    if platform == "whatsapp":
        if domain == "chat.whatsapp.com" or first == "channel":
            return "invite"
        return "profile"
    if platform == "tamtam":
        return "invite" if first == "join" else ("post" if rest else "profile")
    if platform == "twitter":
        return "post" if "/status/" in "/" + path else "profile"
    if platform in ("facebook", "instagram"):
        return "post" if first in ("p", "reel", "posts", "groups", "share") or "/posts/" in path else "profile"
    return "profile"


def find_links(text: str) -> list[Link]:
    """Links written in plain text, with their spans."""
    if "/" not in text and "www." not in text.lower():   # every URL form has one; most lines have neither
        return []
    found = []
    for m in _URL.finditer(text):
        url = m.group().rstrip(_TRAILING)
        found.append(make_link(url, m.start(), m.start() + len(url)))
    return found


def locate_links(text: str, urls: list[str]) -> list[Link]:
    """Links given beside the text (not marked in it): spans where each URL occurs, else none."""
    links, pos = [], 0
    for url in urls:
        at = text.find(url, pos)
        if at < 0:
            at = text.find(url)
        if at < 0:
            links.append(make_link(url))
        else:
            links.append(make_link(url, at, at + len(url)))
            pos = at + len(url)
    return links


_KIND_BY_MIME = {"image": "photo", "video": "video", "audio": "audio"}


def kind_from_name(name: str) -> str:
    """The media kind a file name suggests (photo, video, audio, animation, file)."""
    lower = name.lower()
    if lower.endswith(".gif"):
        return "animation"
    if lower.endswith((".webp", ".tgs")) and "sticker" in lower:
        return "sticker"
    mime, _ = mimetypes.guess_type(lower)
    return _KIND_BY_MIME.get((mime or "").split("/")[0], "file")


def sha256_of(path: Path) -> str:
    """SHA-256 of a file, read in chunks so a large video does not fill memory."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def media_file(media_id: str, kind: str, rel: str, base: Path, *, mime: str | None = None,
               size: int | None = None) -> Media:
    """A :class:`Media` for a file named ``rel`` relative to the export folder ``base``.

    The file is hashed when it exists inside ``base``; paths that leave the
    export folder (``../``) are recorded but never opened.
    """
    sha = None
    target = (base / rel)
    try:
        resolved = target.resolve()
        if resolved.is_relative_to(base.resolve()) and resolved.is_file():
            sha = sha256_of(resolved)
            if size is None:
                size = resolved.stat().st_size
    except OSError:
        sha = None
    if mime is None:
        mime = mimetypes.guess_type(rel)[0]
    return Media(id=media_id, kind=kind, sha256=sha, path=rel, mime=mime, size=size)
