"""`haris policy …`: validate, backtest, activate and list policy versions."""
from __future__ import annotations

import click


@click.group()
def policy():
    """Declarative policies: validate, backtest before going live, activate, history."""


@policy.command()
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
def validate(path):
    """Check a policy document; prints the problems and exits 2 when it is invalid."""
    from haris.policy.engine import load_policy

    doc = load_policy(path)
    click.echo(f"{path}: policy {doc.id!r} version {doc.version}, {len(doc.rules)} rules: valid")


@policy.command()
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.argument("labelled", type=click.Path(exists=True, dir_okay=False))
@click.option("--json", "json_out", is_flag=True)
@click.pass_context
def backtest(ctx, path, labelled, json_out):
    """Precision, recall and outcome counts of POLICY on LABELLED data, against the live version."""
    from haris.policy.backtest import backtest as run
    from haris.policy.engine import load_policy
    from haris.policy.versions import current
    from haris.store.db import Store

    cand = load_policy(path)
    live, _ = current(Store.open(ctx.find_root().obj["db_url"]), cand.id)
    res = run(cand, labelled, live)
    if json_out:
        from haris.report.terminal import print_json

        print_json(res)
        return
    from rich.console import Console
    from rich.table import Table

    t = Table(title=f"backtest on {res['items']} items ({res['changed_decisions']} decisions change)")
    for col in ("version", "policy", "precision", "recall", "f1", "tp", "fp", "fn"):
        t.add_column(col, justify="right" if col not in ("version", "policy") else "left")
    for k in ("current", "candidate"):
        for p, m in res[k]["policies"].items():
            t.add_row(f"{k} v{res[k]['version']}", p, f"{m['precision']:.3f}", f"{m['recall']:.3f}",
                      f"{m['f1']:.3f}", str(m["tp"]), str(m["fp"]), str(m["fn"]))
    c = Console()
    c.print(t)
    for k in ("current", "candidate"):
        c.print(f"{k} outcomes: " + ", ".join(f"{a}={n}" for a, n in sorted(res[k]["outcomes"].items())))


@policy.command()
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--by", default=None, help="Who activates it (recorded).")
@click.pass_context
def activate(ctx, path, by):
    """Make POLICY the live version (its version must be higher than the live one)."""
    from haris.policy.versions import activate as act
    from haris.store.db import Store

    doc = act(Store.open(ctx.find_root().obj["db_url"]), path, by)
    click.echo(f"policy {doc.id!r} version {doc.version} is live")


@policy.command("history")
@click.option("--json", "json_out", is_flag=True)
@click.pass_context
def history_cmd(ctx, json_out):
    """Every activated version."""
    from haris.policy.versions import history
    from haris.store.db import Store

    rows = history(Store.open(ctx.find_root().obj["db_url"]))
    if json_out:
        from haris.report.terminal import print_json

        print_json(rows)
    else:
        for r in rows:
            click.echo(f"{r['id']:24} {'live' if r['active'] else '    '} {r['activated_at']} {r['activated_by'] or ''}")
