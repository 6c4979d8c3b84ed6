"""`haris eval`: precision, recall and F1 of the detectors on a labelled file.

Message files (lines with ``text``) are scored by the message detectors; conversation files
(lines with ``messages``) are handed to :func:`haris.detect.conversation.evaluate_conversations`
and merged into the same shape::

    {"file": ..., "items": N, "thresholds": {...},
     "policies": {"trafficking": {"precision", "recall", "f1", "support", "tp", "fp", "fn", "tn",
                                  "by_lang": {"ar": {same keys}, ...}}, "terrorism": {...},
                  "child_exploitation": {...}},
     "negatives": {"framing": {"count", "flagged", "share", "by_policy"}, "by_kind": {...}},
     "worst": {"<policy>": {"false_positives": [...], "false_negatives": [...]}}}

Every policy is present even when the file has none of its positives (support 0; precision,
recall and F1 are then 0 by convention). "Framing" negatives are the benign messages of
news, research, NGO/police/prevention and counter-speech families (corpus ``family`` field).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from haris.detect.base import CHILD_EXPLOITATION, POLICIES, TERRORISM, TRAFFICKING
from haris.detect.corpus import Labelled, is_conversation_file, read_labelled
from haris.errors import HarisError

MESSAGE_POLICIES = (TRAFFICKING, TERRORISM)


def counts_to_metrics(tp: int, fp: int, fn: int, tn: int) -> dict[str, Any]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f1, 4), "support": tp + fn,
            "tp": tp, "fp": fp, "fn": fn, "tn": tn}


def _metrics(rows: list[tuple[bool, bool, str]]) -> dict[str, Any]:
    """rows: (truth, flagged, lang) → metrics with by_lang."""
    def count(sel):
        tp = sum(1 for t, f, _ in sel if t and f)
        fp = sum(1 for t, f, _ in sel if not t and f)
        fn = sum(1 for t, f, _ in sel if t and not f)
        tn = sum(1 for t, f, _ in sel if not t and not f)
        return counts_to_metrics(tp, fp, fn, tn)

    out = count(rows)
    out["by_lang"] = {lang: count([r for r in rows if r[2] == lang]) for lang in sorted({r[2] for r in rows})}
    return out


def _error_row(it: Labelled, policy: str, score: float, detail: dict[str, Any]) -> dict[str, Any]:
    return {"id": it.id, "lang": it.lang, "family": it.family, "kind": it.kind, "score": round(score, 4),
            "labels": sorted(it.labels), "text": it.text[:300], **detail}


def _explain(text: str, lang: str | None, policy: str) -> dict[str, Any]:
    """Evidence for one message (recomputed for the few worst errors only)."""
    from haris.detect.registry import message_detectors
    from haris.text.analysis import analyse_text

    analysed = analyse_text(text, lang=lang)
    for det in message_detectors():
        if getattr(det, "policy", None) != policy:
            continue
        a = det.assess(analysed)
        if not a.candidate:
            return {"evidence": [], "why": "not a candidate: none of the policy's cues was found"}
        sig = det.signal(a)
        return {"evidence": [e.to_dict() for e in sig.evidence],
                "rules": [{"rule": n, "weight": w} for n, w in a.rules],
                "sublabels": sig.labels}
    return {"evidence": []}


def evaluate_messages(path: str | Path, thresholds: dict[str, float] | None = None,
                      worst: int = 5) -> dict[str, Any]:
    """Score every message of a labelled file with the registered message detectors."""
    from haris.detect.registry import message_detectors, threshold_for
    from haris.text.analysis import analyse_text

    items = read_labelled(path)
    thr = {p: (thresholds or {}).get(p, threshold_for(p)) for p in POLICIES}
    detectors = message_detectors()
    scores: dict[str, list[float]] = {p: [0.0] * len(items) for p in POLICIES}
    for i, it in enumerate(items):
        analysed = analyse_text(it.text, lang=it.lang)
        for det in detectors:
            for sig in det.detect(analysed):
                if sig.policy in scores:
                    scores[sig.policy][i] = max(scores[sig.policy][i], sig.score)
    policies: dict[str, Any] = {}
    worst_rows: dict[str, Any] = {}
    for p in POLICIES:
        flagged = [s >= thr[p] for s in scores[p]]
        rows = [(p in it.labels, f, it.lang or "und") for it, f in zip(items, flagged)]
        policies[p] = _metrics(rows)
        if p not in MESSAGE_POLICIES:
            continue
        fps = sorted((i for i, it in enumerate(items) if flagged[i] and p not in it.labels),
                     key=lambda i: -scores[p][i])[:worst]
        fns = sorted((i for i, it in enumerate(items) if not flagged[i] and p in it.labels),
                     key=lambda i: scores[p][i])[:worst]
        worst_rows[p] = {
            "false_positives": [_error_row(items[i], p, scores[p][i], _explain(items[i].text, items[i].lang, p))
                                for i in fps],
            "false_negatives": [_error_row(items[i], p, scores[p][i], _explain(items[i].text, items[i].lang, p))
                                for i in fns]}
    return {"file": str(path), "items": len(items), "kind": "messages", "thresholds": thr,
            "policies": policies, "negatives": _negatives(items, scores, thr), "worst": worst_rows}


def _negatives(items: list[Labelled], scores: dict[str, list[float]], thr: dict[str, float]) -> dict[str, Any]:
    def share(sel: list[int]) -> dict[str, Any]:
        by_policy = {p: sum(1 for i in sel if scores[p][i] >= thr[p]) for p in MESSAGE_POLICIES}
        flagged = sum(1 for i in sel if any(scores[p][i] >= thr[p] for p in MESSAGE_POLICIES))
        return {"count": len(sel), "flagged": flagged, "share": round(flagged / len(sel), 4) if sel else 0.0,
                "by_policy": by_policy}

    benign = [i for i, it in enumerate(items) if not it.labels]
    out: dict[str, Any] = {
        "all": share(benign),
        "framing": share([i for i in benign if items[i].framing_negative]),
        "by_kind": {k: share([i for i in benign if (items[i].kind or "unknown") == k])
                    for k in sorted({items[i].kind or "unknown" for i in benign})},
    }
    families = sorted({items[i].family for i in benign if items[i].framing_negative and items[i].family})
    out["framing_by_family"] = {f: share([i for i in benign if items[i].family == f]) for f in families}
    return out


def evaluate_file(path: str | Path, thresholds: dict[str, float] | None = None, worst: int = 5) -> dict[str, Any]:
    """Evaluate a labelled message or conversation file (see the module docstring)."""
    path = Path(path)
    if not is_conversation_file(path):
        return evaluate_messages(path, thresholds, worst)
    try:
        from haris.detect.conversation import evaluate_conversations
    except ImportError as exc:
        raise HarisError(f"{path}: a conversation file (lines with \"messages\"), but the conversation "
                         f"detector is not available in this installation ({exc})") from None
    result = evaluate_conversations(str(path), threshold=(thresholds or {}).get(CHILD_EXPLOITATION)) or {}
    policies = {p: counts_to_metrics(0, 0, 0, 0) | {"by_lang": {}} for p in POLICIES}
    policies.update(result.get("policies", {}))
    merged = {"file": str(path), "kind": "conversations", "items": result.get("conversations"), **result}
    merged["policies"] = policies
    if "threshold" in result:
        merged["thresholds"] = {CHILD_EXPLOITATION: result["threshold"]}
    return merged
