"""Building the graph from the store (SQLite and PostgreSQL), incrementally, with messy input."""
from __future__ import annotations

import numpy as np
import pytest
from netdata import acct, chan, link, media, msg, write

from haris.network.build import GraphBuilder, destination_key
from haris.network.graph import TYPE_CODE, EmptyGraphError


def _edges(graph, etype):
    m = graph.etype == TYPE_CODE[etype]
    return {(graph.keys[a], graph.keys[b]): w for a, b, w in zip(graph.src[m].tolist(), graph.dst[m].tolist(),
                                                                  graph.weight[m].tolist())}


@pytest.fixture
def basic(store):
    a, b, c = acct("1", "example_abu_a"), acct("2", "Example_B"), acct("3", "example_c")
    idle = acct("4", "example_idle")
    ch, src_ch = chan("g1", "example_group_1"), chan("c9", "example_news")
    m1 = msg(ch, "1", a, 1, "first post https://t.me/+exampleAAA", links=[link("https://t.me/+exampleAAA")],
             media=[media("ab" * 32, 1)])
    m2 = msg(ch, "2", b, 2, "reply to a, hi @example_c and @nobody_known", reply_to_id=m1.id)
    m3 = msg(ch, "3", b, 3, "again", reply_to_id=m1.id, media=[media("ab" * 32, 2)])
    m4 = msg(ch, "4", a, 4, "talking to myself", reply_to_id=m1.id)                      # self-reply
    m5 = msg(ch, "5", c, 5, "forwarded", forwarded_from_id=src_ch.id, forwarded_from="Example news")
    m6 = msg(ch, "6", c, 6, "a reply whose parent never arrived", reply_to_id="msg_missing")
    m7 = msg(ch, "7", None, 7, "group notice")                                             # no author
    m8 = msg(ch, "8", a, 8, "see https://www.Example.com/a/b",
             links=[link("https://www.Example.com/a/b", "web", "web")])
    m9 = msg(ch, "9", c, 9, "forward from an account nobody ingested", forwarded_from_id="acc_unknown123")
    write(store, a, b, c, idle, ch, src_ch, m1, m2, m3, m4, m5, m6, m7, m8, m9)
    return dict(a=a, b=b, c=c, idle=idle, ch=ch, src_ch=src_ch)


def test_every_edge_type_comes_from_the_store(store, basic):
    a, b, c, ch = basic["a"], basic["b"], basic["c"], basic["ch"]
    builder = GraphBuilder(store, near_duplicates=False)
    stats = builder.update()
    g = builder.graph()
    assert stats.messages_new == 9 and stats.unresolved_mentions == 1
    assert _edges(g, "reply") == {(b.id, a.id): 2.0}             # two replies folded; the self-reply dropped
    assert g.stats["self_loops"] == 1
    assert _edges(g, "mention") == {(b.id, c.id): 1.0}           # @Example_C resolved regardless of case
    assert set(_edges(g, "forward")) == {(c.id, basic["src_ch"].id), (c.id, "acc_unknown123")}
    assert _edges(g, "member")[(a.id, ch.id)] == 3.0
    assert (a.id, "url:https://t.me/+exampleAAA") in _edges(g, "link")
    assert (a.id, "domain:example.com") in _edges(g, "link")
    assert _edges(g, "media") == {(a.id, "media:" + "ab" * 32): 1.0, (b.id, "media:" + "ab" * 32): 1.0}
    assert g.kind(g.vid("acc_unknown123")) == "account"          # an edge to an unknown account keeps a node
    assert basic["idle"].id not in g.index                       # no activity, no node


def test_update_reads_only_new_messages_and_links_late_parents(store, basic):
    a, b, ch = basic["a"], basic["b"], basic["ch"]
    builder = GraphBuilder(store, near_duplicates=False)
    builder.update()
    before = len(builder.edges)
    again = builder.update()
    assert again.messages_new == 0 and len(builder.edges) == before
    late_parent = msg(ch, "100", b, 20, "a parent that arrives after its reply")
    child = msg(ch, "101", a, 21, "reply sent before the parent was ingested", reply_to_id=late_parent.id)
    write(store, child)
    assert builder.update().events.get("reply") is None          # parent not there yet
    write(store, late_parent)
    stats = builder.update()
    assert stats.messages_new == 1 and stats.events["reply"] == 1
    assert _edges(builder.graph(), "reply")[(a.id, b.id)] == 1.0


def test_since_limits_the_scan(store, basic):
    builder = GraphBuilder(store, near_duplicates=False)
    from datetime import timedelta

    from netdata import T0
    stats = builder.update(since=T0 + timedelta(hours=7, minutes=30))
    assert stats.messages_new == 2


def test_saved_graph_reloads_and_keeps_updating(store, basic, tmp_path):
    builder = GraphBuilder(store)
    builder.update()
    builder.save(tmp_path / "g")
    loaded = GraphBuilder.load(tmp_path / "g", store)
    assert loaded.update().messages_new == 0
    g1, g2 = builder.graph(), loaded.graph()
    assert g1.keys == g2.keys and np.array_equal(g1.weight, g2.weight)
    write(store, msg(basic["ch"], "200", basic["c"], 30, "new one"))
    assert loaded.update().messages_new == 1


def test_a_broken_saved_graph_is_an_input_error(store, tmp_path):
    from haris.errors import InputError
    (tmp_path / "bad").mkdir()
    with pytest.raises(InputError):
        GraphBuilder.load(tmp_path / "bad", store)


def test_empty_store_is_a_clear_error(store):
    builder = GraphBuilder(store, near_duplicates=False)
    assert builder.update().messages_read == 0
    with pytest.raises(EmptyGraphError, match="ingest"):
        builder.graph()


def test_near_duplicate_texts_link_their_authors(store):
    pytest.importorskip("haris.match.text")
    a, b, c = acct("1"), acct("2"), acct("3")
    ch = chan("g")
    text = "meeting notes for the example group, schedule of the river market every week"
    write(store, a, b, c, ch, msg(ch, "1", a, 1, text), msg(ch, "2", b, 2, text.upper() + "!!"),
          msg(ch, "3", c, 3, "something entirely different about bread and tea and the weather"))
    builder = GraphBuilder(store)
    builder.update()
    assert set(_edges(builder.graph(), "near_duplicate")) == {(b.id, a.id)}


def test_destination_keys():
    assert destination_key("https://t.me/+Abc/", "telegram", "invite", "t.me") == "url:https://t.me/+Abc"
    assert destination_key("http://WWW.example.com/x", "web", "web", None) == "domain:example.com"
    assert destination_key("https://bit.ly/x", "web", "shortener", "bit.ly") == "domain:bit.ly"
