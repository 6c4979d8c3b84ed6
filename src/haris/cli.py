"""The `haris` command.

Exit codes (the same for every command):

==  =====================================================================
0   done; nothing failed
1   internal error (a bug: please report it with the traceback)
2   usage or configuration error (bad option, bad setting, bad policy)
3   bad input: one or more files could not be read (the others were processed)
4   not found, or a check failed (``show`` of an unknown id, ``audit verify`` of a broken chain,
    ``evidence verify`` of an altered bundle)
==  =====================================================================

Every command that prints results takes ``--json`` for machine-readable output.
The store is chosen with ``--db URL`` or ``HARIS_DATABASE_URL`` (default:
``sqlite:///haris.db`` in the current folder).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import click
from rich.console import Console

from haris.errors import HarisError

EXIT_OK, EXIT_INTERNAL, EXIT_USAGE, EXIT_INPUT = 0, 1, 2, 3

# Piped output (a file, a pager) gets a wide table rather than rich's 80-column default.
console = Console(width=None if sys.stdout.isatty() or os.environ.get("COLUMNS") else 160)
err_console = Console(stderr=True, soft_wrap=True)  # never wrap file paths and errors


def _thresholds(values: tuple[str, ...]) -> dict[str, float]:
    out = {}
    for v in values:
        policy, _, num = v.partition("=")
        try:
            out[policy.strip()] = float(num)
        except ValueError:
            raise click.BadParameter(f"{v!r}: expected POLICY=NUMBER, e.g. trafficking=0.6") from None
    return out


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--db", "db_url", envvar="HARIS_DATABASE_URL", default=None,
              help="Database URL (default sqlite:///haris.db; PostgreSQL: postgresql+psycopg://…).")
@click.version_option(package_name="haris")
@click.pass_context
def cli(ctx: click.Context, db_url: str | None) -> None:
    """Detect, triage, act on and report trafficking, child exploitation and terrorist content."""
    ctx.ensure_object(dict)
    ctx.obj["db_url"] = db_url


def _run(paths, *, db_url, fmt, analyse, out, json_out, thresholds, progress_on, workers=1):
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from haris.engines.local import run

    show = progress_on and not json_out and err_console.is_terminal
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  console=err_console, disable=not show, transient=True) as bar:
        task = bar.add_task("starting", total=None)

        def progress(path: str, n: int) -> None:
            bar.update(task, description=f"{Path(path).name}: {n:,} messages")

        return run(paths, database_url=db_url, fmt=fmt, analyse=analyse, out=out,
                   thresholds=thresholds, progress=progress, workers=workers)


def _file_rows(report) -> list[dict]:
    return [dict(path=f.path, format=f.format, status=f.status, messages=f.messages, flagged=f.flagged,
                 error=f.error) for f in report.files]


def _print_files(report) -> None:
    for f in report.files:
        style = {"done": "green", "skipped": "dim", "failed": "bold red"}.get(f.status, "")
        line = f"[{style}]{f.status:7}[/] {f.path} ({f.format or '?'}, {f.messages:,} messages"
        line += f", {f.flagged} flagged)" if f.status == "done" else ")"
        err_console.print(line, highlight=False)
        if f.error:
            err_console.print(f"        [red]{f.error}[/]", highlight=False)


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--format", "fmt", type=click.Choice(["telegram", "whatsapp", "twitter", "jsonl", "csv"]),
              help="Input format (default: detected from each file's content).")
@click.option("--json", "json_out", is_flag=True, help="Print a JSON summary.")
@click.option("--no-progress", is_flag=True)
@click.pass_context
def ingest(ctx, paths, fmt, json_out, no_progress):
    """Read exports into the store (files already ingested are skipped)."""
    report = _run(paths, db_url=ctx.obj["db_url"], fmt=fmt, analyse=False, out=None, json_out=json_out,
                  thresholds={}, progress_on=not no_progress)
    if json_out:
        from haris.report.terminal import print_json

        print_json({"files": _file_rows(report), "messages": report.messages})
    else:
        _print_files(report)
    sys.exit(EXIT_INPUT if report.failed else EXIT_OK)


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--format", "fmt", type=click.Choice(["telegram", "whatsapp", "twitter", "jsonl", "csv"]))
@click.option("--out", type=click.Path(dir_okay=False), help="Write every item with a signal to this JSONL file.")
@click.option("--threshold", "threshold", multiple=True, metavar="POLICY=SCORE",
              help="Flag at this score instead of the policy's default (repeatable).")
@click.option("--limit", default=50, show_default=True, help="Rows in the triage table.")
@click.option("--workers", default=1, show_default=True, help="Analysis processes (0: one per core).")
@click.option("--engine", type=click.Choice(["local", "spark"]), default="local", show_default=True,
              help="spark: run the analysis on Apache Spark (see README) and write --out as Parquet or JSONL.")
@click.option("--spark-master", default="local[*]", show_default=True)
@click.option("--json", "json_out", is_flag=True, help="Print the flagged items as JSON.")
@click.option("--no-progress", is_flag=True)
@click.pass_context
def scan(ctx, paths, fmt, out, threshold, limit, workers, engine, spark_master, json_out, no_progress):
    """Ingest, run every analysis, store the results and print a triage table."""
    if engine == "spark":
        from haris.engines.spark import scan_spark

        if not out:
            raise click.UsageError("--engine spark needs --out (a .parquet folder or a .jsonl path)")
        summary = scan_spark(list(paths), out, master=spark_master, fmt=fmt)
        if json_out:
            from haris.report.terminal import print_json

            print_json(summary)
        else:
            console.print(f"spark: {summary['messages']:,} messages analysed, {summary['flagged']:,} flagged; "
                          f"results in {out}")
        sys.exit(EXIT_OK)
    report = _run(paths, db_url=ctx.obj["db_url"], fmt=fmt, analyse=True, out=out, json_out=json_out,
                  thresholds=_thresholds(threshold), progress_on=not no_progress, workers=workers)
    if json_out:
        from haris.report.terminal import print_json

        print_json({"files": _file_rows(report), "messages": report.messages, "flagged": report.flagged})
    else:
        from haris.report.terminal import triage_table

        _print_files(report)
        console.print(triage_table(report.flagged, console, limit=limit))
        if out:
            err_console.print(f"results written to {out}")
    sys.exit(EXIT_INPUT if report.failed else EXIT_OK)


@cli.command()
@click.argument("item_id")
@click.option("--json", "json_out", is_flag=True)
@click.pass_context
def show(ctx, item_id, json_out):
    """Show one stored record (message, account, channel, conversation) with its entities and signals."""
    from haris.report.records import lookup

    found = lookup(ctx.obj["db_url"], item_id)
    if found is None:
        from haris.errors import NotFoundError

        raise NotFoundError(f"no record with id {item_id!r} in the store")
    if json_out:
        from haris.report.terminal import print_json

        print_json(found)
    else:
        from haris.report.records import render

        render(found, console)


@cli.group()
def db():
    """Manage the store's schema."""


@db.command("upgrade")
@click.pass_context
def db_upgrade(ctx):
    """Create or migrate the database to the latest schema."""
    from haris.store.db import Store, database_url

    Store.open(ctx.obj["db_url"]).dispose()
    console.print(f"database at {database_url(ctx.find_root().obj['db_url'])} is up to date")


def _mount_stage_commands() -> None:
    """Each stage folder defines its own commands; they are mounted here under their names."""
    from haris.act.cli import evidence, report, webhook
    from haris.detect.cli import eval_cmd, train_cmd
    from haris.engines.cli import publish, worker
    from haris.match.cli import bank, hash_cmd
    from haris.network.cli import network
    from haris.policy.cli import policy
    from haris.service.cli import apikey, audit, serve, user

    for name, cmd in (("bank", bank), ("hash", hash_cmd), ("network", network), ("eval", eval_cmd),
                      ("train", train_cmd), ("policy", policy), ("serve", serve), ("user", user), ("apikey", apikey),
                      ("audit", audit), ("webhook", webhook), ("evidence", evidence), ("report", report),
                      ("publish", publish), ("worker", worker)):
        cli.add_command(cmd, name)


_mount_stage_commands()


def main() -> None:
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(EXIT_USAGE)
    except click.exceptions.Abort:
        err_console.print("aborted")
        sys.exit(EXIT_USAGE)
    except HarisError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err_console.print("interrupted; committed files are kept, re-run to resume")
        sys.exit(130)


if __name__ == "__main__":
    main()
