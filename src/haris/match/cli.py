"""`haris bank …` and `haris hash …`: hash banks and media hashes from the command line.

Mounted on the main ``haris`` group by haris.cli; the store URL comes from
``ctx.obj["db_url"]`` (``--db`` / ``HARIS_DATABASE_URL``; None means the default).
Every command takes ``--json``.

    haris bank create known-clips --type pdq --category terrorism
    haris bank import known-clips shared.csv --skip-bad
    haris bank add known-clips picture.png --label "clip 3"
    haris bank match upload.jpg --text "…" --url https://t.me/example_x
    haris bank export known-clips known-clips.stix.json
    haris hash picture.png video.mp4 --json
"""
from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from haris.errors import InputError
from haris.match.banks import BankStore, Entry
from haris.match.formats import FORMATS
from haris.match.hashing import DEFAULT_MAX_PIXELS, hash_file, vpdq_to_signal
from haris.match.signals import MEDIA_TYPES, SIGNAL_TYPES

console = Console()
err_console = Console(stderr=True)
EXIT_INPUT = 3


def _print_json(obj) -> None:
    from haris.report.terminal import print_json

    print_json(obj)


def _banks(ctx: click.Context) -> BankStore:
    obj = ctx.find_root().obj or {}
    return BankStore(obj.get("db_url"))


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    from haris.match.formats import _date as parse

    try:
        return parse(value, "--expires")
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


json_option = click.option("--json", "json_out", is_flag=True, help="Print JSON.")


@click.group("bank")
def bank() -> None:
    """Hash banks: named lists of known content (PDQ, vPDQ, MD5, SHA-256, text, URL, domain)."""


@bank.command("create")
@click.argument("name")
@click.option("--type", "-t", "signal_type", type=click.Choice(SIGNAL_TYPES), required=True)
@click.option("--category", "-c", required=True, help="Policy id: trafficking, child_exploitation or terrorism.")
@click.option("--description", "-d")
@click.option("--threshold", type=float,
              help="pdq/vpdq: max Hamming distance (default 31); text: min similarity (default 0.5).")
@click.option("--disabled", is_flag=True, help="Create it disabled (not matched until enabled).")
@json_option
@click.pass_context
def create(ctx, name, signal_type, category, description, threshold, disabled, json_out):
    """Create an empty bank."""
    b = _banks(ctx).create_bank(name, signal_type, category, description=description, threshold=threshold,
                                enabled=not disabled)
    _print_json(b.to_dict()) if json_out else console.print(f"created bank {b.name} ({b.signal_type}, {b.category})")


def _entry_for(value: str, signal_type: str, max_pixels: int) -> Entry:
    """A value on the command line: a signal, or (media banks) a file to hash."""
    if signal_type in MEDIA_TYPES and Path(value).is_file():
        h = hash_file(value, max_pixels=max_pixels, video=signal_type == "vpdq")
        if signal_type == "pdq":
            if not h.pdq:
                raise InputError(value, "no PDQ hash: not an image", expected="an image file or a PDQ hash")
            return Entry(signal=h.pdq, quality=h.pdq_quality, meta={"file": Path(value).name})
        if signal_type == "vpdq":
            if not h.vpdq:
                raise InputError(value, "no vPDQ hash: not a video, or vpdq is not installed"
                                 + (f" ({h.notes[0]})" if h.notes else ""))
            return Entry(signal=vpdq_to_signal(h.vpdq), meta={"file": Path(value).name})
        return Entry(signal=getattr(h, signal_type), meta={"file": Path(value).name})
    return Entry(signal=value)


@bank.command("add")
@click.argument("name")
@click.argument("values", nargs=-1, required=True)
@click.option("--label", "-l")
@click.option("--category", "-c", help="Policy id of these entries (default: the bank's).")
@click.option("--source", "-s", help="Where these entries come from.")
@click.option("--expires", help="Stop matching them after this date (ISO 8601).")
@click.option("--max-pixels", default=DEFAULT_MAX_PIXELS, show_default=True)
@json_option
@click.pass_context
def add(ctx, name, values, label, category, source, expires, max_pixels, json_out):
    """Add signals (hashes, texts, URLs, domains) or media files (hashed here) to a bank."""
    banks = _banks(ctx)
    b = banks.get_bank(name)
    entries = []
    for v in values:
        e = _entry_for(v, b.signal_type, max_pixels)
        e.label, e.category, e.source, e.expires_at = label, category, source or "cli", _date(expires)
        entries.append(e)
    r = banks.add_entries(name, entries, where="<arguments>")
    if json_out:
        _print_json({"bank": name, "added": r.added, "duplicates": r.duplicates})
    else:
        console.print(f"{name}: {r.added} added, {r.duplicates} already there")


@bank.command("import")
@click.argument("name")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(FORMATS), help="Default: from the file's name and content.")
@click.option("--skip-bad", is_flag=True, help="Import the good lines even when some are malformed.")
@click.option("--label", "-l", help="Label of entries whose line has none.")
@click.option("--category", "-c", help="Policy id of entries whose line has none (default: the bank's).")
@click.option("--source", "-s", help="Source of entries whose line has none (default: the file name).")
@click.option("--expires", help="Expiry of entries whose line has none (ISO 8601).")
@json_option
@click.pass_context
def import_(ctx, name, path, fmt, skip_bad, label, category, source, expires, json_out):
    """Import a bank file (list, tx-lines, tx-csv, json, stix) in one transaction."""
    defaults = Entry(signal="", label=label, category=category, source=source, expires_at=_date(expires))
    report = _banks(ctx).import_file(name, path, fmt, skip_bad=skip_bad, defaults=defaults)
    if json_out:
        _print_json(report.to_dict())
    else:
        console.print(f"{name}: {report.added} added, {report.duplicates} already there "
                      f"({report.format}, {path})")
        for b in report.bad:
            err_console.print(f"  skipped {path}: {b}", highlight=False)


@bank.command("export")
@click.argument("name")
@click.argument("path")
@click.option("--format", "fmt", type=click.Choice(FORMATS), help="Default: from the file's name.")
@json_option
@click.pass_context
def export(ctx, name, path, fmt, json_out):
    """Write a bank to a file ("-" for standard output)."""
    n = _banks(ctx).export_file(name, path, fmt)
    if json_out and path != "-":
        _print_json({"bank": name, "path": path, "entries": n})
    elif path != "-":
        console.print(f"{name}: {n} entries written to {path}")


@bank.command("list")
@json_option
@click.pass_context
def list_(ctx, json_out):
    """List the banks."""
    banks = _banks(ctx).list_banks()
    if json_out:
        _print_json([b.to_dict() for b in banks])
        return
    t = Table("name", "type", "category", "entries", "threshold", "enabled", "updated")
    for b in banks:
        t.add_row(b.name, b.signal_type, b.category, f"{b.entries:,}",
                  "default" if b.threshold is None else f"{b.threshold:g}", "yes" if b.enabled else "no",
                  b.updated_at.strftime("%Y-%m-%d %H:%M"))
    console.print(t)


@bank.command("show")
@click.argument("name")
@click.option("--entries", "limit", default=20, show_default=True, help="Entries to show.")
@json_option
@click.pass_context
def show(ctx, name, limit, json_out):
    """Show a bank and its first entries."""
    banks = _banks(ctx)
    b = banks.get_bank(name)
    entries = list(banks.entries(name, limit=limit))
    if json_out:
        _print_json({**b.to_dict(), "entries_shown": [e.to_dict() for e in entries]})
        return
    console.print(f"[bold]{b.name}[/]  {b.signal_type}, {b.category}, {b.entries:,} entries, "
                  f"{'enabled' if b.enabled else 'disabled'}" + (f"\n{b.description}" if b.description else ""),
                  highlight=False)
    t = Table("id", "signal", "label", "category", "source", "added", "expires")
    for e in entries:
        sig = e.signal if len(e.signal) <= 70 else e.signal[:67] + "…"
        t.add_row(str(e.id), sig, e.label or "", e.category or "", e.source or "",
                  e.added_at.strftime("%Y-%m-%d") if e.added_at else "",
                  e.expires_at.strftime("%Y-%m-%d") if e.expires_at else "")
    console.print(t)


def _toggle(ctx, name: str, enabled: bool, json_out: bool) -> None:
    b = _banks(ctx).set_enabled(name, enabled)
    _print_json(b.to_dict()) if json_out else console.print(f"{name}: {'enabled' if enabled else 'disabled'}")


@bank.command("disable")
@click.argument("name")
@json_option
@click.pass_context
def disable(ctx, name, json_out):
    """Stop matching against a bank (its entries are kept)."""
    _toggle(ctx, name, False, json_out)


@bank.command("enable")
@click.argument("name")
@json_option
@click.pass_context
def enable(ctx, name, json_out):
    """Match against a bank again."""
    _toggle(ctx, name, True, json_out)


@bank.command("delete")
@click.argument("name")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@json_option
@click.pass_context
def delete(ctx, name, yes, json_out):
    """Delete a bank and all its entries."""
    banks = _banks(ctx)
    b = banks.get_bank(name)
    if not yes:
        click.confirm(f"delete bank {name} and its {b.entries:,} entries?", abort=True)
    n = banks.delete(name)
    _print_json({"bank": name, "deleted_entries": n}) if json_out else console.print(f"deleted {name} ({n} entries)")


@bank.command("match")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--text", "texts", multiple=True, help="A text to match against the text banks (repeatable).")
@click.option("--url", "urls", multiple=True, help="A URL to match against URL and domain banks (repeatable).")
@click.option("--cache-dir", type=click.Path(file_okay=False), help="Index cache (default ~/.cache/haris).")
@json_option
@click.pass_context
def match(ctx, paths, texts, urls, cache_dir, json_out):
    """Match media files, texts and URLs against every enabled bank."""
    from haris.match.matcher import Matcher

    matcher = Matcher(ctx.find_root().obj.get("db_url") if ctx.find_root().obj else None, cache_dir=cache_dir)
    results, failed = [], 0
    items = [("file", p) for p in paths] + [("text", t) for t in texts] + [("url", u) for u in urls]
    for kind, value in items:
        try:
            signals = (matcher.match_media(value) if kind == "file" else
                       matcher.match_text(value) if kind == "text" else matcher.match_urls([value]))
        except InputError as exc:
            failed += 1
            err_console.print(f"[red]error:[/] {exc}", highlight=False)
            continue
        results.append({"input": value, "kind": kind, "signals": [s.to_dict() for s in signals]})
    if json_out:
        _print_json(results)
    else:
        for r in results:
            shown = r["input"] if len(r["input"]) <= 60 else r["input"][:57] + "…"
            if not r["signals"]:
                console.print(f"[dim]no match[/]  {shown}", highlight=False)
            for s in r["signals"]:
                console.print(f"[bold red]{s['policy']}[/] {s['score']:.3f}  {shown}  "
                              f"{', '.join(s['labels'])}", highlight=False)
    if failed:
        sys.exit(EXIT_INPUT)


@click.command("hash")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--max-pixels", default=DEFAULT_MAX_PIXELS, show_default=True,
              help="Refuse images with more pixels (decompression bombs).")
@json_option
def hash_cmd(paths, max_pixels, json_out):
    """Hash media files: MD5, SHA-256, PDQ (images, with quality), vPDQ (videos)."""
    rows, failed = [], 0
    for p in paths:
        try:
            rows.append(hash_file(p, max_pixels=max_pixels).to_dict())
        except InputError as exc:
            failed += 1
            rows.append({"path": p, "error": str(exc)})
            if not json_out:
                err_console.print(f"[red]error:[/] {exc}", highlight=False)
    if json_out:
        _print_json(rows)
    else:
        for r in rows:
            if "error" in r:
                continue
            console.print(f"[bold]{r['path']}[/] ({r['kind']}, {r['size']:,} bytes)", highlight=False)
            console.print(f"  md5     {r['md5']}\n  sha256  {r['sha256']}", highlight=False)
            if "pdq" in r:
                console.print(f"  pdq     {r['pdq']}  quality {r['pdq_quality']}", highlight=False)
            if "vpdq" in r:
                console.print(f"  vpdq    {r['vpdq_frames']} frames", highlight=False)
            for note in r.get("notes", []):
                console.print(f"  [yellow]note[/]    {note}", highlight=False)
    if failed:
        sys.exit(EXIT_INPUT)
