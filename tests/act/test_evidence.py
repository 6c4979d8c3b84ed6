"""Evidence bundles: contents, chain of custody, signatures, one-byte edits; retention and holds."""
from __future__ import annotations

import hashlib
import io
import json
import os
import stat
import zipfile
from datetime import datetime, timedelta, timezone

import pytest
from act_helpers import queue_item, sqlite_only
from click.testing import CliRunner

from haris.act import bundle, evidence, retention
from haris.act.items import canonical_json
from haris.errors import ConfigError, NotFoundError
from haris.review import workflow as wf


def _case(store, seeded, keys=("sale", "call")):
    rev, senior = seeded["people"]["rev1"], seeded["people"]["senior"]
    reviews = {}
    for key in keys:
        policy = "terrorism" if key == "call" else "trafficking"
        reviews[key] = queue_item(store, seeded["ids"][key], policy=policy)
    cid = wf.create_case(store, rev, "network example", list(reviews.values()))
    for key, rid in reviews.items():
        label = "terrorism" if key == "call" else "trafficking"
        wf.decide(store, rid, rev, label=label, action="suspend_account", reason="schematic offence")
        wf.decide(store, rid, senior, label=label, action="suspend_account", reason="confirmed")
    return cid, reviews


def _grooming_case(store, seeded):
    rev = seeded["people"]["rev1"]
    rid = queue_item(store, seeded["ids"]["conversation"], kind="conversation", policy="child_exploitation",
                     priority="urgent")
    cid = wf.create_case(store, rev, "grooming example", [rid])
    wf.decide(store, rid, rev, label="child_exploitation", action="report", reason="enticement")
    wf.decide(store, rid, seeded["people"]["senior"], label="child_exploitation", action="report", reason="confirm")
    return cid, rid


def _members(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def test_a_bundle_holds_items_context_media_and_the_chain_of_custody(store, seeded, tmp_path):
    cid, reviews = _case(store, seeded)
    out = tmp_path / "bundle.zip"
    res = evidence.export_case(store, cid, out)
    assert res.items == 2 and res.media_included == 1 and res.media_withheld == 0
    files = _members(out)
    manifest = json.loads(files["manifest.json"])
    listed = {f["path"]: f for f in manifest["files"]}
    assert set(files) == set(listed) | {"manifest.json", "manifest.sig", "public_key.pem"}
    for name, entry in listed.items():
        assert hashlib.sha256(files[name]).hexdigest() == entry["sha256"]
    item = json.loads(files[f"items/{seeded['ids']['sale']}.json"])
    assert item["evidence_hash"] == hashlib.sha256(canonical_json(item["record"])).hexdigest()
    assert item["record"]["text"].startswith("offer:") and item["signals"][0]["labels"] == ["sale", "minor_involved"]
    media_file = next(n for n in files if n.startswith("media/med_sale_1"))
    assert files[media_file] == seeded["image"].read_bytes()
    neighbours = {m["id"] for m in json.loads(files["context/neighbours.json"])}
    assert {seeded["ids"]["before"], seeded["ids"]["after"]} <= neighbours and seeded["ids"]["sale"] not in neighbours
    accounts = {a["handle"] for a in json.loads(files["context/accounts.json"])}
    assert accounts == {"example_seller", "example_caller"}
    custody = json.loads(files["custody.json"])
    kinds = [e["event"] for e in custody["events"]]
    assert {"detected", "queued", "case.create", "decision.first", "decision.second"} <= set(kinds)
    assert kinds.index("queued") < kinds.index("decision.first") < kinds.index("decision.second")
    assert custody["audit_chain"]["ok"] is True
    assert all(len(e["audit"]["hash"]) == 64 for e in custody["events"] if "audit" in e)
    assert res.fingerprint == manifest["signing_key"]["fingerprint"]
    assert evidence.verify_bundle(out).ok
    # the export itself is in the audit log, and shows in the next bundle's custody timeline
    evidence.export_case(store, cid, tmp_path / "again.zip")
    again = json.loads(_members(tmp_path / "again.zip")["custody.json"])
    assert [e["detail"]["manifest_sha256"] for e in again["events"] if e["event"] == "evidence.export"] == \
        [res.manifest_sha256]


@sqlite_only
def test_child_exploitation_media_are_hashes_only(store, seeded, tmp_path):
    cid, _ = _grooming_case(store, seeded)
    res = evidence.export_case(store, cid, tmp_path / "b.zip")
    files = _members(tmp_path / "b.zip")
    assert not [n for n in files if n.startswith("media/") and n != "media/hashes.json"]
    [entry] = json.loads(files["media/hashes.json"])
    assert entry["included"] is False and entry["withheld"] == "child exploitation: hashes only"
    assert entry["sha256"] == f"{2003:064x}" and res.media_withheld == 1
    with pytest.raises(ConfigError, match="never"):
        rules = tmp_path / "rules.yaml"
        rules.write_text("media: {child_exploitation: true}\n")
        evidence.load_rules(rules)


def test_a_bundle_edited_by_one_byte_fails(store, seeded, tmp_path):
    cid, _ = _case(store, seeded)
    out = tmp_path / "bundle.zip"
    evidence.export_case(store, cid, out)
    original = out.read_bytes()
    # any single byte, anywhere in the archive (sampled across the whole file)
    for offset in range(0, len(original), max(1, len(original) // 150)):
        edited = bytearray(original)
        edited[offset] ^= 0x20
        (tmp_path / "edited.zip").write_bytes(edited)
        res = evidence.verify_bundle(tmp_path / "edited.zip")
        assert not res.ok and res.problem, f"byte {offset} changed and the bundle still verified"
    # a file's content changed, the archive rebuilt around it: the problem names the file
    files = _members(out)
    name = f"items/{seeded['ids']['sale']}.json"
    files[name] = files[name].replace(b"12,500", b"12,600")
    _rezip(tmp_path / "swapped.zip", files)
    res = evidence.verify_bundle(tmp_path / "swapped.zip")
    assert not res.ok and res.problem.startswith(name) and "altered" in res.problem
    # the manifest updated to match: now the signature fails
    manifest = json.loads(files["manifest.json"])
    for f in manifest["files"]:
        if f["path"] == name:
            f["sha256"] = hashlib.sha256(files[name]).hexdigest()
    files["manifest.json"] = json.dumps(manifest, indent=1, sort_keys=True).encode() + b"\n"
    _rezip(tmp_path / "resigned.zip", files)
    assert "signature does not verify" in evidence.verify_bundle(tmp_path / "resigned.zip").problem


def _rezip(path, files):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        for n, d in files.items():
            zf.writestr(zipfile.ZipInfo(n, date_time=(1980, 1, 1, 0, 0, 0)), d)


@sqlite_only
def test_a_bundle_re_signed_with_another_key_fails_when_the_signer_is_pinned(store, seeded, tmp_path):
    cid, _ = _case(store, seeded)
    out = tmp_path / "b.zip"
    res = evidence.export_case(store, cid, out)
    other = tmp_path / "other.pem"
    forged = evidence.export_case(store, cid, tmp_path / "forged.zip", key_path=_new_key(other))
    assert evidence.verify_bundle(tmp_path / "forged.zip").ok            # intact, but by someone else
    pinned = evidence.verify_bundle(tmp_path / "forged.zip", res.fingerprint)
    assert not pinned.ok and "not the expected key" in pinned.problem
    pub = tmp_path / "pub.pem"
    pub.write_text(res.public_key_pem)
    assert evidence.verify_bundle(out, pub).ok and forged.fingerprint != res.fingerprint


def _new_key(path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    path.write_bytes(Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return path


def test_the_signing_key_is_made_once_and_private(data_dir, monkeypatch, tmp_path):
    key1, path = bundle.signing_key()
    assert path == data_dir / "evidence_ed25519.pem"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    key2, _ = bundle.signing_key()
    assert bundle.fingerprint(key1.public_key()) == bundle.fingerprint(key2.public_key())
    monkeypatch.setenv("HARIS_EVIDENCE_KEY", str(tmp_path / "missing.pem"))
    with pytest.raises(ConfigError, match="does not exist"):
        bundle.signing_key()


@sqlite_only
def test_cli_export_prints_the_key_and_verify_exits_4_on_an_altered_bundle(store, seeded, tmp_path, db_url):
    from haris.cli import cli

    cid, _ = _case(store, seeded)
    out = tmp_path / "cli.zip"
    run = CliRunner().invoke(cli, ["--db", db_url, "evidence", "export", cid, "--out", str(out)])
    assert run.exit_code == 0, run.output
    assert "BEGIN PUBLIC KEY" in run.output and "fingerprint" in run.output
    ok = CliRunner().invoke(cli, ["evidence", "verify", str(out)])
    assert ok.exit_code == 0 and "intact" in ok.output
    data = bytearray(out.read_bytes())
    data[len(data) // 3] ^= 1
    out.write_bytes(data)
    bad = CliRunner().invoke(cli, ["evidence", "verify", str(out)])
    assert bad.exit_code == 4 and "FAILED" in bad.output
    with pytest.raises(NotFoundError):
        evidence.export_case(store, "case_missing", tmp_path / "x.zip")


# -- retention --------------------------------------------------------------------------------------
def test_due_for_deletion_follows_days_per_policy_and_skips_holds_and_open_reviews(store, seeded, tmp_path):
    cfg = retention.Retention(default_days=30, policies={"trafficking": 100, "benign": 10}, hold_days=365)
    rev = seeded["people"]["rev1"]
    ids = seeded["ids"]
    sale = queue_item(store, ids["sale"])
    wf.decide(store, sale, rev, label="trafficking", action="remove_item", reason="sale")
    goats = queue_item(store, ids["after"])
    wf.decide(store, goats, rev, label="benign", action="no_action", reason="livestock ad")
    queue_item(store, ids["before"])                                     # still open
    now = datetime.now(timezone.utc)
    due = {d.item_id: d for d in retention.due_for_deletion(store, now + timedelta(days=11), config=cfg)}
    assert ids["after"] in due and due[ids["after"]].label == "benign"   # benign: 10 days
    assert ids["sale"] not in due and ids["before"] not in due           # trafficking: 100 days; open review
    # never-reviewed messages: 30 days after their time (2026-01-05); the open review's item never
    assert ids["call"] in due and ids["tweet"] in due
    later = now + timedelta(days=101)
    assert ids["sale"] in {d.item_id for d in retention.due_for_deletion(store, later, config=cfg)}
    with store.begin() as conn:
        retention.place_hold(conn, [ids["sale"]], reason="police request", until=later + timedelta(days=1))
    assert ids["sale"] not in {d.item_id for d in retention.due_for_deletion(store, later, config=cfg)}
    assert ids["sale"] in {d.item_id for d in retention.due_for_deletion(store, later + timedelta(days=2),
                                                                        config=cfg)}


def test_a_report_to_authorities_holds_the_item_for_a_year(store, seeded):
    cid, rid = _grooming_case(store, seeded)
    [hold] = retention.holds(store, seeded["ids"]["conversation"])
    until = hold["until"].replace(tzinfo=timezone.utc) if hold["until"].tzinfo is None else hold["until"]
    assert timedelta(days=364) < until - datetime.now(timezone.utc) <= timedelta(days=365)
    cfg = retention.Retention(default_days=30, policies={"child_exploitation": 10}, hold_days=365)
    now = datetime.now(timezone.utc)
    conv = seeded["ids"]["conversation"]
    assert conv not in {d.item_id for d in retention.due_for_deletion(store, now + timedelta(days=300), config=cfg)}
    assert conv in {d.item_id for d in retention.due_for_deletion(store, now + timedelta(days=366), config=cfg)}
    # the conversation's messages are covered by its review, not listed one by one
    assert seeded["ids"]["dm_2001"] not in {d.item_id for d in retention.due_for_deletion(
        store, now + timedelta(days=366), config=cfg)}


def test_the_retention_file_is_checked(tmp_path):
    bad = tmp_path / "r.yaml"
    bad.write_text("default_days: -3\n")
    with pytest.raises(ConfigError, match="default_days"):
        retention.load_retention(bad)
    bad.write_text("policies: {terrorism: soon}\n")
    with pytest.raises(ConfigError, match="policies.terrorism"):
        retention.load_retention(bad)
    assert retention.load_retention().hold_days == 365


def test_zip_reading_errors_are_reported_not_raised(tmp_path):
    p = tmp_path / "junk.zip"
    p.write_bytes(b"PK\x03\x04 not really a zip")
    res = bundle.verify_bundle(p)
    assert not res.ok and "ZIP" in res.problem
    empty = io.BytesIO()
    zipfile.ZipFile(empty, "w").close()
    p.write_bytes(empty.getvalue())
    assert bundle.verify_bundle(p).problem == "manifest.json is missing"
