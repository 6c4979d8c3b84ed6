"""Fit the grooming risk (logistic regression on stage features) on the train split.

The model is small on purpose: ~18 features that a reviewer can read (see
:mod:`haris.detect.conversation.scoring`), one coefficient each, fitted with
scikit-learn's ``LogisticRegression`` (L2, C=1, classes balanced) on the *final* state of
every conversation of ``data/corpus/conversations/train.jsonl``. The alert threshold is
chosen on out-of-fold predictions (5 folds grouped by scenario family, so a family is
never scored by a model that saw it) as the one with the best F1, ties going to the
threshold nearest 0.5. The test split is never read here.

    .venv/bin/python -m haris.detect.conversation.calibrate            # rewrite calibration.json
    .venv/bin/python -m haris.detect.conversation.calibrate --check    # exit 1 if it is stale
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np

from haris.detect.conversation.assemble import conversation_from_eval_row
from haris.detect.conversation.evaluate import read_rows
from haris.detect.conversation.scoring import CALIBRATION, FEATURES, calibration, features
from haris.detect.conversation.state import ConversationState
from haris.detect.base import CHILD_EXPLOITATION

REPO = Path(__file__).resolve().parents[4]
TRAIN = REPO / "data" / "corpus" / "conversations" / "train.jsonl"
C = 1.0
FOLDS = 5
THRESHOLDS = [round(0.20 + 0.05 * i, 2) for i in range(13)]   # 0.20 … 0.80


def feature_matrix(path: str | Path) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Features of the final state of every conversation, labels, and scenario families."""
    xs, ys, groups = [], [], []
    for line, row in read_rows(path):
        conv = conversation_from_eval_row(row, path=str(path), line=line)
        state = ConversationState(conv.id, lang=conv.lang)
        for m in conv.messages:
            state.update(m)
        x, _, _ = features(state)
        xs.append([x[f] for f in FEATURES])
        ys.append(1 if CHILD_EXPLOITATION in (row.get("labels") or []) else 0)
        groups.append(str(row.get("family") or row.get("id")))
    return np.array(xs, dtype=float), np.array(ys, dtype=int), groups


def _model():
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=C, class_weight="balanced", max_iter=2000)


def _f1(y: np.ndarray, pred: np.ndarray) -> float:
    tp = int(((pred == 1) & (y == 1)).sum())
    fp = int(((pred == 1) & (y == 0)).sum())
    fn = int(((pred == 0) & (y == 1)).sum())
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def fit(path: str | Path = TRAIN) -> dict:
    """The calibration document (coefficients, intercept, threshold and how they were obtained)."""
    from sklearn.model_selection import GroupKFold

    x, y, groups = feature_matrix(path)
    oof = np.zeros(len(y))
    for train_idx, test_idx in GroupKFold(n_splits=FOLDS).split(x, y, groups):
        oof[test_idx] = _model().fit(x[train_idx], y[train_idx]).predict_proba(x[test_idx])[:, 1]
    scores = {t: _f1(y, (oof >= t).astype(int)) for t in THRESHOLDS}
    best = max(scores.values())
    threshold = min((t for t, f in scores.items() if f == best), key=lambda t: (abs(t - 0.5), t))
    model = _model().fit(x, y)
    raw = Path(path).read_bytes()
    return {
        "model": "logistic regression on conversation stage features (haris.detect.conversation.scoring)",
        "fitted_on": Path(path).resolve().relative_to(REPO).as_posix() if Path(path).resolve().is_relative_to(REPO)
        else str(path),
        "train_sha256": hashlib.sha256(raw).hexdigest(),
        "conversations": int(len(y)),
        "positives": int(y.sum()),
        "C": C,
        "threshold_rule": f"best out-of-fold F1 ({FOLDS} folds grouped by family), ties nearest 0.5",
        "out_of_fold_f1": round(best, 4),
        "threshold": threshold,
        "intercept": round(float(model.intercept_[0]), 6),
        "coef": {f: round(float(c), 6) for f, c in zip(FEATURES, model.coef_[0])},
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="fit the grooming risk on the train split")
    ap.add_argument("train", nargs="?", default=str(TRAIN))
    ap.add_argument("--check", action="store_true", help="exit 1 if calibration.json differs from a re-fit")
    args = ap.parse_args(argv)
    doc = fit(args.train)
    text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    if args.check:
        current = CALIBRATION.read_text(encoding="utf-8") if CALIBRATION.exists() else ""
        if current != text:
            print(f"stale: {CALIBRATION}", file=sys.stderr)
            return 1
        return 0
    CALIBRATION.write_text(text, encoding="utf-8")
    calibration.cache_clear()
    print(f"threshold {doc['threshold']}, out-of-fold F1 {doc['out_of_fold_f1']}")
    for f, c in sorted(doc["coef"].items(), key=lambda kv: -abs(kv[1])):
        print(f"  {f:18s} {c:+.3f}")
    print(f"  {'intercept':18s} {doc['intercept']:+.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
