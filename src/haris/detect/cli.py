"""`haris eval` and `haris train` (mounted by haris.cli)."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from haris.detect.base import POLICIES

console = Console()
err_console = Console(stderr=True)


def parse_thresholds(values: tuple[str, ...]) -> dict[str, float]:
    out: dict[str, float] = {}
    for v in values:
        policy, sep, num = v.partition("=")
        policy = policy.strip()
        try:
            value = float(num)
        except ValueError:
            value = -1.0
        if not sep or policy not in POLICIES or not 0.0 <= value <= 1.0:
            raise click.BadParameter(f"{v!r}: expected POLICY=SCORE with POLICY one of {', '.join(POLICIES)} "
                                     "and SCORE in [0, 1], e.g. trafficking=0.6", param_hint="--threshold")
        out[policy] = value
    return out


@click.command("eval")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--json", "json_out", is_flag=True, help="Print the metrics as JSON.")
@click.option("--threshold", "threshold", multiple=True, metavar="POLICY=SCORE",
              help="Flag at this score instead of the policy's default (repeatable).")
@click.option("--worst", default=5, show_default=True, help="False positives and negatives shown per policy.")
def eval_cmd(file: str, json_out: bool, threshold: tuple[str, ...], worst: int) -> None:
    """Precision, recall and F1 per policy and language on a labelled JSONL FILE.

    Lines: {"id", "lang", "labels": ["trafficking"|"terrorism"|"child_exploitation", ...], "text"}
    (empty labels: benign). Conversation files (lines with "messages") go to the conversation
    detector.
    """
    from haris.detect.evaluate import evaluate_file

    result = evaluate_file(file, parse_thresholds(threshold), worst=max(0, worst))
    if json_out:
        from haris.report.terminal import print_json

        print_json(result)
        return
    render(result, console)


def _pct(x: float) -> str:
    return f"{100 * x:.1f}"


def render(result: dict[str, Any], out: Console) -> None:
    if result.get("kind") == "conversations":
        from haris.detect.conversation import render_evaluation

        out.print(render_evaluation(result), highlight=False)
        return
    t = Table(title=f"{result['file']} — {result.get('items', '?')} items", expand=False)
    for col in ("policy", "lang", "precision", "recall", "F1", "support", "tp", "fp", "fn", "tn"):
        t.add_column(col, justify="right" if col not in ("policy", "lang") else "left",
                     no_wrap=col == "policy", min_width=18 if col == "policy" else None)
    thresholds = result.get("thresholds", {})
    for policy, m in result["policies"].items():
        rows = [("all", m), *sorted(m.get("by_lang", {}).items())]
        for i, (lang, r) in enumerate(rows):
            style = "bold" if lang == "all" else None
            name = policy if i == 0 else (f"  ≥ {thresholds[policy]:.2f}" if i == 1 and policy in thresholds else "")
            t.add_row(name, lang, _pct(r["precision"]), _pct(r["recall"]), _pct(r["f1"]),
                      str(r["support"]), str(r["tp"]), str(r["fp"]), str(r["fn"]), str(r["tn"]), style=style)
        t.add_section()
    out.print(t)
    neg = result.get("negatives")
    if neg:
        f = neg["framing"]
        out.print(f"news / research / NGO / police / counter-speech negatives flagged: {f['flagged']} of "
                  f"{f['count']} ({_pct(f['share'])}%); all benign flagged: {neg['all']['flagged']} of "
                  f"{neg['all']['count']} ({_pct(neg['all']['share'])}%)")
        for kind, k in neg.get("by_kind", {}).items():
            out.print(f"  {kind}: {k['flagged']} of {k['count']} flagged ({_pct(k['share'])}%)")
    for policy, w in (result.get("worst") or {}).items():
        for what in ("false_positives", "false_negatives"):
            rows = w.get(what) or []
            if not rows:
                continue
            out.print(Text(f"\n{policy}: worst {what.replace('_', ' ')}", style="bold"))
            for r in rows:
                out.print(Text(f"  {r['score']:.2f}  {r['id']} [{r.get('lang')}] {r.get('family') or ''}", style="dim"))
                out.print(f"        {r['text'][:200]}", highlight=False)
                ev = [e for e in r.get("evidence", []) if e.get("kind") in ("lexicon", "entity")]
                if ev:
                    out.print("        evidence: " + ", ".join(f"{e['label']}" for e in ev[:10]), highlight=False)
                rules = r.get("rules") or []
                if rules:
                    out.print("        rules: " + ", ".join(f"{x['rule']} {x['weight']:+g}" for x in rules),
                              highlight=False)
                if r.get("why"):
                    out.print(f"        {r['why']}", highlight=False)


@click.command("train")
@click.argument("train_files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="src/haris/detect/models",
              show_default=True, help="Folder for messages.joblib and messages.json.")
@click.option("--seed", default=13, show_default=True)
@click.option("--json", "json_out", is_flag=True, help="Print the training report as JSON.")
def train_cmd(train_files: tuple[str, ...], out_dir: str, seed: int, json_out: bool) -> None:
    """Fit and calibrate the message model on labelled TRAIN_FILES (never the test file).

    Several files are read as one corpus. Calibration and thresholds use out-of-fold scores on
    that corpus itself, with folds grouped by the records' "family" field.
    """
    from haris.detect.train import TrainConfig, train

    report = train(list(train_files), out_dir, TrainConfig(seed=seed),
                   progress=None if json_out else (lambda m: err_console.print(m, style="dim")))
    if json_out:
        from haris.report.terminal import print_json

        print_json(report)
        return
    console.print(f"model {report['version']} written to {Path(out_dir) / 'messages.joblib'}")
    for policy, thr in report["thresholds"].items():
        oof = report["meta"]["out_of_fold"][policy]
        console.print(f"  {policy}: threshold {thr:.2f}; out-of-fold F1 {oof['all']['f1']:.3f} "
                      f"(P {oof['all']['precision']:.3f}, R {oof['all']['recall']:.3f}); news/NGO/counter "
                      f"negatives flagged {_pct(oof['framing_negatives_flagged'] or 0)}%")
    console.print("set these thresholds in haris.detect.registry.DEFAULT_THRESHOLDS if they changed")
    sys.stdout.flush()
