"""`haris network …` end to end on a generated store, and the evaluation on the generator's defaults."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from haris.cli import cli
from haris.network.graph import EmptyGraphError


@pytest.fixture(scope="module")
def db(small_network):
    _data, store, _graph = small_network
    return str(store.engine.url)


def run(db, *args):
    res = CliRunner().invoke(cli, ["--db", db, "network", *args], catch_exceptions=True)
    if res.exception and not isinstance(res.exception, SystemExit):
        raise res.exception
    assert res.exit_code == 0, res.output
    return res.output


def run_json(db, *args):
    return json.loads(run(db, *args, "--json"))


def test_build_save_and_reuse(db, tmp_path):
    out = run_json(db, "build", "--save", str(tmp_path / "g"), "--no-near-duplicates")
    assert out["update"]["messages_new"] > 500 and out["nodes"]["account"] > 50
    again = run_json(db, "build", "--save", str(tmp_path / "g"))
    assert again["update"]["messages_new"] == 0 and again["edges"] == out["edges"]
    comm = run_json(db, "communities", "--graph", str(tmp_path / "g"), "--top", "3")
    assert len(comm["reports"]) == 3 and comm["modularity"] > 0.3


def test_expand_by_handle_with_an_estimate(db, small_network):
    data, store, graph = small_network
    from haris.network.facts import account_info
    info = account_info(store, data.truth.supporters[:6])
    handles = ["@" + info[a].handle for a in data.truth.supporters[:6]]
    out = run_json(db, "expand", *handles, "--top", "5")
    assert len(out["seeds"]) == 6 and len(out["ranked"]) == 5
    assert "estimate" in out["population"] and out["population"]["method"] == "chapman"
    assert "Chapman" in run(db, "expand", *handles, "--top", "3")


def test_evaders_lists_returns_with_evidence(db, small_network):
    data, _store, _graph = small_network
    out = run_json(db, "evaders")
    pairs = {(m["banned"]["id"], m["candidate"]["id"]) for m in out["matches"]}
    assert {(e["banned"], e["evader"]) for e in data.truth.evaders if e["strength"] == "strong"} <= pairs
    assert all(m["evidence"] for m in out["matches"])


def test_migration_export_render(db, tmp_path):
    out = run_json(db, "migration", "--min-links", "10")
    assert [r["shift"]["to"] for r in out["communities"] if r["shift"]] == ["tamtam"]
    assert "tamtam" in run(db, "migration", "--min-links", "10", "--weeks")
    assert run_json(db, "export", str(tmp_path / "g.gexf"), "--community", "0")["nodes"] > 10
    assert (tmp_path / "g.gexf").stat().st_size > 1000
    pic = run_json(db, "render", str(tmp_path / "c.html"), "--community", "1")
    assert pic["nodes"] > 5 and (tmp_path / "c.html").exists()


def test_marking_an_account_from_the_cli(tmp_path):
    from netdata import acct, chan, msg, write

    from haris.store.db import Store
    url = f"sqlite:///{tmp_path / 'h.db'}"
    store = Store.open(url)
    a, g = acct("1", "example_abu_z_3"), chan("g")
    write(store, a, g, msg(g, "1", a, 1))
    out = run_json(url, "evaders", "--mark", "@example_abu_z_3", "--at", "2026-01-06T00:00:00", "--reason", "test")
    assert out == {"actioned": 1, "matches": []}


def test_empty_store_gives_a_clear_message(tmp_path):
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    with pytest.raises(EmptyGraphError):
        run(url, "communities")
    env = {**os.environ, "HARIS_DATABASE_URL": url}
    proc = subprocess.run([sys.executable, "-m", "haris.cli", "network", "build"], capture_output=True, text=True,
                          env=env, timeout=120)
    assert proc.returncode == 1 and "error:" in proc.stderr and "Traceback" not in proc.stderr
    assert "ingest" in proc.stderr


def test_evaluation_meets_its_targets_on_the_default_settings():
    res = json.loads(CliRunner().invoke(cli, ["network", "eval", "--json"]).output)
    assert res["targets_met"] == {"evaders_precision": True, "evaders_recall": True, "communities_ari": True}
    assert res["evaders"]["decoys_flagged"] == 0
    assert res["migration"]["detected"] == "telegram -> tamtam" and res["migration"]["error_days"] < 3
    assert res["expansion"]["precision_at_k"] > 0.8
    assert res["communities"]["nmi"] >= 0.8
