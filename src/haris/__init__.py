"""haris: detect, triage, act on and report online trafficking, child exploitation and terrorist content.

The Python API mirrors the CLI::

    import haris
    for record in haris.ingest.read("examples/telegram/result.json"):
        ...
    report = haris.scan(["examples/"], database_url="sqlite:///haris.db")
"""
__version__ = "0.1.0"


def scan(paths, **kwargs):
    """Ingest, analyse and store; see :func:`haris.engines.local.scan`."""
    from haris.engines.local import scan as _scan

    return _scan(paths, **kwargs)
