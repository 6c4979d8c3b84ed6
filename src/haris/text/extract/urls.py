"""URLs, invite links and e-mail addresses in text, and canonical forms of URLs.

Links are found with or without a scheme ("https://t.me/x", "t.me/x", "www.example.com").
A host written without a scheme counts only when it is a known platform or shortener or ends in
one of the top-level domains listed in ``data/extract/urls.yaml`` (so "e.g." and "file.txt"
are not links). A link stops at whitespace, quotes, angle brackets and Arabic letters (people
glue Arabic words to links: "t.me/example_chanللتواصل"); trailing punctuation is dropped.

>>> classify_url("HTTPS://www.Telegram.me/s/Example_Chan/?utm_source=x").url
'https://t.me/example_chan'
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import unquote, urlsplit

from haris.errors import InputError
from haris.model import Link
from haris.text.extract._prep import Prepared
from haris.text.extract._spans import SpanSet
from haris.text.extract import _platforms

_STOP = "\\s<>\"'`{}|\\\\^\\[\\]\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufeff"
_SCHEME_URL = re.compile(rf"(?:https?|hxxps?|ftp)://[^{_STOP}]{{1,2048}}")
_BARE_URL = re.compile(
    r"(?:[a-z0-9](?:[a-z0-9_-]{0,62}[a-z0-9])?\.){1,10}(?P<tld>[a-z]{2,24})(?![a-z0-9_-])"
    rf"(?::\d{{2,5}})?(?:[/?#][^{_STOP}]{{0,2048}})?")
_DOT = re.compile(r"\.[a-z0-9]")
_HOST_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-_.")
_EMAIL = re.compile(r"[a-z0-9](?:[a-z0-9._%+-]{0,63})@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.){1,10}"
                    r"[a-z]{2,24}(?![a-z0-9-])")
_LOCAL_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789._%+-")
_HAS_SCHEME = re.compile(r"(?i)[a-z][a-z0-9+.-]*://")
_OTHER_SCHEME = re.compile(r"(?i)(?:mailto|tel|sms|callto|javascript|data|about|file|intent|skype|viber):")
_HOST = re.compile(r"[\w.-]+")
_TRAILING = ".,;:!?'\"»)]}…،؛؟*"


@dataclass(frozen=True, slots=True)
class UrlMatch:
    start: int
    end: int
    link: Link
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class EmailMatch:
    start: int
    end: int
    address: str


def _trim(key: str, start: int, end: int) -> int:
    """End of a link without trailing punctuation (a ")" stays when it closes a "(" inside)."""
    while end > start and key[end - 1] in _TRAILING:
        if key[end - 1] == ")" and key.count("(", start, end) >= key.count(")", start, end):
            break
        end -= 1
    return end


def classify_url(url: str) -> Link:
    """The canonical form of ``url`` and what it points to.

    Lower-case host without www./m./mobile., aliases applied (telegram.me → t.me,
    twitter.com → x.com), tracking parameters removed, https scheme, no trailing slash, no
    fragment; platform-specific rules (t.me/s/x → t.me/x, t.me/joinchat/H → t.me/+H,
    youtu.be/ID → youtube.com/watch?v=ID, tg://resolve?domain=x → t.me/x). A string with no
    host name ("mailto:x", "not a link") is returned stripped, as platform and kind "web" with
    an empty domain, so that a pipeline never stops on one odd link; a non-string raises
    InputError. Each call returns a new Link (callers set its start/end).

    >>> link = classify_url("t.me/joinchat/AAAAExample")
    >>> link.url, link.platform, link.kind
    ('https://t.me/+AAAAExample', 'telegram', 'invite')
    """
    try:
        link = canonicalize(url).link
    except _NoHost:
        return Link(url=url.strip(), platform="web", kind="web", domain="")
    return Link(url=link.url, platform=link.platform, kind=link.kind, domain=link.domain)


class _NoHost(InputError):
    """A string that is not a URL with a host name."""


def canonicalize(url: str) -> UrlMatch:
    """Like :func:`classify_url`, with the extra facts (handle, phone) kept, at offsets 0..len.

    Raises InputError (a ``_NoHost``) when ``url`` has no host name.
    """
    if not isinstance(url, str):
        raise InputError("<url>", f"not a string: {type(url).__name__}", expected="a URL")
    return _canonicalize(url)


def _telegram_app_link(text: str) -> str:
    """tg://resolve?domain=x&post=5 → https://t.me/x/5; tg://join?invite=H → https://t.me/+H."""
    _, _, query = text.partition("?")
    params = dict(p.partition("=")[::2] for p in query.split("&") if p)
    if text[5:].lower().startswith("join") and params.get("invite"):
        return "https://t.me/+" + params["invite"]
    if params.get("domain"):
        post = f"/{params['post']}" if params.get("post", "").isdigit() else ""
        return f"https://t.me/{params['domain']}{post}"
    return text


@lru_cache(maxsize=16384)
def _canonicalize(url: str) -> UrlMatch:
    # Links repeat a lot in real traffic (a channel advertising itself), hence the cache;
    # the result is immutable (frozen dataclasses, the extra dict is copied by callers).
    text = url.strip()
    if text[:4].lower() == "hxxp":
        text = "http" + text[4:]
    if text[:5].lower() == "tg://":
        text = _telegram_app_link(text)
    if _OTHER_SCHEME.match(text):
        raise _NoHost("<url>", f"not a web link: {url!r}", expected="an http(s) URL")
    if not _HAS_SCHEME.match(text):
        text = "https://" + text.lstrip("/")
    try:
        parts = urlsplit(text)
        host = (parts.hostname or "").rstrip(".")
        port = parts.port
    except ValueError as exc:
        raise _NoHost("<url>", f"not a URL: {url!r} ({exc})", expected="a URL") from exc
    if not host or "." not in host or not _HOST.fullmatch(host):
        raise _NoHost("<url>", f"not a URL: {url!r}", expected="a URL with a host name")
    rules = _platforms.rules()
    host = rules.canonical_host(host)
    segments = [s for s in parts.path.split("/") if s]
    query = [q for q in parts.query.split("&") if q]
    platform = rules.platform(host)
    result = _platforms.apply(platform, host, segments, query)
    netloc = result.host
    if port not in (None, 80, 443) and result.host == host:
        netloc += f":{port}"
    host = result.host
    query = [q for q in result.query if not rules.is_tracking(unquote(q.split("=", 1)[0]), platform)]
    canonical = "https://" + netloc
    if result.segments:
        canonical += "/" + "/".join(result.segments)
    if query:
        canonical += "?" + "&".join(query)
    kind = result.kind
    if rules.is_shortener(host, result.segments):
        kind = "shortener"
    link = Link(url=canonical, platform=platform, kind=kind, domain=host)
    return UrlMatch(0, len(url), link, result.extra)


def find_urls(prep: Prepared, taken: SpanSet) -> list[UrlMatch]:
    """Links in a prepared text (key coordinates); spans are added to ``taken``."""
    key = prep.key
    if "." not in key:
        return []
    out: list[UrlMatch] = []
    if "://" in key:
        for m in _SCHEME_URL.finditer(key):
            _accept(prep, m.start(), _trim(key, m.start(), m.end()), taken, out, scheme=True)
    floor = 0
    rules = _platforms.rules()
    for dot in _DOT.finditer(key):
        i = dot.start()
        if i < floor or taken.overlaps(i, i + 1):
            continue
        j = i
        while j > floor and i - j < 255 and key[j - 1] in _HOST_CHARS:
            j -= 1
        while j < i and not key[j].isalnum():
            j += 1
        if j > 0 and key[j - 1] in "@/:":
            floor = i + 1
            continue  # an e-mail domain or part of a longer link
        m = _BARE_URL.match(key, j)
        if m is None:
            floor = i + 1
            continue
        host = m.group()[: m.start("tld") - j] + m.group("tld")
        host = rules.canonical_host(host)
        label = host.rsplit(".", 2)[-2] if host.count(".") >= 1 else ""
        known = rules.platform(host) != "web" or rules.is_shortener(host, [])
        if not known and (m.group("tld") not in rules.schemeless_tlds or len(label) < 2):
            floor = m.end()
            continue
        end = _trim(key, j, m.end())
        _accept(prep, j, end, taken, out, scheme=False)
        floor = m.end()
    out.sort(key=lambda u: u.start)
    return out


def _accept(prep: Prepared, start: int, end: int, taken: SpanSet, out: list[UrlMatch],
            scheme: bool) -> None:
    if end <= start or taken.overlaps(start, end):
        return
    raw = prep.raw(start, end)
    try:
        canon = canonicalize(raw)
    except _NoHost:
        return
    taken.add(start, end)
    out.append(UrlMatch(start, end, canon.link, dict(canon.extra)))


def find_emails(prep: Prepared, taken: SpanSet) -> list[EmailMatch]:
    key = prep.key
    if "@" not in key:
        return []
    out: list[EmailMatch] = []
    floor = 0
    at = key.find("@")
    while at != -1:
        j = at
        while j > floor and at - j < 64 and key[j - 1] in _LOCAL_CHARS:
            j -= 1
        while j < at and not key[j].isalnum():
            j += 1
        m = _EMAIL.match(key, j) if j < at else None
        if m and not taken.overlaps(m.start(), m.end()):
            taken.add(m.start(), m.end())
            out.append(EmailMatch(m.start(), m.end(), prep.raw(m.start(), m.end()).lower()))
            floor = m.end()
        else:
            floor = at + 1
        at = key.find("@", max(floor, at + 1))
    return out
