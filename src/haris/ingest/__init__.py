"""Ingest: read platform exports into the records of :mod:`haris.model`, streaming.

    from haris import ingest

    for path in ingest.iter_files(["examples/"]):
        fmt = ingest.detect_format(path)          # "telegram", "whatsapp", ...
        for record in ingest.read(path, fmt):     # Account, Channel, Conversation, Message
            ...

Guarantees, for every format:

- **Streaming**: records come one at a time and memory does not grow with the
  file (ijson for JSON documents, line by line for text, JSONL and CSV). What
  is remembered per file is the set of account/channel/conversation ids
  already yielded.
- **Order**: each Account, Channel and Conversation is yielded once per file,
  before the first message that refers to it.
- **Stable ids**: derived from the platform and the platform's own ids (see
  :func:`haris.model.stable_id`), so reading a file twice gives the same ids.
- **Origin**: every message says where it came from: ``path:line`` for text
  formats, ``path#chat=<id>/msg=<id>`` (Telegram) or ``path#data/<n>``
  (Twitter documents) for JSON.
- **Errors**: unreadable input raises :class:`haris.errors.InputError` naming
  the file, the line and/or byte offset and what was expected. Because the
  reader streams, the error can come after some records were yielded: the
  caller stores one file in one transaction.

The formats and the generic schema are described in docs/formats.md.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from haris.errors import ConfigError, InputError, UnknownFormatError
from haris.ingest import generic, telegram, twitter, whatsapp
from haris.ingest._detect import detect_format as _detect_format
from haris.ingest._text import encoding_of, read_head
from haris.model import Record

__all__ = ["FORMATS", "detect_format", "read", "iter_files"]

FORMATS: tuple[str, ...] = ("telegram", "whatsapp", "twitter", "jsonl", "csv")

_READERS = {
    "telegram": lambda path, mapping: telegram.read(path),
    "whatsapp": lambda path, mapping: whatsapp.read(path),
    "twitter": lambda path, mapping: twitter.read(path),
    "jsonl": generic.read_jsonl,
    "csv": generic.read_csv,
}

# Extensions read when a directory is expanded. Exports keep media beside the
# data (photos/, video_files/, IMG-...jpg); those, and HTML exports, are skipped.
INPUT_SUFFIXES = frozenset({".json", ".jsonl", ".ndjson", ".txt", ".csv", ".tsv"})


def detect_format(path: str | Path) -> str:
    """The format of ``path``, one of :data:`FORMATS`, from its content.

    Raises :class:`UnknownFormatError` (naming the file and what was seen) for
    empty, binary or unrecognised files.

        >>> detect_format("examples/telegram/result.json")
        'telegram'
    """
    return _detect_format(Path(path))


def read(path: str | Path, fmt: str | None = None, *, mapping: dict | None = None) -> Iterator[Record]:
    """Stream the records of one file.

    ``fmt`` is one of :data:`FORMATS` (detected when None). ``mapping`` maps
    generic fields to source columns for ``jsonl`` and ``csv`` (e.g.
    ``{"text": "body", "author": "user_id"}``). The format and mapping are
    checked now; the file's content as the iterator advances.
    """
    path = Path(path)
    if fmt is None:
        fmt = detect_format(path)
    elif fmt not in FORMATS:
        raise UnknownFormatError(path, f"unknown format {fmt!r}", expected=f"one of {', '.join(FORMATS)}")
    elif _is_empty(path):
        raise InputError(path, "the file is empty", offset=0, expected=f"a {fmt} file")
    if mapping and fmt not in ("jsonl", "csv"):
        raise ConfigError(f"a column mapping applies to jsonl and csv, not to {fmt} ({path})")
    if mapping:
        generic.check_mapping(mapping)
    return _READERS[fmt](path, mapping)


def _is_empty(path: Path) -> bool:
    head = read_head(path, 4096)
    _codec, bom = encoding_of(head)
    return len(head) < 4096 and not head[bom:].strip(b" \t\r\n\0")


def iter_files(paths: Iterable[str | Path] | str | Path) -> Iterator[Path]:
    """The input files under ``paths``: files as given, directories expanded recursively.

    In directories, hidden files and folders, README files, and files that
    are not data (media, HTML, archives: anything outside
    :data:`INPUT_SUFFIXES`) are skipped; files are listed in sorted order so
    runs are reproducible. A path that does not exist raises :class:`InputError`.
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    for given in paths:
        root = Path(given)
        if root.is_file():
            yield root
        elif root.is_dir():
            yield from _walk(root)
        else:
            raise InputError(root, "no such file or directory", expected="a file or a folder of exports")


def _walk(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).parts
        if any(part.startswith(".") for part in rel):
            continue
        if path.name.lower().startswith("readme") or path.suffix.lower() not in INPUT_SUFFIXES:
            continue
        if path.is_file():
            yield path
