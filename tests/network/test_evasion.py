"""Return of banned accounts: pairwise evidence, the action table, and the search on hand-made and generated data."""
from __future__ import annotations

from datetime import timedelta

import pytest
from netdata import T0, acct, chan, link, msg, write

from haris.network import similarity as sim
from haris.network.build import build_graph
from haris.network.evasion import actions, find_evaders, load_model, mark_actioned


def test_numbering_patterns():
    assert sim.numbering("example_abu_x_7", "example_abu_x_8") == (True, 1)
    assert sim.numbering("example_abu_x", "Example.Abu.X2") == (True, None)
    assert sim.numbering("example_abu_x_7", "example_umm_y_8") == (False, None)
    assert sim.numbering("ab_1", "ab_2") == (False, None)              # a two-letter stem says nothing
    assert sim.numbering("example_abu_x_7", "@Example_Abu_X_7") == (False, None)   # same handle


def test_name_bio_and_avatar_similarity():
    assert sim.name_similarity("example_abu_nour_7", "example_abu_nour_8") > 0.9
    assert sim.name_similarity("example_abu_nour", "example_umm_sami") < 0.7
    assert sim.name_similarity(None, "x") == 0.0
    assert sim.text_similarity("river stone garden updates daily", "Updates daily: river, stone, garden!") > 0.95
    assert sim.text_similarity("short", "short") == 0.0
    h = "f" * 64
    assert sim.pdq_distance(h, "0" + "f" * 63) == 4
    assert sim.pdq_distance(h, "xyz") is None and sim.pdq_distance(None, h) is None


@pytest.mark.parametrize("text, phrase", [
    ("this is my NEW account, the old one was removed", "my new account"),
    ("Voici mon nouveau compte", "mon nouveau compte"),
    ("هذا حساب احتياطي تابعونا", "حساب احتياطي"),
    ("تابعوا الحساب الجديد", "تابعوا الحساب الجديد"),
    ("I opened a new bank account... no wait", None),
    ("renewaccount", None),
])
def test_announcements_in_three_languages(text, phrase):
    found = sim.announcement(text)
    assert (found is None) if phrase is None else found == sim._fold(phrase)


def test_refers_to_old_account():
    assert sim.refers_to("new account, old was @example_abu_7", "example_abu_7", None)
    assert sim.refers_to("nouveau compte de Abu Nour Salem", None, "Abu Nour Salem")
    assert not sim.refers_to("new account", "example_abu_7", "Abu")


def test_marking_an_action_twice_records_it_once(store):
    at = T0 + timedelta(days=3)
    mark_actioned(store, "acc_x", at, "spam")
    mark_actioned(store, "acc_x", at, "spam")
    assert [(a.account_id, a.at, a.reason) for a in actions(store)] == [("acc_x", at, "spam")]


def _ban_story(store):
    """A banned account, its return, a look-alike decoy elsewhere, an old account and a newcomer."""
    bio = "river stone garden updates every morning"
    old = acct("1", "example_abu_x_7", "Abu X", bio)
    back = acct("2", "example_abu_x_8", "Abu X", bio)
    decoy = acct("3", "example_abu_x_9", "Abu X", "bread tea coffee lesson book school")
    veteran = acct("4", "example_abu_x_5", "Abu X", bio)        # seen before the ban: cannot be a return
    newcomer = acct("5", "example_salma_q", "Salma Q", "blue green red white")
    friends = [acct(str(10 + i), f"example_friend_{i}") for i in range(4)]
    g1, g2 = chan("g1"), chan("g2")
    recs = [old, back, decoy, veteran, newcomer, *friends, g1, g2]
    n = 0

    def post(ch, who, hours, text="hello group", **kw):
        nonlocal n
        n += 1
        m = msg(ch, str(n), who, hours, text, **kw)
        recs.append(m)
        return m

    post(g1, veteran, 1)
    for i, f in enumerate(friends):
        p = post(g1, f, 2 + i, f"friend post {i}")
        post(g1, old, 3 + i, "reply to friend", reply_to_id=p.id)
    post(g1, old, 10, "join us https://t.me/+exampleOLD", links=[link("https://t.me/+exampleOLD")])
    ban = T0 + timedelta(hours=20)
    post(g1, back, 30, "my new account, the old @example_abu_x_7 was banned")
    for i, f in enumerate(friends[:3]):
        p = post(g1, f, 31 + i, f"welcome back {i}")
        post(g1, back, 32 + i, "thanks", reply_to_id=p.id)
    post(g1, back, 40, "join us https://t.me/+exampleOLD", links=[link("https://t.me/+exampleOLD")])
    post(g2, decoy, 35, "market prices today")
    post(g1, newcomer, 36, "hello everyone in the group")
    write(store, *recs)
    mark_actioned(store, old.id, ban, "terms of service")
    return old, back, decoy, veteran, newcomer


def test_the_returned_account_is_found_with_its_evidence_and_decoys_are_not(store):
    old, back, decoy, veteran, newcomer = _ban_story(store)
    graph = build_graph(store, near_duplicates=False)
    found = find_evaders(store, graph)
    assert [(m.banned["id"], m.candidate["id"]) for m in found] == [(old.id, back.id)]
    m = found[0]
    labels = {e.label for e in m.evidence}
    assert {"numbering", "bio", "contacts", "announcement", "shared_items"} <= labels
    assert m.candidate["days_after_action"] > 0
    everything = find_evaders(store, graph, include_below=True)
    scored = {x.candidate["id"]: x.score for x in everything}
    assert veteran.id not in scored                               # first seen before the action
    assert scored[decoy.id] < load_model().cutoff                 # a similar name alone is not enough
    assert scored.get(newcomer.id, 0.0) < 0.2
    assert m.to_dict()["evidence"][0]["kind"] in ("network", "edge", "lexicon", "hash")


def test_an_avatar_mapping_adds_evidence(store):
    old, back, decoy, _v, _n = _ban_story(store)
    graph = build_graph(store, near_duplicates=False)
    same = "a" * 64
    near = "b" + "a" * 63                                         # 3 bits away
    res = find_evaders(store, graph, avatars={old.id: same, decoy.id: near, back.id: "0" * 64},
                       include_below=True)
    d = next(m for m in res if m.candidate["id"] == decoy.id)
    assert d.features["avatar"] == 1.0 and any(e.label == "avatar" for e in d.evidence)


def test_no_actions_no_matches(store):
    write(store, acct("1", "example_a"), chan("g"), msg(chan("g"), "1", acct("1"), 1))
    assert find_evaders(store) == []


def test_generated_evaders_are_found_and_decoys_left(small_network):
    data, store, graph = small_network
    found = {(m.banned["id"], m.candidate["id"]) for m in find_evaders(store, graph, avatars=data.avatars)}
    planted = {(e["banned"], e["evader"]) for e in data.truth.evaders}
    strong = {(e["banned"], e["evader"]) for e in data.truth.evaders if e["strength"] == "strong"}
    assert strong <= found
    assert len(found & planted) / len(found) >= 0.9
    assert not found & {(d["banned"], d["decoy"]) for d in data.truth.decoys}
