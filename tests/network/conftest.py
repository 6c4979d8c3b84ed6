"""A small generated network in a SQLite store, built once and shared by every network test."""
from __future__ import annotations

import pytest
from netdata import SMALL


@pytest.fixture(scope="session")
def small_network(tmp_path_factory):
    """A small generated network in a SQLite store, built once per test session: (data, store, graph)."""
    from haris.network import synth
    from haris.network.build import GraphBuilder
    from haris.store.db import Store

    data = synth.generate(synth.SynthConfig(seed=7, **SMALL))
    store = Store.open(f"sqlite:///{tmp_path_factory.mktemp('net') / 'synth.db'}")
    synth.load_into_store(store, data)
    builder = GraphBuilder(store)
    builder.update()
    yield data, store, builder.graph()
    store.dispose()
