"""haris.network: account networks built from the store (capability 6).

The path is store → graph → analyses:

- :mod:`~haris.network.build` — :class:`GraphBuilder` reads messages, links and media and turns them into
  typed, time-stamped edges (replies, mentions, forwards, membership, links, media, near-duplicate texts),
  incrementally; :mod:`~haris.network.graph` holds them in numpy arrays and hands igraph views to analyses;
- :mod:`~haris.network.communities` — Leiden communities and what each one is (central accounts, policy mix,
  languages, platforms);
- :mod:`~haris.network.expand` — expansion from seed accounts (personalized PageRank + own flagged content)
  and a capture–recapture estimate of how many such accounts exist;
- :mod:`~haris.network.evasion` — banned accounts that come back under new names, with the evidence;
- :mod:`~haris.network.migration` — groups moving to another app (weekly link shares, change point);
- :mod:`~haris.network.export` and :mod:`~haris.network.render` — GraphML/GEXF, PNG and self-contained HTML;
- :mod:`~haris.network.synth` and :mod:`~haris.network.evaluate` — generated networks with planted answers.

Submodules are imported where they are used (this package imports nothing heavy), so ``haris --help``
stays fast. See docs/network.md.
"""
