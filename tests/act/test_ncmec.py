"""CyberTipline-style reports: structure, schema validation, required fields, export and submission."""
from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from act_helpers import queue_item, sqlite_only

from haris.act import ncmec, retention
from haris.act.tables import authority_reports
from haris.review import workflow as wf
from haris.service import audit

REPORTER = """reporting_person:
  first_name: Trust
  last_name: Safety
  email: safety@example.com
  phone: "+1 555 0100"
esp_service: Example Chat
legal_url: https://example.com/legal
"""


@pytest.fixture
def reporter(tmp_path):
    p = tmp_path / "reporter.yaml"
    p.write_text(REPORTER)
    return ncmec.load_reporter(p)


def _case(store, seeded, key, kind, label, title):
    rev, senior = seeded["people"]["rev1"], seeded["people"]["senior"]
    rid = queue_item(store, seeded["ids"][key], kind=kind, policy=label, priority="urgent")
    cid = wf.create_case(store, rev, title, [rid])
    wf.decide(store, rid, rev, label=label, action="suspend_account", reason="schematic offence")
    wf.decide(store, rid, senior, label=label, action="suspend_account", reason="confirmed")
    return cid


def test_a_grooming_case_becomes_a_valid_enticement_report(store, seeded, reporter, tmp_path):
    cid = _case(store, seeded, "conversation", "conversation", "child_exploitation", "grooming example")
    rep = ncmec.build_report(store, cid, reporter)
    assert rep.incident_type == ncmec.ENTICEMENT
    root = ET.fromstring(rep.report_xml)
    assert [c.tag for c in root] == ["incidentSummary", "internetDetails", "reporter", "personOrUserReported",
                                     "victim", "additionalInfo"]
    assert root.findtext("incidentSummary/incidentType") == "Online Enticement of Children for Sexual Acts"
    assert root.findtext("incidentSummary/incidentDateTime") == "2026-01-05T09:40:00Z"
    chat = root.find("internetDetails/chatImIncident")
    assert "i will pay $40" in chat.findtext("content") and chat.findtext("chatClient") == "telegram"
    person = root.find("personOrUserReported")
    assert person.findtext("espIdentifier") == "2001" and person.findtext("screenName") == "example_adult"
    assert person.findtext("profileUrl") == "https://t.me/example_adult"
    assert person.find("accountPermanentlyDisabled").text == "true"
    assert root.findtext("victim/espIdentifier") == "2002"
    assert root.findtext("reporter/reportingPerson/email") == "safety@example.com"
    [fd] = rep.file_details
    fdr = ET.fromstring(fd)
    hashes = {h.get("hashType"): h.text for h in fdr.findall("originalFileHash")}
    assert set(hashes) >= {"SHA256", "MD5", "PDQ"} and fdr.findtext("fileViewedByEsp") == "false"
    done = ncmec.export(store, rep, tmp_path / "ct")
    assert [p.rsplit("/", 1)[1] for p in done.files] == ["report.xml", "fileDetails-001.xml"]
    assert (tmp_path / "ct" / "report.xml").read_bytes() == rep.report_xml
    with store.connect() as conn:
        row = conn.execute(authority_reports.select()).mappings().one()
    assert row["status"] == "exported" and row["sha256"] == rep.sha256
    assert retention.holds(store, seeded["ids"]["conversation"])
    assert audit.entries(store, action="cybertipline.export", target=cid)


def test_a_minor_offered_for_sale_is_child_sex_trafficking_with_the_post_url(store, seeded, reporter):
    cid = _case(store, seeded, "sale", "message", "trafficking", "sale of a child")
    rep = ncmec.build_report(store, cid, reporter)
    root = ET.fromstring(rep.report_xml)
    assert rep.incident_type == root.findtext("incidentSummary/incidentType") == "Child Sex Trafficking"
    assert [u.text for u in root.findall("internetDetails/webPageIncident/url")] == ["https://t.me/example_market/41"]
    assert root.find("victim") is None


@sqlite_only
def test_a_case_that_is_not_child_exploitation_is_refused(store, seeded, reporter):
    cid = _case(store, seeded, "call", "message", "terrorism", "recruitment")
    with pytest.raises(ncmec.ReportError, match="no item labelled child_exploitation"):
        ncmec.build_report(store, cid, reporter)


@sqlite_only
def test_missing_required_fields_are_named(store, seeded, reporter, tmp_path):
    p = tmp_path / "r.yaml"
    p.write_text(REPORTER.replace("  email: safety@example.com\n", ""))
    with pytest.raises(ncmec.ReportError, match=r"missing required field reporter\.reportingPerson\.email"):
        ncmec.load_reporter(p)
    with pytest.raises(ncmec.ReportError, match="reportingPerson"):
        ncmec.load_reporter(None)
    with pytest.raises(ncmec.ReportError, match="incidentType 'Bad'"):
        ncmec.build_report(store, "any", reporter, incident_type="Bad")
    # the schema itself names what is missing or wrong
    bad = b"<report><incidentSummary><incidentDateTime>2026-01-05T09:40:00Z</incidentDateTime></incidentSummary>" \
          b"<reporter><reportingPerson><firstName>A</firstName><lastName>B</lastName><email>a@example.com</email>" \
          b"</reportingPerson></reporter></report>"
    with pytest.raises(ncmec.ReportError, match="incidentType"):
        ncmec.validate(bad, "test report")
    with pytest.raises(ncmec.ReportError, match="email"):
        good_summary = b"<incidentSummary><incidentType>Child Sex Trafficking</incidentType>"
        ncmec.validate(bad.replace(b"<incidentSummary>", good_summary).replace(b"a@example.com", b"not an address"),
                       "test report")


def test_submission_only_to_a_configured_url_and_failures_are_recorded(store, seeded, reporter, receiver, tmp_path):
    cid = _case(store, seeded, "conversation", "conversation", "child_exploitation", "grooming example")
    rep = ncmec.build_report(store, cid, reporter)
    done = ncmec.export(store, rep, tmp_path / "ct")
    assert receiver.requests == []                       # exporting sends nothing
    remote = ncmec.submit(store, rep, done, receiver.url + "/ncmec", auth=("esp", "pw"))
    assert remote == "4242" and done.status == "submitted"
    steps = [r["path"] for r in receiver.requests]
    assert steps == ["/ncmec/submit", "/ncmec/fileinfo", "/ncmec/finish"]
    assert receiver.requests[0]["body"] == rep.report_xml
    assert ET.fromstring(receiver.requests[1]["body"]).findtext("reportId") == "4242"
    assert receiver.requests[0]["headers"]["Authorization"].startswith("Basic ")
    with pytest.raises(ncmec.SubmissionError, match="responseCode 1000: Server error"):
        ncmec.submit(store, rep, done, receiver.url + "/ncmec-bad")
    with store.connect() as conn:
        row = conn.execute(authority_reports.select()).mappings().one()
    assert row["status"] == "failed" and "responseCode 1000" in row["error"]
    assert audit.entries(store, action="cybertipline.submit_failed")


@sqlite_only
def test_cli_writes_the_report_and_submits_only_when_asked(store, seeded, receiver, tmp_path, db_url, monkeypatch):
    from click.testing import CliRunner

    from haris.cli import cli

    monkeypatch.delenv("HARIS_NCMEC_URL", raising=False)
    p = tmp_path / "r.yaml"
    p.write_text(REPORTER)
    cid = _case(store, seeded, "conversation", "conversation", "child_exploitation", "grooming example")
    run = CliRunner().invoke(cli, ["--db", db_url, "report", "ncmec", cid, "--reporter", str(p),
                                   "--out", str(tmp_path / "out")])
    assert run.exit_code == 0, run.output
    assert "not submitted" in run.output and receiver.requests == []
    run = CliRunner().invoke(cli, ["--db", db_url, "report", "ncmec", cid, "--reporter", str(p),
                                   "--out", str(tmp_path / "out2"), "--submit-url", receiver.url + "/ncmec"])
    assert run.exit_code == 0 and "report id 4242" in run.output
