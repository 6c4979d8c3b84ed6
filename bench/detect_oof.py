"""Out-of-fold quality of the message detectors on train + dev, averaged over fold seeds.

    .venv/bin/python bench/detect_oof.py [--seeds 13,7,21] [--policy trafficking] [--set semantic_C=3]

How a change to lexicons, rules, features or training is measured (docs/detection.md): every
policy is fitted as ``make model`` fits it (``haris.detect.train.fit_policy``: folds grouped by
corpus family, threshold chosen by the same rule), once per fold seed, and the script prints F1
per language, the share of framing negatives flagged (the issue's ≤ 2% target) and of everyday
posts flagged (``kind: easy_negative``). One seed moves by up to ±0.005 with nothing changed, so
compare means over seeds. ``--set name=value`` overrides a ``TrainConfig`` field for the run.
The test split is never read.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from dataclasses import fields, replace
from pathlib import Path

from haris.detect.corpus import split_paths

ROOT = Path(__file__).resolve().parents[1]
SPLITS = [ROOT / "data" / "corpus" / "messages" / "train.jsonl", *split_paths(ROOT / "data" / "corpus" / "messages", "dev")]
COLUMNS = ("F1", "ar", "en", "fr", "framing", "everyday")


def _config(overrides: list[str]):
    from haris.detect.train import TrainConfig

    types = {f.name: type(getattr(TrainConfig(), f.name)) for f in fields(TrainConfig)}
    values = {}
    for item in overrides:
        name, _, raw = item.partition("=")
        if name not in types:
            sys.exit(f"--set {item}: unknown TrainConfig field (known: {', '.join(types)})")
        values[name] = json.loads(raw) if types[name] is bool else types[name](raw)
    return replace(TrainConfig(), **values)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", default="13,7,21", help="fold seeds, comma-separated")
    ap.add_argument("--policy", action="append", choices=("trafficking", "terrorism"),
                    help="one policy (repeatable); default both")
    ap.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="TrainConfig override")
    args = ap.parse_args()

    from haris.detect.train import analyse_corpus, fit_policy, read_corpus

    cfg = _config(args.set)
    t0 = time.process_time()
    items = read_corpus(SPLITS)
    views = analyse_corpus(items)
    print(f"{len(items):,} messages (train + dev) analysed in {time.process_time() - t0:.0f} s CPU")
    for policy in args.policy or ["trafficking", "terrorism"]:
        rows = []
        for seed in (int(s) for s in args.seeds.split(",")):
            _, r = fit_policy(items, views, policy, replace(cfg, seed=seed))
            rows.append([r["all"]["f1"], r["ar"]["f1"], r["en"]["f1"], r["fr"]["f1"],
                         r["framing_negatives_flagged"] or 0.0, r["everyday_negatives_flagged"] or 0.0])
            print(f"{policy:12s} seed {seed:3d}  " + "  ".join(f"{c} {v:.4f}" for c, v in zip(COLUMNS, rows[-1])))
        mean = [statistics.fmean(col) for col in zip(*rows)]
        print(f"{policy:12s} mean      " + "  ".join(f"{c} {v:.4f}" for c, v in zip(COLUMNS, mean)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
