"""The chunking every engine shares, so that the sentence encoder runs in batches."""
from __future__ import annotations

from haris.engines.core import in_chunks


def test_chunks_keep_order_and_never_come_empty():
    assert [len(c) for c in in_chunks(range(600), 256)] == [256, 256, 88]
    assert [x for c in in_chunks(iter(range(600)), 256) for x in c] == list(range(600))
    assert list(in_chunks([], 256)) == []
