"""vPDQ matching: a video matches a banked video when enough of their frames match.

As in the vPDQ reference (python-threatexchange's ``vpdq_brute_matcher``):
frames below the quality threshold are dropped and repeated frame hashes are
counted once; a query frame *matches* when some frame of the banked video is
within the PDQ distance (31 by default). Two shares are reported:

* ``query_match_percent``: the share of the query's frames that match some frame of the banked video;
* ``compared_match_percent``: the share of the banked video's frames that match some query frame.

A video is a match when both reach their thresholds (80% and 0% by default,
the reference's defaults: most of the query must come from the banked video,
which may be longer). Every frame of every banked video sits in one
:class:`PDQIndex`, so a query costs one index search, not one comparison per
banked video.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from haris.match.hashing import VideoFrameHash
from haris.match.pdq_index import PDQIndex, codes_from_hex

DEFAULT_QUERY_PERCENT = 80.0
DEFAULT_COMPARED_PERCENT = 0.0


def usable_frames(frames: list[VideoFrameHash], min_quality: int) -> list[str]:
    """Distinct frame hashes of at least ``min_quality``, in order."""
    return list(dict.fromkeys(f.pdq for f in frames if f.quality >= min_quality))


@dataclass(slots=True)
class VideoMatch:
    entry_id: int
    query_match_percent: float
    compared_match_percent: float
    distance: int              # the smallest frame distance


class VideoIndex:
    """The frames of a bank's videos, searchable together."""

    def __init__(self, max_distance: int = 31, min_quality: int = 50):
        self.max_distance, self.min_quality = int(max_distance), int(min_quality)
        self.frames = PDQIndex(max_distance)
        self.frame_entry = np.empty(0, np.int64)       # frame number -> entry id
        self.entry_frames: dict[int, int] = {}         # entry id -> usable frames
        self.meta: dict = {}

    def __len__(self) -> int:
        return len(self.entry_frames)

    def add(self, videos: list[tuple[int, list[VideoFrameHash]]]) -> None:
        """Add (entry id, frames) pairs; a video with no usable frame is left out."""
        hexes, owners = [], []
        for entry_id, frames in videos:
            usable = usable_frames(frames, self.min_quality)
            if usable and entry_id not in self.entry_frames:
                self.entry_frames[int(entry_id)] = len(usable)
                hexes.extend(usable)
                owners.extend([int(entry_id)] * len(usable))
        if not hexes:
            return
        first = len(self.frame_entry)
        self.frame_entry = np.concatenate([self.frame_entry, np.asarray(owners, np.int64)])
        self.frames.add(codes_from_hex(hexes), np.arange(first, first + len(hexes), dtype=np.int64))

    def query(self, frames: list[VideoFrameHash], *, query_percent: float = DEFAULT_QUERY_PERCENT,
              compared_percent: float = DEFAULT_COMPARED_PERCENT, max_distance: int | None = None
              ) -> list[VideoMatch]:
        usable = usable_frames(frames, self.min_quality)
        if not usable or not self.entry_frames:
            return []
        qid, fid, dist = self.frames.search(codes_from_hex(usable), max_distance)
        entries = self.frame_entry[fid]
        found = []
        for entry in np.unique(entries).tolist():
            sel = entries == entry
            q_pct = 100.0 * len(np.unique(qid[sel])) / len(usable)
            c_pct = 100.0 * len(np.unique(fid[sel])) / self.entry_frames[entry]
            if q_pct >= query_percent and c_pct >= compared_percent:
                found.append(VideoMatch(entry, round(q_pct, 2), round(c_pct, 2), int(dist[sel].min())))
        return sorted(found, key=lambda m: (-m.query_match_percent, -m.compared_match_percent, m.entry_id))

    def save(self, folder: str | Path) -> None:
        self.frames.meta = {"owner": self.meta, "min_quality": self.min_quality,
                            "entries": [[k, v] for k, v in self.entry_frames.items()]}
        self.frames.save(folder, extra={"frame_entry": self.frame_entry})

    @classmethod
    def load(cls, folder: str | Path) -> "VideoIndex":
        frames = PDQIndex.load(folder)
        index = cls(frames.max_distance, frames.meta["min_quality"])
        index.frames = frames
        index.frame_entry = np.load(Path(folder) / "frame_entry.npy")
        index.entry_frames = {int(k): int(v) for k, v in frames.meta["entries"]}
        index.meta = frames.meta.get("owner") or {}
        return index

