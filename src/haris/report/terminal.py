"""What the CLI prints: the triage table and records, with evidence highlighted.

Terminals do not apply the Unicode bidirectional algorithm (a few can, most
cannot), so Arabic printed in logical order reads backwards. With
``bidi="visual"`` (the default when the output is a terminal) text is
reordered for display with python-bidi; piped output stays in logical order,
which is what other programs expect.
"""
from __future__ import annotations

import os
import sys
from typing import Any, Iterable

from rich.console import Console
from rich.table import Table
from rich.text import Text

SEVERITY = {"child_exploitation": 3, "trafficking": 2, "terrorism": 1}
POLICY_STYLE = {"child_exploitation": "bold magenta", "trafficking": "bold red", "terrorism": "bold yellow"}
_ARABIC = range(0x0590, 0x08FF + 1)


def has_rtl(text: str) -> bool:
    return any(ord(c) in _ARABIC for c in text)


def bidi_mode(console: Console) -> str:
    mode = os.environ.get("HARIS_BIDI", "auto")
    if mode == "auto":
        return "visual" if console.is_terminal else "logical"
    return mode


def _visual(text: str) -> str:
    """Reorder a line for a terminal without bidi support (logical → visual order)."""
    try:
        from bidi.algorithm import get_display
    except ImportError:  # python-bidi is optional; logical order is still correct text
        return text
    return get_display(text)


def highlight(text: str, spans: Iterable[tuple[int, int]], *, width: int = 160, mode: str = "logical") -> Text:
    """The text (clipped around the first span) with evidence spans in reverse video."""
    spans = sorted((s, e) for s, e in spans if s is not None and e is not None and 0 <= s < e <= len(text))
    start = 0
    if spans and len(text) > width:
        start = max(0, spans[0][0] - width // 4)
    end = min(len(text), start + width)
    pieces: list[tuple[str, str]] = []
    pos = start
    for s, e in spans:
        s, e = max(s, pos), min(e, end)
        if s >= e:
            continue
        pieces.append((text[pos:s], ""))
        pieces.append((text[s:e], "reverse bold"))
        pos = e
    pieces.append((text[pos:end], ""))
    if start > 0:
        pieces.insert(0, ("…", "dim"))
    if end < len(text):
        pieces.append(("…", "dim"))
    pieces = [(p.replace("\n", " ⏎ "), st) for p, st in pieces]
    plain = "".join(p for p, _ in pieces)
    if mode == "visual" and has_rtl(plain):
        # Reordering breaks style offsets; show the visual line plainly and list the spans after it.
        out = Text(_visual(plain))
        marks = [text[s:e] for s, e in spans][:4]
        if marks:
            out.append("  ⟨" + " | ".join(_visual(m) for m in marks) + "⟩", style="reverse bold")
        return out
    out = Text()
    for p, st in pieces:
        out.append(p, style=st or None)
    return out


def triage_table(flagged: list[dict], console: Console, limit: int = 50) -> Table:
    """Flagged items, most severe first: a child at risk, then sale of persons, then terrorism; then score."""
    mode = bidi_mode(console)
    table = Table(title=f"Flagged items ({len(flagged)})", show_lines=True, expand=True)
    table.add_column("policy", max_width=28)
    table.add_column("score", justify="right", no_wrap=True)
    table.add_column("lang", no_wrap=True)
    table.add_column("id", no_wrap=True, overflow="fold")
    table.add_column("text (evidence highlighted)", ratio=1)
    rows = sorted(flagged, key=lambda f: (-SEVERITY.get(f["policy"], 0), -f["score"]))
    for f in rows[:limit]:
        spans = [(e.get("start"), e.get("end")) for e in f.get("evidence", [])]
        labels = ", ".join(f.get("labels") or [])
        table.add_row(Text(f["policy"] + (f"\n{labels}" if labels else ""), style=POLICY_STYLE.get(f["policy"])),
                      f"{f['score']:.2f}", f.get("lang") or "", f["id"], highlight(f["text"], spans, mode=mode))
    if len(rows) > limit:
        table.caption = f"{len(rows) - limit} more not shown; see --out or `haris show ID`"
    return table


def print_json(obj: Any) -> None:
    import json

    sys.stdout.write(json.dumps(obj, ensure_ascii=False, indent=2, default=str) + "\n")
