"""The local engine and the CLI end to end: scan, idempotence, bad input, kill and resume, parallelism."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from haris.engines.local import ingest, scan
from haris.store import schema
from haris.store.db import Store

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
HARIS = [sys.executable, "-m", "haris.cli"]


def counts(url: str) -> dict[str, int]:
    s = Store.open(url)
    try:
        return {t.name: s.count(t) for t in (schema.messages, schema.accounts, schema.channels, schema.entities,
                                             schema.links, schema.signals, schema.sources)}
    finally:
        s.dispose()


def write_generic(path: Path, n: int, start: int = 0, channel: str = "bulk") -> None:
    texts = ["Lambs for sale, 150 EUR each, delivery Friday", "For sale: girl, 12 years old, $12,500, delivery soon",
             "عيد ميلاد سعيد لابنتي عمرها ١٢ سنة", "Réunion des parents jeudi à 18h",
             "New channel after the ban: join t.me/example_backup_3"]
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(start, start + n):
            fh.write(json.dumps({"id": f"{channel}-{i}", "text": texts[i % len(texts)], "author": f"u{i % 50}",
                                 "channel": channel, "time": 1711962000 + i}, ensure_ascii=False) + "\n")


def test_scan_of_the_examples_stores_everything_once(tmp_path):
    url = f"sqlite:///{tmp_path / 'h.db'}"
    out = tmp_path / "results.jsonl"
    rep = scan([EXAMPLES], database_url=url, out=out)
    assert not rep.failed, [f.error for f in rep.failed]
    assert {f.format for f in rep.files} >= {"telegram", "whatsapp", "twitter", "jsonl", "csv"}
    first = counts(url)
    assert first["messages"] == rep.messages > 50 and first["entities"] > 0
    for line in out.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        assert row["signals"] and row["id"].startswith(("msg_", "con_"))
    scan([EXAMPLES], database_url=url)                # again: nothing new
    ingest([EXAMPLES], database_url=url)              # plain ingest skips files already done
    assert counts(url) == first


def test_a_bad_file_fails_alone_and_leaves_nothing_half_written(tmp_path):
    good, bad = tmp_path / "a_good.jsonl", tmp_path / "b_bad.jsonl"
    write_generic(good, 40)
    write_generic(bad, 40, channel="broken")
    with open(bad, "ab") as fh:
        fh.write(b'{"id": "x-1", "text": "truncated \n')
    url = f"sqlite:///{tmp_path / 'h.db'}"
    r = subprocess.run(HARIS + ["--db", url, "ingest", str(tmp_path), "--no-progress"], capture_output=True,
                       text=True, cwd=tmp_path)
    assert r.returncode == 3, r.stderr
    assert "b_bad.jsonl:41" in r.stderr
    s = Store.open(url)
    with s.connect() as conn:
        chans = conn.execute(select(schema.channels.c.platform_id)).scalars().all()
        n = conn.execute(select(func.count()).select_from(schema.messages)).scalar()
    assert n == 40 and chans == ["bulk"]            # the broken file left no rows at all


def test_unknown_and_empty_files_are_named_with_a_non_zero_exit(tmp_path):
    (tmp_path / "empty.json").write_bytes(b"")
    (tmp_path / "photo.jsonl").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    r = subprocess.run(HARIS + ["--db", f"sqlite:///{tmp_path / 'h.db'}", "scan", str(tmp_path), "--json"],
                       capture_output=True, text=True)
    assert r.returncode == 3
    files = {Path(f["path"]).name: f for f in json.loads(r.stdout)["files"]}
    assert files["empty.json"]["status"] == "failed" and "empty" in files["empty.json"]["error"]
    assert files["photo.jsonl"]["status"] == "failed"


@pytest.mark.slow
def test_kill_mid_scan_then_resume_adds_everything_exactly_once(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    for i in range(3):
        write_generic(data / f"part{i}.jsonl", 4000, start=i * 4000, channel=f"c{i}")
    url = f"sqlite:///{tmp_path / 'h.db'}"
    proc = subprocess.Popen(HARIS + ["--db", url, "scan", str(data), "--no-progress"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    s = Store.open(url)
    deadline = time.time() + 300
    while time.time() < deadline:
        if s.count(schema.sources) >= 1:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert 1 <= s.count(schema.sources) < 3, "the kill should land mid-run"
    mid = s.count(schema.messages)
    assert mid % 4000 == 0                             # only whole files were committed
    r = subprocess.run(HARIS + ["--db", url, "scan", str(data), "--no-progress"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert s.count(schema.messages) == 12000 and s.count(schema.sources) == 3


def test_two_processes_give_the_same_results_as_one(tmp_path):
    data = tmp_path / "in.jsonl"
    write_generic(data, 600)
    outs = []
    for workers in (1, 2):
        out = tmp_path / f"out{workers}.jsonl"
        scan([data], database_url=f"sqlite:///{tmp_path / f'w{workers}.db'}", out=out, workers=workers)
        outs.append([json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()])
    assert outs[0] == outs[1] and len(outs[0]) > 0
    assert counts(f"sqlite:///{tmp_path / 'w1.db'}") == counts(f"sqlite:///{tmp_path / 'w2.db'}")


def test_show_prints_a_stored_message_with_its_entities(tmp_path):
    data = tmp_path / "in.jsonl"
    write_generic(data, 5)
    url = f"sqlite:///{tmp_path / 'h.db'}"
    scan([data], database_url=url)
    s = Store.open(url)
    with s.connect() as conn:
        mid = conn.execute(select(schema.messages.c.id).where(schema.messages.c.platform_id == "bulk-1")).scalar()
    r = subprocess.run(HARIS + ["--db", url, "show", mid, "--json"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)
    assert got["kind"] == "message" and got["record"]["text"].startswith("For sale")
    assert {e["kind"] for e in got["entities"]} >= {"age", "price"}
    r = subprocess.run(HARIS + ["--db", url, "show", "msg_nope"], capture_output=True, text=True)
    assert r.returncode == 4 and "no record" in r.stderr


def test_scan_on_postgres_is_idempotent_too(pg_url, tmp_path):
    data = tmp_path / "in.jsonl"
    write_generic(data, 300)
    scan([data], database_url=pg_url)
    first = counts(pg_url)
    scan([data], database_url=pg_url)
    assert counts(pg_url) == first and first["messages"] == 300


def test_scan_assesses_private_conversations_and_records_the_child_at_risk(tmp_path):
    from haris.protect.tables import at_risk_persons

    url = f"sqlite:///{tmp_path / 'h.db'}"
    rep = scan([EXAMPLES / "telegram" / "grooming_chat"], database_url=url)
    conv = [f for f in rep.flagged if f.get("kind") == "conversation"]
    assert len(conv) == 1 and conv[0]["policy"] == "child_exploitation"
    assert {"requests", "isolation"} <= set(conv[0]["labels"])
    s = Store.open(url)
    with s.connect() as conn:
        kinds = conn.execute(select(schema.signals.c.item_kind).where(
            schema.signals.c.policy == "child_exploitation")).scalars().all()
        people = conn.execute(select(at_risk_persons)).mappings().all()
    assert kinds == ["conversation"]
    assert len(people) == 1 and people[0]["conversation_id"] == conv[0]["id"]


def test_scan_matches_known_content_from_the_banks_and_the_policy_removes_it(tmp_path, monkeypatch):
    from haris.match.banks import BankStore, Entry
    from haris.policy.engine import DEFAULT_POLICY, ItemFacts, decide, load_policy

    monkeypatch.setenv("HARIS_CACHE_DIR", str(tmp_path / "cache"))
    url = f"sqlite:///{tmp_path / 'h.db'}"
    banks = BankStore(Store.open(url))
    banks.create_bank("known-posts", "text", "terrorism")
    known = "The soldiers of the example state announce the new statement number 12 from the media office"
    banks.add_entries("known-posts", [Entry(signal=known, label="statement-12")])
    banks.create_bank("banned-links", "url", "terrorism")
    banks.add_entries("banned-links", [Entry(signal="https://t.me/example_banned_relay")])
    data = tmp_path / "in.jsonl"
    data.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in [
        {"id": "1", "text": known.replace("number 12", "number 12 🔥🔥") + " t.me/example_other"},
        {"id": "2", "text": "join us at telegram.me/s/example_banned_relay?utm_source=x"},
        {"id": "3", "text": "Lambs for sale, 150 EUR each"},
    ]) + "\n", encoding="utf-8")
    from haris.engines.core import Analyzer

    analyzer = Analyzer(store=Store.open(url))
    assert "bank-match" in [d.name for d in analyzer.detectors]
    from haris import ingest
    from haris.model import Message

    results = {m.platform_id: analyzer.analyse(m) for m in ingest.read(data) if isinstance(m, Message)}
    bank_sigs = {pid: [s for s in r.signals if s.detector == "bank-match"] for pid, r in results.items()}
    assert bank_sigs["1"] and bank_sigs["1"][0].policy == "terrorism"
    assert bank_sigs["2"] and "bank:banned-links" in bank_sigs["2"][0].labels
    assert bank_sigs["3"] == []
    policy = load_policy(DEFAULT_POLICY)
    assert decide(policy, ItemFacts.from_result(results["2"])).action == "auto_remove"
