"""The trained layer: a calibrated logistic regression per policy over rule and text features.

For each policy the score of a candidate message is::

    z     = intercept + Σ coef[f] · feature[f]            (role/structure features, features.py)
              + coef[semantic] · semantic                   (sentence-encoder read-out, optional)
              + Σ coef[g] · tfidf[g]                        (character n-grams of the matching text)
    score = 1 / (1 + exp(-(a · z + b)))                     (Platt calibration)

``semantic`` is a read-out of the multilingual sentence embedding of the ORIGINAL text
(:mod:`haris.detect.encoder`), itself fitted on the training split: how much the message reads
like the policy's positives in any language, for the phrasings no lexicon entry covers. The
shipped read-out is a support-vector machine (rbf kernel) over the embedding and the role atoms
(:class:`SemanticReadout`); a linear one (512 weights) is the other option of ``haris train``.

The encoder costs ~4 ms a message (~0.8 ms in a batch), the rest a few microseconds, so a policy
is scored in two stages (a cascade): the first stage is the model WITHOUT ``semantic``; only
when its score falls inside the uncertain band ``[low, high)`` chosen in training is the message
encoded and scored by the second stage, the model WITH it. A message the first stage finds
clearly benign (most candidates of a stream) or clearly violating keeps the first stage's score.

``coef`` and ``intercept`` are fitted by :mod:`haris.detect.train` on the training split;
``a``/``b`` are fitted on out-of-fold decisions of that split (folds grouped by scenario family),
so the score is a probability for messages of scenarios the model has not seen. The artifact is
a plain dict of numbers, strings and NumPy arrays (the support vectors; no pickled estimator), so
inference needs neither scikit-learn nor its version: a few microseconds per candidate for the
first stage, the encoder and one kernel product for the second.

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


def write_artifact(artifact: dict[str, Any], path: Path) -> None:
    """Write a model artifact (``haris train``); :meth:`MessageModel.load` reads it back.

    The float16 support vectors go into the file as two byte planes, the high bytes (sign and
    exponent: they compress) apart from the low ones (they hardly do), lzma-compressed: ~12%
    smaller than the float16 arrays under zlib. Every retrain is a new blob in git, and the file
    must stay under 5 MB. The arrays read back are the same bits.
    """
    import joblib

    joblib.dump(_with_support(artifact, _byte_planes, "support", "support_planes"), path, compress=("lzma", 6))


def _with_support(data: dict[str, Any], convert: Any, old: str, new: str) -> dict[str, Any]:
    """``data`` with each second stage's ``semantic[old]`` replaced by ``semantic[new] = convert(...)``."""
    policies = {}
    for name, params in data["policies"].items():
        second = params.get("second_stage") or {}
        sem = second.get("semantic")
        if sem and old in sem:
            sem = {**{k: v for k, v in sem.items() if k != old}, new: convert(sem[old])}
            params = {**params, "second_stage": {**second, "semantic": sem}}
        policies[name] = params
    return {**data, "policies": policies}


def _byte_planes(support: Any) -> Any:
    import numpy as np

    a = np.ascontiguousarray(support, dtype=np.float16)
    return np.ascontiguousarray(a.view(np.uint8).reshape(*a.shape, 2).transpose(2, 0, 1))


def _from_byte_planes(planes: Any) -> Any:
    import numpy as np

    return np.ascontiguousarray(planes.transpose(1, 2, 0)).view(np.float16).reshape(planes.shape[1:])
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


class SemanticReadout:
    """``semantic``: how much a message reads like the policy's positives, from its sentence embedding.

    ``linear``: σ(w · e + w0) over the 512-dimension embedding ``e``. ``rbf``: a support-vector
    machine over ``x = [e, atom_scale · clip(atoms, 0, 1)]``, σ(Σᵢ αᵢ · exp(−γ‖x − svᵢ‖²) + w0):
    the message is compared with the training messages on the margin, by meaning and by the roles
    the lexicons found, so a phrasing near an unseen scenario's neighbours counts even when no
    single direction of the embedding separates it. One message costs one matrix-vector product
    with the support vectors (~0.35 ms for the ~3,400 of trafficking; ~0.1 ms a message in a chunk).
    """

    def __init__(self, policy: str, sem: dict[str, Any]):
        import numpy as np

        from haris.detect import encoder

        self.kernel = str(sem.get("kernel", "linear"))
        if self.kernel not in ("linear", "rbf"):
            raise ConfigError(f"{policy}: unknown semantic read-out kernel {self.kernel!r}; retrain it")
        width = len(sem["coef"]) if self.kernel == "linear" else np.shape(sem["support"])[1] - len(sem["atoms"])
        if sem.get("encoder") != encoder.NAME or width != encoder.DIMENSIONS:
            raise ConfigError(f"{policy}: the model's semantic read-out was fitted with encoder "
                              f"{sem.get('encoder')!r}, this build has {encoder.NAME!r}; retrain it")
        self.intercept = float(sem["intercept"])
        self.dimensions = encoder.DIMENSIONS
        self._local = threading.local()     # this thread's values of its last prefetched chunk
        if self.kernel == "linear":
            self.coef = np.asarray(sem["coef"], dtype=np.float64)
            return
        self.atoms: list[str] = list(sem["atoms"])
        self.atom_scale = float(sem["atom_scale"])
        self.gamma = float(sem["gamma"])
        support = np.asarray(sem["support"], dtype=np.float64)
        self.support_t = np.ascontiguousarray(support.T)          # (dimensions, vectors): x @ support_t
        self.support_sq = (support ** 2).sum(axis=1)
        self.dual_coef = np.asarray(sem["dual_coef"], dtype=np.float64)

    def value(self, embedding: Any, features: dict[str, float], text: str | None = None) -> float:
        """The read-out of one message (``text``: its key in this thread's :meth:`prefetch`, if any)."""
        import numpy as np

        if self.kernel == "linear":
            return _sigmoid(float(np.dot(embedding, self.coef)) + self.intercept)
        x = self._inputs(np.asarray(embedding, dtype=np.float64)[None, :], [features])
        ready = getattr(self._local, "prefetched", {}).get(self._key(text, x[0])) if text is not None else None
        return ready if ready is not None else float(self._values(x)[0])

    def prefetch(self, texts: list[str], embeddings: Any, features: list[dict[str, float]]) -> None:
        """Score the messages of a chunk in one matrix product, for this thread's next :meth:`value` calls.

        One message at a time the kernel reads every support vector (~16 MB) for one product; a
        chunk reads them once. Replaces the previous prefetch, so memory stays bounded.
        """
        if self.kernel != "rbf" or not texts:
            self._local.prefetched = {}
            return
        x = self._inputs(embeddings, features)
        self._local.prefetched = {self._key(t, row): float(v) for t, row, v in zip(texts, x, self._values(x))}

    def _key(self, text: str, row: Any) -> tuple[str, bytes]:
        """A prefetched value's key: the text the encoder read and the atoms beside its embedding."""
        return text, row[self.dimensions:].tobytes()

    def _inputs(self, embeddings: Any, features: list[dict[str, float]]) -> Any:
        import numpy as np

        atoms = np.array([[f.get(a, 0.0) for a in self.atoms] for f in features],
                         dtype=np.float64).reshape(len(features), len(self.atoms))
        np.clip(atoms, 0.0, 1.0, out=atoms)
        atoms *= self.atom_scale
        return np.column_stack([np.asarray(embeddings, dtype=np.float64), atoms])

    def _values(self, x: Any) -> Any:
        import numpy as np

        # float64: a message's value must not depend on the chunk it is scored in (float32 sums
        # differ by ~1e-6 between a batch and a single row, enough to move a rounded score)
        x = np.asarray(x, dtype=np.float64)
        with _one_blas_thread():    # the engines run one analyser per core
            k = x @ self.support_t            # −2·x·sv, then ‖x − sv‖², then the kernel, in place
            k *= -2.0
            k += self.support_sq
            k += (x * x).sum(axis=1)[:, None]
            np.maximum(k, 0.0, out=k)
            k *= -self.gamma
            np.exp(k, out=k)
            z = k @ self.dual_coef + self.intercept
        return 1.0 / (1.0 + np.exp(-z))


_blas_limit: Any = None
MAX_ASKED = 10_000   # first-stage decisions kept between needs_second_stage and score (two chunks)


def _one_blas_thread() -> Any:
    """A context limiting BLAS to one thread (threadpoolctl, as the encoder does)."""
    global _blas_limit
    if _blas_limit is None:
        from threadpoolctl import ThreadpoolController

        _blas_limit = ThreadpoolController()
    return _blas_limit.limit(limits=1, user_api="blas")


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
        self.semantic: SemanticReadout | None = SemanticReadout(policy, sem) if sem else None
        # first-stage decisions made by needs_second_stage (an engine asks it for a whole chunk
        # before scoring each message), taken back by score: the n-grams are read once, not twice.
        # Keyed by the atoms' identity; the entry holds the atoms, so the key cannot be reused.
        self._asked: dict[int, tuple[dict[str, float], str, tuple[float, list[Contribution]]]] = {}

    def semantic_value(self, original: str, features: dict[str, float] | None = None) -> float:
        """The read-out of the sentence encoder (and the role atoms, rbf), in [0, 1]."""
        assert self.semantic is not None
        from haris.detect.encoder import embed, text_key

        return self.semantic.value(embed(original), features or {}, text_key(original))

    def prefetch_semantic(self, originals: list[str], features: list[dict[str, float]]) -> None:
        """Compute the second stage's read-out of a chunk's messages at once (their embeddings
        prefetched by :func:`haris.detect.encoder.prefetch`); an empty chunk drops the last one's."""
        readout = self.second_stage.semantic if self.second_stage is not None else None
        if readout is None:
            return
        from haris.detect.encoder import embed_prefetched, text_key

        keys = [text_key(t) for t in originals]
        readout.prefetch(keys, embed_prefetched(keys), features)

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
            features = {**features,
                        "semantic": self.semantic_value(original if original is not None else text, features)}
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
        first = self.decision(features, text)
        if len(self._asked) >= MAX_ASKED:   # a caller that asks and never scores: stay bounded
            self._asked.clear()
        self._asked[id(features)] = (features, text, first)
        return self.band[0] <= self.calibrate(first[0]) < self.band[1]

    def score(self, features: dict[str, float], text: str,
              original: str | None = None) -> tuple[float, list[Contribution]]:
        """Calibrated score of a candidate: ``text`` is the matching text, ``original`` what was posted."""
        asked = self._asked.pop(id(features), None)
        if asked is not None and asked[0] is features and asked[1] == text:
            z, contribs = asked[2]
        else:
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
        data = _with_support(data, _from_byte_planes, "support_planes", "support")
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
                              "(haris train data/corpus/messages/train.jsonl and the dev split's files "
                              "dev.jsonl, dev.2.jsonl… --out src/haris/detect/models/)")
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
