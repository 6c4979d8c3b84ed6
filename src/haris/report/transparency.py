"""Transparency reports: what was actioned, how fast, on whose initiative, and what second reviews changed.

    haris report transparency --from 2026-01-01 --to 2026-03-31 --out report.html [--pdf report.pdf]

Figures, all over review items closed in [from, to):

* items actioned per policy per week (the standing decision's label; "actioned" = any action but no_action),
* proactive (found by haris) versus user-reported, per week,
* time to action, median and 90th percentile per policy (from the item's queueing to its closing decision),
* second reviews and overturns per week (a second review that did not confirm the first decision),
* accounts returned after a ban (likely returns found by :func:`haris.network.evasion.find_evaders`, counted
  when the new account was first seen in the period).

The HTML is one self-contained file (inline SVG charts, inline CSS, no script);
the PDF draws the same figures with matplotlib's PdfPages. :func:`charts_svg`
gives the charts to the console (``haris.act.console_routes``).
"""
from __future__ import annotations

import io
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

from haris import __version__
from haris.act.items import closed_reviews, iso, utc
from haris.detect.base import POLICIES
from haris.errors import HarisError
from haris.store.db import Store

TEMPLATES = Path(__file__).parent / "templates"
COLORS = {"trafficking": "#b5542d", "child_exploitation": "#7b3fa0", "terrorism": "#2f5f8a", "benign": "#8a8a8a",
          "proactive": "#2f7a5f", "user_report": "#c79a2e", "second_reviews": "#6d7f99", "overturns": "#c0392b"}
CHART_TITLES = {
    "actioned": "Items actioned per policy per week",
    "sources": "Actioned items: proactive versus user-reported, per week",
    "time_to_action": "Time to action (hours): median and 90th percentile",
    "second_review": "Second reviews and overturns per week",
}


@dataclass
class Metrics:
    start: datetime
    end: datetime
    weeks: list[datetime]
    actioned: dict[str, list[int]]            # policy -> count per week
    sources: dict[str, list[int]]             # proactive / user_report -> count per week
    time_to_action: dict[str, dict[str, float | int]]   # policy (and "all") -> median_h, p90_h, n
    second_reviews: list[int]
    overturns: list[int]
    reviewed: int
    actioned_total: int
    by_action: dict[str, int]
    returned_accounts: int
    returned_note: str
    generated_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))

    def to_dict(self) -> dict:
        return {"from": iso(self.start), "to": iso(self.end), "weeks": [w.date().isoformat() for w in self.weeks],
                "actioned": self.actioned, "sources": self.sources, "time_to_action": self.time_to_action,
                "second_reviews": self.second_reviews, "overturns": self.overturns, "reviewed": self.reviewed,
                "actioned_total": self.actioned_total, "by_action": self.by_action,
                "returned_accounts": self.returned_accounts, "returned_note": self.returned_note,
                "generated_at": iso(self.generated_at)}


def _monday(t: datetime) -> datetime:
    t = utc(t)
    return datetime(t.year, t.month, t.day, tzinfo=timezone.utc) - timedelta(days=t.weekday())


def returned_accounts(store: Store, start: datetime, end: datetime) -> tuple[int, str]:
    """Accounts likely back after a ban, first seen in [start, end), and how that was counted."""
    try:
        from haris.network.evasion import actions, find_evaders
    except ImportError:
        return 0, "not counted: the networks stage (haris.network) is not installed"
    if not actions(store):
        return 0, "no account was recorded as banned (suspensions are recorded when reviews close)"
    try:
        matches = find_evaders(store)
    except HarisError as exc:
        return 0, f"not counted: {exc}"
    found = set()
    for m in matches:
        seen = m.candidate.get("first_seen")
        if seen and start <= utc(datetime.fromisoformat(seen)) < end:
            found.add(m.candidate["id"])
    return len(found), "likely returns of banned accounts (ban-evasion score at or above its cut-off)"


def compute(store: Store, start: datetime | None, end: datetime | None, *, evasion: bool = True) -> Metrics:
    """Every figure of the report for review items closed in [start, end)."""
    end = utc(end) or datetime.now(timezone.utc)
    with store.connect() as conn:
        reviews = closed_reviews(conn, start, end)
    start = utc(start) or (min((r["closed_at"] for r in reviews), default=end - timedelta(days=7)))
    weeks = []
    w = _monday(start)
    while w < end:
        weeks.append(w)
        w += timedelta(days=7)
    weeks = weeks or [_monday(start)]
    index = {wk: i for i, wk in enumerate(weeks)}
    actioned: dict[str, list[int]] = {p: [0] * len(weeks) for p in POLICIES}
    sources = {"proactive": [0] * len(weeks), "user_report": [0] * len(weeks)}
    seconds, overturns = [0] * len(weeks), [0] * len(weeks)
    hours: dict[str, list[float]] = defaultdict(list)
    by_action: Counter = Counter()
    for r in reviews:
        i = index.get(_monday(r["closed_at"]))
        if i is None:
            continue
        f = r["final"]
        if f["stage"] == "second":
            seconds[i] += 1
            first = r["first"]
            if f["agrees"] is False or (f["agrees"] is None and first is not None
                                        and (first["label"], first["action"]) != (f["label"], f["action"])):
                overturns[i] += 1
        if f["action"] == "no_action":
            continue
        by_action[f["action"]] += 1
        actioned.setdefault(f["label"], [0] * len(weeks))[i] += 1
        sources.setdefault(r["source"], [0] * len(weeks))[i] += 1
        h = (r["closed_at"] - utc(r["created_at"])).total_seconds() / 3600.0
        hours[f["label"]].append(h)
        hours["all"].append(h)
    tta = {k: {"median_h": round(float(np.median(v)), 2), "p90_h": round(float(np.percentile(v, 90)), 2),
               "n": len(v)} for k, v in sorted(hours.items())}
    n_back, note = returned_accounts(store, start, end) if evasion else (0, "not computed (--no-evasion)")
    return Metrics(start, end, weeks, actioned, sources, tta, seconds, overturns, len(reviews),
                   sum(by_action.values()), dict(by_action), n_back, note)


# -- charts (matplotlib, no pyplot: no global state, safe in a server) ------------------------------
def _figures(m: Metrics) -> dict[str, object]:
    from matplotlib.figure import Figure

    labels = [w.strftime("%d %b") for w in m.weeks]
    x = np.arange(len(m.weeks))
    figs = {}

    def stacked(name: str, series: dict[str, list[int]]) -> None:
        fig = Figure(figsize=(8, 3.2), layout="constrained")
        ax = fig.add_subplot()
        bottom = np.zeros(len(x))
        for key, values in series.items():
            if any(values):
                ax.bar(x, values, bottom=bottom, label=key.replace("_", " "), color=COLORS.get(key), width=0.8)
                bottom += np.array(values)
        _finish(ax, x, labels, "items", bottom.sum() == 0)
        figs[name] = fig

    stacked("actioned", m.actioned)
    stacked("sources", m.sources)
    fig = Figure(figsize=(8, 3.2), layout="constrained")
    ax = fig.add_subplot()
    keys = [k for k in m.time_to_action if k != "all"] + (["all"] if "all" in m.time_to_action else [])
    kx = np.arange(len(keys))
    ax.bar(kx - 0.2, [m.time_to_action[k]["median_h"] for k in keys], 0.4, label="median", color="#4a6fa5")
    ax.bar(kx + 0.2, [m.time_to_action[k]["p90_h"] for k in keys], 0.4, label="90th percentile", color="#a5c0e6")
    _finish(ax, kx, [k.replace("_", " ") for k in keys], "hours", not keys)
    figs["time_to_action"] = fig
    fig = Figure(figsize=(8, 3.2), layout="constrained")
    ax = fig.add_subplot()
    ax.bar(x - 0.2, m.second_reviews, 0.4, label="second reviews", color=COLORS["second_reviews"])
    ax.bar(x + 0.2, m.overturns, 0.4, label="overturned", color=COLORS["overturns"])
    _finish(ax, x, labels, "reviews", not any(m.second_reviews))
    figs["second_review"] = fig
    return figs


def _finish(ax, x, labels: list[str], ylabel: str, empty: bool) -> None:
    from matplotlib.ticker import MaxNLocator

    ax.set_xticks(x, labels, rotation=45 if len(labels) > 8 else 0, ha="right" if len(labels) > 8 else "center",
                  fontsize=8)
    ax.set_ylabel(ylabel)
    ax.yaxis.set_major_locator(MaxNLocator(integer=ylabel != "hours"))
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="y", alpha=0.3)
    if empty:
        ax.text(0.5, 0.5, "nothing in this period", transform=ax.transAxes, ha="center", va="center", color="#666")
    elif ax.get_legend_handles_labels()[0]:
        ax.legend(frameon=False, fontsize=8, loc="lower left", bbox_to_anchor=(0, 1.0), ncols=4)


def _svg(fig, prefix: str) -> str:
    """The figure as an SVG element whose ids are prefixed, so that several charts can share one page."""
    import matplotlib

    with matplotlib.rc_context({"svg.hashsalt": f"haris-{prefix}", "svg.fonttype": "none"}):
        buf = io.StringIO()
        fig.savefig(buf, format="svg")
    text = buf.getvalue()
    text = text[text.index("<svg"):]
    text = re.sub(r'\bid="([^"]+)"', rf'id="{prefix}-\1"', text)
    text = re.sub(r"url\(#([^)]+)\)", rf"url(#{prefix}-\1)", text)
    return re.sub(r'href="#([^"]+)"', rf'href="#{prefix}-\1"', text)


def charts_svg(store: Store, from_: datetime | None, to: datetime | None, *, evasion: bool = False,
               metrics: Metrics | None = None) -> dict[str, str]:
    """The report's charts as SVG documents (name -> SVG text), for the console and the HTML report."""
    m = metrics or compute(store, from_, to, evasion=evasion)
    return {name: _svg(fig, name) for name, fig in _figures(m).items()}


def environment():
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    return Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]))


def render_html(m: Metrics, charts: dict[str, str]) -> str:
    from markupsafe import Markup

    return environment().get_template("transparency.html").render(
        m=m, charts={k: Markup(v) for k, v in charts.items()}, titles=CHART_TITLES, version=__version__,
        colors=COLORS, policies=[p for p in m.actioned if any(m.actioned[p])])


def write_pdf(m: Metrics, path: str | Path) -> None:
    from matplotlib.backends.backend_pdf import PdfPages
    from matplotlib.figure import Figure

    with PdfPages(str(path), metadata={"Title": "haris transparency report", "Creator": f"haris {__version__}"}) as pdf:
        cover = Figure(figsize=(8.27, 11.69))
        cover.text(0.08, 0.93, "Transparency report", fontsize=22, weight="bold")
        cover.text(0.08, 0.89, f"{m.start:%d %B %Y} – {(m.end - timedelta(seconds=1)):%d %B %Y}", fontsize=12)
        rows = _summary_rows(m)
        for i, (k, v) in enumerate(rows):
            cover.text(0.08, 0.82 - i * 0.035, k, fontsize=11)
            cover.text(0.62, 0.82 - i * 0.035, v, fontsize=11, weight="bold")
        cover.text(0.08, 0.05, f"Generated {m.generated_at:%Y-%m-%d %H:%M} UTC by haris {__version__}. "
                               f"{m.returned_note}.", fontsize=7, color="#555", wrap=True)
        pdf.savefig(cover)
        for name, fig in _figures(m).items():
            fig.suptitle(CHART_TITLES[name], fontsize=11, weight="bold")
            pdf.savefig(fig)


def _summary_rows(m: Metrics) -> list[tuple[str, str]]:
    t = m.time_to_action.get("all")
    overturned = sum(m.overturns)
    second = sum(m.second_reviews)
    rows = [("Items reviewed (closed)", f"{m.reviewed:,}"), ("Items actioned", f"{m.actioned_total:,}")]
    rows += [(f"  {p.replace('_', ' ')}", f"{sum(v):,}") for p, v in m.actioned.items() if sum(v)]
    rows += [("Proactive / user-reported", f"{sum(m.sources.get('proactive', [])):,} / "
                                           f"{sum(m.sources.get('user_report', [])):,}"),
             ("Time to action, median / p90", f"{t['median_h']:.1f} h / {t['p90_h']:.1f} h" if t else "–"),
             ("Second reviews / overturned", f"{second:,} / {overturned:,}"
                                             + (f" ({100 * overturned / second:.0f}%)" if second else "")),
             ("Accounts returned after a ban", f"{m.returned_accounts:,}")]
    return rows


def write_report(store: Store, start: datetime | None, end: datetime | None, out_html: str | Path,
                 out_pdf: str | Path | None = None, *, evasion: bool = True) -> Metrics:
    m = compute(store, start, end, evasion=evasion)
    html = render_html(m, charts_svg(store, start, end, metrics=m))
    Path(out_html).parent.mkdir(parents=True, exist_ok=True)
    Path(out_html).write_text(html, encoding="utf-8")
    if out_pdf:
        write_pdf(m, out_pdf)
    return m


summary_rows = _summary_rows
