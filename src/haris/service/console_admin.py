"""Console pages for people who oversee the reviewers: users and roles, the audit log, people at risk.

* ``/admin/users`` (admin): list, create, change roles — through
  :func:`haris.service.auth.create_user` and :func:`~haris.service.auth.set_roles`,
  which audit every change. An admin cannot remove their own admin role
  (the console would have no one left to manage it).
* ``/audit`` (auditor, admin; never reviewers): the log, newest first, with
  filters, and the result of :func:`haris.service.audit.verify` over the
  whole chain.
* ``/at-risk`` (only the ``victim_data`` role — admin does not imply it):
  the records of :mod:`haris.protect` when it is installed; every view writes
  ``victim.view`` with the ids of the records shown.
"""
from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import Table, select

from haris.service import audit, auth
from haris.service.console_web import ConsoleError, ConsoleRoute, Viewer, needs, render
from haris.service.i18n import pick
from haris.service.tables import audit_log, users

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)
AUDIT_PAGE = 100
AT_RISK_PAGE = 50
# Columns of an at-risk record that can tie it to the item on screen (whichever the table has).
AT_RISK_LINKS = ("message_id", "item_id", "conversation_id", "review_id")

admin_only = needs(lambda v: v.is_admin)
auditors = needs(lambda v: v.sees_audit)
victim_data = needs(lambda v: v.sees_victims)


@router.get("/admin/users")
def users_page(request: Request, v: Viewer = Depends(admin_only)) -> Response:
    with request.app.state.store.connect() as conn:
        rows = [dict(r) for r in conn.execute(select(users.c.id, users.c.username, users.c.roles, users.c.language,
                                                     users.c.active, users.c.locked_until, users.c.created_at)
                                              .order_by(users.c.username)).mappings()]
    return render(request, "users.html", v, users=rows, roles=auth.ROLES)


@router.post("/admin/users")
def create_user(request: Request, username: str = Form(""), password: str = Form(""),
                roles: list[str] = Form([]), language: str = Form("en"), v: Viewer = Depends(admin_only)) -> Response:
    if not username.strip():
        raise ConsoleError(400, "error.username")
    if not roles:
        raise ConsoleError(400, "error.no_roles")
    auth.create_user(request.app.state.store, username.strip(), password, roles, language=pick(language),
                     actor=v.user.username)
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/admin/users/{user_id}/roles")
def change_roles(request: Request, user_id: str, roles: list[str] = Form([]),
                 v: Viewer = Depends(admin_only)) -> Response:
    store = request.app.state.store
    with store.connect() as conn:
        if conn.execute(select(users.c.id).where(users.c.id == user_id)).first() is None:
            raise ConsoleError(404, "error.not_found")
    if user_id == v.user.id and "admin" not in roles:
        raise ConsoleError(400, "error.keep_admin")
    auth.set_roles(store, user_id, roles, actor=v.user.username)
    return RedirectResponse("/admin/users", status_code=303)


@router.get("/audit")
def audit_page(request: Request, action: str = "", actor: str = "", target: str = "", before: int | None = None,
               v: Viewer = Depends(auditors)) -> Response:
    store = request.app.state.store
    q = select(audit_log).order_by(audit_log.c.seq.desc()).limit(AUDIT_PAGE + 1)
    if action:
        q = q.where(audit_log.c.action == action.strip())
    if actor:
        q = q.where(audit_log.c.actor == actor.strip())
    if target:
        q = q.where(audit_log.c.target == target.strip())
    if before:
        q = q.where(audit_log.c.seq < before)
    with store.connect() as conn:
        rows = [dict(r) for r in conn.execute(q).mappings()]
    # The whole chain is walked at every view: an auditor must see the state of the log as it is now.
    status = audit.verify(store)
    more = len(rows) > AUDIT_PAGE
    rows = rows[:AUDIT_PAGE]
    return render(request, "audit.html", v, entries=rows, status=status,
                  filters={"action": action, "actor": actor, "target": target},
                  older=rows[-1]["seq"] if more and rows else None)


def at_risk_table() -> Table | None:
    """HOOK: the table of people at risk from :mod:`haris.protect`, or None while that package is absent."""
    try:
        from haris.protect.tables import at_risk_persons
    except ImportError:
        return None
    return at_risk_persons


@router.get("/at-risk")
def at_risk_page(request: Request, item: str = "", v: Viewer = Depends(victim_data)) -> Response:
    table = at_risk_table()
    if table is None:
        return render(request, "at_risk.html", v, available=False, columns=[], records=[], item=item)
    cols = [c.name for c in table.columns]
    q = select(table).limit(AT_RISK_PAGE)
    if item:
        links = [table.c[c] == item for c in AT_RISK_LINKS if c in table.c]
        if not links:
            raise ConsoleError(400, "error.invalid", item)
        from sqlalchemy import or_

        q = q.where(or_(*links))
    order = table.c["created_at"].desc() if "created_at" in table.c else list(table.primary_key.columns)[0]
    key = list(table.primary_key.columns)[0].name
    with request.app.state.store.begin() as conn:
        records = [dict(r) for r in conn.execute(q.order_by(order)).mappings()]
        # Written in the same transaction as the read: no view without its audit entry.
        audit.append(conn, v.user.username, "victim.view", item or None,
                     {"records": [str(r[key]) for r in records], "filter": item or None})
    return render(request, "at_risk.html", v, available=True, columns=cols, records=records, item=item)
