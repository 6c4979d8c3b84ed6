"""Referral packages, STIX 2.1 indicators and hash lists of actioned items."""
from __future__ import annotations

import csv
import json
import zipfile

import pytest
from act_helpers import queue_item, sqlite_only

from haris.act import evidence, referral, sharing
from haris.act.items import parse_when
from haris.errors import ConfigError
from haris.review import workflow as wf


def _action(store, seeded, key, label, action="remove_item", kind="message"):
    rid = queue_item(store, seeded["ids"][key], kind=kind, policy=label)
    wf.decide(store, rid, seeded["people"]["rev1"], label=label, action=action, reason="schematic offence")
    return rid


def test_a_referral_package_has_one_row_per_item_grouped_by_platform(store, seeded, tmp_path):
    _action(store, seeded, "call", "terrorism")
    _action(store, seeded, "tweet", "terrorism")
    _action(store, seeded, "sale", "trafficking")                  # another policy: not in this package
    rid = queue_item(store, seeded["ids"]["before"], policy="terrorism")
    wf.decide(store, rid, seeded["people"]["rev1"], label="benign", action="no_action", reason="car ad")
    rows = referral.referral_rows(store, "terrorism", parse_when("2026-01-01"), None)
    assert [(r.platform, r.url) for r in rows] == [
        ("telegram", "https://t.me/example_calls/7"), ("twitter", "https://x.com/i/status/1790000000000000001")]
    tg = rows[0]
    assert (tg.account, tg.policy, tg.sub_label, tg.first_seen) == ("@example_caller", "terrorism", "recruitment",
                                                                    "2026-01-05T09:20:00.000000Z")
    index = referral.write_package(rows, tmp_path / "pkg", policy="terrorism", start=None, end=None)
    assert index["platforms"] == {"telegram": {"items": 1, "csv": "telegram.csv", "json": "telegram.json"},
                                  "twitter": {"items": 1, "csv": "twitter.csv", "json": "twitter.json"}}
    with open(tmp_path / "pkg" / "telegram.csv", encoding="utf-8") as f:
        [row] = list(csv.DictReader(f))
    assert row["url"] == tg.url and row["evidence_hash"] == tg.evidence_hash and row["platform_id"] == "7"
    assert json.loads((tmp_path / "pkg" / "twitter.json").read_text())["items"][0]["platform_id"] == \
        "1790000000000000001"
    # the evidence hash is the one the case's evidence bundle cites for the item
    cid = wf.create_case(store, seeded["people"]["rev1"], "calls", [r.review_id for r in rows])
    evidence.export_case(store, cid, tmp_path / "b.zip")
    with zipfile.ZipFile(tmp_path / "b.zip") as zf:
        item = json.loads(zf.read(f"items/{seeded['ids']['call']}.json"))
    assert item["evidence_hash"] == tg.evidence_hash
    # the period is the decision's: nothing decided in 2025
    assert referral.referral_rows(store, "terrorism", parse_when("2025-01-01"), parse_when("2025-12-31", end=True)) == []


@sqlite_only
def test_referral_packages_are_not_for_child_exploitation(store):
    with pytest.raises(ConfigError, match="NCMEC"):
        referral.referral_rows(store, "child_exploitation", None, None)


def test_stix_bundle_has_indicators_with_policy_labels_and_no_content(store, seeded, tmp_path):
    import stix2

    _action(store, seeded, "sale", "trafficking")
    _action(store, seeded, "call", "terrorism")
    out = tmp_path / "ind.stix.json"
    res = sharing.stix_bundle(store, None, None, out)
    text = out.read_text()
    bundle = stix2.parse(text, allow_custom=True)
    patterns = {o.pattern: o.labels for o in bundle.objects}
    assert patterns["[url:value = 'https://example.com/shop/1']"] == ["trafficking"]
    assert patterns["[domain-name:value = 'example.org']"] == ["terrorism"]
    assert any(p.startswith("[file:hashes.'SHA-256' = ") for p in patterns)
    assert any(p.startswith("[file:hashes.'PDQ' = ") for p in patterns)      # hashed from the local file
    assert not any("t.me'" in p and "domain-name" in p for p in patterns)    # never a platform's own domain
    assert "offer" not in text and "recruiting" not in text and "example_seller" not in text
    assert res["by_type"]["url"] == 3 and res["indicators"] == len(bundle.objects)
    # haris reads back what it shares
    from haris.match.banks import BankStore

    banks = BankStore(store)
    banks.create_bank("shared-urls", "url", "trafficking")
    # a bank holds one signal type: the other indicators of the bundle are skipped
    assert banks.import_file("shared-urls", out, "stix", skip_bad=True).added == 3


@sqlite_only
def test_hash_lists_in_threatexchange_and_hma_formats(store, seeded, tmp_path):
    _action(store, seeded, "sale", "trafficking")
    res = sharing.hash_lists(store, None, None, tmp_path / "tx", "tx-csv")
    [pdq_file] = [p for p in res["files"] if "pdq" in p]
    with open(pdq_file, encoding="utf-8") as f:
        [row] = list(csv.DictReader(f))
    assert row["signal_type"] == "pdq" and row["tags"] == "trafficking" and len(row["signal_str"]) == 64
    assert "ThreatExchange" in res["skipped"]["sha256"] or "threatexchange" in res["skipped"]["sha256"]
    js = sharing.hash_lists(store, None, None, tmp_path / "json", "json")
    sha = json.loads(next(open(p).read() for p in js["files"] if "sha256" in p))
    assert sha["format"] == "haris-bank" and len(sha["entries"]) == 2      # ingested hash and the file's own
    with pytest.raises(ConfigError, match="unknown hash list format"):
        sharing.hash_lists(store, None, None, tmp_path / "x", "xml")
