"""Exports of the graph (or a part of it) for Gephi, Cytoscape and the like: GraphML and GEXF.

GraphML is written by igraph. GEXF (Gephi's format, version 1.3) is written
here with :mod:`xml.etree`: nodes with their label, kind and community,
edges with their type and number of events, and each edge's first and last
time as its ``start``/``end`` so that Gephi's timeline can replay the network.

:func:`select_vertices` picks what to export or draw: one community, or an
account's neighbourhood up to ``hops`` steps, trimmed to the ``max_nodes``
most central vertices (PageRank) so that a picture stays readable.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from haris.errors import HarisError
from haris.network import facts
from haris.network.communities import Partition
from haris.network.graph import EDGE_TYPES, NO_TIME, NODE_KINDS, NetworkGraph
from haris.store.db import Store

GEXF_NS = "http://gexf.net/1.3"


def select_vertices(graph: NetworkGraph, partition: Partition | None = None, *, community: int | None = None,
                    account: str | None = None, hops: int = 1, max_nodes: int | None = None) -> np.ndarray:
    """Vertex numbers of a community, of an account's neighbourhood, or of the whole graph."""
    if community is not None:
        if partition is None or not 0 <= community < partition.count:
            raise HarisError(f"no community {community} (there are {partition.count if partition else 0})")
        vs = partition.members(community)
    elif account is not None:
        g = graph.undirected()
        v = graph.vid(account)
        vs = np.array(sorted(g.neighborhood(v, order=max(0, hops))), dtype=np.int64)
    else:
        vs = np.arange(graph.n)
    if max_nodes is not None and len(vs) > max_nodes:
        sub = graph.undirected().induced_subgraph(vs.tolist())
        pr = np.asarray(sub.pagerank(weights="weight" if sub.ecount() else None))
        keep = np.argsort(-pr, kind="stable")[:max_nodes]
        if account is not None:     # the account itself always stays in its own picture
            centre = int(np.searchsorted(vs, graph.vid(account)))
            keep = np.unique(np.r_[keep[: max_nodes - 1], centre])
        vs = np.sort(vs[keep])
    return vs


def labels_for(graph: NetworkGraph, vertices: np.ndarray, store: Store | None) -> list[str]:
    """Readable labels: @handles and titles from the store, URLs and domains from the node keys."""
    keys = [graph.keys[v] for v in vertices.tolist()]
    ids = [k for k in keys if ":" not in k]
    info = facts.account_info(store, ids) if store is not None else {}
    out = []
    for k in keys:
        if k in info:
            out.append(info[k].label)
        elif k.startswith("media:"):
            out.append("media " + k[6:18])
        else:
            out.append(k.split(":", 1)[-1])
    return out


def to_graphml(graph: NetworkGraph, path: str | Path, vertices: np.ndarray | None = None, *,
               partition: Partition | None = None, store: Store | None = None) -> int:
    """Write GraphML; returns the number of nodes written."""
    vs = np.arange(graph.n) if vertices is None else np.asarray(vertices)
    g = graph.directed(vs)
    g.vs["label"] = labels_for(graph, vs, store)
    if partition is not None:
        g.vs["community"] = [int(partition.membership[v]) for v in vs.tolist()]
    g.write_graphml(str(path))
    return g.vcount()


def _iso(t: int) -> str | None:
    return None if t == NO_TIME else datetime.fromtimestamp(int(t), timezone.utc).isoformat()


def to_gexf(graph: NetworkGraph, path: str | Path, vertices: np.ndarray | None = None, *,
            partition: Partition | None = None, store: Store | None = None) -> int:
    """Write GEXF 1.3 (dynamic edges with start/end times); returns the number of nodes written."""
    vs = np.arange(graph.n) if vertices is None else np.asarray(vertices)
    pos = {int(v): i for i, v in enumerate(vs.tolist())}
    labels = labels_for(graph, vs, store)
    ET.register_namespace("", GEXF_NS)
    root = ET.Element(f"{{{GEXF_NS}}}gexf", {"version": "1.3"})
    today = datetime.now(timezone.utc).date().isoformat()
    meta = ET.SubElement(root, f"{{{GEXF_NS}}}meta", {"lastmodifieddate": today})
    ET.SubElement(meta, f"{{{GEXF_NS}}}creator").text = "haris network export"
    gx = ET.SubElement(root, f"{{{GEXF_NS}}}graph", {"defaultedgetype": "directed", "mode": "dynamic",
                                                     "timeformat": "datetime"})
    na = ET.SubElement(gx, f"{{{GEXF_NS}}}attributes", {"class": "node", "mode": "static"})
    for i, (name, typ) in enumerate((("key", "string"), ("kind", "string"), ("community", "integer"))):
        ET.SubElement(na, f"{{{GEXF_NS}}}attribute", {"id": str(i), "title": name, "type": typ})
    ea = ET.SubElement(gx, f"{{{GEXF_NS}}}attributes", {"class": "edge", "mode": "static"})
    for i, (name, typ) in enumerate((("type", "string"), ("events", "double"))):
        ET.SubElement(ea, f"{{{GEXF_NS}}}attribute", {"id": str(i), "title": name, "type": typ})
    nodes = ET.SubElement(gx, f"{{{GEXF_NS}}}nodes")
    for i, v in enumerate(vs.tolist()):
        n = ET.SubElement(nodes, f"{{{GEXF_NS}}}node", {"id": str(i), "label": labels[i]})
        av = ET.SubElement(n, f"{{{GEXF_NS}}}attvalues")
        ET.SubElement(av, f"{{{GEXF_NS}}}attvalue", {"for": "0", "value": graph.keys[v]})
        ET.SubElement(av, f"{{{GEXF_NS}}}attvalue", {"for": "1", "value": NODE_KINDS[int(graph.kinds[v])]})
        if partition is not None:
            ET.SubElement(av, f"{{{GEXF_NS}}}attvalue", {"for": "2", "value": str(int(partition.membership[v]))})
    edges = ET.SubElement(gx, f"{{{GEXF_NS}}}edges")
    inside = np.isin(graph.src, vs) & np.isin(graph.dst, vs)
    for j, e in enumerate(np.flatnonzero(inside).tolist()):
        attrs = {"id": str(j), "source": str(pos[int(graph.src[e])]), "target": str(pos[int(graph.dst[e])]),
                 "weight": f"{float(graph.weight[e]):g}", "label": EDGE_TYPES[int(graph.etype[e])]}
        start, end = _iso(int(graph.first[e])), _iso(int(graph.last[e]))
        if start and end:
            attrs.update(start=start, end=end)
        el = ET.SubElement(edges, f"{{{GEXF_NS}}}edge", attrs)
        av = ET.SubElement(el, f"{{{GEXF_NS}}}attvalues")
        ET.SubElement(av, f"{{{GEXF_NS}}}attvalue", {"for": "0", "value": EDGE_TYPES[int(graph.etype[e])]})
        ET.SubElement(av, f"{{{GEXF_NS}}}attvalue", {"for": "1", "value": f"{float(graph.weight[e]):g}"})
    ET.indent(root)
    ET.ElementTree(root).write(str(path), encoding="utf-8", xml_declaration=True)
    return len(vs)


def export(graph: NetworkGraph, path: str | Path, vertices: np.ndarray | None = None, *, fmt: str | None = None,
           partition: Partition | None = None, store: Store | None = None) -> int:
    """GraphML or GEXF by ``fmt`` or by the file's extension (.graphml, .gexf)."""
    fmt = fmt or Path(path).suffix.lstrip(".").lower()
    if fmt == "graphml":
        return to_graphml(graph, path, vertices, partition=partition, store=store)
    if fmt == "gexf":
        return to_gexf(graph, path, vertices, partition=partition, store=store)
    raise HarisError(f"{path}: unknown export format {fmt!r}; use a .graphml or .gexf file name or --format")
