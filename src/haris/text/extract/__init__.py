"""Entity extraction: ages, prices, phone numbers, handles, URLs, e-mail addresses and places.

>>> [(e.kind, e.value) for e in extract("بنت عمرها ١٢ سنة السعر 12.500 دولار t.me/example_chan")]
[('age', 12), ('price', {'amount': 12500.0, 'currency': 'USD'}), ('url', 'https://t.me/example_chan')]

Extraction runs on the original text: every entity's ``start``/``end`` are offsets into it and
``text == original[start:end]``. What normalization would fix (Eastern Arabic digits, tatweel,
diacritics, invisible characters) is mapped one character to one (or none) first, see
:mod:`haris.text.extract._prep`.

Entities do not overlap. Where two readings compete, the more specific wins, in this order:
URLs and e-mail addresses, then handles, prices, ages, phone numbers, places. So "wa.me/15550100"
is a URL (its number is in ``detail["phone"]``), and the "12" in "12 $" is a price, not an age.

Lexicons and rules are data (``haris/text/data/extract`` and ``haris/text/data/gazetteer``);
see the README there.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from haris.text.extract._prep import Prepared, prepare
from haris.text.extract._scan import scan
from haris.text.extract._spans import SpanSet
from haris.text.extract.ages import find_ages
from haris.text.extract.handles import find_handles
from haris.text.extract.phones import find_phones
from haris.text.extract.places import find_places
from haris.text.extract.prices import find_prices
from haris.text.extract.urls import classify_url, find_emails, find_urls

__all__ = ["KINDS", "Entity", "classify_url", "extract", "warm_up"]

KINDS: tuple[str, ...] = ("url", "email", "handle", "price", "age", "phone", "place")


@dataclass(slots=True)
class Entity:
    """One entity found in a text.

    ``value`` by kind: age → years (int; a fraction of a year for months, with
    ``detail["unit"] == "months"``); price → ``{"amount": float, "currency": "USD"}``; phone → E.164
    string; handle → "@name" (lower case); url → canonical URL; email → lower-case address;
    place → ``{"name", "country", "admin", "kind", "lat", "lon"}``.
    """

    kind: str
    start: int
    end: int
    text: str
    value: Any
    detail: dict[str, Any] = field(default_factory=dict)


def _wanted(kinds: Iterable[str] | None) -> frozenset[str]:
    if kinds is None:
        return frozenset(KINDS)
    if isinstance(kinds, str):
        kinds = [kinds]
    chosen = frozenset(kinds)
    unknown = chosen - set(KINDS)
    if unknown:
        raise ValueError(f"unknown entity kind(s) {sorted(unknown)}; expected some of {list(KINDS)}")
    return chosen


def extract(text: str, lang: str | None = None, kinds: Iterable[str] | None = None) -> list[Entity]:
    """Entities in ``text``, sorted by start offset.

    ``lang`` ("ar", "en", "fr", or None for unknown/mixed) only chooses the regions tried for
    phone numbers written without a country code; all lexicons are always used, since posts mix
    languages. ``kinds`` limits the result to some of :data:`KINDS` (the others may still be
    found internally so that, say, a URL's digits are not reported as a phone number).
    """
    if not isinstance(text, str):
        raise TypeError(f"extract() needs a str, not {type(text).__name__}")
    wanted = _wanted(kinds)
    if not text or not wanted:
        return []
    prep = prepare(text)
    hits = scan(prep.key)
    taken = SpanSet()
    found: list[tuple[str, int, int, Any, dict[str, Any]]] = []

    # E-mail addresses and links first: their parts must not become handles, phones or places.
    for em in find_emails(prep, taken):
        found.append(("email", em.start, em.end, em.address, {"domain": em.address.rsplit("@", 1)[1]}))
    for url in find_urls(prep, taken):
        link = url.link
        found.append(("url", url.start, url.end, link.url,
                      {"platform": link.platform, "kind": link.kind, "domain": link.domain, **url.extra}))
    if wanted & {"handle", "place"}:
        for h in find_handles(prep, hits, taken):
            detail = {"platform": h.platform} if h.platform else {}
            if h.cue:
                detail["cue"] = h.cue
            found.append(("handle", h.start, h.end, h.handle, detail))
    if wanted & {"price", "age", "phone"}:
        for p in find_prices(prep, hits):
            if taken.try_add(p.start, p.end):
                found.append(("price", p.start, p.end,
                              {"amount": p.amount, "currency": p.currency.code}, p.detail))
        for a in find_ages(prep, hits):
            if taken.try_add(a.start, a.end):
                found.append(("age", a.start, a.end, a.value, a.detail))
    if "phone" in wanted:
        for ph in find_phones(prep, lang):
            if taken.try_add(ph.start, ph.end):
                found.append(("phone", ph.start, ph.end, ph.e164, ph.detail))
    if "place" in wanted and hits.place:
        for pl in find_places(prep, hits.place):
            if taken.try_add(pl.start, pl.end):
                place = pl.place
                value = {"name": place.name, "country": place.country, "admin": place.admin,
                         "kind": place.kind, "lat": place.lat, "lon": place.lon}
                detail = {"id": place.id}
                if pl.level:
                    detail["ambiguous"] = pl.level
                found.append(("place", pl.start, pl.end, value, detail))
    return _entities(prep, found, wanted)


def warm_up() -> None:
    """Load every lexicon and compile every pattern now (about half a second) instead of on the
    first messages; services call this at start-up."""
    extract("بنت عمرها ١٢ سنة، 12.500 دولار، ألف دولار، girl aged 12, 12-year-old, 3,700 $ "
            "fille de 14 ans, في الثانية عشرة من العمر، tg: example_chan @example_chan "
            "t.me/example_chan user@example.com +44 7700 900123 0933 123 456 في الرقة in Nice")


def _entities(prep: Prepared, found: list[tuple[str, int, int, Any, dict[str, Any]]],
              wanted: frozenset[str]) -> list[Entity]:
    out = []
    for kind, start, end, value, detail in found:
        if kind not in wanted:
            continue
        s, e = prep.span(start, end)
        out.append(Entity(kind, s, e, prep.original[s:e], value, detail))
    out.sort(key=lambda ent: (ent.start, ent.end))
    return out
