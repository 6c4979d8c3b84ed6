"""`haris network …`: build the account graph, find communities, expand from seeds, find returning
banned accounts, follow groups moving between apps, export, draw, and evaluate on generated networks.

Every command reads the store named by ``haris --db`` (default ``sqlite:///haris.db``) and takes
``--json``. The graph is built from the store each time; ``build --save DIR`` keeps it in a folder
that ``--graph DIR`` reuses and brings up to date with new messages only. Communities are
recomputed with a fixed seed, so the same graph gives the same community numbers in every command.
"""
from __future__ import annotations

import csv
import json
from datetime import timezone
from pathlib import Path

import click

from haris.errors import HarisError, InputError

_graph_opt = click.option("--graph", "graph_dir", type=click.Path(file_okay=False),
                          help="A folder saved by `network build --save`: reused and updated with new messages.")
_json_opt = click.option("--json", "json_out", is_flag=True, help="Print machine-readable JSON.")


def _store(ctx):
    from haris.store.db import Store

    return Store.open((ctx.obj or {}).get("db_url"))


def _graph(ctx, graph_dir: str | None, near_duplicates: bool = True, store=None):
    from haris.network.build import GraphBuilder

    store = store or _store(ctx)
    if graph_dir and Path(graph_dir).exists():
        builder = GraphBuilder.load(graph_dir, store)
    else:
        builder = GraphBuilder(store, near_duplicates=near_duplicates)
    stats = builder.update()
    return store, builder, builder.graph(), stats


def _print_json(obj) -> None:
    from haris.report.terminal import print_json

    print_json(obj)


def _console():
    from rich.console import Console

    return Console()


def _table(title: str, columns: list[str], rows: list[list]) -> None:
    from rich.table import Table

    t = Table(title=title, title_justify="left")
    for c in columns:
        t.add_column(c, overflow="fold")
    for r in rows:
        t.add_row(*[str(x) for x in r])
    _console().print(t)


def _counts(d: dict) -> str:
    return ", ".join(f"{k} {v}" for k, v in d.items()) or "-"


@click.group()
def network():
    """Account networks: communities, expansion from seeds, ban evasion, migration between apps."""


@network.command()
@click.option("--save", "save_dir", type=click.Path(file_okay=False),
              help="Keep the graph in this folder; if it exists, only new messages are read.")
@_graph_opt
@click.option("--since", type=click.DateTime(), help="Only read messages at or after this time (UTC).")
@click.option("--no-near-duplicates", is_flag=True, help="Skip near-duplicate text edges (faster on big stores).")
@_json_opt
@click.pass_context
def build(ctx, save_dir, graph_dir, since, no_near_duplicates, json_out):
    """Build (or update) the account graph from the store and report its size."""
    from haris.network.build import GraphBuilder

    store = _store(ctx)
    folder = save_dir or graph_dir
    if folder and Path(folder).exists():
        builder = GraphBuilder.load(folder, store)
    else:
        builder = GraphBuilder(store, near_duplicates=not no_near_duplicates)
    stats = builder.update(since=since.replace(tzinfo=timezone.utc) if since else None)
    graph = builder.graph()
    if save_dir:
        builder.save(save_dir)
    out = {"update": stats.to_dict(), **graph.counts(), "self_loops_dropped": graph.stats["self_loops"],
           "saved_to": save_dir}
    if json_out:
        _print_json(out)
        return
    c = _console()
    c.print(f"read {stats.messages_read:,} messages, {stats.messages_new:,} new; "
            f"{stats.unresolved_mentions:,} mentions of unknown handles; near-duplicates: {stats.near_duplicates}")
    _table("nodes", ["kind", "count"], [[k, f"{v:,}"] for k, v in out["nodes"].items()])
    _table("edges", ["type", "edges", "events"],
           [[k, f"{v:,}", f"{out['events'][k]:,}"] for k, v in out["edges"].items()])
    if save_dir:
        c.print(f"saved to {save_dir}")


@network.command()
@_graph_opt
@click.option("--top", default=20, show_default=True, help="Communities to describe.")
@click.option("--resolution", default=1.0, show_default=True, help="Leiden resolution (higher: smaller communities).")
@click.option("--seed", default=0, show_default=True)
@click.option("--threshold", default=0.5, show_default=True, help="Signal score that counts an item as flagged.")
@_json_opt
@click.pass_context
def communities(ctx, graph_dir, top, resolution, seed, threshold, json_out):
    """Leiden communities with their size, central accounts, policy mix, languages and platforms."""
    from haris.network.communities import describe_communities, detect_communities

    store, _b, graph, _s = _graph(ctx, graph_dir)
    part = detect_communities(graph, resolution=resolution, seed=seed)
    reports = describe_communities(store, graph, part, top=top, threshold=threshold)
    if json_out:
        _print_json({"communities": part.count, "modularity": round(part.modularity, 4), "reports": reports})
        return
    _console().print(f"{part.count:,} communities, modularity {part.modularity:.3f}")
    _table("largest communities", ["#", "accounts", "channels", "central accounts", "flagged (policy: items)",
                                   "languages", "links to"],
           [[r["community"], r["size"]["accounts"], r["size"]["channels"],
             ", ".join(x["label"] for x in r["central"][:3]), _counts(r["policies"]),
             _counts(dict(list(r["languages"].items())[:3])), _counts(dict(list(r["links_to"].items())[:4]))]
            for r in reports])


def _read_ids(path: str | None) -> list[str]:
    if not path:
        return []
    out = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            out.append(line)
    return out


def _resolve(store, names: list[str]) -> list[str]:
    """Account ids for ids or @handles (handles matched without regard to case)."""
    from sqlalchemy import func, select

    from haris.store import schema

    handles = [n[1:].lower() for n in names if n.startswith("@")]
    found: dict[str, str] = {}
    if handles:
        a = schema.accounts
        with store.connect() as conn:
            for i in range(0, len(handles), 500):
                for acc_id, h in conn.execute(select(a.c.id, a.c.handle)
                                              .where(func.lower(a.c.handle).in_(handles[i:i + 500]))):
                    found[h.lower()] = acc_id
    return [found.get(n[1:].lower(), n) if n.startswith("@") else n for n in names]


@network.command()
@click.argument("seeds", nargs=-1)
@click.option("--seeds-file", type=click.Path(exists=True, dir_okay=False), help="One account id or @handle a line.")
@click.option("--top", default=30, show_default=True)
@click.option("--content-weight", default=0.3, show_default=True, help="Share of the score from own flagged content.")
@click.option("--estimate/--no-estimate", default=True, show_default=True,
              help="Capture–recapture estimate of the population (seeds split in two, or --sample-b).")
@click.option("--sample-b", type=click.Path(exists=True, dir_okay=False), help="A second, independent seed list.")
@click.option("--found-at", default=0.5, show_default=True, help="Score at which an expansion 'captures' an account.")
@_graph_opt
@_json_opt
@click.pass_context
def expand(ctx, seeds, seeds_file, top, content_weight, estimate, sample_b, found_at, graph_dir, json_out):
    """Rank accounts around SEEDS (ids or @handles) with evidence, and estimate how many such accounts exist."""
    from haris.network.expand import estimate_population
    from haris.network.expand import expand as run

    names = list(seeds) + _read_ids(seeds_file)
    if not names:
        raise click.UsageError("give seed accounts as arguments or with --seeds-file")
    store, _b, graph, _s = _graph(ctx, graph_dir)
    ids = _resolve(store, names)
    ex = run(graph, ids, store=store, top=top, content_weight=content_weight)
    out = ex.to_dict()
    if estimate:
        b = _resolve(store, _read_ids(sample_b)) if sample_b else None
        try:
            out["population"] = estimate_population(graph, ex.seeds, store=store, sample_b=b, found_at=found_at,
                                                    content_weight=content_weight)
        except HarisError as exc:
            out["population"] = {"error": str(exc)}
    if json_out:
        _print_json(out)
        return
    if ex.missing_seeds:
        _console().print(f"[yellow]not in the graph:[/] {', '.join(ex.missing_seeds)}")
    _table(f"accounts around {len(ex.seeds)} seeds", ["score", "account", "network", "content", "evidence"],
           [[f"{r.score:.3f}", r.label, f"{r.network:.2f}", f"{r.content:.2f}", _evidence_line(r)] for r in ex.ranked])
    pop = out.get("population")
    if pop and "error" not in pop:
        _console().print(f"population estimate (Chapman capture–recapture): {pop['estimate']:.0f} "
                         f"(95% {pop['ci95'][0]:.0f}–{pop['ci95'][1]:.0f}); samples {pop['sample_a']} and "
                         f"{pop['sample_b']}, overlap {pop['overlap']}. {pop['note']}")
    elif pop:
        _console().print(f"[yellow]no population estimate:[/] {pop['error']}")


def _evidence_line(r) -> str:
    parts = [f"{e['type']}×{e['events']} {e['direction']} {e.get('seed_label', e['seed'])}" for e in r.seed_edges[:2]]
    parts += [f"shares {s.get('label', s['node'])} with {s['seeds']} seeds" for s in r.shared_with_seeds[:2]]
    parts += [f"{f['policy']} {f['score']:.2f} in {f['item_id']}" for f in r.flagged[:1]]
    return "; ".join(parts) or "-"


def _read_avatars(path: str) -> dict[str, str]:
    """account id -> PDQ hex, from a JSON object or a two-column CSV (account_id,pdq)."""
    text = Path(path).read_text(encoding="utf-8")
    if path.endswith(".json"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(path, f"invalid JSON: {exc.msg}", line=exc.lineno,
                             expected='an object {"account_id": "pdq hex"}') from None
        if not isinstance(data, dict):
            raise InputError(path, "not a JSON object", expected='{"account_id": "pdq hex"}')
        return {str(k): str(v) for k, v in data.items()}
    out = {}
    for n, row in enumerate(csv.reader(text.splitlines()), start=1):
        if not row or row[0].startswith("#") or (n == 1 and row[0] == "account_id"):
            continue
        if len(row) < 2 or len(row[1].strip()) != 64:
            raise InputError(path, f"bad row {row!r}", line=n, expected="account_id,<64 hex digits of a PDQ hash>")
        out[row[0].strip()] = row[1].strip()
    return out


@network.command()
@click.option("--mark", "mark_ids", multiple=True, metavar="ACCOUNT",
              help="Record ACCOUNT (id or @handle) as actioned.")
@click.option("--at", type=click.DateTime(), help="When it was actioned (UTC; default now).")
@click.option("--reason", default="", help="Why (recorded with the action).")
@click.option("--avatars", type=click.Path(exists=True, dir_okay=False),
              help="Avatar PDQ hashes: JSON {account_id: hex} or CSV account_id,pdq.")
@click.option("--cutoff", type=float, default=None, help="Score to list (default: the model's, 0.5).")
@click.option("--weights", "weights_file", type=click.Path(exists=True, dir_okay=False),
              help="Evasion weights (YAML, as written by `network eval --fit-weights`); default: the shipped ones.")
@click.option("--all", "show_all", is_flag=True, help="List candidates below the cut-off too.")
@_graph_opt
@_json_opt
@click.pass_context
def evaders(ctx, mark_ids, at, reason, avatars, cutoff, weights_file, show_all, graph_dir, json_out):
    """Accounts first seen after an actioned account that are likely the same person back (ban evasion)."""
    from haris.network.evasion import actions, find_evaders, load_model, mark_actioned

    store = _store(ctx)
    for acc in _resolve(store, list(mark_ids)):
        mark_actioned(store, acc, at.replace(tzinfo=timezone.utc) if at else None, reason)
    if not actions(store):
        raise HarisError("no actioned accounts recorded; mark one with: haris network evaders --mark ACCOUNT --at TIME")
    store, _b, graph, _s = _graph(ctx, graph_dir, store=store)
    matches = find_evaders(store, graph, avatars=_read_avatars(avatars) if avatars else None, cutoff=cutoff,
                           model=load_model(weights_file) if weights_file else None, include_below=show_all)
    if json_out:
        _print_json({"actioned": len(actions(store)), "matches": [m.to_dict() for m in matches]})
        return
    _table(f"likely returns of {len(actions(store))} actioned accounts", ["score", "actioned", "came back as",
                                                                          "days after", "evidence"],
           [[f"{m.score:.3f}", m.banned["label"], m.candidate["label"], m.candidate["days_after_action"],
             "; ".join(m.summary())]
            for m in matches])


@network.command()
@click.option("--community", "community_ids", type=int, multiple=True, help="Only this community (repeatable).")
@click.option("--min-links", default=20, show_default=True, help="Communities with fewer links are skipped.")
@click.option("--weeks", is_flag=True, help="Print the weekly shares too.")
@_graph_opt
@_json_opt
@click.pass_context
def migration(ctx, community_ids, min_links, weeks, graph_dir, json_out):
    """Per community, weekly shares of links per platform and when a move to another app starts."""
    from haris.network.communities import detect_communities
    from haris.network.migration import migration_report

    store, _b, graph, _s = _graph(ctx, graph_dir)
    part = detect_communities(graph)
    reports = migration_report(store, graph, part, communities=list(community_ids) or None, min_links=min_links)
    if json_out:
        _print_json({"communities": reports})
        return
    if not reports:
        _console().print(f"no community posted {min_links} links or more")
        return
    _table("links per platform and shifts", ["community", "basis", "links", "shift", "starts", "share before → after"],
           [[r["community"], r["basis"], r["links"],
             f"{r['shift']['from']} → {r['shift']['to']}" if r["shift"] else "-",
             r["shift"]["start"][:16] if r["shift"] else "",
             f"{r['shift']['share_before']:.2f} → {r['shift']['share_after']:.2f}" if r["shift"] else ""]
            for r in reports])
    if weeks:
        for r in reports:
            _table(f"community {r['community']}: weekly shares ({r['basis']})", ["week", "links", "shares"],
                   [[w["week"], w["links"], _counts(w["shares"])] for w in r["weeks"]])


def _selection(community, account, store) -> str | None:
    """The account id of --account (an id or @handle); --community and --account exclude each other."""
    if community is not None and account is not None:
        raise click.UsageError("give --community or --account, not both")
    return _resolve(store, [account])[0] if account else None


@network.command()
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["graphml", "gexf"]), help="Default: from the file name.")
@click.option("--community", type=int, help="Only this community.")
@click.option("--account", help="Only this account's neighbourhood (id or @handle).")
@click.option("--hops", default=1, show_default=True)
@_graph_opt
@_json_opt
@click.pass_context
def export(ctx, path, fmt, community, account, hops, graph_dir, json_out):
    """Write the graph (or a community, or an account's neighbourhood) as GraphML or GEXF."""
    from haris.network.communities import detect_communities
    from haris.network.export import export as write
    from haris.network.export import select_vertices

    store, _b, graph, _s = _graph(ctx, graph_dir)
    part = detect_communities(graph)
    acc = _selection(community, account, store)
    vs = select_vertices(graph, part, community=community, account=acc, hops=hops)
    n = write(graph, path, vs, fmt=fmt, partition=part, store=store)
    if json_out:
        _print_json({"path": path, "nodes": n})
    else:
        _console().print(f"wrote {n:,} nodes to {path}")


@network.command()
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--community", type=int, help="Draw this community.")
@click.option("--account", help="Draw this account's neighbourhood (id or @handle).")
@click.option("--hops", default=1, show_default=True)
@click.option("--max-nodes", default=150, show_default=True, help="Keep the most central nodes (PageRank).")
@click.option("--color-by", type=click.Choice(["auto", "community", "policy"]), default="auto", show_default=True)
@_graph_opt
@_json_opt
@click.pass_context
def render(ctx, path, community, account, hops, max_nodes, color_by, graph_dir, json_out):
    """Draw a community or an account's neighbourhood into PATH (.png, or .html: a self-contained page)."""
    from haris.network.communities import detect_communities
    from haris.network.render import make_view
    from haris.network.render import render as draw

    store, _b, graph, _s = _graph(ctx, graph_dir)
    part = detect_communities(graph)
    acc = _selection(community, account, store)
    if community is None and acc is None:
        community = 0
    view = make_view(graph, part, store, community=community, account=acc, hops=hops, max_nodes=max_nodes)
    draw(view, path, color_by=color_by)
    if json_out:
        _print_json({"path": path, "nodes": len(view.keys), "edges": len(view.edges), "title": view.title})
    else:
        _console().print(f"drew {view.title} ({len(view.keys)} nodes, {len(view.edges)} edges) into {path}")


@network.command("eval")
@click.option("--seed", default=0, show_default=True, help="Seed of the generated network.")
@click.option("--fit-weights", type=click.Path(dir_okay=False),
              help="Instead: refit the evasion weights on generated networks and write them to this YAML file.")
@_json_opt
def eval_cmd(seed, fit_weights, json_out):
    """Generate a network with planted communities, evaders and a migration; report how well they are found."""
    if fit_weights:
        import yaml

        from haris.network.evaluate import fit_evasion_weights

        doc = fit_evasion_weights()
        Path(fit_weights).write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
        if json_out:
            _print_json(doc)
        else:
            _console().print(f"wrote weights fitted on {doc['fitted_on']['pairs']} pairs to {fit_weights}")
        return
    from haris.network.evaluate import evaluate

    res = evaluate(seed=seed)
    if json_out:
        _print_json(res)
        return
    ev, cm, mg, ex = res["evaders"], res["communities"], res["migration"], res["expansion"]
    ok = {k: "[green]met[/]" if v else "[red]missed[/]" for k, v in res["targets_met"].items()}
    _table(f"network evaluation (seed {seed}, {res['graph']['account']} accounts, {res['graph']['messages']} messages)",
           ["measure", "value", "target"],
           [["communities ARI", cm["ari"], f">= {res['targets']['communities_ari']} {ok['communities_ari']}"],
            ["communities NMI", cm["nmi"], ""],
            ["evaders precision", ev["precision"],
             f">= {res['targets']['evaders_precision']} {ok['evaders_precision']}"],
            ["evaders recall", ev["recall"], f">= {res['targets']['evaders_recall']} {ok['evaders_recall']}"],
            ["decoys / late joiners flagged", f"{ev['decoys_flagged']} / {ev['late_joiners_flagged']}", ""],
            ["migration detected", mg["detected"], ""],
            ["migration start error (days)", mg.get("error_days", "-"), ""],
            ["expansion precision@k / recall@k", f"{ex['precision_at_k']} / {ex['recall_at_k']}", ""],
            ["population estimate (true)", f"{ex['population_estimate']} {ex['ci95']} ({ex['true_population']})", ""]])
