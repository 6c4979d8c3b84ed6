"""Bank files in the formats hash sharing uses.

==========  ===========================================================================
format      what it is
==========  ===========================================================================
list        one signal a line; ``#`` comments. PDQ: optional comma- or tab-separated columns
            ``hash,quality,label`` — what Meta's reference ``pdq-photo-hasher`` prints
            (``hash,quality,filename``). MD5, SHA-256: ``hash,label``. Text, URL and domain
            banks take an optional tab-separated label. vPDQ: one vPDQ signal (JSON) a line.
tx-lines    ``signal_type signal`` a line: the signal files python-threatexchange's
            "local file" exchange reads (types: pdq, vpdq, video_md5, raw_text, url).
tx-csv      CSV with the header ``signal_type,signal_str,collab,category,tags`` that
            ``threatexchange dataset -P --csv`` writes; haris adds the columns label,
            added_at, expires_at, quality (others ignore extra columns). The policy id is a
            tag. Rows whose opinion category is NEGATIVE_CLASS are refused.
json        haris's lossless bank document ``{"format": "haris-bank", "bank": {…},
            "entries": [{signal, label, category, source, added_at, expires_at, quality}]}``;
            importing also takes a list of HMA add-signal bodies
            (``[{"pdq": "…", "metadata": {"content_id": "…"}}]``).
stix        a STIX 2.1 bundle of indicators: ``[file:hashes.'SHA-256' = '…']``,
            ``[file:hashes.MD5 = '…']``, ``[file:hashes.'PDQ' = '…']`` (a custom hash name,
            which STIX's open hash vocabulary allows), ``[url:value = '…']``,
            ``[domain-name:value = '…']``. Name = label, valid_from/valid_until = added/expiry,
            ``labels`` and ``x_haris_category`` = policy.
==========  ===========================================================================

Readers yield ``(number, Entry | BadLine)``: nothing is validated against the
bank here beyond the file's own structure; :meth:`BankStore.import_file` does
the rest and reports every bad line with its number.
"""
from __future__ import annotations

import csv
import io
import json
import sys
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any, Iterable, Iterator

from haris.detect.base import POLICIES
from haris.errors import InputError
from haris.match.banks import BadLine, Bank, Entry, as_utc
from haris.match.signals import FROM_TX_NAME, TX_NAMES

FORMATS = ("list", "tx-lines", "tx-csv", "json", "stix")
TX_CSV_FIELDS = ["signal_type", "signal_str", "collab", "category", "tags", "label", "added_at", "expires_at",
                 "quality"]
# A fixed namespace so that the same entry of the same bank always gets the same STIX id.
_STIX_NS = uuid.UUID("8f0c1d1e-7a57-4c1b-9a5e-6861726973b1")
_STIX_PATHS = {"sha256": ("file", "hashes", ("SHA-256", "SHA256")), "md5": ("file", "hashes", ("MD5",)),
               "pdq": ("file", "hashes", ("PDQ",)), "url": ("url", "value", ()),
               "domain": ("domain-name", "value", ())}


# -- detection -------------------------------------------------------------------------

def format_from_name(path: str | Path) -> str:
    name = str(path).lower()
    if name.endswith(".stix.json") or name.endswith(".stix"):
        return "stix"
    if name.endswith((".json", ".jsonl")):
        return "json"
    if name.endswith(".csv"):
        return "tx-csv"
    return "list"


def detect_format(path: str | Path) -> str:
    """The format of a bank file, from its name and first bytes."""
    try:
        with open(path, encoding="utf-8-sig", errors="replace") as f:
            head = f.read(4096)
    except OSError as exc:
        raise InputError(path, f"cannot read: {exc.strerror or exc}") from None
    stripped = head.lstrip()
    if stripped.startswith(("{", "[")):
        return "stix" if '"bundle"' in head or '"indicator"' in head else "json"
    first = next((ln for ln in head.splitlines() if ln.strip() and not ln.lstrip().startswith("#")), "")
    if first.replace(" ", "").lower().startswith("signal_type,signal_str"):
        return "tx-csv"
    token, _, rest = first.strip().partition(" ")
    if rest and token in FROM_TX_NAME:
        return "tx-lines"
    return "list"


# -- reading ---------------------------------------------------------------------------

def _date(value: Any, what: str) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        d = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{what} {value!r} is not an ISO 8601 date (2025-01-31 or 2025-01-31T12:00:00Z)") from None
    return d.replace(tzinfo=timezone.utc) if d.tzinfo is None else d


def _int(value: Any, what: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(str(value).strip())
    except ValueError:
        raise ValueError(f"{what} {value!r} is not a whole number") from None


def read(path: str | Path, fmt: str, bank: Bank) -> Iterator[tuple[int, Entry | BadLine]]:
    """Entries of a bank file, each with its line (or entry) number."""
    if fmt not in FORMATS:
        raise InputError(path, f"unknown bank file format {fmt!r}", expected=", ".join(FORMATS))
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(path, "not UTF-8 text", offset=exc.start) from None
    except OSError as exc:
        raise InputError(path, f"cannot read: {exc.strerror or exc}") from None
    reader = {"list": _read_list, "tx-lines": _read_tx_lines, "tx-csv": _read_tx_csv, "json": _read_json,
              "stix": _read_stix}[fmt]
    yield from reader(text, bank, str(path))


def _lines(text: str) -> Iterator[tuple[int, str]]:
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip() and not line.lstrip().startswith("#"):
            yield number, line.rstrip("\r\n")


def _read_list(text: str, bank: Bank, path: str) -> Iterator[tuple[int, Entry | BadLine]]:
    for number, line in _lines(text):
        try:
            if bank.signal_type == "pdq":           # hash[,quality[,label]]
                sep = "\t" if "\t" in line else ","
                cols = [c.strip() for c in line.split(sep, 2)] + ["", ""]
                yield number, Entry(signal=cols[0], quality=_int(cols[1], "quality"), label=cols[2] or None)
            elif bank.signal_type in ("md5", "sha256"):   # hash[,label]
                sep = "\t" if "\t" in line else ","
                signal, _, label = line.partition(sep)
                yield number, Entry(signal=signal.strip(), label=label.strip() or None)
            elif bank.signal_type == "vpdq":
                yield number, Entry(signal=line.strip())
            else:
                signal, _, label = line.partition("\t")
                yield number, Entry(signal=signal.strip(), label=label.strip() or None)
        except ValueError as exc:
            yield number, BadLine(number, str(exc))


def _from_tx_type(name: str, bank: Bank) -> str | None:
    """None when the type fits the bank, else the problem."""
    ours = FROM_TX_NAME.get(name.strip())
    if ours is None:
        return f"unknown signal type {name.strip()!r} (known: {', '.join(sorted(FROM_TX_NAME))})"
    if ours != bank.signal_type:
        return f"a {name.strip()} signal does not fit bank {bank.name!r}, which holds {bank.signal_type}"
    return None


def _read_tx_lines(text: str, bank: Bank, path: str) -> Iterator[tuple[int, Entry | BadLine]]:
    for number, line in _lines(text):
        kind, _, signal = line.strip().partition(" ")
        problem = _from_tx_type(kind, bank) if signal else "expected 'signal_type signal'"
        yield number, BadLine(number, problem) if problem else Entry(signal=signal.strip())


def _read_tx_csv(text: str, bank: Bank, path: str) -> Iterator[tuple[int, Entry | BadLine]]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if not reader.fieldnames or not {"signal_type", "signal_str"} <= set(reader.fieldnames):
        yield 1, BadLine(1, "expected a header with signal_type,signal_str (threatexchange dataset --csv)")
        return
    for row in reader:
        number = reader.line_num
        try:
            if None in row:
                raise ValueError("more fields than the header has")
            problem = _from_tx_type(row.get("signal_type") or "", bank)
            if problem:
                raise ValueError(problem)
            if (row.get("category") or "").strip().upper() == "NEGATIVE_CLASS":
                raise ValueError("opinion NEGATIVE_CLASS: the signal is known not to be in this category")
            tags = (row.get("tags") or "").split()
            policy = next((t for t in tags if t in POLICIES), None)
            label = row.get("label") or " ".join(t for t in tags if t not in POLICIES) or None
            yield number, Entry(signal=row.get("signal_str") or "", label=label, category=policy,
                                source=row.get("collab") or None, added_at=_date(row.get("added_at"), "added_at"),
                                expires_at=_date(row.get("expires_at"), "expires_at"),
                                quality=_int(row.get("quality"), "quality"))
        except ValueError as exc:
            yield number, BadLine(number, str(exc))


def _read_json(text: str, bank: Bank, path: str) -> Iterator[tuple[int, Entry | BadLine]]:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(path, f"not JSON: {exc.msg}", line=exc.lineno) from None
    items = doc.get("entries") if isinstance(doc, dict) else doc
    if not isinstance(items, list):
        raise InputError(path, "no list of entries", expected='{"entries": [...]} or a list of HMA signal objects')
    for number, item in enumerate(items, 1):
        try:
            if not isinstance(item, dict):
                raise ValueError("an entry is a JSON object")
            if "signal" in item:
                entry = Entry(signal=str(item["signal"]), label=item.get("label"), category=item.get("category"),
                              source=item.get("source"), added_at=_date(item.get("added_at"), "added_at"),
                              expires_at=_date(item.get("expires_at"), "expires_at"),
                              quality=_int(item.get("quality"), "quality"), meta=item.get("meta"))
            else:   # HMA's add-signal body: {"<signal type>": "<signal>", "metadata": {...}}
                signals = {k: v for k, v in item.items() if k != "metadata"}
                ours = {FROM_TX_NAME.get(k): v for k, v in signals.items()}
                if bank.signal_type not in ours:
                    raise ValueError(f"no {TX_NAMES.get(bank.signal_type, bank.signal_type)} signal "
                                     f"(keys: {', '.join(signals) or 'none'})")
                md = item.get("metadata") or {}
                entry = Entry(signal=str(ours[bank.signal_type]), label=md.get("content_id"),
                              meta={k: md[k] for k in ("content_uri", "json") if k in md} or None)
            yield number, entry
        except (ValueError, TypeError) as exc:
            yield number, BadLine(number, str(exc), "entry")


def _read_stix(text: str, bank: Bank, path: str) -> Iterator[tuple[int, Entry | BadLine]]:
    from stix2patterns.pattern import ParseException, Pattern

    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(path, f"not JSON: {exc.msg}", line=exc.lineno) from None
    objects = doc.get("objects") if isinstance(doc, dict) and doc.get("type") == "bundle" else None
    if not isinstance(objects, list):
        raise InputError(path, "not a STIX 2.1 bundle", expected='{"type": "bundle", "objects": [...]}')
    if bank.signal_type not in _STIX_PATHS:
        raise InputError(path, f"STIX indicators cannot carry {bank.signal_type} signals",
                         expected="a pdq, md5, sha256, url or domain bank")
    obj_type, prop, names = _STIX_PATHS[bank.signal_type]
    for number, obj in enumerate(objects, 1):
        if not isinstance(obj, dict) or obj.get("type") != "indicator":
            continue   # identities, relationships…: not signals
        try:
            if obj.get("pattern_type", "stix") != "stix":
                raise ValueError(f"pattern type {obj.get('pattern_type')!r} is not stix")
            try:
                comparisons = Pattern(obj.get("pattern") or "").inspect().comparisons
            except ParseException as exc:
                raise ValueError(f"bad STIX pattern: {exc}") from None
            values = [v.strip("'") for path_, op, v in comparisons.get(obj_type, [])
                      if op == "=" and path_[0] == prop
                      and (not names or (len(path_) > 1 and str(path_[1]).upper() in {n.upper() for n in names}))]
            if not values:
                raise ValueError(f"pattern has no {bank.signal_type} comparison: {obj.get('pattern')!r}")
            category = obj.get("x_haris_category") or next((x for x in obj.get("labels") or [] if x in POLICIES), None)
            for value in values:
                yield number, Entry(signal=value.replace("\\'", "'"), label=obj.get("name"), category=category,
                                    source=obj.get("x_haris_source"),
                                    added_at=_date(obj.get("valid_from"), "valid_from"),
                                    expires_at=_date(obj.get("valid_until"), "valid_until"))
        except ValueError as exc:
            yield number, BadLine(number, str(exc), "entry")


# -- writing ---------------------------------------------------------------------------

def _one_line(value: str | None) -> str:
    return " ".join((value or "").split())


def write(path: str | Path, fmt: str, bank: Bank, entries: Iterable[Entry]) -> int:
    """Write entries to ``path`` ("-": standard output); returns how many were written."""
    if fmt not in FORMATS:
        raise InputError(path, f"unknown bank file format {fmt!r}", expected=", ".join(FORMATS))
    if fmt in ("tx-lines", "tx-csv") and bank.signal_type not in TX_NAMES:
        raise InputError(path, f"python-threatexchange has no signal type for {bank.signal_type}",
                         expected="format list, json or stix")
    if fmt == "stix" and bank.signal_type not in _STIX_PATHS:
        raise InputError(path, f"STIX indicators cannot carry {bank.signal_type} signals",
                         expected="format list, json or tx-lines")
    writer = {"list": _write_list, "tx-lines": _write_tx_lines, "tx-csv": _write_tx_csv, "json": _write_json,
              "stix": _write_stix}[fmt]
    if str(path) == "-":
        return writer(sys.stdout, bank, entries)
    tmp = Path(f"{path}.tmp")
    with open(tmp, "w", encoding="utf-8", newline="") as out:
        n = writer(out, bank, entries)
    tmp.replace(path)
    return n


def _write_list(out: IO[str], bank: Bank, entries: Iterable[Entry]) -> int:
    n = 0
    out.write(f"# haris bank {bank.name}: {bank.signal_type}, {bank.category}\n")
    for e in entries:
        if bank.signal_type == "pdq":
            cols = [e.signal, "" if e.quality is None else str(e.quality), _one_line(e.label)]
            while cols and not cols[-1]:
                cols.pop()
            out.write(",".join(cols) + "\n")
        elif bank.signal_type in ("md5", "sha256"):
            out.write(e.signal + (f",{_one_line(e.label)}" if e.label else "") + "\n")
        elif bank.signal_type == "vpdq":
            out.write(e.signal + "\n")
        else:
            out.write(_one_line(e.signal) + (f"\t{_one_line(e.label)}" if e.label else "") + "\n")
        n += 1
    return n


def _write_tx_lines(out: IO[str], bank: Bank, entries: Iterable[Entry]) -> int:
    n = 0
    for e in entries:
        out.write(f"{TX_NAMES[bank.signal_type]} {_one_line(e.signal)}\n")
        n += 1
    return n


def _write_tx_csv(out: IO[str], bank: Bank, entries: Iterable[Entry]) -> int:
    w = csv.DictWriter(out, TX_CSV_FIELDS, lineterminator="\n")
    w.writeheader()
    n = 0
    for e in entries:
        w.writerow({"signal_type": TX_NAMES[bank.signal_type], "signal_str": e.signal, "collab": bank.name,
                    "category": "POSITIVE_CLASS", "tags": e.category or bank.category, "label": e.label or "",
                    "added_at": e.added_at.isoformat() if e.added_at else "",
                    "expires_at": e.expires_at.isoformat() if e.expires_at else "",
                    "quality": "" if e.quality is None else e.quality})
        n += 1
    return n


def _write_json(out: IO[str], bank: Bank, entries: Iterable[Entry]) -> int:
    head = {"format": "haris-bank", "version": 1,
            "bank": {"name": bank.name, "signal_type": bank.signal_type, "category": bank.category,
                     "description": bank.description, "threshold": bank.threshold}}
    out.write(json.dumps(head, ensure_ascii=False)[:-1] + ', "entries": [\n')
    n = 0
    for e in entries:
        d = e.to_dict()
        d.pop("id", None)
        d.pop("bank", None)
        out.write((",\n" if n else "") + json.dumps(d, ensure_ascii=False))
        n += 1
    out.write("\n]}\n")
    return n


def _write_stix(out: IO[str], bank: Bank, entries: Iterable[Entry]) -> int:
    import stix2

    obj_type, prop, names = _STIX_PATHS[bank.signal_type]
    indicators = []
    for e in entries:
        value = e.signal.replace("\\", "\\\\").replace("'", "\\'")
        target = f"{obj_type}:{prop}" + (f".'{names[0]}'" if names else "")
        added = as_utc(e.added_at) or datetime.now(timezone.utc)
        kw: dict[str, Any] = {}
        if e.expires_at and as_utc(e.expires_at) > added:   # STIX requires valid_until after valid_from
            kw["valid_until"] = as_utc(e.expires_at)
        if e.source:
            kw["x_haris_source"] = e.source
        if e.label:
            kw["name"] = e.label
        indicators.append(stix2.Indicator(
            id=f"indicator--{uuid.uuid5(_STIX_NS, f'{bank.name}|{e.signal}')}", created=added, modified=added,
            pattern=f"[{target} = '{value}']",
            pattern_type="stix", valid_from=added, indicator_types=["malicious-activity"],
            labels=[e.category or bank.category], x_haris_bank=bank.name,
            x_haris_category=e.category or bank.category, allow_custom=True, **kw))
    out.write(stix2.Bundle(objects=indicators, allow_custom=True).serialize(pretty=True) if indicators
              else json.dumps({"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": []}, indent=4))
    out.write("\n")
    return len(indicators)
