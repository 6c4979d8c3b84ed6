"""`haris serve`, `haris user …`, `haris apikey …`, `haris audit …`."""
from __future__ import annotations

import click


def _store(ctx):
    from haris.store.db import Store

    return Store.open(ctx.find_root().obj["db_url"])


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True)
@click.option("--workers", default=1, show_default=True,
              help="Server processes, each with its own share of the connections (PostgreSQL recommended "
                   "above 1; about one per core).")
@click.option("--access-log/--no-access-log", default=True, show_default=True,
              help="Log every request (costs a little CPU per request).")
@click.pass_context
def serve(ctx, host, port, workers, access_log):
    """Run the API and the review console."""
    import os

    from haris.service.serve import serve as run_server

    db_url = ctx.find_root().obj["db_url"]
    if db_url:
        os.environ["HARIS_DATABASE_URL"] = db_url
    ctx.exit(run_server("haris.service.asgi:app", host=host, port=port, workers=workers, log_level="info",
                        access_log=access_log, proxy_headers=True))


@click.group()
def user():
    """Console users and their roles."""


@user.command("add")
@click.argument("username")
@click.option("--role", "roles", multiple=True, required=True,
              type=click.Choice(["admin", "senior_reviewer", "reviewer", "auditor", "victim_data"]))
@click.option("--language", default="en", type=click.Choice(["en", "ar", "fr"]))
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              envvar="HARIS_NEW_PASSWORD", help="Prompted for when not given (or HARIS_NEW_PASSWORD).")
@click.pass_context
def user_add(ctx, username, roles, language, password):
    """Create a user."""
    from haris.service.auth import create_user

    u = create_user(_store(ctx), username, password, list(roles), language=language, actor="cli")
    click.echo(f"user {u.username} ({', '.join(u.roles)}) created: {u.id}")


@user.command("roles")
@click.argument("username")
@click.option("--role", "roles", multiple=True, required=True,
              type=click.Choice(["admin", "senior_reviewer", "reviewer", "auditor", "victim_data"]))
@click.pass_context
def user_roles(ctx, username, roles):
    """Replace a user's roles."""
    from sqlalchemy import select

    from haris.errors import HarisError
    from haris.service.auth import set_roles
    from haris.service.tables import users

    store = _store(ctx)
    with store.connect() as conn:
        uid = conn.execute(select(users.c.id).where(users.c.username == username)).scalar()
    if uid is None:
        raise HarisError(f"no user {username!r}")
    set_roles(store, uid, list(roles), actor="cli")
    click.echo(f"{username}: {', '.join(roles)}")


@click.group()
def apikey():
    """API keys for platform integrations."""


@apikey.command("create")
@click.argument("name")
@click.option("--scope", "scopes", multiple=True, required=True,
              type=click.Choice(["items:write", "reports:write", "read", "banks:write", "policies:write"]))
@click.option("--rate", default=600, show_default=True, help="Requests a minute.")
@click.pass_context
def apikey_create(ctx, name, scopes, rate):
    """Create a key; the secret is printed once and never stored."""
    from haris.service.auth import create_api_key

    key, secret = create_api_key(_store(ctx), name, list(scopes), rate_per_minute=rate, actor="cli")
    click.echo(f"key {key.prefix} ({name}; {', '.join(scopes)}; {rate}/min)\n{secret}")


@apikey.command("revoke")
@click.argument("prefix")
@click.pass_context
def apikey_revoke(ctx, prefix):
    """Revoke a key by its prefix or id."""
    from haris.errors import HarisError
    from haris.service.auth import revoke_api_key

    if not revoke_api_key(_store(ctx), prefix, actor="cli"):
        raise HarisError(f"no live key {prefix!r}")
    click.echo(f"key {prefix} revoked")


@click.group()
def audit():
    """The tamper-evident audit log."""


@audit.command("verify")
@click.option("--json", "json_out", is_flag=True)
@click.pass_context
def audit_verify(ctx, json_out):
    """Check the hash chain; exits 4 when any entry was edited, deleted or inserted."""
    import sys

    from haris.service.audit import verify

    res = verify(_store(ctx))
    if json_out:
        from haris.report.terminal import print_json

        print_json(res.to_dict())
    elif res.ok:
        click.echo(f"audit log intact: {res.entries} entries")
    else:
        click.echo(f"audit log BROKEN at entry {res.first_bad_seq}: {res.problem}", err=True)
    sys.exit(0 if res.ok else 4)


@audit.command("show")
@click.option("--target", default=None)
@click.option("--limit", default=50, show_default=True)
@click.pass_context
def audit_show(ctx, target, limit):
    """The latest entries."""
    from haris.service.audit import entries

    for e in entries(_store(ctx), target=target, limit=limit):
        click.echo(f"{e['seq']:>6} {e['at']} {e['actor']:16} {e['action']:18} {e['target'] or ''} {e['detail']}")
