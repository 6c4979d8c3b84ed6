"""Benchmark of incremental grooming scoring: messages per second and memory per open conversation.

    .venv/bin/python bench/conversations.py [--conversations 10000] [--messages 50] [--json]

Builds N synthetic conversations of M messages from the labelled conversation corpus
(data/corpus/conversations: the messages of several corpus conversations of one language,
strung together, two senders), then measures on one core, in the same run:

1. baseline: ``haris.text.normalize.for_matching`` alone over every message;
2. incremental scoring with the language known (as when the platform says it): one
   ``ConversationState.update`` per message, and ``score()`` whenever the evidence moved
   (what a platform does to alert while the conversation goes on);
3. the same with the language identified from the first messages (a sample of the
   conversations, since language identification dominates);
4. memory per open conversation: tracemalloc over 1,000 live states after M messages,
   and the deep size of one state.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import time
import tracemalloc
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from haris.detect.conversation import ConversationState  # noqa: E402
from haris.text.normalize import for_matching  # noqa: E402
from haris.detect.conversation.state import deep_size

CORPUS = REPO / "data" / "corpus" / "conversations"


def build(n: int, length: int, seed: int = 5) -> list[tuple[str, list[tuple[str, str]]]]:
    """(lang, [(sender, text)]) conversations made of corpus messages of one language."""
    rows = [json.loads(line) for split in ("train", "test")
            for line in (CORPUS / f"{split}.jsonl").read_text(encoding="utf-8").splitlines()]
    by_lang: dict[str, list[dict]] = {}
    for r in rows:
        by_lang.setdefault(r["lang"], []).append(r)
    rnd = random.Random(seed)
    out = []
    langs = sorted(by_lang)
    for i in range(n):
        lang = langs[i % len(langs)]
        msgs: list[tuple[str, str]] = []
        while len(msgs) < length:
            r = rnd.choice(by_lang[lang])
            senders = {s: ("a", "b")[k % 2] for k, s in enumerate(r["roles"])}
            msgs.extend((senders[m["sender"]], m["text"]) for m in r["messages"])
        out.append((lang, msgs[:length]))
    return out


def run_states(convs, *, known_lang: bool) -> tuple[float, int]:
    n = 0
    start = time.perf_counter()
    for cid, (lang, msgs) in enumerate(convs):
        st = ConversationState(str(cid), lang=lang if known_lang else None)
        seen = 0
        for i, (who, text) in enumerate(msgs):
            st.add(who, text, message_id=str(i))
            if st.n_hits != seen:
                seen = st.n_hits
                st.score()
        n += len(msgs)
    return time.perf_counter() - start, n


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--conversations", type=int, default=10_000)
    ap.add_argument("--messages", type=int, default=50)
    ap.add_argument("--identify-sample", type=int, default=500,
                    help="conversations scored with language identification (it dominates the cost)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)

    convs = build(args.conversations, args.messages)
    total = sum(len(m) for _, m in convs)
    run_states(convs[:30], known_lang=True)          # warm-up: lexicons, extractor
    run_states(convs[:3], known_lang=False)          # warm-up: language models

    start = time.perf_counter()
    for _, msgs in convs:
        for _, text in msgs:
            for_matching(text)
    t_norm = time.perf_counter() - start
    t_known, n_known = run_states(convs, known_lang=True)
    sample = convs[: args.identify_sample]
    t_ident, n_ident = run_states(sample, known_lang=False)

    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    live = []
    for cid, (lang, msgs) in enumerate(convs[:1000]):
        st = ConversationState(str(cid), lang=lang)
        for i, (who, text) in enumerate(msgs):
            st.add(who, text, message_id=f"{cid}:{i}")
        live.append(st)
    per_state = (tracemalloc.get_traced_memory()[0] - before) / len(live)
    tracemalloc.stop()
    deep = max(deep_size(s) for s in live[:200])

    result = {
        "conversations": len(convs), "messages_per_conversation": args.messages, "messages": total,
        "baseline_normalizer_msgs_per_s": round(total / t_norm),
        "incremental_known_lang_msgs_per_s": round(n_known / t_known),
        "incremental_identified_lang_msgs_per_s": round(n_ident / t_ident),
        "identified_lang_sample_conversations": len(sample),
        "memory_per_open_conversation_bytes_tracemalloc": round(per_state),
        "memory_per_open_conversation_bytes_deep_max": deep,
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"{result['conversations']} conversations x {args.messages} messages = {total} messages, one core")
        print(f"  baseline: normalizer alone             {result['baseline_normalizer_msgs_per_s']:>10,} msg/s")
        print(f"  incremental scoring, language known    {result['incremental_known_lang_msgs_per_s']:>10,} msg/s")
        print(f"  incremental scoring, language identified ({len(sample)} conversations) "
              f"{result['incremental_identified_lang_msgs_per_s']:>10,} msg/s")
        print(f"  memory per open conversation: {per_state / 1024:.1f} KB (tracemalloc), "
              f"{deep / 1024:.1f} KB (deep size, largest of 200)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
