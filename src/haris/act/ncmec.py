"""CyberTipline-style reports for child exploitation cases.

    haris report ncmec CASE_ID --reporter reporter.yaml --out DIR [--submit-url URL]

The XML follows the report structure of NCMEC's public CyberTipline Reporting
API — ``<report>`` with ``<incidentSummary>`` (incident type and date-time),
``<internetDetails>`` (a web page with the item URLs, or a chat with its
transcript), ``<reporter>`` (``<reportingPerson>``), ``<personOrUserReported>``
(``espIdentifier``, ``screenName``…), ``<victim>``, ``<additionalInfo>`` — and
one ``<fileDetails>`` document per media file, with its hashes only (haris
never holds the bytes of child exploitation media). Every document is validated
against ``data/cybertipline_report.xsd`` (haris's schema for the subset it
writes) before it is written or sent; a report that lacks a required field is
refused with an error naming the field.

Exporting writes ``report.xml`` and ``fileDetails-NNN.xml`` to a folder,
records the report, and puts the case's items under a preservation hold.
Submitting (only when a URL is configured: ``--submit-url`` or
``HARIS_NCMEC_URL``, HTTP basic credentials in ``HARIS_NCMEC_USER`` /
``HARIS_NCMEC_PASSWORD``) follows the API's sequence: ``POST /submit`` (the
report; the answer carries the report id), ``POST /fileinfo`` per file, then
``POST /finish``. The real API also wants each file uploaded (``/upload``)
before its details; that is the platform's part, as it holds the files.
"""
from __future__ import annotations

import functools
import os
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import httpx
import yaml
from sqlalchemy import select

from haris import __version__
from haris.act.evidence import record_of
from haris.act.items import (evidence_hash, final_decisions, item_url, messages_of, profile_url, rows_by_id,
                             sha256_hex, utc)
from haris.act.retention import hold_on_report
from haris.act.tables import authority_reports
from haris.detect.base import CHILD_EXPLOITATION, TRAFFICKING
from haris.errors import ConfigError, HarisError, NotFoundError
from haris.model import stable_id
from haris.service import audit
from haris.service.tables import cases, review_items
from haris.store import schema
from haris.store.db import Store

XSD = Path(__file__).parent / "data" / "cybertipline_report.xsd"
ENTICEMENT = "Online Enticement of Children for Sexual Acts"
CHILD_SEX_TRAFFICKING = "Child Sex Trafficking"
INCIDENT_TYPES = ("Child Pornography (possession, manufacture, and distribution)", CHILD_SEX_TRAFFICKING,
                  "Child Sex Tourism", "Child Sexual Molestation", "Misleading Domain Name",
                  "Misleading Words or Digital Images on the Internet", ENTICEMENT,
                  "Unsolicited Obscene Material Sent to a Child")
MAX_TRANSCRIPT_LINES = 200


class ReportError(ConfigError):
    """A report that cannot be built as asked: the message names the missing or invalid field."""


class SubmissionError(HarisError):
    """The receiver refused or did not answer; the report stays exported and recorded as failed."""

    exit_code = 1


# -- who reports ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Reporter:
    first_name: str
    last_name: str
    email: str
    phone: str | None = None
    contact: dict | None = None
    esp_service: str | None = None
    company_template: str | None = None
    terms_of_service: str | None = None
    legal_url: str | None = None


def load_reporter(path: str | Path | None = None) -> Reporter:
    """Read the reporter file (see ``data/ncmec_reporter.example.yaml``)."""
    path = path or os.environ.get("HARIS_NCMEC_REPORTER")
    if not path:
        raise ReportError("missing required field reporter.reportingPerson: pass --reporter FILE (or set "
                          "HARIS_NCMEC_REPORTER); see src/haris/act/data/ncmec_reporter.example.yaml")
    try:
        doc = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ReportError(f"{path}: cannot read the reporter file: {exc}") from None
    person = doc.get("reporting_person") or {}
    for key, xml_name in (("first_name", "firstName"), ("last_name", "lastName"), ("email", "email")):
        if not str(person.get(key) or "").strip():
            raise ReportError(f"{path}: missing required field reporter.reportingPerson.{xml_name} "
                              f"(set reporting_person.{key})")
    return Reporter(str(person["first_name"]).strip(), str(person["last_name"]).strip(), str(person["email"]).strip(),
                    person.get("phone"), doc.get("contact_person"), doc.get("esp_service"),
                    doc.get("company_template"), doc.get("terms_of_service"), doc.get("legal_url"))


# -- the report ---------------------------------------------------------------------------------
@dataclass
class CyberTipReport:
    case_id: str
    incident_type: str
    report_xml: bytes
    file_details: list[bytes] = field(default_factory=list)
    item_ids: list[str] = field(default_factory=list)

    @property
    def sha256(self) -> str:
        return sha256_hex(self.report_xml)


def _sub(parent: ET.Element, tag: str, text: object = None, **attrs: object) -> ET.Element | None:
    """A child element; nothing when the value is empty (optional fields are left out, not left blank)."""
    if text is None and not attrs:
        return None
    if isinstance(text, str) and not text.strip() and not attrs:
        return None
    el = ET.SubElement(parent, tag, {k: _text(v) for k, v in attrs.items() if v is not None})
    if text is not None:
        el.text = _text(text)
    return el


def _text(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, datetime):
        return utc(v).strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(v)


@functools.lru_cache(maxsize=1)
def _schema():
    import xmlschema

    return xmlschema.XMLSchema(str(XSD))


def validate(xml: bytes, what: str) -> None:
    """Validate against the schema; the error names the element and what is wrong with it."""
    errors = list(_schema().iter_errors(xml.decode("utf-8")))
    if errors:
        e = errors[0]
        raise ReportError(f"{what} does not validate against {XSD.name}: at {e.path}: {e.reason}"
                          + (f" (and {len(errors) - 1} more problems)" if len(errors) > 1 else ""))


def _is_child_item(final: dict | None, signals: list[dict]) -> tuple[bool, bool]:
    """(is a child exploitation item, is the trafficking of a minor)."""
    label = final["label"] if final else None
    child_signal = any(s["policy"] == CHILD_EXPLOITATION for s in signals)
    minor_sold = any(s["policy"] == TRAFFICKING and "minor_involved" in (s["labels"] or []) for s in signals)
    trafficking_minor = label == TRAFFICKING and (minor_sold or child_signal)
    return label == CHILD_EXPLOITATION or trafficking_minor, trafficking_minor


def build_report(store: Store, case_id: str, reporter: Reporter, *, incident_type: str | None = None) -> CyberTipReport:
    """The validated report (and file details) for a child exploitation case."""
    if incident_type is not None and incident_type not in INCIDENT_TYPES:
        raise ReportError(f"incidentSummary.incidentType {incident_type!r} is not one of: {'; '.join(INCIDENT_TYPES)}")
    with store.connect() as conn:
        case = conn.execute(select(cases).where(cases.c.id == case_id)).mappings().first()
        if case is None:
            raise NotFoundError(f"no case {case_id!r}")
        reviews = [dict(r) for r in conn.execute(select(review_items).where(review_items.c.case_id == case_id)
                                                 .order_by(review_items.c.created_at)).mappings()]
        finals = final_decisions(conn, [r["id"] for r in reviews])
        child_msgs: list[dict] = []
        trafficking = False
        item_ids: list[str] = []
        suspended_at: dict[str, datetime] = {}
        grooming: list[dict] = []
        for r in reviews:
            msgs = messages_of(conn, r)
            ids = [m["id"] for m in msgs] + [r["item_id"]]
            sigs = [dict(s) for s in conn.execute(select(schema.signals).where(schema.signals.c.item_id.in_(ids)))
                    .mappings()]
            is_child, minor_sold = _is_child_item(finals.get(r["id"]), sigs)
            if not is_child:
                continue
            trafficking |= minor_sold
            item_ids.append(r["item_id"])
            child_msgs.extend(msgs)
            grooming += [s["data"] or {} for s in sigs if s["policy"] == CHILD_EXPLOITATION]
            f = finals.get(r["id"])
            if f and f["action"] == "suspend_account":
                for m in msgs:
                    if m["author_id"]:
                        suspended_at.setdefault(m["author_id"], utc(f["created_at"]))
        if not item_ids:
            raise ReportError(f"case {case_id} has no item labelled child_exploitation (nor trafficking of a minor): "
                              "a CyberTipline report is for child sexual exploitation")
        child_msgs = sorted({m["id"]: m for m in child_msgs}.values(), key=lambda m: (utc(m["time"]) or
                                                                                      datetime.max.replace(tzinfo=timezone.utc), m["id"]))
        accounts = rows_by_id(conn, schema.accounts, {m["author_id"] for m in child_msgs if m["author_id"]}
                              | {g.get(k) for g in grooming for k in ("adult", "minor") if g.get(k)})
        channels = rows_by_id(conn, schema.channels, {m["channel_id"] for m in child_msgs if m["channel_id"]})
        media = [dict(r) for r in conn.execute(select(schema.media).where(
            schema.media.c.message_id.in_([m["id"] for m in child_msgs]))).mappings()] if child_msgs else []
    times = [utc(m["time"]) for m in child_msgs if m["time"]]
    if not times:
        raise ReportError(f"missing required field incidentSummary.incidentDateTime: no message of case {case_id} "
                          "has a time")
    incident = incident_type or (CHILD_SEX_TRAFFICKING if trafficking else ENTICEMENT)
    platform = child_msgs[0]["platform"]

    root = ET.Element("report")
    summary = ET.SubElement(root, "incidentSummary")
    _sub(summary, "incidentType", incident)
    _sub(summary, "platform", reporter.esp_service or platform)
    _sub(summary, "incidentDateTime", min(times))
    _sub(summary, "incidentDateTimeDescription", f"first of {len(child_msgs)} messages; last at "
                                                 f"{_text(max(times))}")
    by_channel: dict[str | None, list[dict]] = defaultdict(list)
    for m in child_msgs:
        by_channel[m["channel_id"]].append(m)
    for channel_id, msgs in by_channel.items():
        chan = channels.get(channel_id) or {}
        urls = [u for m in msgs if (u := item_url(m["platform"], m["platform_id"], chan.get("handle")))]
        details = ET.SubElement(root, "internetDetails")
        if chan.get("kind") in ("channel", "timeline") and urls:
            web = ET.SubElement(details, "webPageIncident")
            for u in dict.fromkeys(urls):
                _sub(web, "url", u)
            _sub(web, "additionalInfo", f"public {chan.get('kind')} {chan.get('title') or chan.get('handle') or ''}")
        else:
            chat = ET.SubElement(details, "chatImIncident")
            _sub(chat, "chatClient", platform)
            _sub(chat, "chatRoomName", chan.get("title") or chan.get("handle") or chan.get("platform_id"))
            _sub(chat, "content", _transcript(msgs, accounts))
    reporter_el = ET.SubElement(root, "reporter")
    person = ET.SubElement(reporter_el, "reportingPerson")
    _sub(person, "firstName", reporter.first_name)
    _sub(person, "lastName", reporter.last_name)
    if reporter.phone:
        _sub(person, "phone", reporter.phone, type="Business")
    _sub(person, "email", reporter.email, type="Business")
    if reporter.contact:
        contact = ET.SubElement(reporter_el, "contactPerson")
        for key, tag in (("first_name", "firstName"), ("last_name", "lastName"), ("phone", "phone"), ("email", "email")):
            _sub(contact, tag, reporter.contact.get(key))
    _sub(reporter_el, "companyTemplate", reporter.company_template)
    _sub(reporter_el, "termsOfService", reporter.terms_of_service)
    _sub(reporter_el, "legalURL", reporter.legal_url)

    adult = next((g["adult"] for g in grooming if g.get("adult") in accounts), None)
    minor = next((g["minor"] for g in grooming if g.get("minor") in accounts), None)
    if adult is None:
        authors = Counter(m["author_id"] for m in child_msgs if m["author_id"] and m["author_id"] != minor)
        adult = authors.most_common(1)[0][0] if authors else None
    if adult is not None:
        acc = accounts.get(adult) or {}
        if not acc.get("platform_id"):
            raise ReportError(f"missing required field personOrUserReported.espIdentifier: account {adult} has no "
                              "platform id")
        pr = ET.SubElement(root, "personOrUserReported")
        _account_fields(pr, acc, reporter.esp_service or platform)
        if adult in suspended_at:
            _sub(pr, "accountPermanentlyDisabled", True, disabledDate=suspended_at[adult])
    if minor is not None and minor in accounts:
        _account_fields(ET.SubElement(root, "victim"), accounts[minor], reporter.esp_service or platform, bio=False)
    hashes = "; ".join(f"{m['id']} {evidence_hash(record_of(m))}" for m in child_msgs[:500])
    _sub(root, "additionalInfo", f"Prepared with haris {__version__} from case {case_id} ({case['title']}): "
                                 f"{len(item_ids)} items, {len(child_msgs)} messages, {len(media)} media files "
                                 f"(hashes only). Evidence hashes (SHA-256 of each message's canonical JSON, as in "
                                 f"the case's evidence bundle): {hashes}")
    xml = _serialize(root)
    validate(xml, f"CyberTipline report for case {case_id}")
    files = [_file_details(md) for md in media]
    for i, fd in enumerate(files, 1):
        validate(fd, f"fileDetails {i} of case {case_id}")
    return CyberTipReport(case_id, incident, xml, files, item_ids)


def _account_fields(parent: ET.Element, acc: dict, service: str, bio: bool = True) -> None:
    _sub(parent, "espIdentifier", acc.get("platform_id"))
    _sub(parent, "espService", service)
    _sub(parent, "screenName", acc.get("handle"))
    _sub(parent, "displayName", acc.get("display_name"))
    _sub(parent, "profileUrl", profile_url(acc.get("platform"), acc.get("handle")))
    if bio:
        _sub(parent, "profileBio", acc.get("bio"))


def _transcript(msgs: list[dict], accounts: dict[str, dict]) -> str:
    lines = []
    for m in msgs[:MAX_TRANSCRIPT_LINES]:
        acc = accounts.get(m["author_id"] or "") or {}
        who = "@" + acc["handle"] if acc.get("handle") else (acc.get("platform_id") or m["author_id"] or "?")
        lines.append(f"[{_text(m['time']) if m['time'] else '?'}] {who}: {m['text']}")
    if len(msgs) > MAX_TRANSCRIPT_LINES:
        lines.append(f"[… {len(msgs) - MAX_TRANSCRIPT_LINES} more messages in the evidence bundle]")
    return "\n".join(lines)


def _file_details(md: dict) -> bytes:
    root = ET.Element("fileDetails")
    name = md["id"] + (Path(md["path"]).suffix.lower() if md.get("path") else "")
    _sub(root, "fileName", name)
    if md.get("path"):
        _sub(root, "originalFileName", Path(md["path"]).name)
    _sub(root, "locationOfFile", md.get("url"))
    _sub(root, "fileViewedByEsp", False)       # haris never shows child exploitation media to anyone
    _sub(root, "fileRelevance", "Reported")
    hashes = {"SHA256": md.get("sha256")}
    local = Path(md["path"]) if md.get("path") else None
    if local is not None and local.is_file():
        try:
            from haris.match.hashing import hash_file

            h = hash_file(local, video=False)
            hashes.update(SHA256=h.sha256, MD5=h.md5, PDQ=h.pdq)
        except Exception:  # noqa: BLE001 - an unreadable file keeps the hash recorded at ingestion
            pass
    hashes = {k: v for k, v in hashes.items() if v}
    if not hashes:
        raise ReportError(f"missing required field fileDetails.originalFileHash: media {md['id']} has no hash and "
                          "its file is not available to hash")
    for kind, value in hashes.items():
        _sub(root, "originalFileHash", value, hashType=kind)
    return _serialize(root)


def _serialize(root: ET.Element) -> bytes:
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


# -- export and submission ---------------------------------------------------------------------------
@dataclass
class ExportedReport:
    report_id: str
    folder: str
    files: list[str]
    incident_type: str
    sha256: str
    status: str = "exported"
    remote_id: str | None = None

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def export(store: Store, report: CyberTipReport, out_dir: str | Path, *, actor: str = "cli") -> ExportedReport:
    """Write the documents, record the report and hold the case's items; returns what was written."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "report.xml"]
    paths[0].write_bytes(report.report_xml)
    for i, fd in enumerate(report.file_details, 1):
        paths.append(out / f"fileDetails-{i:03d}.xml")
        paths[-1].write_bytes(fd)
    rid = stable_id("ctr", "haris", report.case_id, report.sha256)
    now = datetime.now(timezone.utc)
    with store.begin() as conn:
        if conn.execute(select(authority_reports.c.id).where(authority_reports.c.id == rid)).first() is None:
            conn.execute(authority_reports.insert().values(
                id=rid, case_id=report.case_id, kind="cybertipline", incident_type=report.incident_type,
                status="exported", sha256=report.sha256, created_at=now))
        hold_on_report(conn, report.item_ids, reason=f"CyberTipline report {rid}", by=actor)
        audit.append(conn, actor, "cybertipline.export", report.case_id,
                     {"report": rid, "sha256": report.sha256, "incident_type": report.incident_type,
                      "files": len(report.file_details), "folder": str(out)})
    return ExportedReport(rid, str(out), [str(p) for p in paths], report.incident_type, report.sha256)


def _answer(resp: httpx.Response, step: str) -> ET.Element:
    if resp.is_redirect or not 200 <= resp.status_code < 300:
        raise SubmissionError(f"{step}: HTTP {resp.status_code}"
                              + (f" redirect to {resp.headers.get('location')!r} (not followed)"
                                 if resp.is_redirect else f" {resp.text[:200]}"))
    if len(resp.content) > 1 << 20:
        raise SubmissionError(f"{step}: answer larger than 1 MiB")
    try:
        root = ET.fromstring(resp.content)
    except ET.ParseError as exc:
        raise SubmissionError(f"{step}: the answer is not XML ({exc})") from None
    code = (root.findtext("responseCode") or "").strip()
    if code != "0":
        raise SubmissionError(f"{step}: responseCode {code or '(none)'}: "
                              f"{(root.findtext('responseDescription') or '').strip()}")
    return root


def submit(store: Store, report: CyberTipReport, exported: ExportedReport, url: str, *,
           auth: tuple[str, str] | None = None, client: httpx.Client | None = None, actor: str = "cli",
           timeout: float = 30.0) -> str:
    """Send the report to the configured receiver; returns its report id. Failures are recorded, then raised."""
    base = url.rstrip("/")
    own = client is None
    client = client or httpx.Client(timeout=timeout, follow_redirects=False)
    headers = {"Content-Type": "text/xml; charset=utf-8"}
    remote, error = None, None
    try:
        root = _answer(client.post(f"{base}/submit", content=report.report_xml, headers=headers, auth=auth), "submit")
        remote = (root.findtext("reportId") or "").strip()
        if not remote:
            raise SubmissionError("submit: the answer has no reportId")
        for i, fd in enumerate(report.file_details, 1):
            doc = ET.fromstring(fd)
            rid_el = ET.Element("reportId")
            rid_el.text = remote
            doc.insert(0, rid_el)
            _answer(client.post(f"{base}/fileinfo", content=_serialize(doc), headers=headers, auth=auth),
                    f"fileinfo {i}")
        _answer(client.post(f"{base}/finish", data={"id": remote}, auth=auth), "finish")
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}"
    except SubmissionError as exc:
        error = str(exc)
    finally:
        if own:
            client.close()
    now = datetime.now(timezone.utc)
    with store.begin() as conn:
        conn.execute(authority_reports.update().where(authority_reports.c.id == exported.report_id).values(
            status="failed" if error else "submitted", remote_id=remote, error=error,
            submitted_at=None if error else now))
        audit.append(conn, actor, "cybertipline.submit" if not error else "cybertipline.submit_failed",
                     report.case_id, {"report": exported.report_id, "url": base, "remote_id": remote, "error": error})
    if error:
        raise SubmissionError(f"CyberTipline submission to {base} failed (the report stays exported in "
                              f"{exported.folder}): {error}")
    exported.status, exported.remote_id = "submitted", remote
    return remote
