"""Which read-out of the sentence encoder? Out-of-fold F1 of the second stage with other learners.

    .venv/bin/python bench/readout_variants.py [--seeds 13] [--policy trafficking]
        [--variants linear,svm_embedding,svm_joint,joint_linear,mlp,nystroem,knn,boosted_top]

How the shipped read-out (docs/detection.md, "Latest session") was chosen. Every variant is
scored as "always encode" — every candidate scored by the second stage — with the folds, the
nested out-of-fold read-out column, the Platt calibration and the threshold rule of
``haris.detect.train`` (framing negatives flagged ≤ 2%), so the numbers differ from those of the
cascade (``bench/detect_oof.py``) by the band's ≤ 0.005. Prints F1 overall and per language,
the shares of framing and everyday negatives flagged, and the read-out's own AUC. Slow: the
support-vector variants fit ~30 machines a seed (~3 minutes each on this machine).
The test split is never read.
"""
from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np

from haris.detect.corpus import split_paths

ROOT = Path(__file__).resolve().parents[1]
SPLITS = [ROOT / "data" / "corpus" / "messages" / "train.jsonl", *split_paths(ROOT / "data" / "corpus" / "messages", "dev")]
VARIANTS = ("linear", "svm_embedding", "svm_joint", "joint_linear", "mlp", "nystroem", "knn", "boosted_top")


class _LogitOfProba:
    """``decision_function`` (the logit of ``predict_proba``) for a classifier that has none (MLP)."""

    def __init__(self, clf):
        self.clf = clf

    def decision_function(self, X):
        p = np.clip(self.clf.predict_proba(X)[:, 1], 1e-6, 1 - 1e-6)
        return np.log(p / (1 - p))


def readout_fit(variant: str, seed: int):
    """``fit(X, y)`` of a read-out variant, for ``haris.detect.train.semantic_column``."""
    from sklearn.kernel_approximation import Nystroem
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.svm import SVC

    if variant.startswith("svm"):
        return lambda X, y: SVC(C=3.0, kernel="rbf", gamma="scale").fit(X, y)
    if variant == "mlp":
        return lambda X, y: _LogitOfProba(MLPClassifier((128,), alpha=0.1, max_iter=200, early_stopping=True,
                                                        random_state=seed).fit(X, y))
    if variant == "nystroem":
        return lambda X, y: make_pipeline(Nystroem(gamma=1.165, n_components=2000, random_state=seed),
                                          LogisticRegression(C=10, max_iter=3000)).fit(X, y)
    return lambda X, y: LogisticRegression(C=1.0, max_iter=5000).fit(X, y)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", default="13")
    ap.add_argument("--policy", default="trafficking", choices=("trafficking", "terrorism"))
    ap.add_argument("--variants", default=",".join(VARIANTS))
    args = ap.parse_args()
    variants = args.variants.split(",")
    unknown = set(variants) - set(VARIANTS)
    if unknown:
        sys.exit(f"--variants: unknown {sorted(unknown)} (known: {', '.join(VARIANTS)})")
    warnings.filterwarnings("ignore")
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedGroupKFold

    from haris.detect.encoder import embed_many
    from haris.detect.train import (TrainConfig, _oof_report, _platt, _sigmoid, analyse_corpus, choose_threshold,
                                    design, read_corpus, semantic_atom_columns, semantic_column)

    items = read_corpus(SPLITS)
    d = design(items, analyse_corpus(items), args.policy)
    E = embed_many(d.originals)
    joint = np.column_stack([E, 0.25 * np.clip(d.X[:, semantic_atom_columns(d.names)], 0.0, 1.0)])
    framing = np.array([it.framing_negative for it in items])
    y_all = np.array([1 if args.policy in it.labels else 0 for it in items])
    y, g = d.y, d.groups
    print(f"{len(items):,} messages, {len(y):,} {args.policy} candidates")

    def knn_features(rows: np.ndarray, memory: np.ndarray, k: int = 5) -> np.ndarray:
        """Mean similarity to the k nearest positives and negatives of ``memory``, and their gap."""
        sims = E[rows] @ E[memory].T
        pos = np.sort(np.where(y[memory] == 1, sims, -1), axis=1)[:, -k:].mean(1)
        neg = np.sort(np.where(y[memory] == 0, sims, -1), axis=1)[:, -k:].mean(1)
        return np.column_stack([pos, neg, pos - neg])

    for seed in (int(s) for s in args.seeds.split(",")):
        cfg = TrainConfig(seed=seed)
        z = {v: np.zeros(len(y)) for v in variants}
        own = {v: np.zeros(len(y)) for v in variants}
        for tr, te in StratifiedGroupKFold(5, shuffle=True, random_state=seed).split(d.X, y, g):
            for v in variants:
                base = "linear" if v in ("knn", "boosted_top") else v
                inputs = joint if v in ("svm_joint", "joint_linear") else E
                col_tr, col_te, _ = semantic_column(inputs, y, g, cfg, tr, te, fit=readout_fit(base, seed))
                own[v][te] = col_te
                A_tr, A_te = np.column_stack([d.X[tr], col_tr]), np.column_stack([d.X[te], col_te])
                if v == "knn":
                    k_tr = np.zeros((len(tr), 3))
                    for a, b in StratifiedGroupKFold(5, shuffle=True, random_state=seed).split(tr, y[tr], g[tr]):
                        k_tr[b] = knn_features(tr[b], tr[a])
                    A_tr, A_te = np.column_stack([A_tr, k_tr]), np.column_stack([A_te, knn_features(te, tr)])
                if v == "boosted_top":
                    top = HistGradientBoostingClassifier(max_iter=200, learning_rate=0.05, max_leaf_nodes=15,
                                                         l2_regularization=1.0, random_state=13).fit(A_tr, y[tr])
                else:
                    top = LogisticRegression(C=1.0, max_iter=5000, solver="liblinear").fit(A_tr, y[tr])
                z[v][te] = top.decision_function(A_te)
        for v in variants:
            a, b = _platt(z[v], y)
            scores = np.zeros(len(items))
            scores[d.index] = _sigmoid(a * z[v] + b)
            r = _oof_report(items, scores, y_all, framing, choose_threshold(scores, y_all, framing, 0.02))
            print(f"seed {seed:3d} {v:14s} F1 {r['all']['f1']:.4f}  ar {r['ar']['f1']:.4f}  en {r['en']['f1']:.4f}  "
                  f"fr {r['fr']['f1']:.4f}  framing {r['framing_negatives_flagged']:.4f}  "
                  f"everyday {r['everyday_negatives_flagged']:.4f}  read-out AUC {roc_auc_score(y, own[v]):.4f}",
                  flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
