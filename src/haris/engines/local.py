"""The local engine: ingest files, analyse them and store the results, in one process.

Each input file is one transaction: its records, entities and signals are
committed together with a ``sources`` row that marks the file done, or not at
all. A crash or kill mid-file therefore loses nothing that was committed and
leaves nothing half-written; running the same command again redoes only what
is missing (ids are stable and writes skip existing rows, so nothing is
duplicated).
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable

from haris import ingest as ingest_mod
from haris.engines.core import Analyzer, ItemResult, in_chunks
from haris.errors import HarisError, InputError
from haris.model import Message
from haris.store import schema
from haris.store.db import Store
from haris.store.writer import RecordWriter

ProgressFn = Callable[[str, int], None]   # (path, messages done in this file)


@dataclass
class FileReport:
    path: str
    format: str | None = None
    status: str = "pending"          # done, skipped (already ingested), failed
    messages: int = 0
    flagged: int = 0
    error: str | None = None


@dataclass
class ScanReport:
    files: list[FileReport] = field(default_factory=list)
    flagged: list[dict] = field(default_factory=list)   # one summary per flagged item, for the triage table

    @property
    def failed(self) -> list[FileReport]:
        return [f for f in self.files if f.status == "failed"]

    @property
    def messages(self) -> int:
        return sum(f.messages for f in self.files)


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def result_line(r: ItemResult) -> dict:
    """The JSON written to ``--out`` for one analysed item."""
    m = r.message
    return {
        "id": m.id, "platform": m.platform, "channel_id": m.channel_id, "author_id": m.author_id,
        "time": m.time.isoformat() if m.time else None, "lang": r.analysed.lang, "origin": m.origin,
        "text": m.text, "signals": [s.to_dict() for s in r.signals],
        "entities": [{"kind": e.kind, "start": e.start, "end": e.end, "text": e.text, "value": e.value}
                     for e in r.analysed.entities],
    }


def _summary(r: ItemResult, threshold: Callable[[str], float]) -> dict | None:
    hits = [s for s in r.signals if s.score >= threshold(s.policy)]
    if not hits:
        return None
    top = max(hits, key=lambda s: s.score)
    return {"id": r.message.id, "policy": top.policy, "score": top.score, "labels": top.labels,
            "lang": r.analysed.lang, "text": r.message.text, "evidence": [e.to_dict() for e in top.evidence],
            "policies": sorted({s.policy for s in hits}), "origin": r.message.origin}


def run(paths: Iterable[str | Path], *, database_url: str | None = None, fmt: str | None = None,
        analyse: bool = True, out: str | Path | None = None, force: bool = False,
        thresholds: dict[str, float] | None = None, analyzer: Analyzer | None = None,
        progress: ProgressFn | None = None, store: Store | None = None, workers: int = 1) -> ScanReport:
    """Ingest (and with ``analyse``, analyse) every file under ``paths``.

    Files already ingested are skipped by plain ingestion; a scan analyses them
    again (results are upserted, so a newer detector replaces an older score).
    ``workers`` > 1 analyses on that many processes (0: one per core), with
    the same results as one process.
    """
    if analyse and workers != 1 and analyzer is None:
        from haris.engines.parallel import ParallelAnalyzer

        with ParallelAnalyzer(workers or None, database_url=database_url) as par:
            return run(paths, database_url=database_url, fmt=fmt, analyse=True, out=out, force=force,
                       thresholds=thresholds, analyzer=par, progress=progress, store=store)
    from haris.detect.registry import threshold_for

    store = store or Store.open(database_url)
    analyzer = analyzer or (Analyzer(store=store) if analyse else None)
    thresholds = thresholds or {}
    threshold = lambda policy: thresholds.get(policy, threshold_for(policy))  # noqa: E731
    report = ScanReport()
    out_path = Path(out) if out else None
    out_tmp = None
    tmp_name = ""
    if out_path:
        # Results go to a temporary file renamed at the end: a killed run never leaves a partial --out.
        out_path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=".haris-", suffix=".jsonl", dir=out_path.parent)
        out_tmp = os.fdopen(fd, "w", encoding="utf-8")
    try:
        for path in ingest_mod.iter_files(paths):
            fr = FileReport(path=str(path))
            report.files.append(fr)
            try:
                _run_file(store, path, fr, fmt=fmt, analyzer=analyzer, force=force or analyse,
                          out=out_tmp, report=report, threshold=threshold, progress=progress)
            except InputError as exc:
                fr.status, fr.error = "failed", str(exc)
            except HarisError as exc:
                fr.status, fr.error = "failed", str(exc)
        # A conversation spread over several files was assessed after each: keep its latest assessment.
        latest = {(f["id"], f["policy"]): f for f in report.flagged}
        report.flagged = list(latest.values())
        if out_tmp:
            out_tmp.close()
            os.replace(tmp_name, out_path)
            out_tmp = None
    finally:
        if out_tmp:
            out_tmp.close()
            os.unlink(tmp_name)
    return report


def _run_file(store: Store, path: Path, fr: FileReport, *, fmt, analyzer, force, out, report, threshold,
              progress) -> None:
    fr.format = fmt or ingest_mod.detect_format(path)
    sha = file_sha256(path)
    lines: list[str] = []       # this file's output, written only once its transaction commits
    flagged: list[dict] = []
    conversations: set[str] = set()
    with store.begin() as conn:
        if not force and store.source_done(conn, sha):
            fr.status = "skipped"
            return
        writer = RecordWriter(store, conn, source_id=sha)
        version = analyzer.version if analyzer else None
        for rec, res in _analysed(ingest_mod.read(path, fr.format), analyzer):
            if not isinstance(rec, Message):
                writer.add(rec)
                continue
            fr.messages += 1
            if rec.conversation_id and rec.kind == "message":
                conversations.add(rec.conversation_id)
            if res is None:
                writer.add_message(rec)
            else:
                writer.add_message(rec, res.analysed, version)
                writer.add_signals(res.signals)
                if res.signals and out is not None:
                    lines.append(json.dumps(result_line(res), ensure_ascii=False))
                s = _summary(res, threshold)
                if s:
                    flagged.append(s)
            if progress and fr.messages % 500 == 0:
                progress(str(path), fr.messages)
        writer.flush()
        store.upsert(conn, schema.sources, [dict(
            id=sha, path=str(path), format=fr.format, size=path.stat().st_size, status="done",
            records=fr.messages, ingested_at=datetime.now(timezone.utc))])
    fr.status = "done"
    if analyzer is not None and conversations:
        conv_lines, conv_flagged = analyse_conversations(store, conversations, threshold)
        lines.extend(conv_lines)
        flagged.extend(conv_flagged)
    fr.flagged = len(flagged)
    report.flagged.extend(flagged)
    if out is not None and lines:
        out.write("\n".join(lines) + "\n")
    if progress:
        progress(str(path), fr.messages)


def analyse_conversations(store: Store, conversation_ids: set[str], threshold) -> tuple[list[str], list[dict]]:
    """Run the conversation detectors over stored conversations; store their signals and people at risk.

    Runs after the messages' transaction committed (the detectors read the
    store); its own writes are idempotent upserts, so a re-run converges.
    """
    from haris.detect.registry import conversation_detectors

    detectors = conversation_detectors()
    if not detectors:
        return [], []
    from haris.detect.conversation import load_conversations
    from haris.protect import at_risk_from_signal, record_at_risk

    lines, flagged = [], []
    for conv in load_conversations(store, conversation_ids=sorted(conversation_ids)):
        signals = [s for d in detectors for s in d.detect(conv)]
        if not signals:
            continue
        with store.begin() as conn:
            w = RecordWriter(store, conn)
            w.add_signals(signals, item_kind="conversation")
            w.flush()
        by_id = {m.id: m for m in conv.messages}
        for sig in signals:
            person = at_risk_from_signal(sig, platform=conv.platform or "generic")
            if person is not None:
                record_at_risk(store, person)
            lines.append(json.dumps({"id": conv.id, "kind": "conversation", "platform": conv.platform,
                                     "messages": len(conv.messages), "signals": [sig.to_dict()]},
                                    ensure_ascii=False))
            if sig.score < threshold(sig.policy):
                continue
            # The triage row shows the first evidence message, with its spans.
            first = (sig.data.get("timeline") or [{}])[0]
            msg = by_id.get(first.get("message_id"))
            flagged.append({"id": conv.id, "policy": sig.policy, "score": sig.score, "labels": sig.labels,
                            "lang": sig.data.get("lang"), "text": msg.text if msg else "",
                            "evidence": [e.to_dict() for e in sig.evidence
                                         if e.detail.get("message_id") == first.get("message_id")],
                            "policies": [sig.policy], "origin": msg.origin if msg else None,
                            "kind": "conversation"})
    return lines, flagged


def _analysed(records, analyzer):
    """(record, result) pairs; the result is None for non-messages or when not analysing."""
    if analyzer is None:
        return ((r, None) for r in records)
    if hasattr(analyzer, "analyse_stream"):
        return analyzer.analyse_stream(records)
    return (pair for chunk in in_chunks(records) for pair in _pairs(chunk, analyzer))


def _pairs(chunk, analyzer):
    """(record, result) pairs of one chunk, in order, its messages analysed together."""
    results = iter(analyzer.analyse_many([r for r in chunk if isinstance(r, Message)]))
    return [(r, next(results) if isinstance(r, Message) else None) for r in chunk]


def scan(paths, **kwargs) -> ScanReport:
    """Ingest, analyse and store; returns what was flagged (see :func:`run`)."""
    return run(paths, analyse=True, **kwargs)


def ingest(paths, **kwargs) -> ScanReport:
    """Ingest and store without running detectors; already-ingested files are skipped."""
    return run(paths, analyse=False, **kwargs)
