"""Backtest a policy on labelled data before it goes live.

Each labelled item is analysed once; the candidate policy and the live one
both decide on the same analysis. For each content policy, an item counts as
predicted when a rule enforcing that policy fired with an action other than
``none``. The report gives precision, recall and F1 per policy for both
versions, how many items each outcome would get, and how many decisions the
change would alter.
"""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from haris.detect.base import POLICIES
from haris.errors import InputError
from haris.policy.engine import ItemFacts, decide
from haris.policy.model import PolicyDoc


def read_labelled(path: str | Path) -> list[dict]:
    rows = []
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(path, f"not JSON: {exc.msg}", line=n, expected="one JSON object per line") from None
            if not isinstance(row, dict) or "labels" not in row or not ("text" in row or "messages" in row):
                raise InputError(path, "missing field", line=n, expected='"labels" and "text" (or "messages")')
            rows.append(row)
    return rows


def _metrics(tp: int, fp: int, fn: int, tn: int) -> dict:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4), "support": tp + fn,
            "tp": tp, "fp": fp, "fn": fn, "tn": tn}


def _predicted(doc: PolicyDoc, decision) -> set[str]:
    by_id = {r.id: r for r in doc.rules}
    return {by_id[r].policy for r in decision.rules
            if by_id[r].policy and by_id[r].outcome.action != "none"}


def _same_outcome(d) -> tuple:
    return (d.action, tuple(d.actions), d.priority, d.queue, d.second_review, d.intervention)


def _facts_for(row: dict, analyzer, conv_detectors) -> ItemFacts:
    if "messages" in row:
        from haris.detect.conversation import conversation_from_eval_row  # conversation detectors' own reader

        conv = conversation_from_eval_row(row)
        sigs = [s for d in conv_detectors for s in d.detect(conv)]
        return ItemFacts(signals=sigs)
    from haris.text.analysis import analyse_text

    a = analyse_text(row["text"], lang=row.get("lang"))
    sigs = []
    for det in analyzer.detectors:
        sigs.extend(det.detect(a))
    return ItemFacts(signals=sigs, entities=a.entities)


def backtest(candidate: PolicyDoc, labelled: str | Path, current: PolicyDoc | None = None) -> dict:
    from haris.detect.registry import conversation_detectors
    from haris.engines.core import Analyzer

    rows = read_labelled(labelled)
    analyzer = Analyzer()
    conv = conversation_detectors() if any("messages" in r for r in rows) else []
    docs = {"candidate": candidate, **({"current": current} if current is not None else {})}
    counts = {k: {p: Counter() for p in POLICIES} for k in docs}
    outcomes = {k: Counter() for k in docs}
    changed = 0
    for row in rows:
        facts = _facts_for(row, analyzer, conv)
        truth = set(row.get("labels") or [])
        decisions = {k: decide(doc, facts) for k, doc in docs.items()}
        if "current" in decisions and _same_outcome(decisions["current"]) != _same_outcome(decisions["candidate"]):
            changed += 1
        for k, d in decisions.items():
            outcomes[k][d.action] += 1
            pred = _predicted(docs[k], d)
            for p in POLICIES:
                key = ("tp" if p in pred and p in truth else "fp" if p in pred
                       else "fn" if p in truth else "tn")
                counts[k][p][key] += 1
    out = {"items": len(rows), "changed_decisions": changed if current is not None else None}
    for k, doc in docs.items():
        out[k] = {"policy_id": doc.id, "version": doc.version,
                  "policies": {p: _metrics(counts[k][p]["tp"], counts[k][p]["fp"], counts[k][p]["fn"],
                                           counts[k][p]["tn"]) for p in POLICIES},
                  "outcomes": dict(outcomes[k])}
    return out
