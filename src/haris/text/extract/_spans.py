"""A set of non-overlapping [start, end) spans with logarithmic overlap checks.

Extractors take candidates in order of preference and keep those that do not overlap what was
already kept; with thousands of candidates in a large text a list scan would be quadratic.
"""
from __future__ import annotations

from bisect import bisect_right


class SpanSet:
    """Non-overlapping spans.

    >>> s = SpanSet()
    >>> s.add(0, 5)
    >>> s.overlaps(4, 6), s.overlaps(5, 6)
    (True, False)
    """

    __slots__ = ("_starts", "_ends")

    def __init__(self) -> None:
        self._starts: list[int] = []
        self._ends: list[int] = []

    def overlaps(self, start: int, end: int) -> bool:
        i = bisect_right(self._starts, start)
        if i > 0 and self._ends[i - 1] > start:
            return True
        return i < len(self._starts) and self._starts[i] < end

    def add(self, start: int, end: int) -> None:
        """Add a span (the caller has checked that it does not overlap)."""
        i = bisect_right(self._starts, start)
        self._starts.insert(i, start)
        self._ends.insert(i, end)

    def try_add(self, start: int, end: int) -> bool:
        """Add the span unless it overlaps; say whether it was added."""
        if self.overlaps(start, end):
            return False
        self.add(start, end)
        return True
