"""Streaming JSON with ijson, and errors that say where the JSON broke.

ijson's C backend (yajl2_c) parses a 1 GB export in constant memory, but its
errors only quote about 30 bytes around the problem. :func:`json_errors`
turns them into :class:`InputError` with the file's byte offset, line and what
was expected there, by re-reading the file on the error path only, so the
normal path pays nothing for it.

    src = JsonSource(path)
    with src, json_errors(src):
        for item in ijson_backend.items(src, "messages.item"):
            ...
"""
from __future__ import annotations

import codecs
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import ijson

from haris.errors import InputError
from haris.ingest._text import encoding_of, read_head

try:  # the C backend is ~10x faster; the pure-Python one gives the same results
    ijson_backend = ijson.get_backend("yajl2_c")
except ImportError:  # pragma: no cover - depends on the wheel installed
    ijson_backend = ijson

_CHUNK = 1 << 16


class JsonSource:
    """A binary file for ijson that skips a UTF-8 BOM and remembers the last chunk it handed out."""

    def __init__(self, path: Path):
        self.path = Path(path)
        codec, bom = encoding_of(read_head(self.path, 512))
        if codec != "utf-8":
            raise InputError(self.path, f"JSON encoded as {codec.upper()}", offset=0,
                             expected="UTF-8 JSON (convert the file, e.g. with iconv)")
        self._fh = open(self.path, "rb")
        self._fh.read(bom)
        self.consumed = bom          # file offset after the last chunk read
        self.last = b""              # the last chunk read, where a parse error must be
        self.last_start = bom        # its file offset

    def read(self, size: int = -1) -> bytes:
        data = self._fh.read(size)
        if data:
            self.last, self.last_start = data, self.consumed
            self.consumed += len(data)
        return data

    def close(self) -> None:
        self._fh.close()

    def __enter__(self) -> "JsonSource":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


@contextmanager
def json_errors(src: JsonSource) -> Iterator[None]:
    """Turn ijson's parse errors raised inside the block into :class:`InputError`."""
    try:
        yield
    except ijson.JSONError as exc:
        raise json_error(src, exc) from None


def json_error(src: JsonSource, exc: Exception) -> InputError:
    """An :class:`InputError` for an ijson error while reading ``src``."""
    message = exc.args[0] if exc.args else str(exc)
    raw = message if isinstance(message, bytes) else str(message).encode("utf-8", "replace")
    parts = raw.split(b"\n")
    problem = parts[0].decode("utf-8", "replace").strip()
    path = src.path
    if "UTF8" in problem or "UTF-8" in problem:
        found = first_invalid_utf8(path)
        if found:
            line, offset, bad = found
            return InputError(path, f"bytes {bad!r} are not valid UTF-8", line=line, offset=offset,
                              expected="UTF-8 text (the file may have been saved in another encoding, "
                                       "e.g. Latin-1; convert it and read it again)")
    where = _position(path)
    if "premature EOF" in problem:
        size = path.stat().st_size
        return InputError(path, f"the JSON ends before it is complete, inside {where} (truncated file?)",
                          line=_line_at(path, size), offset=size,
                          expected="the rest of the document: more values and the closing ']' and '}'")
    offset = _locate(src, parts[1] if len(parts) > 1 else b"")
    detail = problem.split(":", 1)[-1].strip()
    return InputError(path, f"invalid JSON ({detail}) inside {where}",
                      line=_line_at(path, offset) if offset is not None else None, offset=offset,
                      expected=_EXPECTED.get(detail, "valid JSON"))


_EXPECTED = {
    "trailing garbage": "the end of the file after the JSON document",
    "invalid object key (must be a string)": "a quoted key or '}'",
    "after key and value, inside map, I expect ',' or '}'": "',' or '}'",
    "after array element, I expect ',' or ']'": "',' or ']'",
    "object key and value must be separated by a colon (':')": "':' after the key",
    "invalid char in json text.": "a JSON value: a string, number, object, array, true, false or null",
}


def _locate(src: JsonSource, snippet: bytes) -> int | None:
    """The file offset yajl points at, found by matching its quoted context in the last chunk.

    yajl prints up to 30 bytes before the error and 30 after, with the error
    at column 40 and line breaks shown as spaces.
    """
    before, after = snippet[:40].lstrip(b" "), snippet[40:]
    needle = before + after
    if not needle:
        return None
    haystack = src.last.replace(b"\n", b" ").replace(b"\r", b" ")
    found = haystack.find(needle)
    if found < 0:
        return None
    # yajl points just past the first byte of the token it rejected; point at that byte
    return src.last_start + max(found + len(before) - 1, 0)


def _position(path: Path) -> str:
    """Where the parser was when it failed, as a path of keys (found by parsing again)."""
    last = ""
    try:
        with JsonSource(path) as src:
            for prefix, _event, _value in ijson_backend.parse(src):
                last = prefix
    except ijson.JSONError:
        pass
    return f"'{last}'" if last else "the top level"


def _line_at(path: Path, offset: int) -> int:
    """The 1-based line holding byte ``offset``."""
    newlines, done = 0, 0
    with open(path, "rb") as fh:
        while done < offset:
            chunk = fh.read(min(_CHUNK, offset - done))
            if not chunk:
                break
            newlines += chunk.count(b"\n")
            done += len(chunk)
    return newlines + 1


def first_invalid_utf8(path: Path) -> tuple[int, int, bytes] | None:
    """(line, byte offset, bad bytes) of the first byte sequence that is not UTF-8, or None."""
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    offset, newlines = 0, 0
    with open(path, "rb") as fh:
        while True:
            chunk = fh.read(_CHUNK)
            try:
                decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                # exc positions are relative to the undecoded tail the decoder kept plus this chunk
                held = len(exc.object) - len(chunk)
                at = offset - held + exc.start
                newlines += exc.object[:exc.start].count(b"\n") - exc.object[:held].count(b"\n")
                return newlines + 1, at, exc.object[exc.start:exc.end]
            if not chunk:
                return None
            newlines += chunk.count(b"\n")
            offset += len(chunk)
