"""Canonical links for URL and domain banks, so the same place written differently matches one entry.

The canonical form is the text stage's (:func:`haris.text.extract.classify_url`:
``t.me/s/Example_x``, ``https://telegram.me/example_x?single`` and
``http://www.t.me/example_x/`` are all ``https://t.me/example_x``;
``t.me/joinchat/AbC`` is ``t.me/+AbC``; tracking parameters are dropped;
shorteners are recognised), so that banks and messages follow one set of
rules. Matching adds three things of its own: the host is IDNA-encoded (a
Unicode domain and its punycode form are one), the remaining query parameters
are sorted, and a link also matches its parents (:func:`url_match_keys`) and
parent domains (:func:`domain_match_keys`).

    >>> canonical_link("https://telegram.me/s/Example_X/12?single").url
    'https://t.me/example_x/12'
    >>> url_match_keys("https://t.me/example_x/12")
    ['https://t.me/example_x/12', 'https://t.me/example_x']
    >>> domain_match_keys("https://news.example.com/a")
    ['news.example.com', 'example.com']
"""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit

from haris.errors import InputError


@dataclass(slots=True, frozen=True)
class CanonicalLink:
    url: str              # https://host/path?sorted-params, no fragment, no tracking
    domain: str           # host without www., IDNA (punycode) encoded
    platform: str         # telegram, whatsapp, tamtam, twitter, facebook, instagram, snapchat, web…
    kind: str             # invite, profile, post, web, shortener
    shortener: bool = False


def _idna(host: str) -> str:
    host = host.strip().strip(".").lower()
    if host.startswith("www."):
        host = host[4:]
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            pass  # not a valid IDN: keep the Unicode form, which still compares equal to itself
    return host


def canonical_link(url: str) -> CanonicalLink:
    """The canonical form of a URL, classified; ValueError when it is not a URL with a host."""
    from haris.text.extract import classify_url

    try:
        link = classify_url(url.strip())
    except InputError as exc:
        raise ValueError(f"not a URL: {url!r} ({exc.problem})") from None
    parts = urlsplit(link.url)
    host = _idna(parts.hostname or "")
    if not host or "." not in host:
        raise ValueError(f"not a URL with a host: {url!r}")
    netloc = host + (f":{parts.port}" if parts.port else "")
    query = urlencode(sorted(parse_qsl(parts.query, keep_blank_values=True)))
    canon = f"https://{netloc}{parts.path.rstrip('/')}" + (f"?{query}" if query else "")
    return CanonicalLink(url=canon, domain=_idna(link.domain or host), platform=link.platform,
                         kind=link.kind, shortener=link.kind == "shortener")


def canonical_domain(host: str) -> str:
    """A host or domain as domain banks store it (the canonical host of ``https://<host>/``)."""
    return canonical_link(host if "/" in host else f"https://{host.strip()}/").domain


def url_match_keys(url: str) -> list[str]:
    """The canonical URL and its parents at path boundaries, without the query.

    A bank entry for a channel (``https://t.me/example_x``) thereby matches a
    link to one of its posts (``https://t.me/example_x/12``). Short links and
    invites have no meaningful parent.
    """
    link = canonical_link(url)
    keys = [link.url]
    if link.shortener or link.kind == "invite":
        return keys
    base = link.url.partition("?")[0]
    keys.append(base)
    root = "https://" + base[len("https://"):].split("/", 1)[0]
    while base != root:
        base = base.rsplit("/", 1)[0]
        if base != root or link.platform == "web":   # "https://t.me" alone names no channel
            keys.append(base)
    return list(dict.fromkeys(keys))


def domain_match_keys(url_or_domain: str) -> list[str]:
    """The link's domain and every parent domain (``a.b.example.com`` → … ``example.com``)."""
    value = url_or_domain.strip()
    domain = canonical_link(value).domain if "/" in value or ":" in value else canonical_domain(value)
    labels = domain.split(".")
    return [".".join(labels[i:]) for i in range(len(labels) - 1)]
