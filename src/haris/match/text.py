"""Near-duplicate text: known propaganda and sale posts found again after edits.

A text is reduced to a *matching key*: URLs and @handles removed (so a changed
channel link does not count as a difference), the text stage's matching
normalization applied (:func:`haris.text.normalize.for_matching`: case, Arabic
letter variants, diacritics, look-alike letters, leetspeak, spaced-out
letters), then everything that is not a letter or a digit (emoji,
punctuation) dropped. The key is cut into overlapping character shingles
(5 characters by default), and two texts are compared by the Jaccard
similarity of their shingle sets.

Search uses MinHash LSH (datasketch) to find candidates among the bank's texts,
then computes the exact Jaccard similarity of each candidate's shingle set
with the query's: only candidates at or above the threshold are returned, with
that similarity.

    >>> index = TextIndex(threshold=0.5)
    >>> index.add([(1, "Join the example channel now, new posts daily https://t.me/example_a")])
    1
    >>> index.query("JOIN the example channel now!! 🔥 new posts daily https://t.me/example_b")
    [(1, 1.0)]
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
from functools import lru_cache
from pathlib import Path

import numpy as np
import regex

DEFAULT_THRESHOLD = 0.5
DEFAULT_SHINGLE = 5
NUM_PERM = 128
SCHEME = "affine32"   # datasketch's MinHash scheme; signatures of different schemes do not compare
FORMAT_VERSION = 1

_URL = regex.compile(r"(?:https?://|www\.|tg://)\S+|\b[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}/\S*", regex.IGNORECASE)
_HANDLE = regex.compile(r"(?<![\w@])@[\w.]+")
_NOT_WORD = regex.compile(r"[^\p{L}\p{N}\s]+")
_SPACES = regex.compile(r"\s+")


@lru_cache(maxsize=1)
def _for_matching():
    try:
        from haris.text.normalize import for_matching
    except ImportError:   # the text stage is not installed: case and compatibility forms only
        import unicodedata
        return lambda text: unicodedata.normalize("NFKC", text).casefold()
    return lambda text: for_matching(text).text


def _normalize(text: str) -> str:
    return _for_matching()(text)


def matching_key(text: str) -> str:
    """The text with links and handles removed, normalized, letters and digits only, single-spaced."""
    text = _HANDLE.sub(" ", _URL.sub(" ", text or ""))
    text = _NOT_WORD.sub(" ", _normalize(text))
    return _SPACES.sub(" ", text).strip()


def shingles(key: str, size: int = DEFAULT_SHINGLE) -> np.ndarray:
    """Sorted unique 64-bit hashes of the key's character shingles (the key itself when shorter)."""
    if not key:
        return np.empty(0, np.uint64)
    grams = {key[i:i + size] for i in range(max(1, len(key) - size + 1))}
    return np.unique(np.fromiter(
        (int.from_bytes(hashlib.blake2b(g.encode("utf-8"), digest_size=8).digest(), "little") for g in grams),
        dtype=np.uint64, count=len(grams)))


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Exact Jaccard similarity of two sorted unique shingle arrays."""
    if len(a) == 0 or len(b) == 0:
        return 0.0
    inter = len(np.intersect1d(a, b, assume_unique=True))
    return inter / (len(a) + len(b) - inter)


def _low32(b: bytes) -> int:
    # MinHash wants a 32-bit hash per item; the shingle hashes are already uniform 64-bit values.
    return int.from_bytes(b[:4], "little")


class TextIndex:
    """Near-duplicate search over a bank's texts, by exact Jaccard similarity of shingle sets."""

    def __init__(self, threshold: float = DEFAULT_THRESHOLD, shingle_size: int = DEFAULT_SHINGLE,
                 num_perm: int = NUM_PERM):
        from datasketch import MinHash, MinHashLSH

        if not 0 < threshold <= 1:
            raise ValueError(f"similarity threshold must be in (0, 1], got {threshold}")
        self.threshold, self.shingle_size, self.num_perm = float(threshold), int(shingle_size), int(num_perm)
        self._template = MinHash(num_perm=self.num_perm, seed=1, hashfunc=_low32, scheme=SCHEME)
        # Candidates are drawn a little below the threshold: LSH is probabilistic, the
        # exact Jaccard check that follows is not.
        self._lsh = MinHashLSH(threshold=max(0.1, self.threshold - 0.15), num_perm=self.num_perm)
        self._shingles: dict[int, np.ndarray] = {}
        self._signatures: dict[int, np.ndarray] = {}
        self.meta: dict = {}        # the owner's notes, saved with the index

    def __len__(self) -> int:
        return len(self._shingles)

    def _signature(self, sh: np.ndarray) -> np.ndarray:
        from datasketch import MinHash

        m = MinHash(num_perm=self.num_perm, seed=1, hashfunc=_low32,
                    permutations=self._template.permutations, scheme=SCHEME)
        m.update_batch([int(v).to_bytes(8, "little") for v in sh])
        return m.hashvalues

    def _insert(self, entry_id: int, sh: np.ndarray, sig: np.ndarray) -> None:
        from datasketch import LeanMinHash

        if entry_id in self._shingles:
            return
        self._shingles[entry_id], self._signatures[entry_id] = sh, sig
        self._lsh.insert(entry_id, LeanMinHash(seed=1, hashvalues=sig, scheme=SCHEME))

    def add(self, entries: list[tuple[int, str]]) -> int:
        """Add (entry id, text) pairs; texts with no letters or digits left are skipped. Returns how many were added."""
        added = 0
        for entry_id, text in entries:
            sh = shingles(matching_key(text), self.shingle_size)
            if len(sh):
                self._insert(int(entry_id), sh, self._signature(sh))
                added += 1
        return added

    def query(self, text: str, threshold: float | None = None) -> list[tuple[int, float]]:
        """Bank entries whose similarity with ``text`` is at least the threshold: (entry id, similarity), best first."""
        t = self.threshold if threshold is None else threshold
        sh = shingles(matching_key(text), self.shingle_size)
        if not len(sh) or not self._shingles:
            return []
        from datasketch import LeanMinHash

        found = []
        for entry_id in self._lsh.query(LeanMinHash(seed=1, hashvalues=self._signature(sh), scheme=SCHEME)):
            sim = jaccard(sh, self._shingles[entry_id])
            if sim >= t:
                found.append((entry_id, round(sim, 4)))
        return sorted(found, key=lambda x: (-x[1], x[0]))

    # -- persistence (plain arrays: no pickle, so a cache folder cannot run code) ----
    def save(self, folder: str | Path) -> None:
        folder = Path(folder)
        tmp = folder.with_name(f".{folder.name}.tmp-{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        ids = np.fromiter(self._shingles, dtype=np.int64, count=len(self._shingles))
        lengths = np.array([len(self._shingles[i]) for i in ids.tolist()], dtype=np.int64)
        np.save(tmp / "ids.npy", ids)
        np.save(tmp / "lengths.npy", lengths)
        np.save(tmp / "shingles.npy", np.concatenate([self._shingles[i] for i in ids.tolist()])
                if len(ids) else np.empty(0, np.uint64))
        np.save(tmp / "signatures.npy", np.stack([self._signatures[i] for i in ids.tolist()])
                if len(ids) else np.empty((0, self.num_perm), np.uint64))
        (tmp / "index.json").write_text(json.dumps({"format": FORMAT_VERSION, "threshold": self.threshold,
                                                    "shingle_size": self.shingle_size,
                                                    "num_perm": self.num_perm, "meta": self.meta}))
        old = folder.with_name(f".{folder.name}.old-{os.getpid()}")
        if folder.exists():
            folder.rename(old)
        tmp.rename(folder)
        shutil.rmtree(old, ignore_errors=True)

    @classmethod
    def load(cls, folder: str | Path) -> "TextIndex":
        folder = Path(folder)
        meta = json.loads((folder / "index.json").read_text())
        if meta.get("format") != FORMAT_VERSION:
            raise ValueError(f"{folder}: text index format {meta.get('format')}, expected {FORMAT_VERSION}")
        index = cls(meta["threshold"], meta["shingle_size"], meta["num_perm"])
        index.meta = meta.get("meta") or {}
        ids, lengths = np.load(folder / "ids.npy"), np.load(folder / "lengths.npy")
        flat, sigs = np.load(folder / "shingles.npy"), np.load(folder / "signatures.npy")
        ends = np.cumsum(lengths)
        for k, entry_id in enumerate(ids.tolist()):
            index._insert(entry_id, flat[ends[k] - lengths[k]:ends[k]], sigs[k])
        return index
