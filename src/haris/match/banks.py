"""Hash banks in the store: create, fill, list, disable, delete, import and export.

    >>> banks = BankStore(Store.open("sqlite://"))
    >>> banks.create_bank("known-propaganda", "pdq", "terrorism")       # doctest: +ELLIPSIS
    Bank(...)
    >>> banks.add_entries("known-propaganda", [Entry(signal="f8" * 32, label="clip 1"), "f8" * 32])
    AddResult(added=1, duplicates=1, version=1)

Every write is one transaction: an import that fails leaves the bank as it was.
"""
from __future__ import annotations

import re
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Iterator

from sqlalchemy import delete, func, select, update

from haris.detect.base import POLICIES
from haris.errors import ConfigError, InputError
from haris.match.signals import SIGNAL_TYPES, canonical_signal, check_threshold
from haris.match.tables import bank_entries, banks
from haris.store.db import Store

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,119}$")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; every instant in haris is UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


@dataclass(slots=True)
class Bank:
    id: str
    name: str
    signal_type: str
    category: str
    description: str | None
    threshold: float | None
    enabled: bool
    version: int
    rebuild_version: int
    created_at: datetime
    updated_at: datetime
    entries: int | None = None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["created_at"], d["updated_at"] = self.created_at.isoformat(), self.updated_at.isoformat()
        return d


@dataclass(slots=True)
class Entry:
    """One signal in a bank. ``category`` defaults to the bank's, ``added_at`` to now."""

    signal: str
    label: str | None = None
    category: str | None = None
    source: str | None = None
    added_at: datetime | None = None
    expires_at: datetime | None = None
    quality: int | None = None
    meta: dict[str, Any] | None = None
    id: int | None = None           # set when read from the store
    bank: str | None = None

    def expired(self, at: datetime | None = None) -> bool:
        return self.expires_at is not None and as_utc(self.expires_at) <= (at or utcnow())

    def to_dict(self) -> dict[str, Any]:
        d = {k: v for k, v in asdict(self).items() if v is not None}
        for k in ("added_at", "expires_at"):
            if k in d:
                d[k] = as_utc(d[k]).isoformat()
        return d


@dataclass(slots=True)
class AddResult:
    added: int
    duplicates: int
    version: int


@dataclass(slots=True)
class BadLine:
    """A line (or, in JSON and STIX files, an entry) that could not be imported."""

    number: int
    problem: str
    unit: str = "line"

    def __str__(self) -> str:
        return f"{self.unit} {self.number}: {self.problem}"


@dataclass(slots=True)
class ImportReport:
    path: str
    format: str
    added: int = 0
    duplicates: int = 0
    bad: list[BadLine] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "format": self.format, "added": self.added, "duplicates": self.duplicates,
                "bad": [{"number": b.number, "unit": b.unit, "problem": b.problem} for b in self.bad]}


class BankFileError(InputError):
    """A bank file with malformed lines; ``bad`` lists every one of them."""

    def __init__(self, path: str, bad: list[BadLine]):
        self.bad = bad
        shown = "; ".join(str(b) for b in bad[:20]) + (f"; … {len(bad) - 20} more" if len(bad) > 20 else "")
        super().__init__(path, f"{len(bad)} malformed {bad[0].unit}{'s' if len(bad) > 1 else ''}, nothing "
                               f"imported (--skip-bad imports the others): {shown}", line=bad[0].number)


def _bank(row: Any, entries: int | None = None) -> Bank:
    return Bank(id=row.id, name=row.name, signal_type=row.signal_type, category=row.category,
                description=row.description, threshold=row.threshold, enabled=bool(row.enabled),
                version=row.version, rebuild_version=row.rebuild_version, created_at=as_utc(row.created_at),
                updated_at=as_utc(row.updated_at), entries=entries)


def _entry(row: Any, bank: str | None = None) -> Entry:
    return Entry(signal=row.signal, label=row.label, category=row.category, source=row.source,
                 added_at=as_utc(row.added_at), expires_at=as_utc(row.expires_at), quality=row.quality,
                 meta=row.meta, id=row.id, bank=bank)


def check_category(category: str) -> str:
    if category not in POLICIES:
        raise ConfigError(f"unknown category {category!r}: a bank's category is a policy id, "
                          f"one of {', '.join(POLICIES)}")
    return category


class BankStore:
    """The banks of one store."""

    def __init__(self, store: Store | str | None = None):
        self.store = store if isinstance(store, Store) else Store.open(store)

    # -- banks --------------------------------------------------------------------------
    def create_bank(self, name: str, signal_type: str, category: str, *, description: str | None = None,
                    threshold: float | None = None, enabled: bool = True) -> Bank:
        if not _NAME.match(name or ""):
            raise ConfigError(f"bad bank name {name!r}: letters, digits and _ . : - (up to 120), "
                              "starting with a letter or digit")
        if signal_type not in SIGNAL_TYPES:
            raise ConfigError(f"unknown signal type {signal_type!r}; one of {', '.join(SIGNAL_TYPES)}")
        check_category(category)
        try:
            threshold = check_threshold(signal_type, threshold)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        now = utcnow()
        row = dict(id="bank_" + uuid.uuid4().hex[:20], name=name, signal_type=signal_type, category=category,
                   description=description, threshold=threshold, enabled=enabled, version=0, rebuild_version=0,
                   created_at=now, updated_at=now)
        with self.store.begin() as conn:
            if conn.execute(select(banks.c.id).where(banks.c.name == name)).first():
                raise ConfigError(f"a bank named {name!r} already exists")
            conn.execute(banks.insert().values(**row))
        return self.get_bank(name)

    def get_bank(self, name: str) -> Bank:
        with self.store.connect() as conn:
            row = conn.execute(select(banks).where(banks.c.name == name)).first()
            if row is None:
                raise ConfigError(f"no bank named {name!r} (haris bank list shows the banks)")
            n = conn.execute(select(func.count()).select_from(bank_entries)
                             .where(bank_entries.c.bank_id == row.id)).scalar_one()
        return _bank(row, n)

    def list_banks(self, *, enabled_only: bool = False) -> list[Bank]:
        counts = (select(bank_entries.c.bank_id, func.count().label("n"))
                  .group_by(bank_entries.c.bank_id).subquery())
        q = select(banks, counts.c.n).outerjoin(counts, counts.c.bank_id == banks.c.id).order_by(banks.c.name)
        if enabled_only:
            q = q.where(banks.c.enabled.is_(True))
        with self.store.connect() as conn:
            return [_bank(r, r.n or 0) for r in conn.execute(q)]

    def set_enabled(self, name: str, enabled: bool) -> Bank:
        bank = self.get_bank(name)
        with self.store.begin() as conn:
            conn.execute(update(banks).where(banks.c.id == bank.id).values(enabled=enabled, updated_at=utcnow()))
        return self.get_bank(name)

    def disable(self, name: str) -> Bank:
        """Keep the bank but stop matching against it."""
        return self.set_enabled(name, False)

    def enable(self, name: str) -> Bank:
        return self.set_enabled(name, True)

    def set_threshold(self, name: str, threshold: float | None) -> Bank:
        bank = self.get_bank(name)
        try:
            threshold = check_threshold(bank.signal_type, threshold)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        with self.store.begin() as conn:
            conn.execute(update(banks).where(banks.c.id == bank.id)
                         .values(threshold=threshold, updated_at=utcnow()))
        return self.get_bank(name)

    def delete(self, name: str) -> int:
        """Delete the bank and all its entries; returns how many entries went with it."""
        bank = self.get_bank(name)
        with self.store.begin() as conn:
            n = conn.execute(delete(bank_entries).where(bank_entries.c.bank_id == bank.id)).rowcount
            conn.execute(delete(banks).where(banks.c.id == bank.id))
        return n

    # -- entries ------------------------------------------------------------------------
    def prepare(self, bank: Bank, entry: Entry | str) -> dict[str, Any]:
        """The row for one entry; ValueError when its signal is not valid for the bank."""
        if isinstance(entry, str):
            entry = Entry(signal=entry)
        signal, key = canonical_signal(bank.signal_type, entry.signal)
        category = entry.category or bank.category
        if category not in POLICIES:
            raise ValueError(f"unknown category {category!r} (one of {', '.join(POLICIES)})")
        if entry.quality is not None and not 0 <= int(entry.quality) <= 100:
            raise ValueError(f"quality must be 0-100, got {entry.quality}")
        return dict(bank_id=bank.id, signal=signal, signal_key=key, quality=entry.quality, category=category,
                    label=entry.label, source=entry.source, added_at=as_utc(entry.added_at) or utcnow(),
                    expires_at=as_utc(entry.expires_at), meta=entry.meta)

    def add_entries(self, name: str, entries: Iterable[Entry | str], *, where: str = "<input>") -> AddResult:
        """Add entries in one transaction; a signal already in the bank is counted as a duplicate.

        Any invalid entry raises :class:`InputError` (naming ``where`` and the
        entry's 1-based position) and nothing is added.
        """
        bank = self.get_bank(name)
        rows: dict[str, dict[str, Any]] = {}
        given = 0
        for i, entry in enumerate(entries, 1):
            given += 1
            try:
                row = self.prepare(bank, entry)
            except ValueError as exc:
                raise InputError(where, str(exc), line=i) from None
            rows.setdefault(row["signal_key"], row)
        return self._insert(bank, list(rows.values()), given)

    def _insert(self, bank: Bank, rows: list[dict[str, Any]], given: int) -> AddResult:
        with self.store.begin() as conn:
            # Bumping the version first takes the bank's row lock (PostgreSQL): writers to one bank queue up.
            conn.execute(update(banks).where(banks.c.id == bank.id)
                         .values(version=banks.c.version + 1, updated_at=utcnow()))
            version = conn.execute(select(banks.c.version).where(banks.c.id == bank.id)).scalar_one()
            for r in rows:
                r["version"] = version
            self.store.insert_ignore(conn, bank_entries, rows)
            added = conn.execute(select(func.count()).select_from(bank_entries).where(
                bank_entries.c.bank_id == bank.id, bank_entries.c.version == version)).scalar_one()
        return AddResult(added=added, duplicates=given - added, version=version)

    def remove_entries(self, name: str, entry_ids: Iterable[int]) -> int:
        """Remove entries by id; cached indexes of the bank are rebuilt on their next load."""
        bank = self.get_bank(name)
        ids = [int(i) for i in entry_ids]
        with self.store.begin() as conn:
            n = conn.execute(delete(bank_entries).where(bank_entries.c.bank_id == bank.id,
                                                        bank_entries.c.id.in_(ids))).rowcount
            conn.execute(update(banks).where(banks.c.id == bank.id).values(
                version=banks.c.version + 1, rebuild_version=banks.c.version + 1, updated_at=utcnow()))
        return n

    def entries(self, name: str, *, since_version: int | None = None, limit: int | None = None,
                include_expired: bool = True) -> Iterator[Entry]:
        """The bank's entries in the order they were added (streamed)."""
        bank = self.get_bank(name)
        q = select(bank_entries).where(bank_entries.c.bank_id == bank.id).order_by(bank_entries.c.id)
        if since_version is not None:
            q = q.where(bank_entries.c.version > since_version)
        if not include_expired:
            q = q.where((bank_entries.c.expires_at.is_(None)) | (bank_entries.c.expires_at > utcnow()))
        if limit is not None:
            q = q.limit(limit)
        with self.store.connect() as conn:
            for row in conn.execution_options(yield_per=5000).execute(q):
                yield _entry(row, bank.name)

    def signals(self, name: str, *, since_version: int | None = None) -> Iterator[tuple[int, str, int | None]]:
        """(entry id, signal, quality) of the bank's entries: what an index needs, read fast."""
        bank = self.get_bank(name)
        c = bank_entries.c
        q = select(c.id, c.signal, c.quality).where(c.bank_id == bank.id).order_by(c.id)
        if since_version is not None:
            q = q.where(c.version > since_version)
        with self.store.connect() as conn:
            for row in conn.execution_options(yield_per=20000).execute(q):
                yield row.id, row.signal, row.quality

    def entries_by_id(self, ids: Iterable[int]) -> dict[int, Entry]:
        ids = sorted({int(i) for i in ids})
        if not ids:
            return {}
        q = (select(bank_entries, banks.c.name.label("bank_name"))
             .join(banks, banks.c.id == bank_entries.c.bank_id).where(bank_entries.c.id.in_(ids)))
        with self.store.connect() as conn:
            return {r.id: _entry(r, r.bank_name) for r in conn.execute(q)}

    # -- files --------------------------------------------------------------------------
    def import_file(self, name: str, path: str | Path, fmt: str | None = None, *, skip_bad: bool = False,
                    defaults: Entry | None = None) -> ImportReport:
        """Import a bank file (format from its name and content unless given) in one transaction.

        Every malformed line is reported with its number; unless ``skip_bad``
        the import then stops with :class:`BankFileError` and adds nothing.
        ``defaults`` gives the label, category, source and expiry of entries
        whose line does not say (the source defaults to the file name).
        """
        from haris.match import formats

        bank = self.get_bank(name)
        fmt = fmt or formats.detect_format(path)
        report = ImportReport(path=str(path), format=fmt)
        rows: dict[str, dict[str, Any]] = {}
        given, file_name, now = 0, Path(path).name, utcnow()
        for number, item in formats.read(path, fmt, bank):
            if isinstance(item, BadLine):
                report.bad.append(item)
                continue
            _apply_defaults(item, defaults, file_name)
            item.added_at = item.added_at or now
            try:
                row = self.prepare(bank, item)
            except ValueError as exc:
                report.bad.append(BadLine(number, str(exc), "entry" if fmt in ("json", "stix") else "line"))
                continue
            given += 1
            rows.setdefault(row["signal_key"], row)
        if report.bad and not skip_bad:
            raise BankFileError(str(path), report.bad)
        result = self._insert(bank, list(rows.values()), given)
        report.added, report.duplicates = result.added, result.duplicates
        return report

    def export_file(self, name: str, path: str | Path, fmt: str | None = None) -> int:
        """Write every entry of the bank (expired ones too, with their expiry) to ``path`` ("-": stdout)."""
        from haris.match import formats

        bank = self.get_bank(name)
        fmt = fmt or formats.format_from_name(path)
        return formats.write(path, fmt, bank, self.entries(name))


def _apply_defaults(entry: Entry, defaults: Entry | None, file_name: str) -> None:
    if defaults is not None:
        for k in ("label", "category", "source", "expires_at"):
            if getattr(entry, k) is None:
                setattr(entry, k, getattr(defaults, k))
    if entry.source is None:
        entry.source = file_name
