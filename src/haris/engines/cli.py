"""`haris publish` and `haris worker`: the streaming engine's commands."""
from __future__ import annotations

import asyncio

import click

from haris.engines.stream import StreamConfig


def _cfg(url: str | None, stream: str | None, subject: str | None) -> StreamConfig:
    cfg = StreamConfig()
    if url:
        cfg.url = url
    if stream:
        cfg.stream = stream
    if subject:
        cfg.subject = subject
    return cfg


_nats_opts = [
    click.option("--nats", "url", envvar="HARIS_NATS_URL", help="NATS URL (default nats://127.0.0.1:4222)."),
    click.option("--stream", default=None, help="JetStream stream name (default HARIS_ITEMS)."),
    click.option("--subject", default=None, help="Subject prefix (default haris.items)."),
]


def nats_options(f):
    for opt in reversed(_nats_opts):
        f = opt(f)
    return f


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--format", "fmt", default=None)
@nats_options
def publish(paths, fmt, url, stream, subject):
    """Put the records of export files on the NATS JetStream stream."""
    from haris import ingest
    from haris.engines.stream import publish_records

    def records():
        for path in ingest.iter_files(paths):
            yield from ingest.read(path, fmt)

    n = asyncio.run(publish_records(records(), _cfg(url, stream, subject)))
    click.echo(f"published {n:,} records")


@click.command()
@nats_options
@click.option("--durable", default="haris-worker", show_default=True, help="Durable consumer shared by workers.")
@click.option("--batch", default=100, show_default=True)
@click.option("--max-deliver", default=5, show_default=True, help="Tries before a record is dead-lettered.")
@click.option("--ack-wait", default=60.0, show_default=True,
              help="Seconds before an unacknowledged record is redelivered (set on first use of the consumer).")
@click.option("--idle-exit", type=float, default=None, help="Stop after this many seconds with nothing to do.")
@click.pass_context
def worker(ctx, url, stream, subject, durable, batch, max_deliver, ack_wait, idle_exit):
    """Analyse and store records from the stream until stopped (SIGTERM/SIGINT)."""
    from haris.engines.stream import run_worker
    from haris.store.db import Store

    cfg = _cfg(url, stream, subject)
    cfg.durable, cfg.batch, cfg.max_deliver, cfg.ack_wait = durable, batch, max_deliver, ack_wait
    store = Store.open(ctx.find_root().obj["db_url"])
    w = run_worker(store, cfg, idle_exit=idle_exit)
    click.echo(f"worker stopped: {w.processed:,} records stored, {w.dead} dead-lettered")
