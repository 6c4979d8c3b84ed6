"""Memory stays flat as a Telegram export grows: the reader never holds a chat in memory."""
from __future__ import annotations

import gc
import json
import sys
import tracemalloc

import pytest

from haris import ingest
from haris.model import Message

TEXTS = [
    "Selling my car, 2015 model, $12,500, delivery soon. Call +1 555 0142",
    "عيد ميلاد سعيد لابنتي عمرها ١٢ سنة اليوم",
    "Réunion des parents d'élèves jeudi à 18h, salle 12",
    "New channel after the ban, join t.me/example_backup_7",
]


def write_export(path, n: int, chats: int = 3) -> None:
    """A full export of ``n`` messages in a few big chats, written without holding it in memory."""
    per = n // chats
    with open(path, "w", encoding="utf-8") as fh:
        fh.write('{"about": "synthetic", "personal_information": {"user_id": 1}, "chats": {"list": [\n')
        mid = 0
        for c in range(chats):
            fh.write(("," if c else "") + f'{{"name": "Chat {c}", "type": "private_supergroup", "id": {100 + c}, '
                     '"messages": [\n')
            for i in range(per):
                mid += 1
                text = TEXTS[mid % 4] if mid % 5 else [TEXTS[mid % 4], {"type": "link", "text": "t.me/example_x"}]
                msg = {"id": mid, "type": "message", "date_unixtime": str(1709287200 + mid),
                       "from": f"User {mid % 300}", "from_id": f"user{mid % 300}", "text": text}
                if mid % 10 == 0:
                    msg["reply_to_message_id"] = mid - 1
                fh.write(("," if i else "") + json.dumps(msg, ensure_ascii=False) + "\n")
            fh.write("]}")
        fh.write("]}}\n")


def read_and_measure(path, trace_from: int) -> tuple[int, int, list[int]]:
    """Read ``path`` keeping nothing: (messages, peak traced bytes, live memory blocks at checkpoints).

    tracemalloc makes Python ~8x slower, so it is on only from message
    ``trace_from`` to the end. Live blocks (sys.getallocatedblocks, no
    overhead) are counted every 50,000 messages over the whole file: a reader
    that kept anything per message would show them growing.
    """
    blocks = []
    count = 0
    gc.collect()
    if trace_from == 0:
        tracemalloc.start()
    try:
        for record in ingest.read(path, "telegram"):
            if isinstance(record, Message):
                count += 1
                if count == trace_from:
                    tracemalloc.start()
                if count % 50_000 == 0:
                    gc.collect()
                    blocks.append(sys.getallocatedblocks())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return count, peak, blocks


@pytest.mark.slow
def test_peak_memory_does_not_grow_with_the_file(tmp_path):
    small, big = tmp_path / "small.json", tmp_path / "big.json"
    write_export(small, 50_000)
    write_export(big, 200_000)
    assert big.stat().st_size > 3.5 * small.stat().st_size
    n_small, peak_small, _ = read_and_measure(small, trace_from=0)
    n_big, peak_tail, blocks = read_and_measure(big, trace_from=150_000)
    assert (n_small, n_big) == (49_998, 199_998)        # 3 chats of n // 3 messages
    assert peak_small < 30 * 2**20, f"peak {peak_small / 2**20:.1f} MB"
    # the last quarter of the big file needs no more memory than the whole small one
    assert peak_tail < peak_small * 1.25 + 2**20, (peak_small, peak_tail)
    # and nothing is kept per message: live blocks after 50k and after 150k messages are the same
    assert len(blocks) == 3 and max(blocks) - min(blocks) < 5_000, blocks
