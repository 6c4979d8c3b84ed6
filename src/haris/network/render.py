"""Pictures of a community or of an account's neighbourhood: a PNG and a self-contained HTML view.

Both start from a :class:`View`: the chosen vertices (see
:func:`haris.network.export.select_vertices`), their labels, kinds, community
and dominant flagged policy, a size by PageRank, and a force-directed layout
(igraph's Fruchterman–Reingold, seeded so that the same graph gives the same
picture).

- :func:`render_png` draws with igraph's Cairo plotting (needs ``cairocffi``
  and the system's libcairo), with a title and a legend;
- :func:`render_html` writes one HTML file with an inline SVG: no external
  script, style sheet or font. Hovering a node shows its details; clicking it
  highlights its neighbours and lists them in the side panel.

Shapes say what a node is (circle: account, square: channel or group,
triangle: link destination or website, diamond: media file); colours say the
community, or with ``color_by="policy"`` the policy its flagged items mostly
fall under (grey: none); ``"auto"`` (the default) picks policy colours for a
single community and community colours otherwise. Links, websites and media
that only one node of the view touches are left out of pictures of more than
30 nodes.
"""
from __future__ import annotations

import html
import json
import math
import random
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from haris.errors import HarisError
from haris.network import facts
from haris.network.communities import Partition
from haris.network.export import labels_for, select_vertices
from haris.network.graph import EDGE_TYPES, KIND_CODE, NODE_KINDS, NetworkGraph
from haris.store.db import Store

PALETTE = ["#1f77b4", "#2ca02c", "#17becf", "#bcbd22", "#8c564b", "#e377c2", "#7f7f7f", "#aec7e8",
           "#98df8a", "#c49c94", "#f7b6d2", "#dbdb8d"]
POLICY_COLOURS = {"terrorism": "#d62728", "trafficking": "#ff7f0e", "child_exploitation": "#9467bd", None: "#b0b0b0"}
EDGE_COLOURS = {"reply": "#4c72b0", "mention": "#55a868", "forward": "#c44e52", "member": "#bbbbbb",
                "link": "#dd8452", "media": "#8172b3", "near_duplicate": "#937860"}
SHAPES = {"account": "circle", "channel": "square", "destination": "triangle-up", "domain": "triangle-up",
          "media": "diamond"}


@dataclass
class View:
    title: str
    vertices: np.ndarray
    keys: list[str]
    labels: list[str]
    kinds: list[str]
    community: list[int]
    policies: list[dict]           # flagged items per policy, accounts only
    pagerank: np.ndarray
    xy: np.ndarray                 # positions in [0, 1] × [0, 1]
    edges: list[tuple[int, int, str, float]]
    focus: int | None = None       # index of the account a neighbourhood view is about

    def top_policy(self, i: int) -> str | None:
        p = self.policies[i]
        return max(p, key=p.get) if p else None

    def colour(self, i: int, color_by: str) -> str:
        if _by_policy(self, color_by):
            return POLICY_COLOURS.get(self.top_policy(i), POLICY_COLOURS[None])
        return PALETTE[self.community[i] % len(PALETTE)] if self.community[i] >= 0 else "#999999"


def _by_policy(view: View, color_by: str) -> bool:
    """``auto``: policy colours when the view is one community (community colours would all be the same)."""
    return color_by == "policy" or (color_by == "auto" and len(set(view.community)) <= 1)


def make_view(graph: NetworkGraph, partition: Partition | None, store: Store | None, *, community: int | None = None,
              account: str | None = None, hops: int = 1, max_nodes: int = 150, seed: int = 0,
              threshold: float = facts.DEFAULT_THRESHOLD) -> View:
    """Everything a picture needs, for a community, an account's neighbourhood, or (small graphs) everything."""
    vs = select_vertices(graph, partition, community=community, account=account, hops=hops, max_nodes=None)
    if not len(vs):
        raise HarisError("nothing to draw: the selection has no nodes")
    vs = _drop_leaves(graph, vs, keep=graph.index.get(account) if account else None)
    if len(vs) > max_nodes:
        vs = _most_central(graph, vs, max_nodes, graph.index.get(account) if account else None)
    sub = graph.undirected().induced_subgraph(vs.tolist())
    weights = "weight" if sub.ecount() else None
    import igraph as ig

    ig.set_random_number_generator(random.Random(seed))
    try:
        # Kamada–Kawai spreads a dense community evenly; Fruchterman–Reingold is cheaper for big views.
        if sub.vcount() <= 1:
            layout = None
        elif sub.vcount() <= 400 and sub.is_connected():
            layout = sub.layout_kamada_kawai()
        else:
            layout = sub.layout_fruchterman_reingold(weights=weights, niter=800)
    finally:
        ig.set_random_number_generator(random)
    xy = np.asarray(layout.coords, dtype=float) if layout is not None else np.zeros((1, 2))
    span = np.ptp(xy, axis=0)
    xy = (xy - xy.min(axis=0)) / np.where(span > 0, span, 1.0)
    if len(vs) == 1:
        xy[:] = 0.5
    pos = {int(v): i for i, v in enumerate(vs.tolist())}
    inside = np.isin(graph.src, vs) & np.isin(graph.dst, vs)
    edges = [(pos[int(graph.src[e])], pos[int(graph.dst[e])], EDGE_TYPES[int(graph.etype[e])], float(graph.weight[e]))
             for e in np.flatnonzero(inside).tolist()]
    keys = [graph.keys[v] for v in vs.tolist()]
    flags = facts.flag_counts(store, threshold) if store is not None else {}
    labels = labels_for(graph, vs, store)
    focus = pos.get(graph.index.get(account, -1)) if account else None
    title = (f"community {community}" if community is not None else
             f"neighbourhood of {labels[focus] if focus is not None else account} "
             f"({hops} hop{'s' if hops != 1 else ''})" if account else "network")
    return View(title=title, vertices=vs, keys=keys, labels=labels,
                kinds=[NODE_KINDS[int(k)] for k in graph.kinds[vs].tolist()],
                community=[int(partition.membership[v]) if partition is not None else -1 for v in vs.tolist()],
                policies=[dict(flags.get(k, {})) for k in keys],
                pagerank=np.asarray(sub.pagerank(weights=weights), dtype=float),
                xy=xy, edges=edges, focus=focus)


def _drop_leaves(graph: NetworkGraph, vs: np.ndarray, keep: int | None) -> np.ndarray:
    """Leave out links, websites and media only one node of the view touches: they add ink, not structure."""
    if len(vs) <= 30:
        return vs
    deg = np.asarray(graph.undirected().induced_subgraph(vs.tolist()).degree())
    leaf = (deg <= 1) & (graph.kinds[vs] != KIND_CODE["account"]) & (graph.kinds[vs] != KIND_CODE["channel"])
    if keep is not None:
        leaf &= vs != keep
    return vs[~leaf]


def _most_central(graph: NetworkGraph, vs: np.ndarray, n: int, keep: int | None) -> np.ndarray:
    sub = graph.undirected().induced_subgraph(vs.tolist())
    pr = np.asarray(sub.pagerank(weights="weight" if sub.ecount() else None))
    top = np.argsort(-pr, kind="stable")[:n]
    if keep is not None:
        top = np.unique(np.r_[top[: n - 1], np.searchsorted(vs, keep)])
    return np.sort(vs[top])


def _radius(view: View, small: float, large: float) -> np.ndarray:
    pr = view.pagerank
    scaled = np.sqrt(pr / pr.max()) if len(pr) and pr.max() > 0 else np.ones(len(pr))
    return small + (large - small) * scaled


def _labelled(view: View, n: int = 18) -> set[int]:
    keep = set(np.argsort(-view.pagerank, kind="stable")[:n].tolist())
    if view.focus is not None:
        keep.add(view.focus)
    return keep


def render_png(view: View, path: str | Path, *, size: int = 1400, color_by: str = "auto") -> Path:
    """Draw ``view`` into a PNG file with igraph's Cairo plotting (needs cairocffi)."""
    try:
        import cairocffi as cairo
    except (ImportError, OSError) as exc:
        raise HarisError(f"PNG pictures need cairocffi and the system's libcairo ({exc}); "
                         f"install them (pip install cairocffi) or render to .html instead") from None
    import igraph as ig
    from igraph.drawing.cairo.plot import CairoPlot

    panel, top = 300, 60
    w, h = size + panel, size + top
    g = ig.Graph(n=len(view.keys), edges=[(a, b) for a, b, _t, _w in view.edges], directed=True)
    keep = _labelled(view)
    surface = cairo.ImageSurface(cairo.FORMAT_ARGB32, w, h)
    plot = CairoPlot(target=surface, bbox=(w, h), background="white")
    # The margins leave room for the labels beside the outermost nodes.
    plot.add(g, bbox=(90, top, size - 90, h - 30), layout=[tuple(p) for p in view.xy.tolist()],
             vertex_size=_radius(view, 10, 44).tolist(),
             vertex_color=[view.colour(i, color_by) for i in range(len(view.keys))],
             vertex_shape=[SHAPES[k] for k in view.kinds],
             vertex_frame_color=["#000000" if i == view.focus else "#ffffff" for i in range(len(view.keys))],
             vertex_frame_width=[3 if i == view.focus else 1 for i in range(len(view.keys))],
             vertex_label=[view.labels[i][:28] if i in keep else None for i in range(len(view.keys))],
             vertex_label_size=16, vertex_label_dist=1.2, vertex_label_color="#111111",
             edge_color=[EDGE_COLOURS[t] + "80" for _a, _b, t, _w in view.edges],   # half transparent
             edge_width=[0.6 + min(4.0, math.log1p(wt)) for _a, _b, _t, wt in view.edges],
             edge_arrow_size=0.6, edge_arrow_width=0.6, edge_curved=0.1, margin=40)
    plot.redraw()
    ctx = cairo.Context(surface)
    ctx.set_source_rgb(0.1, 0.1, 0.1)
    ctx.select_font_face("sans-serif", cairo.FONT_SLANT_NORMAL, cairo.FONT_WEIGHT_BOLD)
    ctx.set_font_size(24)
    ctx.move_to(24, 38)
    ctx.show_text(f"haris network: {view.title}  ({len(view.keys)} nodes, {len(view.edges)} edges)")
    _legend(ctx, view, size + 10, top + 10, color_by, cairo)
    surface.write_to_png(str(path))
    return Path(path)


def _legend(ctx, view: View, x: float, y: float, color_by: str, cairo) -> None:
    def heading(text: str) -> None:
        nonlocal y
        ctx.select_font_face("sans-serif", cairo.FONT_SLANT_NORMAL, cairo.FONT_WEIGHT_BOLD)
        ctx.set_font_size(17)
        ctx.set_source_rgb(0.1, 0.1, 0.1)
        ctx.move_to(x, y + 14)
        ctx.show_text(text)
        y += 28

    def row(colour: str, text: str, shape: str = "circle") -> None:
        nonlocal y
        ctx.set_source_rgb(*(int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)))
        if shape == "line":
            ctx.rectangle(x, y + 6, 22, 4)
        elif shape == "square":
            ctx.rectangle(x + 3, y, 15, 15)
        elif shape == "triangle-up":
            ctx.move_to(x + 10, y)
            ctx.line_to(x + 19, y + 16)
            ctx.line_to(x + 1, y + 16)
            ctx.close_path()
        elif shape == "diamond":
            ctx.move_to(x + 10, y - 1)
            ctx.line_to(x + 19, y + 8)
            ctx.line_to(x + 10, y + 17)
            ctx.line_to(x + 1, y + 8)
            ctx.close_path()
        else:
            ctx.arc(x + 10, y + 8, 8, 0, 2 * math.pi)
        ctx.fill()
        ctx.select_font_face("sans-serif", cairo.FONT_SLANT_NORMAL, cairo.FONT_WEIGHT_NORMAL)
        ctx.set_font_size(15)
        ctx.set_source_rgb(0.15, 0.15, 0.15)
        ctx.move_to(x + 30, y + 14)
        ctx.show_text(text)
        y += 24

    heading("Nodes")
    for kind, text in (("account", "account"), ("channel", "channel / group"),
                       ("destination", "link / website"), ("media", "media file")):
        row("#777777", text, SHAPES[kind])
    y += 8
    if _by_policy(view, color_by):
        heading("Flagged items mostly")
        for p, colour in POLICY_COLOURS.items():
            row(colour, (p or "none").replace("_", " "))
    else:
        heading("Communities")
        for c, n in Counter(view.community).most_common(10):
            row(PALETTE[c % len(PALETTE)] if c >= 0 else "#999999", f"community {c}: {n} nodes")
    y += 8
    heading("Edges")
    for t in sorted({t for _a, _b, t, _w in view.edges}):
        row(EDGE_COLOURS[t], t.replace("_", " "), "line")
    y += 8
    heading("Size = PageRank in this view")


_SCRIPT = """
const nodes=document.querySelectorAll('.n'),edges=document.querySelectorAll('.e'),info=document.getElementById('info');
function focusOn(i){const nb=new Set([i]);edges.forEach(e=>{const a=+e.dataset.a,b=+e.dataset.b;
 const on=(a===i||b===i);e.classList.toggle('dim',!on);if(on){nb.add(a);nb.add(b);}});
 nodes.forEach(n=>n.classList.toggle('dim',!nb.has(+n.dataset.i)));
 const d=DATA[i];let h='<h3>'+esc(d.label)+'</h3><p>'+esc(d.kind)+' · community '+d.community+'</p>';
 if(d.flags)h+='<p>flagged: '+esc(d.flags)+'</p>';h+='<p class="k">'+esc(d.key)+'</p><h4>connected to</h4><ul>';
 [...nb].filter(j=>j!==i).slice(0,40).forEach(j=>{h+='<li>'+esc(DATA[j].label)+'</li>';});info.innerHTML=h+'</ul>';}
function esc(s){return String(s).replace(/[&<>"]/g,c=>({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;'}[c]));}
nodes.forEach(n=>n.addEventListener('click',ev=>{ev.stopPropagation();focusOn(+n.dataset.i);}));
document.querySelector('svg').addEventListener('click',()=>{nodes.forEach(n=>n.classList.remove('dim'));
 edges.forEach(e=>e.classList.remove('dim'));info.innerHTML=INTRO;});
const INTRO=info.innerHTML;
"""


def _svg_shape(kind: str, x: float, y: float, r: float, fill: str, extra: str) -> str:
    if kind == "channel":
        return f'<rect x="{x - r:.1f}" y="{y - r:.1f}" width="{2 * r:.1f}" height="{2 * r:.1f}" fill="{fill}" {extra}/>'
    if kind in ("destination", "domain"):
        pts = f"{x:.1f},{y - r:.1f} {x + r:.1f},{y + r * 0.8:.1f} {x - r:.1f},{y + r * 0.8:.1f}"
        return f'<polygon points="{pts}" fill="{fill}" {extra}/>'
    if kind == "media":
        pts = f"{x:.1f},{y - r:.1f} {x + r:.1f},{y:.1f} {x:.1f},{y + r:.1f} {x - r:.1f},{y:.1f}"
        return f'<polygon points="{pts}" fill="{fill}" {extra}/>'
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}" fill="{fill}" {extra}/>'


def render_html(view: View, path: str | Path, *, color_by: str = "auto", size: int = 1000) -> Path:
    """Write a self-contained HTML page (inline SVG and script, nothing fetched) showing ``view``."""
    pad = 40
    xy = pad + view.xy * (size - 2 * pad)
    radius = _radius(view, 5, 20)
    keep = _labelled(view, 25)
    esc = html.escape
    parts = []
    for a, b, t, wt in view.edges:
        parts.append(f'<line class="e" data-a="{a}" data-b="{b}" x1="{xy[a, 0]:.1f}" y1="{xy[a, 1]:.1f}" '
                     f'x2="{xy[b, 0]:.1f}" y2="{xy[b, 1]:.1f}" stroke="{EDGE_COLOURS[t]}" '
                     f'stroke-width="{0.5 + min(3.0, math.log1p(wt)):.2f}"><title>{esc(t)} ×{wt:g}: '
                     f'{esc(view.labels[a])} → {esc(view.labels[b])}</title></line>')
    data = []
    for i in range(len(view.keys)):
        flags = ", ".join(f"{p} {n}" for p, n in sorted(view.policies[i].items(), key=lambda kv: -kv[1]))
        data.append({"label": view.labels[i], "kind": view.kinds[i], "community": view.community[i],
                     "flags": flags, "key": view.keys[i]})
        tip = f"{view.labels[i]}\n{view.kinds[i]} · community {view.community[i]}"
        tip += f"\nflagged: {flags}" if flags else ""
        extra = (f'class="n" data-i="{i}" stroke="{"#000" if i == view.focus else "#fff"}" '
                 f'stroke-width="{2.5 if i == view.focus else 1}"')
        shape = _svg_shape(view.kinds[i], xy[i, 0], xy[i, 1], float(radius[i]), view.colour(i, color_by), extra)
        parts.append(shape[:-2] + f"><title>{esc(tip)}</title></{shape.split()[0][1:]}>")
        if i in keep:
            parts.append(f'<text x="{xy[i, 0] + radius[i] + 3:.1f}" y="{xy[i, 1] + 4:.1f}">'
                         f'{esc(view.labels[i][:32])}</text>')
    if _by_policy(view, color_by):
        legend = [(c, (p or "none").replace("_", " ")) for p, c in POLICY_COLOURS.items()]
    else:
        legend = [(PALETTE[c % len(PALETTE)], f"community {c} ({n})")
                  for c, n in Counter(view.community).most_common(10)]
    legend_html = "".join(f'<li><span class="dot" style="background:{c}"></span>{esc(t)}</li>' for c, t in legend)
    edge_html = "".join(f'<li><span class="bar" style="background:{EDGE_COLOURS[t]}"></span>'
                        f'{esc(t.replace("_", " "))}</li>'
                        for t in sorted({t for _a, _b, t, _w in view.edges}))
    top = np.argsort(-view.pagerank, kind="stable")[:15].tolist()
    rows = "".join(f"<tr><td>{esc(view.labels[i])}</td><td>{esc(view.kinds[i])}</td><td>{view.community[i]}</td>"
                   f"<td>{esc(', '.join(f'{p} {n}' for p, n in view.policies[i].items()))}</td></tr>" for i in top)
    intro = (f"<h3>{esc(view.title)}</h3><p>{len(view.keys)} nodes, {len(view.edges)} edges. Hover a node for its "
             f"details; click it to highlight its neighbours; click the background to reset.</p>"
             f"<h4>Most central</h4><table><tr><th>node</th><th>kind</th><th>comm.</th><th>flagged</th></tr>"
             f"{rows}</table>")
    data_js = json.dumps(data, ensure_ascii=False).replace("</", "<\\/")   # no "</script>" inside the script
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>haris network: {esc(view.title)}</title>
<style>body{{margin:0;font:14px system-ui,sans-serif;display:flex;color:#222}}svg{{flex:0 0 auto;background:#fafafa}}
aside{{padding:12px 16px;width:360px;overflow:auto;height:100vh;box-sizing:border-box;border-left:1px solid #ddd}}
text{{font-size:11px;pointer-events:none;fill:#222}}.n{{cursor:pointer}}.dim{{opacity:.12}}
.dot{{display:inline-block;width:12px;height:12px;border-radius:6px;margin-right:6px}}
.bar{{display:inline-block;width:18px;height:4px;margin:0 6px 3px 0}}ul{{list-style:none;padding-left:0}}
table{{border-collapse:collapse;font-size:12px}}td,th{{padding:2px 6px;border-bottom:1px solid #eee;text-align:left}}
.k{{color:#888;font-size:11px;word-break:break-all}}</style></head><body>
<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" viewBox="0 0 {size} {size}">
{''.join(parts)}</svg><aside><h2>haris network</h2>
<p>circle: account · square: channel/group · triangle: link/website · diamond: media</p>
<h4>{'Flagged items mostly' if _by_policy(view, color_by) else 'Communities'}</h4><ul>{legend_html}</ul>
<h4>Edges</h4><ul>{edge_html}</ul><div id="info">{intro}</div></aside>
<script>const DATA={data_js};{_SCRIPT}</script></body></html>"""
    Path(path).write_text(page, encoding="utf-8")
    return Path(path)


def render(view: View, path: str | Path, *, color_by: str = "auto") -> Path:
    """PNG or HTML by the file's extension."""
    suffix = Path(path).suffix.lower()
    if suffix == ".png":
        return render_png(view, path, color_by=color_by)
    if suffix in (".html", ".htm"):
        return render_html(view, path, color_by=color_by)
    raise HarisError(f"{path}: pictures are .png or .html files")
