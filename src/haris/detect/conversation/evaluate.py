"""Evaluate the grooming detector on a labelled conversation file (``haris eval`` uses it).

Input: JSON Lines, one conversation a line::

    {"id": "...", "lang": "en", "labels": ["child_exploitation"] or [],
     "messages": [{"sender": "a", "text": "...", "time": "2025-03-01T18:02:00Z"}, ...]}

(``time`` is optional; ``family``, ``kind`` and ``roles`` are used when present.)

Each conversation is replayed message by message, as a platform would feed it. A
conversation is *flagged* when its final score reaches the threshold. **Earliness** is,
for each flagged grooming conversation, the share of its messages read up to and
including the message at which the score first reached the threshold (lower is earlier).
Negatives whose score crossed the threshold at some point but ended below it are counted
as ``transient_alerts``: a live deployment acting on the first crossing would have
alerted on them.
"""
from __future__ import annotations

import json
import statistics
from collections import Counter, defaultdict
from pathlib import Path
from typing import Iterator

from haris.detect.base import CHILD_EXPLOITATION
from haris.errors import InputError


def read_rows(path: str | Path) -> Iterator[tuple[int, dict]]:
    """(line number, row) for every non-empty line; InputError names the line that is wrong."""
    try:
        fh = open(path, encoding="utf-8")
    except OSError as exc:
        raise InputError(str(path), f"cannot read: {exc.strerror or exc}") from None
    with fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(str(path), f"not JSON: {exc.msg}", line=n,
                                 expected="one JSON object per line") from None
            if not isinstance(row, dict) or not isinstance(row.get("messages"), list):
                raise InputError(str(path), "not a conversation", line=n,
                                 expected='an object with "messages": [{"sender": ..., "text": ...}]')
            if not isinstance(row.get("labels", []), list):
                raise InputError(str(path), '"labels" is not a list', line=n,
                                 expected='"labels": ["child_exploitation"] or []')
            yield n, row


def _metrics(c: Counter) -> dict:
    tp, fp, fn, tn = c["tp"], c["fp"], c["fn"], c["tn"]
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4), "support": tp + fn,
            "tp": tp, "fp": fp, "fn": fn, "tn": tn}


def _quantile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return round(values[0], 4)
    return round(statistics.quantiles(values, n=100, method="inclusive")[int(q * 100) - 1], 4)


def evaluate_conversations(path: str | Path, threshold: float | None = None) -> dict:
    """Precision, recall and F1 (overall and per language) and earliness; see the module doc."""
    from haris.detect.conversation.assemble import conversation_from_eval_row
    from haris.detect.conversation.detector import replay
    from haris.detect.conversation.scoring import assess, calibration

    threshold = calibration().threshold if threshold is None else float(threshold)
    overall: Counter = Counter()
    by_lang: dict[str, Counter] = defaultdict(Counter)
    earliness: list[float] = []
    transient: list[str] = []
    errors: dict[str, list[str]] = {"fp": [], "fn": []}
    hard_neg: dict[str, Counter] = defaultdict(Counter)
    roles = Counter()
    unsupported = Counter()
    for line, row in read_rows(path):
        conv = conversation_from_eval_row(row, path=str(path), line=line)
        state, first_alert = replay(conv, threshold=threshold, track=True)
        a = assess(state, threshold)
        truth = CHILD_EXPLOITATION in (row.get("labels") or [])
        pred = a.flagged
        if state.unsupported is not None:
            unsupported[state.unsupported] += 1
        outcome = ("tp" if pred else "fn") if truth else ("fp" if pred else "tn")
        lang = str(row.get("lang") or state.lang or "und")
        overall[outcome] += 1
        by_lang[lang][outcome] += 1
        if outcome in errors:
            errors[outcome].append(conv.id)
        if truth and pred and first_alert is not None and len(conv.messages):
            earliness.append((first_alert + 1) / len(conv.messages))
        if not truth and not pred and first_alert is not None:
            transient.append(conv.id)
        if row.get("kind") == "hard_negative":
            hard_neg[str(row.get("family") or "?")]["flagged" if pred else "clear"] += 1
        truth_roles = row.get("roles") or {}
        if truth and truth_roles:
            roles["n"] += 1
            roles["minor"] += truth_roles.get(a.minor) == "minor"
            roles["adult"] += truth_roles.get(a.adult) == "adult"
    result = {
        "threshold": threshold,
        "conversations": sum(overall.values()),
        "policies": {CHILD_EXPLOITATION: {**_metrics(overall),
                                          "by_lang": {k: _metrics(v) for k, v in sorted(by_lang.items())}}},
        "earliness": {"median": _quantile(earliness, 0.5), "p90": _quantile(earliness, 0.9), "n": len(earliness)},
        "transient_alerts": len(transient),
        "hard_negatives_flagged": {fam: c["flagged"] for fam, c in sorted(hard_neg.items())},
        "errors": errors,
    }
    if roles["n"]:
        result["roles"] = {"minor_correct": round(roles["minor"] / roles["n"], 4),
                           "adult_correct": round(roles["adult"] / roles["n"], 4), "n": roles["n"]}
    if unsupported:
        result["unsupported_languages"] = dict(unsupported)
    return result


def render_evaluation(result: dict) -> str:
    """A plain-text table of :func:`evaluate_conversations`'s result."""
    pol = result["policies"][CHILD_EXPLOITATION]
    head = f"{'policy / lang':24s} {'prec':>6s} {'recall':>6s} {'f1':>6s} {'supp':>5s} {'tp':>4s} {'fp':>4s} {'fn':>4s} {'tn':>4s}"
    lines = [f"conversations: {result['conversations']}   threshold: {result['threshold']}", head, "-" * len(head)]

    def row(name: str, m: dict) -> str:
        return (f"{name:24s} {m['precision']:6.3f} {m['recall']:6.3f} {m['f1']:6.3f} {m['support']:5d} "
                f"{m['tp']:4d} {m['fp']:4d} {m['fn']:4d} {m['tn']:4d}")

    lines.append(row(CHILD_EXPLOITATION, pol))
    for lang, m in pol["by_lang"].items():
        lines.append(row(f"  {lang}", m))
    e = result["earliness"]
    fmt = lambda v: "-" if v is None else f"{v:.0%}"   # noqa: E731
    lines.append("")
    lines.append(f"earliness (share of messages read before the first alert, flagged grooming "
                 f"conversations, n={e['n']}): median {fmt(e['median'])}, p90 {fmt(e['p90'])}")
    lines.append(f"transient alerts on negatives (crossed the threshold, ended below): {result['transient_alerts']}")
    flagged = {k: v for k, v in result["hard_negatives_flagged"].items() if v}
    lines.append("hard negatives flagged: " + (", ".join(f"{k} {v}" for k, v in flagged.items()) or "none"))
    if "roles" in result:
        r = result["roles"]
        lines.append(f"roles on grooming conversations: minor {r['minor_correct']:.0%}, adult {r['adult_correct']:.0%}")
    if result.get("unsupported_languages"):
        lines.append("unsupported languages: " + ", ".join(f"{k} {v}" for k, v in result["unsupported_languages"].items()))
    return "\n".join(lines)
