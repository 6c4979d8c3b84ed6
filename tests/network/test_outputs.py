"""Exports (GraphML, GEXF), pictures (PNG, HTML) and the generator's shape."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import igraph as ig
import pytest

from haris.errors import HarisError
from haris.network.communities import detect_communities
from haris.network.export import GEXF_NS, export, select_vertices
from haris.network.render import make_view, render


@pytest.fixture(scope="module")
def partitioned(small_network):
    data, store, graph = small_network
    return data, store, graph, detect_communities(graph, seed=1)


def test_graphml_round_trips_through_igraph(partitioned, tmp_path):
    _d, store, graph, part = partitioned
    vs = select_vertices(graph, part, community=0)
    n = export(graph, tmp_path / "c0.graphml", vs, partition=part, store=store)
    g = ig.Graph.Read_GraphML(str(tmp_path / "c0.graphml"))
    assert g.vcount() == n == len(vs)
    assert set(g.vs["community"]) == {0}
    assert {"type", "weight", "first", "last"} <= set(g.es.attributes())
    assert any(lbl.startswith("@example_") for lbl in g.vs["label"])


def test_gexf_is_valid_xml_with_dynamic_edges(partitioned, tmp_path):
    _d, store, graph, part = partitioned
    n = export(graph, tmp_path / "all.gexf", partition=part, store=store)
    root = ET.parse(tmp_path / "all.gexf").getroot()
    ns = {"g": GEXF_NS}
    assert root.tag == f"{{{GEXF_NS}}}gexf" and root.get("version") == "1.3"
    nodes = root.findall("g:graph/g:nodes/g:node", ns)
    edges = root.findall("g:graph/g:edges/g:edge", ns)
    assert len(nodes) == n == graph.n and len(edges) == len(graph.src)
    ids = {nd.get("id") for nd in nodes}
    assert all(e.get("source") in ids and e.get("target") in ids for e in edges)
    assert all(e.get("start") <= e.get("end") for e in edges if e.get("start"))


def test_unknown_export_format_is_an_error(partitioned, tmp_path):
    _d, store, graph, part = partitioned
    with pytest.raises(HarisError, match="graphml"):
        export(graph, tmp_path / "x.csv", partition=part)


def test_png_of_a_community(partitioned, tmp_path):
    pytest.importorskip("cairocffi")
    from PIL import Image
    _d, store, graph, part = partitioned
    view = make_view(graph, part, store, community=0)
    render(view, tmp_path / "c0.png")
    img = Image.open(tmp_path / "c0.png")
    assert img.format == "PNG" and img.size[0] >= 1000
    colours = img.convert("RGB").resize((200, 200)).getcolors(40000)
    assert len(colours) > 20                                       # not a blank canvas


def test_html_view_is_self_contained_with_tooltips(partitioned, tmp_path):
    _d, store, graph, part = partitioned
    account = graph.keys[int(part.members(0)[0])]
    view = make_view(graph, part, store, account=account, hops=1)
    assert view.focus is not None and view.keys[view.focus] == account
    page = render(view, tmp_path / "n.html", color_by="policy").read_text()
    assert page.count("<title>") > len(view.keys)                  # a tooltip on every node and edge
    assert "<svg" in page and "const DATA=" in page
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=", page)   # nothing fetched from anywhere
    assert "http://www.w3.org/2000/svg" in page


def test_big_views_keep_the_most_central_nodes(partitioned):
    _d, store, graph, part = partitioned
    view = make_view(graph, part, store, community=0, max_nodes=10)
    assert len(view.keys) == 10 and view.xy.min() >= 0 and view.xy.max() <= 1


def test_render_needs_a_known_extension(partitioned, tmp_path):
    _d, store, graph, part = partitioned
    with pytest.raises(HarisError):
        render(make_view(graph, part, store, community=0), tmp_path / "x.jpg")


def test_generated_data_is_fictional_and_in_the_model_shape(small_network):
    data, _store, _graph = small_network
    from haris.model import Account, Message
    accounts = [r for r in data.records if isinstance(r, Account)]
    assert all(a.handle.startswith("example") for a in accounts)
    urls = [ln.url for m in data.messages for ln in m.links]
    assert urls and all(re.match(r"https://(t\.me/\+example|tt\.me/join/example|[\w.]*example\.(com|org|net)/)", u)
                        for u in urls)
    assert all(isinstance(m, Message) and m.time.tzinfo for m in data.messages)
    assert data.truth.inactive and data.truth.evaders and data.truth.decoys
    again = __import__("haris.network.synth", fromlist=["generate"]).generate(data.config)
    assert [m.id for m in again.messages] == [m.id for m in data.messages]    # same seed, same data
