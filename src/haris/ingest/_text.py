"""Reading text inputs line by line, strictly: a wrong encoding is an error, never replaced.

Exports come as UTF-8 (with or without a byte-order mark) or, for WhatsApp on
some phones, UTF-16 with a BOM. :func:`lines` yields each line with its number
and byte offset, so every later error can say where it is. A byte sequence
that is not valid in the file's encoding raises :class:`InputError` with the
line and the exact byte offset: replacing it silently would change evidence.

    for number, offset, text in lines(Path("chat.txt")):
        ...
"""
from __future__ import annotations

import codecs
from collections.abc import Iterator
from pathlib import Path

from haris.errors import InputError

SNIFF_BYTES = 64 * 1024
_CHUNK = 1 << 16

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def encoding_of(head: bytes) -> tuple[str, int]:
    """(codec, BOM length) for a file starting with ``head``.

    A BOM decides. Without one, UTF-16 is recognised by its NUL bytes (text
    in Latin script has a NUL in every other byte); anything else is read as
    UTF-8, which is what every supported platform writes.
    """
    for bom, codec in _BOMS:
        if head.startswith(bom):
            return codec, len(bom)
    sample = head[:512]
    if len(sample) >= 4 and b"\0" in sample:
        pairs = len(sample) // 2
        even_nul = sample[0::2].count(0)
        odd_nul = sample[1::2].count(0)
        if odd_nul >= pairs * 0.3 and even_nul == 0:
            return "utf-16-le", 0
        if even_nul >= pairs * 0.3 and odd_nul == 0:
            return "utf-16-be", 0
    return "utf-8", 0


def read_head(path: Path, size: int = SNIFF_BYTES) -> bytes:
    """The first ``size`` bytes of a file, as an :class:`InputError` when it cannot be opened."""
    try:
        with open(path, "rb") as fh:
            return fh.read(size)
    except OSError as exc:
        raise InputError(path, f"cannot open the file: {exc.strerror or exc}") from None


def _decode_error(path: Path, exc: UnicodeDecodeError, codec: str, line: int, offset: int) -> InputError:
    bad = exc.object[exc.start:exc.end]
    return InputError(
        path, f"bytes {bad!r} are not valid {codec.upper()}", line=line, offset=offset,
        expected=f"{codec.upper()} text (the file may have been saved in another encoding, "
                 "e.g. Latin-1 or Windows-1256; convert it, e.g. with iconv, and read it again)")


def lines(path: Path) -> Iterator[tuple[int, int, str]]:
    """Yield ``(line number from 1, byte offset of the line, text)`` with the line break removed."""
    codec, bom = encoding_of(read_head(path, 512))
    if codec == "utf-8":
        yield from _utf8_lines(path, bom)
    else:
        yield from _utf16_lines(path, codec, bom)


def _utf8_lines(path: Path, bom: int) -> Iterator[tuple[int, int, str]]:
    offset = 0
    with open(path, "rb") as fh:
        if bom:
            fh.read(bom)
            offset = bom
        for number, raw in enumerate(fh, 1):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise _decode_error(path, exc, "utf-8", number, offset + exc.start) from None
            yield number, offset, text.rstrip("\r\n")
            offset += len(raw)


def _utf16_lines(path: Path, codec: str, bom: int) -> Iterator[tuple[int, int, str]]:
    # Splitting bytes on b"\n" would cut UTF-16 code units in half, so decode
    # chunk by chunk and split the text. Offsets count code units (2 bytes,
    # 4 for a character outside the BMP).
    decoder = codecs.getincrementaldecoder(codec)("strict")
    number, offset, pending = 1, bom, ""
    chunk_start = bom
    with open(path, "rb") as fh:
        fh.read(bom)
        while True:
            chunk = fh.read(_CHUNK)
            final = not chunk
            try:
                pending += decoder.decode(chunk, final=final)
            except UnicodeDecodeError as exc:
                # exc.object is the bytes the decoder held back from the last chunk, then this chunk
                held = len(exc.object) - len(chunk)
                before = exc.object[:exc.start].decode(codec, errors="replace")
                line = number + pending.count("\n") + before.count("\n")
                raise _decode_error(path, exc, "utf-16", line, chunk_start - held + exc.start) from None
            chunk_start += len(chunk)
            parts = pending.split("\n")
            pending = parts.pop()
            for text in parts:
                yield number, offset, text.rstrip("\r")
                offset += len((text + "\n").encode(codec))
                number += 1
            if final:
                break
    if pending:
        yield number, offset, pending.rstrip("\r")


def json_lines(path: Path, expected: str = "one JSON object per line") -> Iterator[tuple[int, int, object]]:
    """(line number, byte offset, parsed value) for each non-blank line of a JSON Lines file.

    A line that is not JSON raises InputError naming the line and the byte where parsing stopped.
    """
    import json

    for number, offset, line in lines(path):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(path, f"invalid JSON ({exc.msg})", line=number,
                             offset=offset + len(line[:exc.pos].encode("utf-8")), expected=expected) from None
        yield number, offset, value
