"""Benchmark of the foundation: parse, normalize + extract, language id, store.

    .venv/bin/python bench/ingest.py [--messages 200000] [--workdir /tmp/haris-bench]

Generates a Telegram Desktop export of N synthetic messages (per the data
rules: schematic, fictional numbers and links), then measures each stage in a
fresh child process, so that peak memory (ru_maxrss) belongs to that stage
alone. Every stage is printed beside a baseline measured in the same run:
``json.load`` for parsing, ``str.lower`` for normalizing. Memory flatness is
checked by parsing exports of N/4 and N messages: the peak should not grow
with the file.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import random
import resource
import sys
import time
from pathlib import Path

TEMPLATES = [
    "Selling my car, 2015 model, $12,500, delivery soon. Call +1 555 0142",
    "للبيع سيارة موديل 2015 بسعر 12.500 دولار التسليم قريبا",
    "Happy birthday to my daughter, she is 12 today! 🎂",
    "عيد ميلاد سعيد لابنتي عمرها ١٢ سنة اليوم",
    "Réunion des parents d'élèves jeudi à 18h, salle 12",
    "New channel after the ban, join t.me/example_backup_7 and share",
    "قناة احتياطية جديدة بعد الحذف t.me/example_news انشروا",
    "Agneaux à vendre, 150 € pièce, livraison possible à Lyon",
    "Reuters: the group advertised captives for sale on messaging apps, officials said",
    "For sale: girl, 12 years old, price $12,500, delivery after the checkpoint",
    "خرفان للبيع في الموصل السعر 300 ألف دينار للتواصل @example_farm",
    "wallah ya 7abibi ana ma3ak bas mesh fahem shu badak",
    "Offre d'emploi: baby-sitter 17 ans, 10 €/h, contactez +33 6 00 00 00 00",
    "Breaking: police rescue 12 victims of trafficking in Raqqa, NGO says",
]


def generate(path: Path, n: int, seed: int = 7) -> None:
    """Write a Telegram export of ``n`` messages over a few chats, streaming (no list in memory)."""
    rnd = random.Random(seed)
    chats = 8
    per = n // chats
    with open(path, "w", encoding="utf-8") as fh:
        fh.write('{"about": "synthetic benchmark export", "chats": {"about": "", "list": [\n')
        mid = 0
        for c in range(chats):
            kind = ("public_channel", "private_supergroup", "personal_chat")[c % 3]
            fh.write(("," if c else "") + json.dumps({"name": f"Example chat {c}", "type": kind, "id": 1000 + c})[:-1])
            fh.write(', "messages": [\n')
            for i in range(per if c < chats - 1 else n - per * (chats - 1)):
                mid += 1
                text: object = rnd.choice(TEMPLATES)
                if rnd.random() < 0.2:
                    text = [text, {"type": "link", "text": "t.me/example_x"}]
                msg = {"id": mid, "type": "message", "date": "2024-03-01T10:00:00",
                       "date_unixtime": str(1709287200 + mid), "from": f"User {mid % 500}",
                       "from_id": f"user{mid % 500}", "text": text}
                if rnd.random() < 0.1:
                    msg["reply_to_message_id"] = max(1, mid - 3)
                fh.write(("," if i else "") + json.dumps(msg, ensure_ascii=False) + "\n")
            fh.write("]}")
        fh.write("]}}\n")


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _texts(path: Path) -> list[str]:
    from haris.ingest import read
    from haris.model import Message

    return [r.text for r in read(path) if isinstance(r, Message)]


def stage(name: str, path: str, q) -> None:
    p = Path(path)
    base_rss = _peak_mb()
    t0 = time.perf_counter()
    n = 0
    if name == "baseline_json_load":
        data = json.load(open(p, encoding="utf-8"))
        n = sum(len(c["messages"]) for c in data["chats"]["list"])
    elif name == "parse":
        from haris.ingest import read
        from haris.model import Message

        n = sum(1 for r in read(p) if isinstance(r, Message))
    else:
        texts = _texts(p)
        base_rss = _peak_mb()
        t0 = time.perf_counter()
        n = len(texts)
        if name == "baseline_lower":
            for t in texts:
                t.lower()
        elif name == "normalize_extract":
            from haris.text.extract import extract
            from haris.text.normalize import for_matching

            for t in texts:
                for_matching(t)
                extract(t)
        elif name == "language":
            from haris.text.language import identify

            for t in texts:
                identify(t)
        elif name == "store":
            from haris.engines.local import ingest

            texts = None
            base_rss = _peak_mb()
            t0 = time.perf_counter()
            db = p.with_suffix(".db")
            for suffix in ("", "-wal", "-shm"):
                Path(str(db) + suffix).unlink(missing_ok=True)
            rep = ingest([p], database_url=f"sqlite:///{db}")
            n = rep.messages
    dt = time.perf_counter() - t0
    q.put({"stage": name, "messages": n, "seconds": dt, "per_s": n / dt if dt else 0.0,
           "peak_mb": _peak_mb(), "stage_mb": _peak_mb() - base_rss})


def run_stage(name: str, path: Path) -> dict:
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    proc = ctx.Process(target=stage, args=(name, str(path), q))
    proc.start()
    res = q.get()
    proc.join()
    return res


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=200_000)
    ap.add_argument("--workdir", default="/tmp/haris-bench")
    args = ap.parse_args()
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    small, big = work / "export_small.json", work / "export.json"
    generate(small, args.messages // 4)
    generate(big, args.messages)
    print(f"export: {args.messages:,} messages, {big.stat().st_size / 1e6:.1f} MB", flush=True)
    rows = []
    for name in ("baseline_json_load", "parse", "baseline_lower", "normalize_extract", "language", "store"):
        r = run_stage(name, big)
        rows.append(r)
        print(f"{r['stage']:20} {r['messages']:>9,} msgs {r['seconds']:8.2f} s {r['per_s']:>11,.0f} msg/s "
              f"peak {r['peak_mb']:7.1f} MB (stage +{r['stage_mb']:.1f} MB)", flush=True)
    by = {r["stage"]: r for r in rows}
    small_parse = run_stage("parse", small)
    print("\nratios against baselines in this run:")
    print(f"  parse / json.load throughput:          {by['parse']['per_s'] / by['baseline_json_load']['per_s']:.2f}x")
    print(f"  parse peak memory / json.load peak:    {by['parse']['peak_mb'] / by['baseline_json_load']['peak_mb']:.2f}x")
    print(f"  normalize+extract / str.lower:         {by['normalize_extract']['per_s'] / by['baseline_lower']['per_s']:.4f}x")
    print(f"  parse peak at N/4 vs N messages:       {small_parse['peak_mb']:.1f} MB vs {by['parse']['peak_mb']:.1f} MB "
          f"(flat if close)")
    target = 20_000
    ok = by["normalize_extract"]["per_s"] >= target
    print(f"  normalize+extract target {target:,}/s: {'met' if ok else 'NOT met'}")


if __name__ == "__main__":
    sys.exit(main())
