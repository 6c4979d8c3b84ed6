"""Match media, texts and links against every enabled bank; matches become Signals.

    matcher = Matcher(store)
    matcher.match_media("upload.jpg")              # [Signal(policy="terrorism", score=0.96, ...)]
    matcher.match_text("…a known post, re-posted with edits…")
    matcher.match_urls(["https://t.me/s/example_x"])

Indexes are built once per bank and kept in a cache folder (``--cache-dir``,
``HARIS_CACHE_DIR``, else ``~/.cache/haris``) under the bank's id with the bank
version they reflect: the next start loads them, adds only the entries added
since, and rebuilds only after entries were removed. Exact banks (md5, sha256,
url, domain) are read into memory sets. Expired entries stay in the indexes
and are dropped when they match.

Scores: 1.0 for exact matches (md5, sha256, url, domain); ``1 - distance/256``
for PDQ (0.879 at the default threshold of 31); the share of matching frames
of the query for vPDQ; the Jaccard similarity for text. One Signal per policy
per item: the best score, every matching bank as a ``bank:<name>`` label and
every match as evidence.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Iterable

import numpy as np

from haris.detect.base import Evidence, Signal
from haris.errors import InputError
from haris.match.banks import Bank, BankStore, Entry
from haris.match.hashing import (DEFAULT_MAX_PIXELS, DEFAULT_MIN_QUALITY, MediaHashes, hash_file,
                                 vpdq_from_signal)
from haris.match.links import canonical_domain, canonical_link, domain_match_keys, url_match_keys
from haris.match.pdq_index import PDQIndex, codes_from_hex
from haris.match.text import _URL, DEFAULT_THRESHOLD, TextIndex
from haris.match.video import DEFAULT_COMPARED_PERCENT, DEFAULT_QUERY_PERCENT, VideoIndex
from haris.store.db import Store

log = logging.getLogger(__name__)
DEFAULT_PDQ_THRESHOLD = 31
EXACT_TYPES = ("md5", "sha256", "url", "domain")


def default_cache_dir() -> Path:
    if os.environ.get("HARIS_CACHE_DIR"):
        return Path(os.environ["HARIS_CACHE_DIR"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "haris"


@dataclass(slots=True)
class Match:
    """One bank entry that matched."""

    bank: str
    signal_type: str
    entry_id: int
    policy: str
    score: float
    kind: str                                 # hash, text or url
    distance: int | None = None
    similarity: float | None = None
    entry_label: str | None = None
    query: str | None = None                  # the file, URL or "text" that matched
    start: int | None = None
    end: int | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    def evidence(self) -> Evidence:
        detail = {"bank": self.bank, "signal_type": self.signal_type, "entry_id": self.entry_id,
                  "entry_label": self.entry_label, **self.detail}
        if self.distance is not None:
            detail["distance"] = self.distance
        if self.similarity is not None:
            detail["similarity"] = self.similarity
        return Evidence(kind=self.kind, label=self.bank, start=self.start, end=self.end,
                        text=self.query if self.kind == "url" else None, weight=round(self.score, 4),
                        detail=detail)


def to_signals(matches: Iterable[Match], *, item_id: str | None = None, detector: str = "bank-match",
               version: str = "1") -> list[Signal]:
    """One Signal per policy: the best score, a ``bank:<name>`` label per bank, every match as evidence."""
    by_policy: dict[str, list[Match]] = {}
    for m in matches:
        by_policy.setdefault(m.policy, []).append(m)
    out = []
    for policy, ms in sorted(by_policy.items()):
        ms.sort(key=lambda m: (-m.score, m.bank, m.entry_id))
        out.append(Signal(policy=policy, score=ms[0].score, detector=detector, detector_version=version,
                          labels=sorted({f"bank:{m.bank}" for m in ms}), evidence=[m.evidence() for m in ms],
                          item_id=item_id, data={"matches": len(ms)}))
    return out


class Matcher:
    """Every enabled bank of a store, ready to match. Also a message-scope Detector (``detect``)."""

    name: ClassVar[str] = "bank-match"
    version: ClassVar[str] = "1"
    scope: ClassVar[str] = "message"

    def __init__(self, store: Store | str | None = None, *, cache_dir: str | Path | None = None,
                 banks: Iterable[str] | None = None, min_quality: int = DEFAULT_MIN_QUALITY,
                 max_pixels: int = DEFAULT_MAX_PIXELS, vpdq_query_percent: float = DEFAULT_QUERY_PERCENT,
                 vpdq_compared_percent: float = DEFAULT_COMPARED_PERCENT):
        self.banks = BankStore(store)
        self.cache_dir = Path(cache_dir) if cache_dir else default_cache_dir()
        self.only = set(banks) if banks is not None else None
        self.min_quality, self.max_pixels = int(min_quality), int(max_pixels)
        self.vpdq_query_percent, self.vpdq_compared_percent = vpdq_query_percent, vpdq_compared_percent
        self._loaded: dict[str, tuple[Bank, Any]] = {}     # bank id -> (bank as loaded, its index)
        self._entries: dict[int, Entry] = {}              # entry metadata of recent matches
        self.refresh()

    # -- loading ------------------------------------------------------------------------
    def refresh(self) -> None:
        """Load new banks, bring changed ones up to date, forget disabled or deleted ones."""
        wanted = {b.id: b for b in self.banks.list_banks(enabled_only=True)
                  if self.only is None or b.name in self.only}
        for bank_id in list(self._loaded):
            if bank_id not in wanted:
                del self._loaded[bank_id]
        for bank in wanted.values():
            old = self._loaded.get(bank.id)
            if old is None or old[0].version != bank.version or old[0].threshold != bank.threshold:
                self._loaded[bank.id] = (bank, self._load(bank))
        self._entries.clear()

    def _folder(self, bank: Bank, kind: str) -> Path:
        return self.cache_dir / "banks" / bank.id / kind

    def _load(self, bank: Bank) -> Any:
        if bank.signal_type in EXACT_TYPES:
            return self._load_exact(bank)
        if bank.signal_type == "pdq":
            t = int(bank.threshold if bank.threshold is not None else DEFAULT_PDQ_THRESHOLD)
            return self._cached(bank, self._folder(bank, f"pdq-t{t}-q{self.min_quality}"), PDQIndex.load,
                                lambda: PDQIndex(t), self._add_pdq)
        if bank.signal_type == "vpdq":
            t = int(bank.threshold if bank.threshold is not None else DEFAULT_PDQ_THRESHOLD)
            return self._cached(bank, self._folder(bank, f"vpdq-t{t}-q{self.min_quality}"), VideoIndex.load,
                                lambda: VideoIndex(t, self.min_quality), self._add_vpdq)
        sim = bank.threshold if bank.threshold is not None else DEFAULT_THRESHOLD
        return self._cached(bank, self._folder(bank, f"text-s{sim:g}"), TextIndex.load,
                            lambda: TextIndex(sim), lambda idx, rows: idx.add([(i, s) for i, s, _ in rows]))

    def _cached(self, bank: Bank, folder: Path, load, new, add) -> Any:
        """The bank's index from the cache, brought up to date (or built), and saved back when it changed."""
        index, since = None, None
        if folder.exists():
            try:
                index = load(folder)
                since = int(index.meta["version"])
                if since < bank.rebuild_version or since > bank.version:
                    index = None   # entries were removed since (or the cache is from elsewhere): rebuild
            except (OSError, ValueError, KeyError) as exc:
                log.warning("rebuilding the index of bank %s: cached copy unusable (%s)", bank.name, exc)
                index = None
        if index is None:
            index, since = new(), None
        if since != bank.version:
            add(index, list(self.banks.signals(bank.name, since_version=since)))
            index.meta = {"version": bank.version, "bank": bank.name}
            try:
                index.save(folder)
            except OSError as exc:   # a read-only cache still matches, it just rebuilds next time
                log.warning("cannot save the index of bank %s in %s: %s", bank.name, folder, exc)
        return index

    def _add_pdq(self, index: PDQIndex, rows: list[tuple[int, str, int | None]]) -> None:
        usable = [(i, s) for i, s, quality in rows if quality is None or quality >= self.min_quality]
        if usable:
            codes = codes_from_hex([s for _, s in usable])
            index.add(codes, np.fromiter((i for i, _ in usable), np.int64, len(usable)))

    def _add_vpdq(self, index: VideoIndex, rows: list[tuple[int, str, int | None]]) -> None:
        index.add([(i, vpdq_from_signal(s)) for i, s, _ in rows])

    def _load_exact(self, bank: Bank) -> dict[str, list[int]]:
        keys: dict[str, list[int]] = {}
        for entry_id, signal, _ in self.banks.signals(bank.name):
            try:   # re-canonicalised: a bank filled before a rule change still matches
                key = (canonical_link(signal).url if bank.signal_type == "url"
                       else canonical_domain(signal) if bank.signal_type == "domain" else signal)
            except ValueError:
                continue
            keys.setdefault(key, []).append(entry_id)
        return keys

    def loaded_banks(self) -> list[Bank]:
        return [b for b, _ in self._loaded.values()]

    def _of_type(self, signal_type: str):
        return [(b, idx) for b, idx in self._loaded.values() if b.signal_type == signal_type]

    # -- finding ------------------------------------------------------------------------
    def _finish(self, matches: list[Match]) -> list[Match]:
        """Fill in each entry's policy and label; drop expired entries."""
        missing = [m.entry_id for m in matches if m.entry_id not in self._entries]
        if missing:
            if len(self._entries) > 50_000:
                self._entries.clear()
            self._entries.update(self.banks.entries_by_id(missing))
        out = []
        for m in matches:
            e = self._entries.get(m.entry_id)
            if e is None or e.expired():
                continue
            m.policy, m.entry_label = e.category or m.policy, e.label
            out.append(m)
        return out

    def find_media(self, media: MediaHashes | str | Path) -> list[Match]:
        h = media if isinstance(media, MediaHashes) else hash_file(media, max_pixels=self.max_pixels)
        found: list[Match] = []
        for signal_type, value in (("md5", h.md5), ("sha256", h.sha256)):
            for bank, keys in self._of_type(signal_type):
                found += [Match(bank.name, signal_type, i, bank.category, 1.0, "hash", distance=0, query=h.path)
                          for i in keys.get(value, ())]
        if h.pdq and (h.pdq_quality is None or h.pdq_quality >= self.min_quality):
            for bank, index in self._of_type("pdq"):
                for entry_id, d in index.search_hex([h.pdq])[0]:
                    found.append(Match(bank.name, "pdq", entry_id, bank.category, round(1 - d / 256, 4), "hash",
                                       distance=d, query=h.path, detail={"quality": h.pdq_quality}))
        if h.vpdq:
            for bank, index in self._of_type("vpdq"):
                for vm in index.query(h.vpdq, query_percent=self.vpdq_query_percent,
                                      compared_percent=self.vpdq_compared_percent):
                    found.append(Match(bank.name, "vpdq", vm.entry_id, bank.category,
                                       round(vm.query_match_percent / 100, 4), "hash", distance=vm.distance,
                                       query=h.path, detail={"query_match_percent": vm.query_match_percent,
                                                             "compared_match_percent": vm.compared_match_percent}))
        return self._finish(found)

    def find_text(self, text: str) -> list[Match]:
        found = []
        for bank, index in self._of_type("text"):
            for entry_id, sim in index.query(text):
                found.append(Match(bank.name, "text", entry_id, bank.category, sim, "text", similarity=sim,
                                   start=0, end=len(text)))
        return self._finish(found)

    def find_urls(self, urls: Iterable[Any]) -> list[Match]:
        found, seen = [], set()
        url_banks, domain_banks = self._of_type("url"), self._of_type("domain")
        for link in urls:
            url = getattr(link, "url", link)
            start, end = getattr(link, "start", None), getattr(link, "end", None)
            try:
                canon = canonical_link(url)
                ukeys = url_match_keys(url) if url_banks else []
                dkeys = domain_match_keys(url) if domain_banks else []
            except ValueError:
                continue   # not a URL with a host: nothing to match
            detail = {"canonical_url": canon.url, "shortener": canon.shortener}
            for signal_type, banks_, keys in (("url", url_banks, ukeys), ("domain", domain_banks, dkeys)):
                for bank, table in banks_:
                    for key in keys:
                        for entry_id in table.get(key, ()):
                            if (entry_id, start) not in seen:
                                seen.add((entry_id, start))
                                found.append(Match(bank.name, signal_type, entry_id, bank.category, 1.0, "url",
                                                   query=url, start=start, end=end,
                                                   detail={**detail, "matched": key}))
        return self._finish(found)

    # -- signals ------------------------------------------------------------------------
    def match_media(self, media: MediaHashes | str | Path, *, item_id: str | None = None) -> list[Signal]:
        return to_signals(self.find_media(media), item_id=item_id, version=self.version)

    def match_text(self, text: str, *, item_id: str | None = None) -> list[Signal]:
        return to_signals(self.find_text(text), item_id=item_id, version=self.version)

    def match_urls(self, urls: Iterable[Any], *, item_id: str | None = None) -> list[Signal]:
        return to_signals(self.find_urls(urls), item_id=item_id, version=self.version)

    def detect(self, item: Any) -> list[Signal]:
        """Signals for a message: its text, its links and its media.

        ``item`` is loose: anything with ``original`` (or ``text``) and
        optionally ``links`` and ``media`` (or a ``message`` holding them) —
        an :class:`~haris.text.analysis.AnalysedText` or a :class:`~haris.model.Message`.
        A media file that cannot be read is skipped (logged), not fatal.
        """
        message = getattr(item, "message", None)
        text = getattr(item, "original", None) or getattr(item, "text", None) or ""
        links = list(getattr(item, "links", None) or getattr(message, "links", None) or [])
        if not links and text:
            links = [m.group() for m in _URL.finditer(text)]
        media = list(getattr(item, "media", None) or getattr(message, "media", None) or [])
        matches = self.find_text(text) if text else []
        matches += self.find_urls(links)
        for md in media:
            matches += self._media_matches(md)
        item_id = getattr(item, "item_id", None) or getattr(item, "id", None)
        return to_signals(matches, item_id=item_id, version=self.version)

    def _media_matches(self, md: Any) -> list[Match]:
        path = getattr(md, "path", None)
        if path and Path(path).is_file():
            try:
                return self.find_media(path)
            except InputError as exc:
                log.warning("media not matched: %s", exc)
        sha256 = getattr(md, "sha256", None)
        if sha256:   # the file is not here, but ingestion recorded its digest
            found = [Match(bank.name, "sha256", i, bank.category, 1.0, "hash", distance=0, query=path or md.id)
                     for bank, keys in self._of_type("sha256") for i in keys.get(sha256.lower(), ())]
            return self._finish(found)
        return []
