"""Fit the trained layer of the message detectors: ``haris train TRAIN.jsonl --out DIR``.

For each policy (trafficking, terrorism):

1. Every message is analysed (normalize, language, entities) and matched against the lexicons;
   the role/structure features of :mod:`haris.detect.features` are computed for candidates
   (messages with at least one of the policy's cue categories; the others score 0 and are not
   used for fitting, exactly as at inference).
2. A logistic regression is fitted on [role features + ``ngram_scale`` × tf-idf of character
   n-grams (char_wb, 2–4, vocabulary capped)] of the candidates.
3. Calibration: out-of-fold decisions are computed with folds GROUPED BY SCENARIO FAMILY (the
   corpus' ``family`` field; a line without one is its own group), so each decision is made by a
   model that never saw that scenario; a Platt sigmoid is fitted on them.
4. The threshold is chosen on the same out-of-fold calibrated scores: the highest F1 such that at
   most ``max_framing_fp`` of the news/NGO/counter-speech negatives are flagged.
5. The model is refitted on all candidates and written, with its calibration and threshold, to
   ``DIR/messages.joblib`` (plain numbers and strings) and a readable ``DIR/messages.json``.

Everything is seeded; the same corpus gives the same artifact. The test split is never read.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from haris.detect.corpus import Labelled, read_labelled
from haris.detect.features import MessageView, feature_names, is_candidate, policy_features, view_of
from haris.detect.model import FORMAT, MODEL_FILE, char_wb_ngrams, write_artifact
from haris.errors import InputError
from haris.text.analysis import analyse_text

POLICIES = ("trafficking", "terrorism")


@dataclass(frozen=True)
class TrainConfig:
    seed: int = 13
    folds: int = 5
    C: float = 1.0                  # inverse L2 strength of the logistic regression
    atoms: bool = True              # False: the rule score alone (plus n-grams), no per-atom weights
    ngrams: bool = False            # measured: no gain out of fold (docs/detection.md); kept as an option
    ngram_min: int = 2
    ngram_max: int = 4
    max_ngrams: int = 6000          # vocabulary cap (most frequent n-grams with df >= 2)
    ngram_scale: float = 0.5        # weight of the n-gram block relative to the role features
    max_framing_fp: float = 0.02    # share of news/NGO/counter-speech negatives a threshold may flag
    semantic: bool = True           # add the sentence-encoder read-out (haris.detect.encoder) as a feature
    semantic_kernel: str = "rbf"    # "rbf": a support-vector machine; "linear": a logistic read-out (512 weights)
    semantic_C: float = 3.0         # inverse regularisation strength of that read-out
    semantic_atoms: float = 0.25    # weight of the role atoms (clipped to [0, 1]) beside the embedding
    framing_weight: float = 1.0     # sample weight of framing negatives (news, NGO, counter-speech) in every fit
    everyday_weight: float = 1.0    # sample weight of everyday posts (kind easy_negative) in every fit


@dataclass(slots=True)
class Design:
    """The training matrix of one policy: candidates only."""

    names: list[str]
    X: np.ndarray
    texts: list[str]
    originals: list[str]   # the posted text (what the sentence encoder reads)
    y: np.ndarray
    groups: np.ndarray
    index: np.ndarray   # positions of the candidates in the corpus
    weight: np.ndarray  # sample weight of each candidate (TrainConfig.framing_weight, everyday_weight)


def analyse_corpus(items: list[Labelled], progress: Callable[[int], None] | None = None) -> list[MessageView]:
    views = []
    for i, it in enumerate(items):
        views.append(view_of(analyse_text(it.text, lang=it.lang)))
        if progress and i % 200 == 0:
            progress(i)
    return views


def design(items: list[Labelled], views: list[MessageView], policy: str,
           cfg_features: set[str] | None = None, framing_weight: float = 1.0,
           everyday_weight: float = 1.0) -> Design:
    rows, texts, originals, y, groups, index, weight = [], [], [], [], [], [], []
    names: list[str] | None = None
    for i, (it, v) in enumerate(zip(items, views)):
        if not is_candidate(v, policy):
            continue
        f, _ = policy_features(v, policy)
        if names is None:
            names = [n for n in f if cfg_features is None or n in cfg_features]
        rows.append([f[n] for n in names])
        texts.append(v.text)
        originals.append(it.text)
        y.append(1 if policy in it.labels else 0)
        groups.append(it.family or f"line-{it.line}")
        index.append(i)
        weight.append(framing_weight if it.framing_negative else
                      everyday_weight if it.kind == "easy_negative" else 1.0)
    if names is None:
        names = [n for n in [*feature_names(policy), "rule_logit"] if cfg_features is None or n in cfg_features]
    return Design(names, np.asarray(rows, dtype=float).reshape(len(rows), len(names)), texts, originals,
                  np.asarray(y, dtype=int), np.asarray(groups), np.asarray(index, dtype=int),
                  np.asarray(weight, dtype=float))


def semantic_inputs(E: np.ndarray, d: Design, cfg: TrainConfig) -> np.ndarray:
    """What the read-out reads: the embedding, plus (rbf) the role atoms scaled by ``semantic_atoms``.

    With the atoms beside the embedding the kernel compares messages by what they say AND by the
    roles the lexicons found in them, so "reads like a sale advert" and "names a person and a
    price" combine non-linearly (measured: out-of-fold trafficking F1 +0.02 over the embedding alone).
    """
    if cfg.semantic_kernel == "linear" or not cfg.semantic_atoms:
        return E
    return np.column_stack([E, cfg.semantic_atoms * np.clip(d.X[:, semantic_atom_columns(d.names)], 0.0, 1.0)])


def semantic_atom_columns(names: list[str]) -> list[int]:
    """The design's columns that go beside the embedding: every atom but the rule score."""
    return [i for i, n in enumerate(names) if n != "rule_logit"]


def _semantic_readout(E: np.ndarray, y: np.ndarray, cfg: TrainConfig, weight: np.ndarray | None = None):
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import SVC

    if cfg.semantic_kernel == "rbf":
        # deterministic (libsvm without probability estimates); gamma as scikit-learn's "scale":
        # 1 / (dimensions · variance of the inputs), computed here so that the model can store it
        gamma = 1.0 / (E.shape[1] * E.var()) if E.size and E.var() > 0 else 1.0
        return SVC(C=cfg.semantic_C, kernel="rbf", gamma=float(gamma)).fit(E, y, sample_weight=weight)
    if cfg.semantic_kernel != "linear":
        raise InputError("training config", f"unknown semantic_kernel {cfg.semantic_kernel!r}",
                         expected="'rbf' or 'linear'")
    return LogisticRegression(C=cfg.semantic_C, max_iter=5000, random_state=cfg.seed).fit(
        E, y, sample_weight=weight)


def semantic_column(E: np.ndarray, y: np.ndarray, groups: np.ndarray, cfg: TrainConfig,
                    fit_rows: np.ndarray, apply_rows: np.ndarray,
                    fit: Callable[[np.ndarray, np.ndarray], Any] | None = None,
                    weight: np.ndarray | None = None):
    """The ``semantic`` feature for ``fit_rows`` (out of fold, grouped by family) and ``apply_rows``.

    The read-out of the training rows is itself computed out of fold, so that the logistic
    regression on top learns how much to trust it on scenarios it has NOT seen (fitted in-sample,
    a 512-weight read-out would look perfect and swallow the role features). ``fit(X, y)`` returns
    a fitted read-out with ``decision_function`` (default: the one ``cfg`` names, with the sample
    ``weight`` of each row; the bench ``bench/readout_variants.py`` passes others).
    """
    from sklearn.model_selection import StratifiedGroupKFold

    Ef, yf, gf = E[fit_rows], y[fit_rows], groups[fit_rows]
    wf = None if weight is None else weight[fit_rows]

    def fit_rows_of(rows: np.ndarray):
        if fit is not None:
            return fit(Ef[rows], yf[rows])
        return _semantic_readout(Ef[rows], yf[rows], cfg, None if wf is None else wf[rows])

    col_fit = np.full(len(fit_rows), float(yf.mean()) if len(yf) else 0.5)
    k = min(cfg.folds, len(set(gf.tolist())), int(yf.sum()), int((1 - yf).sum()))
    if k >= 2:
        for a, b in StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=cfg.seed).split(Ef, yf, gf):
            if len(set(yf[a].tolist())) == 2:
                col_fit[b] = _sigmoid(fit_rows_of(a).decision_function(Ef[b]))
    readout = fit_rows_of(np.arange(len(fit_rows)))
    col_apply = _sigmoid(readout.decision_function(E[apply_rows])) if len(apply_rows) else np.zeros(0)
    return col_fit, col_apply, readout


def _fit(X: np.ndarray, texts: list[str], y: np.ndarray, cfg: TrainConfig, weight: np.ndarray | None = None):
    """Fit vectorizer + logistic regression; return a predict(X, texts) -> z and the parts."""
    from scipy.sparse import csr_matrix, hstack
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vec = None
    blocks = [csr_matrix(X)]
    if cfg.ngrams:
        vec = TfidfVectorizer(analyzer=lambda t: char_wb_ngrams(t, cfg.ngram_min, cfg.ngram_max),
                              max_features=cfg.max_ngrams, min_df=2, dtype=np.float64)
        blocks.append(vec.fit_transform(texts) * cfg.ngram_scale)
    clf = LogisticRegression(C=cfg.C, max_iter=5000, solver="liblinear", random_state=cfg.seed)
    clf.fit(hstack(blocks).tocsr(), y, sample_weight=weight)

    def predict(X2: np.ndarray, texts2: list[str]) -> np.ndarray:
        b = [csr_matrix(X2)]
        if vec is not None:
            b.append(vec.transform(texts2) * cfg.ngram_scale)
        return clf.decision_function(hstack(b).tocsr())

    return predict, clf, vec


def _platt(z: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    from sklearn.linear_model import LogisticRegression

    if len(set(y.tolist())) < 2:
        return 1.0, 0.0
    lr = LogisticRegression(C=1e4, max_iter=1000)
    lr.fit(z.reshape(-1, 1), y)
    return float(lr.coef_[0, 0]), float(lr.intercept_[0])


def _sigmoid(t: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-t))


def prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def choose_threshold(scores: np.ndarray, y: np.ndarray, framing: np.ndarray, max_framing_fp: float,
                     tolerance: float = 0.01) -> float:
    """The decision threshold, from out-of-fold calibrated scores of the training split.

    Candidates are 0.05, 0.06, … 0.95 that flag at most ``max_framing_fp`` of the framing
    negatives (when none does, those flagging the fewest). Among the candidates whose F1 is within
    ``tolerance`` of the best, the one closest to 0.5 wins: the F1 curve is flat near its top, a
    difference under a point on ~1,000 messages is noise, and 0.5 is where a calibrated score
    says "more likely than not".
    """
    grid = np.round(np.arange(0.05, 0.96, 0.01), 2)
    n_framing = max(1, int(framing.sum()))
    rows = []
    for t in grid:
        flag = scores >= t
        tp = int((flag & (y == 1)).sum())
        fp = int((flag & (y == 0)).sum())
        fn = int((~flag & (y == 1)).sum())
        rows.append((float(t), prf(tp, fp, fn)[2], (flag & framing).sum() / n_framing))
    allowed = [r for r in rows if r[2] <= max_framing_fp] or [r for r in rows if r[2] <= min(x[2] for x in rows)]
    best = max(f for _, f, _ in allowed)
    near = [t for t, f, _ in allowed if f >= best - tolerance]
    return float(round(min(near, key=lambda t: (abs(t - 0.5), t)), 2))


BAND_LOW = (0.01, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3)
BAND_HIGH = (0.8, 0.85, 0.9, 0.95, 0.98, 0.99, 1.01)    # 1.01: every score above ``low`` goes to the encoder
BAND_TOLERANCE = 0.005                             # F1 the cascade may give up against "always encode"


def _oof_decisions(d: Design, E: np.ndarray | None, cfg: TrainConfig, folds: int) -> np.ndarray:
    """Out-of-fold decisions z of every candidate (folds grouped by family); with the encoder if ``E``."""
    from sklearn.model_selection import StratifiedGroupKFold

    z = np.zeros(len(d.y))
    if folds < 2:
        return z
    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=cfg.seed)
    inputs = semantic_inputs(E, d, cfg) if E is not None else None
    for tr, te in splitter.split(d.X, d.y, d.groups):
        Xtr, Xte = d.X[tr], d.X[te]
        if inputs is not None:
            col_tr, col_te, _ = semantic_column(inputs, d.y, d.groups, cfg, tr, te, weight=d.weight)
            Xtr, Xte = np.column_stack([Xtr, col_tr]), np.column_stack([Xte, col_te])
        predict, _, _ = _fit(Xtr, [d.texts[i] for i in tr], d.y[tr], cfg, d.weight[tr])
        z[te] = predict(Xte, [d.texts[i] for i in te])
    return z


def _final_params(d: Design, E: np.ndarray | None, cfg: TrainConfig, calibration: tuple[float, float],
                  threshold: float) -> dict[str, Any]:
    """One stage's model fitted on every candidate (the encoder's read-out too, when ``E`` is given)."""
    X, names, semantic = d.X, list(d.names), None
    if E is not None:
        every = np.arange(len(d.y))
        col, _, readout = semantic_column(semantic_inputs(E, d, cfg), d.y, d.groups, cfg, every, every[:0],
                                          weight=d.weight)
        X, names = np.column_stack([X, col]), [*names, "semantic"]
        semantic = _readout_params(readout, d.names, cfg)
    _, clf, vec = _fit(X, d.texts, d.y, cfg, d.weight)
    coef = clf.coef_[0]
    params: dict[str, Any] = {
        "features": names, "coef": [float(c) for c in coef[:len(names)]],
        "intercept": float(clf.intercept_[0]),
        "calibration": {"method": "sigmoid", "a": calibration[0], "b": calibration[1]},
        "threshold": threshold, "ngrams": None, "semantic": semantic,
    }
    if vec is not None:
        vocab = sorted(vec.vocabulary_.items(), key=lambda kv: kv[1])
        params["ngrams"] = {
            "n_min": cfg.ngram_min, "n_max": cfg.ngram_max,
            "vocab": [g for g, _ in vocab], "idf": [float(x) for x in vec.idf_],
            "coef": [float(c) * cfg.ngram_scale for c in coef[len(names):]],
        }
    return params


def _readout_params(readout: Any, names: list[str], cfg: TrainConfig) -> dict[str, Any]:
    """The fitted read-out as plain numbers: weights (linear) or support vectors (rbf)."""
    from haris.detect.encoder import NAME

    if cfg.semantic_kernel == "linear":
        return {"encoder": NAME, "kernel": "linear", "coef": [float(c) for c in readout.coef_[0]],
                "intercept": float(readout.intercept_[0])}
    atoms = [names[i] for i in semantic_atom_columns(names)] if cfg.semantic_atoms else []
    # float16 with 7 mantissa bits (see short_float16): the file stays under 5 MB as the corpus grows
    return {"encoder": NAME, "kernel": "rbf", "gamma": float(readout.gamma),
            "atoms": atoms, "atom_scale": float(cfg.semantic_atoms),
            "support": short_float16(readout.support_vectors_),
            "dual_coef": readout.dual_coef_[0].astype(np.float32),
            "intercept": float(readout.intercept_[0])}


SUPPORT_MANTISSA_BITS = 7   # of float16's 10: relative precision 2^-8


def short_float16(a: np.ndarray, bits: int = SUPPORT_MANTISSA_BITS) -> np.ndarray:
    """``a`` as float16 rounded to ``bits`` mantissa bits (to nearest; the dropped bits are zero).

    The support vectors are most of the model file, and the low byte of a float16 hardly
    compresses; with 3 of its bits zero it does. Each value moves by at most 2^-8 of itself
    ({0, 0.25} atoms not at all); scores moved by at most 0.005 on 4,000 dev messages, no flag
    changed (docs/detection.md, training step 5).
    """
    drop = 10 - bits
    h = np.ascontiguousarray(a, dtype=np.float16).view(np.uint16)
    rounded = (h.astype(np.uint32) + (1 << (drop - 1))) & ~np.uint32((1 << drop) - 1)
    return rounded.astype(np.uint16).view(np.float16)


def choose_band(first: np.ndarray, second: np.ndarray, index: np.ndarray, y_all: np.ndarray,
                framing: np.ndarray, cfg: TrainConfig) -> tuple[tuple[float, float], np.ndarray, float]:
    """The uncertain band of the first stage whose messages the second stage (the encoder) rescores.

    ``first`` and ``second`` are out-of-fold calibrated scores of the candidates. Every band of the
    grid is scored as the cascade would (threshold chosen as for the shipped model); the band that
    sends the FEWEST candidates to the encoder while keeping F1 within ``BAND_TOLERANCE`` of
    "always encode" wins. Returns the band, the cascade's candidate scores and the share encoded.
    """
    def cascade_f1(low: float, high: float) -> tuple[float, np.ndarray, float]:
        inside = (first >= low) & (first < high)
        scores = np.where(inside, second, first)
        every = np.zeros(len(y_all))
        every[index] = scores
        t = choose_threshold(every, y_all, framing, cfg.max_framing_fp)
        flag = every >= t
        f1 = prf(int((flag & (y_all == 1)).sum()), int((flag & (y_all == 0)).sum()),
                 int((~flag & (y_all == 1)).sum()))[2]
        return f1, scores, float(inside.mean()) if len(inside) else 0.0

    reference = cascade_f1(0.0, 2.0)[0]
    best: tuple[float, tuple[float, float], np.ndarray] | None = None
    for low in BAND_LOW:
        for high in BAND_HIGH:
            f1, scores, share = cascade_f1(low, high)
            if f1 >= reference - BAND_TOLERANCE and (best is None or share < best[0]):
                best = (share, (low, high), scores)
    if best is None:        # no band keeps F1: encode every candidate
        return (0.0, 2.0), second, 1.0
    return best[1], best[2], best[0]


def fit_policy(items: list[Labelled], views: list[MessageView], policy: str, cfg: TrainConfig
               ) -> tuple[dict[str, Any], dict[str, Any]]:
    """Params of one policy's model (one stage, or two with the encoder) and its out-of-fold report."""
    d = design(items, views, policy, None if cfg.atoms else {"rule_logit"}, cfg.framing_weight, cfg.everyday_weight)
    if len(set(d.y.tolist())) < 2:
        raise InputError("training data", f"no positive or no negative candidate for {policy!r}",
                         expected=f"messages labelled {policy!r} and benign messages that share its words")
    folds = min(cfg.folds, len(set(d.groups.tolist())), int(d.y.sum()), int((1 - d.y).sum()))
    y_all = np.array([1 if policy in it.labels else 0 for it in items])
    framing = np.array([it.framing_negative for it in items])
    z_first = _oof_decisions(d, None, cfg, folds)
    cal_first = _platt(z_first, d.y)
    scores = _sigmoid(cal_first[0] * z_first + cal_first[1])
    E = band = cal_second = None
    share = 0.0
    if cfg.semantic:
        from haris.detect.encoder import embed_many

        E = embed_many(d.originals)
        z_second = _oof_decisions(d, E, cfg, folds)
        cal_second = _platt(z_second, d.y)
        band, scores, share = choose_band(scores, _sigmoid(cal_second[0] * z_second + cal_second[1]),
                                          d.index, y_all, framing, cfg)
    # scores over the WHOLE corpus (non-candidates score 0) for the threshold and the report
    all_scores = np.zeros(len(items))
    all_scores[d.index] = scores
    threshold = choose_threshold(all_scores, y_all, framing, cfg.max_framing_fp)
    params = _final_params(d, None, cfg, cal_first, threshold)
    if E is not None and band is not None and cal_second is not None:
        params["second_stage"] = {**_final_params(d, E, cfg, cal_second, threshold), "band": list(band)}
    report = _oof_report(items, all_scores, y_all, framing, threshold)
    report["candidates"] = int(len(d.y))
    if band is not None:
        report["second_stage"] = {"band": list(band), "share_of_candidates": round(share, 4)}
    return params, report


def _oof_report(items: list[Labelled], scores: np.ndarray, y: np.ndarray, framing: np.ndarray,
                threshold: float) -> dict[str, Any]:
    flag = scores >= threshold
    out: dict[str, Any] = {}
    for lang in [None, *sorted({it.lang or "und" for it in items})]:
        m = np.array([lang is None or (it.lang or "und") == lang for it in items])
        tp = int((flag & (y == 1) & m).sum())
        fp = int((flag & (y == 0) & m).sum())
        fn = int((~flag & (y == 1) & m).sum())
        p, r, f1 = prf(tp, fp, fn)
        out[lang or "all"] = {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f1, 4),
                              "tp": tp, "fp": fp, "fn": fn}
    n_framing = int(framing.sum())
    out["framing_negatives_flagged"] = round(float((flag & framing).sum()) / n_framing, 4) if n_framing else None
    # ordinary posts (classifieds, bookings, chat): on a real stream they outnumber everything else
    everyday = np.array([it.kind == "easy_negative" for it in items])
    out["everyday_negatives_flagged"] = (round(float((flag & everyday).sum()) / int(everyday.sum()), 4)
                                         if everyday.any() else None)
    return out


def _array_digest(a: Any) -> str:
    """How the version hash reads the read-out's arrays (support vectors): their dtype, shape and bytes."""
    if isinstance(a, np.ndarray):
        return f"{a.dtype}{a.shape}:" + hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()
    raise TypeError(f"{type(a).__name__} is not part of a model")


def data_fingerprint() -> str:
    """sha256 over the lexicon and rule files the features are computed with.

    Stored in the model: a model trained with other lexicons or rules is stale (tests/detect checks
    that the shipped model matches the shipped data; `make model` refreshes it).
    """
    base = Path(__file__).parent / "data"
    h = hashlib.sha256()
    for f in sorted([*base.glob("lexicons/**/*.yaml"), *base.glob("rules/*.yaml")]):
        h.update(f.relative_to(base).as_posix().encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()


def corpus_sha256(paths: list[Path]) -> str:
    """SHA-256 of the training files' bytes, in the order given (what the model records)."""
    h = hashlib.sha256()
    for p in paths:
        h.update(p.read_bytes())
    return h.hexdigest()


def read_corpus(files: list[Path]) -> list[Labelled]:
    """The labelled records of several files as one corpus; a record id found twice is an error."""
    items: list[Labelled] = []
    seen: set[str] = set()
    for f in files:
        for it in read_labelled(f):
            if it.id in seen:     # the same file twice, or two files that overlap: counted twice otherwise
                raise InputError(str(f), f"record id {it.id!r} is already in the training data", line=it.line)
            seen.add(it.id)
            items.append(it)
    return items


def train(paths: str | Path | list[str | Path], out_dir: str | Path, cfg: TrainConfig = TrainConfig(),
          progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Train on one or more labelled JSONL files and write the artifact; return the out-of-fold report."""
    files = [Path(p) for p in (paths if isinstance(paths, list) else [paths])]
    out_dir = Path(out_dir)
    items = read_corpus(files)
    say = progress or (lambda _m: None)
    say(f"analysing {len(items)} messages")
    views = analyse_corpus(items)
    corpus_sha = corpus_sha256(files)
    policies: dict[str, Any] = {}
    reports: dict[str, Any] = {}
    for policy in POLICIES:
        say(f"fitting {policy}")
        policies[policy], reports[policy] = fit_policy(items, views, policy, cfg)
    data_sha = data_fingerprint()
    # the fitted numbers are part of the version: the same data fitted by other code is another model
    version = hashlib.sha256((corpus_sha + data_sha + json.dumps(asdict(cfg), sort_keys=True)
                              + json.dumps(policies, sort_keys=True, default=_array_digest)).encode()).hexdigest()[:12]
    meta = {"trained_on": "+".join(f.name for f in files), "corpus_sha256": corpus_sha, "data_sha256": data_sha,
            "messages": len(items), "config": asdict(cfg), "out_of_fold": reports}
    artifact = {"format": FORMAT, "version": version, "meta": meta, "policies": policies}
    out_dir.mkdir(parents=True, exist_ok=True)
    write_artifact(artifact, out_dir / MODEL_FILE)
    summary = {"version": version, "meta": meta,
               "thresholds": {p: policies[p]["threshold"] for p in POLICIES},
               "weights": {p: dict(zip(policies[p]["features"], [round(c, 4) for c in policies[p]["coef"]]))
                           for p in POLICIES}}
    (out_dir / "messages.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2) + "\n",
                                           encoding="utf-8")
    return summary
