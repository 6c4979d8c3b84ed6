"""The trained layer: a calibrated logistic regression per policy over rule and text features.

For each policy the score of a candidate message is::

    z     = intercept + Σ coef[f] · feature[f]            (role/structure features, features.py)
              + coef[semantic] · σ(w · embedding + w0)      (sentence-encoder read-out, optional)
              + Σ coef[g] · tfidf[g]                        (character n-grams of the matching text)
    score = 1 / (1 + exp(-(a · z + b)))                     (Platt calibration)

``semantic`` is a linear read-out of the multilingual sentence embedding of the ORIGINAL text
(:mod:`haris.detect.encoder`), itself fitted on the training split: how much the message reads
like the policy's positives in any language, for the phrasings no lexicon entry covers.

The encoder costs ~4 ms a message (~0.8 ms in a batch), the rest a few microseconds, so a policy
is scored in two stages (a cascade): the first stage is the model WITHOUT ``semantic``; only
when its score falls inside the uncertain band ``[low, high)`` chosen in training is the message
encoded and scored by the second stage, the model WITH it. A message the first stage finds
clearly benign (most candidates of a stream) or clearly violating keeps the first stage's score.

``coef`` and ``intercept`` are fitted by :mod:`haris.detect.train` on the training split;
``a``/``b`` are fitted on out-of-fold decisions of that split (folds grouped by scenario family),
so the score is a probability for messages of scenarios the model has not seen. The artifact is
a plain dict of numbers and strings (no pickled estimator), so inference needs neither
scikit-learn nor its version, and costs a few microseconds per candidate.

The shipped artifact (``models/messages.joblib``) is loaded lazily, once per process.
"""
from __future__ import annotations

import math
import threading
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from haris.errors import ConfigError

MODEL_DIR = Path(__file__).parent / "models"
MODEL_FILE = "messages.joblib"
FORMAT = 1
NGRAM_HEAD, NGRAM_TAIL = 3_000, 1_000   # characters of a message the n-gram features read


def char_wb_ngrams(text: str, n_min: int, n_max: int) -> list[str]:
    """Character n-grams inside space-padded words (scikit-learn's ``char_wb``), bounded input."""
    if len(text) > NGRAM_HEAD + NGRAM_TAIL:
        text = text[:NGRAM_HEAD] + " " + text[-NGRAM_TAIL:]
    out: list[str] = []
    for word in text.split():
        w = f" {word} "
        lw = len(w)
        for n in range(n_min, n_max + 1):
            if n > lw:
                break
            out.extend(w[i:i + n] for i in range(lw - n + 1))
    return out


def _sigmoid(t: float) -> float:
    """1 / (1 + e^-t) without overflow for large |t|."""
    if t >= 0:
        return 1.0 / (1.0 + math.exp(-t))
    e = math.exp(t)
    return e / (1.0 + e)


@dataclass(slots=True)
class Contribution:
    feature: str
    value: float
    weight: float   # coef · value: what the feature added to the decision z


class PolicyModel:
    """One policy's fitted weights, n-gram vocabulary and calibration."""

    def __init__(self, policy: str, params: dict[str, Any]):
        self.policy = policy
        second = params.get("second_stage")
        # the cascade (see the module's doc): the model with the encoder, for scores in [low, high)
        self.second_stage: PolicyModel | None = None
        self.band: tuple[float, float] = (1.0, 1.0)
        if second:
            self.second_stage = PolicyModel(policy, {**second, "threshold": params["threshold"]})
            self.band = (float(second["band"][0]), float(second["band"][1]))
        self.features: list[str] = list(params["features"])
        self.coef: dict[str, float] = {f: float(c) for f, c in zip(self.features, params["coef"])}
        self.intercept = float(params["intercept"])
        cal = params["calibration"]
        self.cal_a, self.cal_b = float(cal["a"]), float(cal["b"])
        self.threshold = float(params["threshold"])
        ng = params.get("ngrams")
        self.ngram_range: tuple[int, int] | None = None
        self.ngram_weight: dict[str, float] = {}
        if ng:
            self.ngram_range = (int(ng["n_min"]), int(ng["n_max"]))
            # idf · coef folded into one number per n-gram: z gets Σ tf·w / ‖tf·idf‖
            self.ngram_idf: dict[str, float] = dict(zip(ng["vocab"], map(float, ng["idf"])))
            self.ngram_weight = {g: float(c) for g, c in zip(ng["vocab"], ng["coef"])}
        sem = params.get("semantic")
        self.semantic: tuple[list[float], float] | None = None
        if sem:
            from haris.detect import encoder

            if sem.get("encoder") != encoder.NAME or len(sem["coef"]) != encoder.DIMENSIONS:
                raise ConfigError(f"{policy}: the model's semantic read-out was fitted with encoder "
                                  f"{sem.get('encoder')!r}, this build has {encoder.NAME!r}; retrain it")
            self.semantic = ([float(c) for c in sem["coef"]], float(sem["intercept"]))

    def semantic_value(self, original: str) -> float:
        """σ(w · embedding(original) + w0): the read-out of the sentence encoder, in [0, 1]."""
        assert self.semantic is not None
        import numpy as np

        from haris.detect.encoder import embed

        w, w0 = self.semantic
        return _sigmoid(float(np.dot(embed(original), w)) + w0)

    def ngram_vector(self, text: str) -> dict[str, float]:
        """L2-normalized tf-idf of the n-grams in the vocabulary (as the training vectorizer)."""
        assert self.ngram_range is not None
        counts = Counter(g for g in char_wb_ngrams(text, *self.ngram_range) if g in self.ngram_idf)
        vec = {g: c * self.ngram_idf[g] for g, c in counts.items()}
        norm = math.sqrt(sum(x * x for x in vec.values()))
        return {g: x / norm for g, x in vec.items()} if norm else {}

    def decision(self, features: dict[str, float], text: str,
                 original: str | None = None) -> tuple[float, list[Contribution]]:
        if self.semantic is not None:
            features = {**features, "semantic": self.semantic_value(original if original is not None else text)}
        z = self.intercept
        contribs: list[Contribution] = []
        for name, value in features.items():
            c = self.coef.get(name)
            if c is not None and value:
                z += c * value
                contribs.append(Contribution(name, value, c * value))
        if self.ngram_range is not None:
            vec = self.ngram_vector(text)
            zs = sum(self.ngram_weight[g] * x for g, x in vec.items())
            z += zs
            if vec:
                contribs.append(Contribution("char_ngrams", 1.0, zs))
        return z, contribs

    def calibrate(self, z: float) -> float:
        return _sigmoid(self.cal_a * z + self.cal_b)

    def needs_second_stage(self, features: dict[str, float], text: str) -> bool:
        """Whether the first stage's score falls in the uncertain band (the encoder will be asked)."""
        if self.second_stage is None:
            return False
        return self.band[0] <= self.calibrate(self.decision(features, text)[0]) < self.band[1]

    def score(self, features: dict[str, float], text: str,
              original: str | None = None) -> tuple[float, list[Contribution]]:
        """Calibrated score of a candidate: ``text`` is the matching text, ``original`` what was posted."""
        z, contribs = self.decision(features, text, original)
        score = self.calibrate(z)
        if self.second_stage is not None and self.band[0] <= score < self.band[1]:
            return self.second_stage.score(features, text, original)
        return score, contribs


class MessageModel:
    """The per-policy models of one artifact, and where they came from."""

    def __init__(self, data: dict[str, Any], path: Path | None = None):
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise ConfigError(f"{path or 'model'}: not a haris message model (format {FORMAT}); "
                              "retrain it with `haris train`")
        self.path = path
        self.meta: dict[str, Any] = data.get("meta", {})
        self.version: str = str(data.get("version", "0"))
        self.policies = {p: PolicyModel(p, params) for p, params in data["policies"].items()}

    def __getitem__(self, policy: str) -> PolicyModel:
        return self.policies[policy]

    @classmethod
    def load(cls, path: Path) -> "MessageModel":
        import joblib

        if path.is_dir():
            path = path / MODEL_FILE
        if not path.exists():
            raise ConfigError(f"{path}: no message model; build it with `make model` "
                              "(haris train data/corpus/messages/train.jsonl data/corpus/messages/dev.jsonl "
                              "--out src/haris/detect/models/)")
        try:
            data = joblib.load(path)
        except Exception as exc:  # a truncated or foreign file
            raise ConfigError(f"{path}: cannot read the message model: {exc}") from None
        return cls(data, path)


_lock = threading.Lock()
_cache: dict[Path, MessageModel] = {}


def load_model(path: Path | None = None) -> MessageModel:
    """The model at ``path`` (default: the shipped one), loaded once per process."""
    key = (path or MODEL_DIR / MODEL_FILE).resolve()
    model = _cache.get(key)
    if model is None:
        with _lock:
            model = _cache.get(key)
            if model is None:
                model = _cache[key] = MessageModel.load(key)
    return model
