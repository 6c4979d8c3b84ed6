"""`haris webhook …`, `haris evidence …`, `haris report …` (acting on decisions and reporting them)."""
from __future__ import annotations

import sys
from pathlib import Path

import click

EVENT_CHOICES = click.Choice(["remove_item", "suspend_account", "preserve", "safety_intervention", "report_outcome"])


def _store(ctx):
    from haris.store.db import Store

    return Store.open(ctx.find_root().obj["db_url"])


def _json(obj) -> None:
    from haris.report.terminal import print_json

    print_json(obj)


def _when(value, end=False):
    from haris.act.items import parse_when

    return parse_when(value, end=end)


# -- webhooks -----------------------------------------------------------------------------------
@click.group()
def webhook():
    """Signed webhooks that carry actions to platforms."""


@webhook.command("add")
@click.argument("name")
@click.argument("url")
@click.option("--event", "events", multiple=True, type=EVENT_CHOICES, help="Events to send (default: all).")
@click.option("--platform", default=None, help="Only items of this platform (default: every platform).")
@click.option("--secret", envvar="HARIS_WEBHOOK_SECRET", default=None,
              help="Signing secret (default: a new random one, printed once).")
@click.pass_context
def webhook_add(ctx, name, url, events, platform, secret):
    """Configure an endpoint; the signing secret is printed once."""
    from haris.act.webhooks import EVENTS, add_endpoint

    ep, secret = add_endpoint(_store(ctx), name, url, events=list(events) or list(EVENTS), platform=platform,
                              secret=secret, actor="cli")
    click.echo(f"endpoint {ep.name} -> {ep.url} ({', '.join(ep.events)}; platform {ep.platform or 'any'})")
    click.echo(f"signing secret (give it to the receiver; it is not shown again): {secret}")


@webhook.command("endpoints")
@click.option("--json", "json_out", is_flag=True)
@click.pass_context
def webhook_endpoints(ctx, json_out):
    """List configured endpoints (secrets are never shown)."""
    from haris.act.webhooks import list_endpoints

    eps = list_endpoints(_store(ctx))
    if json_out:
        return _json([e.to_dict() for e in eps])
    for e in eps:
        click.echo(f"{'active  ' if e.active else 'disabled'} {e.name:20} {e.url}  [{', '.join(e.events)}]"
                   f"  platform={e.platform or 'any'}")


@webhook.command("disable")
@click.argument("name")
@click.pass_context
def webhook_disable(ctx, name):
    """Stop sending to an endpoint (its deliveries are kept)."""
    from haris.act.webhooks import remove_endpoint

    remove_endpoint(_store(ctx), name, actor="cli")
    click.echo(f"endpoint {name} disabled")


@webhook.command("deliver")
@click.option("--limit", default=100, show_default=True, help="Deliveries claimed per round.")
@click.option("--timeout", default=10.0, show_default=True, help="Seconds before an attempt times out.")
@click.option("--concurrency", default=4, show_default=True, help="Requests in flight at once.")
@click.option("--loop", is_flag=True, help="Keep running: poll for due deliveries every --interval seconds.")
@click.option("--interval", default=5.0, show_default=True)
@click.option("--json", "json_out", is_flag=True)
@click.pass_context
def webhook_deliver(ctx, limit, timeout, concurrency, loop, interval, json_out):
    """Send the deliveries that are due (next attempt time reached); retries wait for a later run."""
    import time

    from haris.act.delivery import Deliverer, RunStats

    total = RunStats()
    with Deliverer(_store(ctx), timeout=timeout, concurrency=concurrency) as d:
        while True:
            while True:
                stats = d.deliver_due(limit)
                total.add(stats)
                if stats.attempted < limit:
                    break
            if not loop:
                break
            time.sleep(interval)
    if json_out:
        return _json(total.to_dict())
    click.echo(f"{total.attempted} attempted: {total.delivered} delivered, {total.retried} to retry, "
               f"{total.dead} dead-lettered")


@webhook.command("list")
@click.option("--failed", is_flag=True, help="Only dead-lettered deliveries and those whose last attempt failed.")
@click.option("--status", type=click.Choice(["pending", "delivered", "dead"]))
@click.option("--limit", default=50, show_default=True)
@click.option("--json", "json_out", is_flag=True)
@click.pass_context
def webhook_list(ctx, failed, status, limit, json_out):
    """Deliveries, newest first, with their status and last error."""
    from haris.act.delivery import list_deliveries

    rows = list_deliveries(_store(ctx), failed=failed, status=status, limit=limit)
    if json_out:
        return _json(rows)
    for r in rows:
        code = r["last_status_code"] if r["last_status_code"] is not None else "-"
        click.echo(f"{r['id']}  {r['status']:9} {r['event']:19} {r['attempts']}/{r['max_attempts']}  {code}  "
                   f"{r['url']}  {r['last_error'] or ''}")
    if not rows:
        click.echo("no deliveries" + (" failed" if failed else ""))


@webhook.command("attempts")
@click.argument("delivery_id")
@click.option("--json", "json_out", is_flag=True)
@click.pass_context
def webhook_attempts(ctx, delivery_id, json_out):
    """Every attempt of one delivery."""
    from haris.act.delivery import attempts_of

    rows = attempts_of(_store(ctx), delivery_id)
    if json_out:
        return _json(rows)
    for a in rows:
        click.echo(f"#{a['attempt']}  {a['at']}  {a['status_code'] or '-'}  {a['duration_ms']} ms  {a['error'] or 'ok'}")


@webhook.command("retry")
@click.argument("delivery_ids", nargs=-1)
@click.option("--all-dead", is_flag=True, help="Queue every dead delivery again.")
@click.pass_context
def webhook_retry(ctx, delivery_ids, all_dead):
    """Queue dead-lettered deliveries again (after the receiver was fixed)."""
    from haris.act.delivery import retry

    if not delivery_ids and not all_dead:
        raise click.UsageError("give delivery ids or --all-dead")
    n = retry(_store(ctx), list(delivery_ids) or None, all_dead=all_dead, actor="cli")
    click.echo(f"{n} deliveries queued again")


@webhook.command("verify")
@click.option("--secret", envvar="HARIS_WEBHOOK_SECRET", required=True, help="The endpoint's signing secret.")
@click.option("--header", "header", required=True, help="The Haris-Signature header value (t=…,v1=…).")
@click.option("--tolerance", default=300, show_default=True, help="Seconds a timestamp may be off (0: no check).")
@click.argument("bodyfile", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
def webhook_verify(secret, header, tolerance, bodyfile):
    """Check a received webhook: the raw body (BODYFILE, - for stdin) against its signature header."""
    from haris.act.webhooks import SignatureError, verify_signature

    body = sys.stdin.buffer.read() if bodyfile == "-" else Path(bodyfile).read_bytes()
    try:
        t = verify_signature(secret, header, body, tolerance=tolerance)
    except SignatureError as exc:
        click.echo(f"invalid: {exc}", err=True)
        sys.exit(4)
    click.echo(f"valid: signed at {t}")


# -- evidence -------------------------------------------------------------------------------------
@click.group()
def evidence():
    """Signed evidence bundles, retention and preservation holds."""


@evidence.command("export")
@click.argument("case_id")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="The bundle to write (.zip).")
@click.option("--key", "key_path", type=click.Path(dir_okay=False), default=None,
              help="Ed25519 private key (PEM); default HARIS_EVIDENCE_KEY, else one made in the data folder.")
@click.option("--json", "json_out", is_flag=True)
@click.pass_context
def evidence_export(ctx, case_id, out, key_path, json_out):
    """Write a case's signed evidence bundle and print the public key that checks it."""
    from haris.act.evidence import export_case

    res = export_case(_store(ctx), case_id, out, actor="cli", key_path=key_path)
    if json_out:
        return _json({**res.to_dict(), "public_key_pem": res.public_key_pem})
    click.echo(f"{res.path}: case {res.case_id}, {res.items} items, {res.files} files, "
               f"media {res.media_included} included / {res.media_withheld} withheld (hashes only)")
    click.echo(f"manifest SHA-256 {res.manifest_sha256}")
    click.echo(f"signed with Ed25519 key {res.key_file}, fingerprint {res.fingerprint}:")
    click.echo(res.public_key_pem.rstrip())


@evidence.command("verify")
@click.argument("bundle", type=click.Path(dir_okay=False))
@click.option("--public-key", default=None, type=click.Path(exists=True, dir_okay=False),
              help="Require this signer (PEM public key).")
@click.option("--fingerprint", default=None, help="Require this signer (64 hex digits).")
@click.option("--json", "json_out", is_flag=True)
def evidence_verify(bundle, public_key, fingerprint, json_out):
    """Check every hash, the signature and the archive; exits 4 and names the first problem."""
    from haris.act.bundle import verify_bundle

    res = verify_bundle(bundle, public_key or fingerprint)
    if json_out:
        _json(res.to_dict())
    elif res.ok:
        click.echo(f"{bundle}: intact, {res.files} files, signed by {res.fingerprint}")
    else:
        click.echo(f"{bundle}: FAILED: {res.problem}", err=True)
    sys.exit(0 if res.ok else 4)


@evidence.command("hold")
@click.argument("item_ids", nargs=-1, required=True)
@click.option("--reason", required=True)
@click.option("--days", default=365, show_default=True)
@click.pass_context
def evidence_hold(ctx, item_ids, reason, days):
    """Put items under a preservation hold (never listed for deletion while it lasts)."""
    from datetime import datetime, timedelta, timezone

    from haris.act.retention import place_hold
    from haris.service import audit

    store = _store(ctx)
    until = datetime.now(timezone.utc) + timedelta(days=days)
    with store.begin() as conn:
        n = place_hold(conn, item_ids, reason=reason, until=until, by="cli")
        audit.append(conn, "cli", "retention.hold", None, {"items": list(item_ids), "reason": reason, "days": days})
    click.echo(f"{n} items held until {until:%Y-%m-%d}")


@evidence.command("due")
@click.option("--limit", default=1000, show_default=True)
@click.option("--json", "json_out", is_flag=True)
@click.pass_context
def evidence_due(ctx, limit, json_out):
    """Items whose retention ran out (held items and open reviews left out)."""
    from haris.act.retention import due_for_deletion

    rows = due_for_deletion(_store(ctx), limit=limit)
    if json_out:
        return _json([r.to_dict() for r in rows])
    for r in rows:
        click.echo(f"{r.item_id}  {r.item_kind:12} {r.label or '-':20} due {r.due_at:%Y-%m-%d}")
    click.echo(f"{len(rows)} items may be purged")


# -- reports ------------------------------------------------------------------------------------
@click.group()
def report():
    """Reports: CyberTipline, referral packages, STIX and hash lists, transparency."""


@report.command("ncmec")
@click.argument("case_id")
@click.option("--out", required=True, type=click.Path(file_okay=False), help="Folder for report.xml and file details.")
@click.option("--reporter", type=click.Path(exists=True, dir_okay=False), envvar="HARIS_NCMEC_REPORTER",
              help="Who reports (YAML; see src/haris/act/data/ncmec_reporter.example.yaml).")
@click.option("--incident-type", default=None, help="Override the incident type derived from the case.")
@click.option("--submit-url", envvar="HARIS_NCMEC_URL", default=None,
              help="Submit to this reporting API base URL (only when set).")
@click.option("--json", "json_out", is_flag=True)
@click.pass_context
def report_ncmec(ctx, case_id, out, reporter, incident_type, submit_url, json_out):
    """A CyberTipline-style report for a child exploitation case, validated against its schema."""
    import os

    from haris.act import ncmec

    store = _store(ctx)
    rep = ncmec.build_report(store, case_id, ncmec.load_reporter(reporter), incident_type=incident_type)
    done = ncmec.export(store, rep, out, actor="cli")
    if submit_url:
        user, pw = os.environ.get("HARIS_NCMEC_USER"), os.environ.get("HARIS_NCMEC_PASSWORD")
        ncmec.submit(store, rep, done, submit_url, auth=(user, pw) if user and pw else None, actor="cli")
    if json_out:
        return _json(done.to_dict())
    click.echo(f"{done.incident_type}: {len(done.files)} documents in {done.folder} (report SHA-256 {done.sha256})")
    click.echo("submitted: report id " + done.remote_id if done.remote_id else
               "not submitted (no --submit-url / HARIS_NCMEC_URL)")


@report.command("referral")
@click.option("--policy", required=True, type=click.Choice(["terrorism", "trafficking"]))
@click.option("--from", "from_", default=None, help="First day (YYYY-MM-DD) of decisions to include.")
@click.option("--to", default=None, help="Last day (inclusive).")
@click.option("--out", required=True, type=click.Path(file_okay=False))
@click.option("--json", "json_out", is_flag=True)
@click.pass_context
def report_referral(ctx, policy, from_, to, out, json_out):
    """A referral package: one row per actioned item, CSV and JSON per platform."""
    from haris.act.referral import referral_rows, write_package

    start, end = _when(from_), _when(to, end=True)
    index = write_package(referral_rows(_store(ctx), policy, start, end), out, policy=policy, start=start, end=end)
    if json_out:
        return _json(index)
    click.echo(f"{index['items']} items in {out}: " + ", ".join(f"{p} {v['items']}" for p, v in
                                                              index["platforms"].items()))


@report.command("stix")
@click.option("--from", "from_", default=None)
@click.option("--to", default=None)
@click.option("--policy", "policies", multiple=True, type=click.Choice(["trafficking", "child_exploitation", "terrorism"]))
@click.option("--out", required=True, type=click.Path(dir_okay=False))
@click.pass_context
def report_stix(ctx, from_, to, policies, out):
    """A STIX 2.1 bundle of indicators (URLs, domains, hashes) of actioned items, without their content."""
    from haris.act.sharing import stix_bundle

    res = stix_bundle(_store(ctx), _when(from_), _when(to, end=True), out, list(policies) or None)
    click.echo(f"{res['indicators']} indicators in {out} " + str(res["by_type"]))


@report.command("hashes")
@click.option("--from", "from_", default=None)
@click.option("--to", default=None)
@click.option("--policy", "policies", multiple=True, type=click.Choice(["trafficking", "child_exploitation", "terrorism"]))
@click.option("--format", "fmt", default="tx-csv", show_default=True,
              type=click.Choice(["list", "tx-lines", "tx-csv", "json", "stix"]))
@click.option("--out", required=True, type=click.Path(file_okay=False))
@click.pass_context
def report_hashes(ctx, from_, to, policies, fmt, out):
    """Hash lists of actioned media in the hash-sharing formats (HMA / ThreatExchange)."""
    from haris.act.sharing import hash_lists

    res = hash_lists(_store(ctx), _when(from_), _when(to, end=True), out, fmt, list(policies) or None)
    for path, n in res["files"].items():
        click.echo(f"{path}: {n} hashes")
    for kind, why in res["skipped"].items():
        click.echo(f"{kind}: not written ({why})", err=True)
    if not res["files"] and not res["skipped"]:
        click.echo("no actioned media in this period")


@report.command("transparency")
@click.option("--from", "from_", default=None)
@click.option("--to", default=None)
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="The HTML report.")
@click.option("--pdf", default=None, type=click.Path(dir_okay=False), help="Also a PDF.")
@click.option("--no-evasion", is_flag=True, help="Skip the ban-evasion search (accounts returned after a ban).")
@click.option("--json", "json_out", is_flag=True, help="Print the figures as JSON.")
@click.pass_context
def report_transparency(ctx, from_, to, out, pdf, no_evasion, json_out):
    """A transparency report with charts (self-contained HTML, optional PDF)."""
    from haris.report.transparency import write_report

    m = write_report(_store(ctx), _when(from_), _when(to, end=True), out, pdf, evasion=not no_evasion)
    if json_out:
        return _json(m.to_dict())
    click.echo(f"{out}{' and ' + pdf if pdf else ''}: {m.reviewed} reviewed, {m.actioned_total} actioned, "
               f"{len(m.weeks)} weeks")
