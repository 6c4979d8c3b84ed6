"""The review console (capability 8): server-rendered pages for moderators.

Pages (all need a session; the role each needs is in brackets):

    /login, /logout                      log in and out (a new session token at each log-in)
    /queue                               queues by severity and age, filters, counts  [reviewer, senior, auditor]
    /items/{review_id}                   the item with its whole context and the decision forms
    /media/{id}/blurred|reveal|original  media blurred by default; a reveal is a logged POST
    /cases, /cases/{id}                  cases grouping a network's or a conversation's items
    /search?q=                           by id, or a text substring over messages
    /admin/users                         users and roles  [admin]          (console_admin)
    /audit                               the audit log and its verification  [auditor, admin]
    /at-risk                             people at risk, every view audited  [victim_data]

No JavaScript is needed to use it; ``static/console.js`` adds keyboard
shortcuts. Plumbing (sessions, CSRF, error pages) is in
:mod:`haris.service.console_web`, the queries in
:mod:`haris.service.console_context`, media in :mod:`haris.service.console_media`.
"""
from __future__ import annotations

import re
import secrets
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from PIL import Image
from sqlalchemy import func, select, update

from haris.detect.base import POLICIES
from haris.review import workflow as wf
from haris.service import audit, auth
from haris.service.console_admin import at_risk_table
from haris.service.console_admin import router as admin_router
from haris.service.console_context import (ACTIVE, conversation_review_ids, item_context, messages_where,
                                           neighbour_in_queue, neighbour_review_ids, queue_counts, queue_snippets,
                                           rule_descriptions, search_messages, usernames, walk_queue)
from haris.service.console_media import (blurred_png, granted, hash_only, image_format, local_file, media_for,
                                         media_row)
from haris.service.console_media import reveal as grant_reveal
from haris.service.console_web import (LOGIN_CSRF_COOKIE, ConsoleError, ConsoleRoute, Viewer, check_login_csrf,
                                       needs, render, safe_next, viewer)
from haris.service.i18n import LANGUAGES, pick, translator
from haris.service.security import SESSION_COOKIE
from haris.service.tables import cases, review_items, users
from haris.store import schema

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)
router.include_router(admin_router)

PAGE = 50
SEARCH_PAGE = 25
STATUSES = {"active": ACTIVE, "open": ("open",), "needs_second_review": ("needs_second_review",),
            "closed": ("closed",)}
LOGIN_MESSAGES = {"wrong user name or password": "login.wrong",
                  "too many failed attempts; try again later": "login.locked"}
ID_RE = re.compile(r"^[a-z]{3,4}_[0-9a-f]{8,40}$")
SAFE_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")

reader = needs(lambda v: v.can_read)
decider = needs(lambda v: v.can_decide)


def _store(request: Request):
    return request.app.state.store


def _back(path: str, anchor: str = "") -> RedirectResponse:
    return RedirectResponse(path + anchor, status_code=303)


def _review(request: Request, review_id: str) -> dict:
    try:
        return wf.get(_store(request), review_id)
    except wf.WorkflowError:
        raise ConsoleError(404, "error.not_found") from None


# -- log-in ------------------------------------------------------------------------------------------
def _login_page(request: Request, next_: str, error: str | None = None) -> Response:
    token = secrets.token_urlsafe(32)
    resp = render(request, "login.html", None, form_token=token, next=safe_next(next_), error=error)
    resp.set_cookie(LOGIN_CSRF_COOKIE, token, max_age=3600, path="/login", httponly=True, samesite="strict",
                    secure=request.url.scheme == "https")
    return resp


@router.get("/")
def home(v: Viewer = Depends(viewer)) -> Response:
    """Each role's first page (a victim-data-only account has no queue to see)."""
    for allowed, path in ((v.can_read, "/queue"), (v.sees_victims, "/at-risk"), (v.sees_audit, "/audit")):
        if allowed:
            return _back(path)
    raise ConsoleError(403, "error.forbidden")


@router.get("/login")
def login_form(request: Request, next: str = "/") -> Response:
    return _login_page(request, next)


@router.post("/login")
def login_submit(request: Request, username: str = Form(""), password: str = Form(""), csrf: str = Form(""),
                 next: str = Form("/")) -> Response:
    check_login_csrf(request, csrf)
    store = _store(request)
    try:
        _user, token, _csrf = auth.login(store, username.strip(), password,
                                         ip=request.client.host if request.client else None)
    except auth.AuthError as exc:
        return _login_page(request, next, LOGIN_MESSAGES.get(str(exc), "login.wrong"))
    presented = request.cookies.get(SESSION_COOKIE)
    if presented:                       # a session presented before log-in is ended, never adopted
        auth.logout(store, presented)
    resp = _back(safe_next(next))
    resp.set_cookie(SESSION_COOKIE, token, max_age=int(auth.SESSION_TTL.total_seconds()), path="/",
                    httponly=True, samesite="strict", secure=request.url.scheme == "https")
    resp.delete_cookie(LOGIN_CSRF_COOKIE, path="/login", httponly=True, samesite="strict")
    return resp


@router.post("/logout")
def logout(request: Request, v: Viewer = Depends(viewer)) -> Response:
    auth.logout(_store(request), v.token)
    audit.record(_store(request), v.user.username, "logout", v.user.id, {})
    resp = _back("/login")
    resp.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return resp


@router.post("/settings/language")
def set_language(request: Request, language: str = Form(""), back: str = Form("/queue"),
                 v: Viewer = Depends(viewer)) -> Response:
    lang = pick(language)
    if language not in LANGUAGES:
        raise ConsoleError(400, "error.invalid", language)
    with _store(request).begin() as conn:
        conn.execute(update(users).where(users.c.id == v.user.id).values(language=lang))
        audit.append(conn, v.user.username, "user.language", v.user.id, {"from": v.user.language, "to": lang})
    return _back(safe_next(back))


# -- queues ---------------------------------------------------------------------------------------------
@router.get("/queue")
def queue_page(request: Request, queue: str = "", policy: str = "", status: str = "active", mine: str = "",
               after: str = "", v: Viewer = Depends(reader)) -> Response:
    store = _store(request)
    with store.connect() as conn:
        start = conn.execute(select(review_items).where(review_items.c.id == after)).mappings().first() \
            if after else None
        rows = walk_queue(conn, STATUSES.get(status, ACTIVE), queue=queue or None, policy=policy or None,
                          assigned_to=v.user.id if mine else None, after=dict(start) if start else None,
                          limit=PAGE + 1)
        snippets = queue_snippets(conn, rows[:PAGE])
        names = usernames(conn)
        counts = queue_counts(conn)
    filters = {"queue": queue, "policy": policy, "status": status, "mine": mine}
    base = {k: x for k, x in filters.items() if x}
    return render(request, "queue.html", v, rows=rows[:PAGE], snippets=snippets, names=names, counts=counts,
                  total=sum(counts.values()), filters=filters, policies=POLICIES, statuses=list(STATUSES),
                  first_url="/queue?" + urlencode(base) if after else None,
                  next_url="/queue?" + urlencode({**base, "after": rows[PAGE - 1]["id"]}) if len(rows) > PAGE else None)


# -- one item --------------------------------------------------------------------------------------------
@router.get("/items/{review_id}")
def item_page(request: Request, review_id: str, v: Viewer = Depends(reader)) -> Response:
    store = _store(request)
    item = _review(request, review_id)
    try:
        live = request.app.state.policy()
    except Exception:       # a broken live policy must not hide the evidence
        live = None
    with store.connect() as conn:
        ctx = item_context(conn, item)
        media = media_for(conn, ctx["message"]["id"], v.token) if ctx["message"] else []
        names = usernames(conn)
        reviewers = [dict(r) for r in conn.execute(select(users.c.id, users.c.username, users.c.roles)
                                                   .where(users.c.active.is_(True)).order_by(users.c.username))
                     .mappings() if set(r["roles"] or ()) & {"reviewer", "senior_reviewer", "admin"}]
        nav = {"next": neighbour_in_queue(conn, item, True), "prev": neighbour_in_queue(conn, item, False)}
        rules = rule_descriptions(conn, item["decision"], live)
        case = conn.execute(select(cases).where(cases.c.id == item["case_id"])).mappings().first() \
            if item["case_id"] else None
    first = next((d for d in item["decisions"] if d["stage"] == "first"), None)
    return render(request, "item.html", v, item=item, ctx=ctx, media=media, names=names, reviewers=reviewers,
                  nav=nav, rules=rules, case=case, first=first, actions=wf.ACTIONS,
                  at_risk_kept=at_risk_table() is not None,
                  second_actions=sorted(wf.NEEDS_SECOND_REVIEW))


@router.post("/items/{review_id}/take")
def take(request: Request, review_id: str, v: Viewer = Depends(decider)) -> Response:
    _review(request, review_id)
    wf.assign(_store(request), review_id, v.user)
    return _back(f"/items/{review_id}")


@router.post("/items/{review_id}/assign")
def assign(request: Request, review_id: str, user_id: str = Form(""), v: Viewer = Depends(decider)) -> Response:
    _review(request, review_id)
    with _store(request).connect() as conn:
        roles = conn.execute(select(users.c.roles).where(users.c.id == user_id, users.c.active.is_(True))).scalar()
    if roles is None or not set(roles) & {"reviewer", "senior_reviewer", "admin"}:
        raise ConsoleError(400, "error.not_a_reviewer")
    wf.assign(_store(request), review_id, v.user, user_id)
    return _back(f"/items/{review_id}")


@router.post("/items/{review_id}/decide")
def decide(request: Request, review_id: str, label: str = Form(""), action: str = Form(""),
           reason: str = Form(""), agrees: str = Form(""), v: Viewer = Depends(decider)) -> Response:
    _review(request, review_id)
    wf.decide(_store(request), review_id, v.user, label=label, action=action, reason=reason,
              agrees={"yes": True, "no": False}.get(agrees))
    return _back(f"/items/{review_id}", "#decision")


# -- media ----------------------------------------------------------------------------------------------------
def _servable(conn, media_id: str) -> tuple[dict, object]:
    row = media_row(conn, media_id)
    if row is None:
        raise ConsoleError(404, "error.not_found")
    if hash_only(conn, row["message_id"]):
        raise ConsoleError(403, "error.hash_only")
    path = local_file(row)
    if path is None or image_format(path) is None:
        raise ConsoleError(404, "error.no_media")
    return row, path


@router.get("/media/{media_id}/blurred")
def media_blurred(request: Request, media_id: str, v: Viewer = Depends(reader)) -> Response:
    with _store(request).connect() as conn:
        _row, path = _servable(conn, media_id)
    data = blurred_png(path)
    if data is None:
        raise ConsoleError(404, "error.no_media")
    return Response(data, media_type="image/png")


@router.post("/media/{media_id}/reveal")
def media_reveal(request: Request, media_id: str, back: str = Form(""), v: Viewer = Depends(decider)) -> Response:
    review_id = back if SAFE_ID.match(back or "") else None
    with _store(request).begin() as conn:
        row, _path = _servable(conn, media_id)
        grant_reveal(conn, v.token, v.user.username, row, review_id)
    return _back(f"/items/{review_id}" if review_id else "/queue", f"#media-{media_id}")


@router.get("/media/{media_id}/original")
def media_original(request: Request, media_id: str, v: Viewer = Depends(reader)) -> Response:
    with _store(request).connect() as conn:
        _row, path = _servable(conn, media_id)
        if media_id not in granted(conn, v.token, [media_id]):
            raise ConsoleError(403, "error.reveal_first")
    fmt = image_format(path) or ""
    # The type is set from what Pillow read, never from the file name: an "image" that is HTML is not served.
    return FileResponse(path, media_type=Image.MIME.get(fmt, "application/octet-stream"),
                        headers={"Content-Disposition": "inline"})


# -- cases ------------------------------------------------------------------------------------------------------
@router.post("/cases")
def case_from_queue(request: Request, title: str = Form(""), review_ids: list[str] = Form([]),
                    v: Viewer = Depends(decider)) -> Response:
    if not title.strip():
        raise ConsoleError(400, "error.case_title")
    if not review_ids:
        raise ConsoleError(400, "error.case_empty")
    cid = wf.create_case(_store(request), v.user, title.strip(), review_ids, kind="manual")
    return _back(f"/cases/{cid}")


@router.post("/items/{review_id}/case")
def case_for_item(request: Request, review_id: str, scope: str = Form("conversation"),
                  v: Viewer = Depends(decider)) -> Response:
    item = _review(request, review_id)
    t = translator(v.user.language)
    with _store(request).connect() as conn:
        ctx = item_context(conn, item)
        msg = ctx["message"]
        if scope == "network" and msg and msg.get("author_id"):
            ids = neighbour_review_ids(conn, msg["author_id"])
            acct = ctx["account"] or {}
            title = t("case.network_of", name=acct.get("handle") or acct.get("display_name") or msg["author_id"])
        elif scope == "conversation" and (msg and msg.get("conversation_id") or item["item_kind"] == "conversation"):
            conv = msg["conversation_id"] if msg else item["item_id"]
            ids = conversation_review_ids(conn, conv)
            title = t("case.conversation_of", name=conv)
        else:
            raise ConsoleError(400, "error.invalid", scope)
    cid = wf.create_case(_store(request), v.user, title, sorted(set(ids) | {review_id}), kind=scope)
    return _back(f"/cases/{cid}")


@router.get("/cases")
def cases_page(request: Request, v: Viewer = Depends(reader)) -> Response:
    with _store(request).connect() as conn:
        rows = [dict(r) for r in conn.execute(
            select(cases, func.count(review_items.c.id).label("items"))
            .join(review_items, review_items.c.case_id == cases.c.id, isouter=True)
            .group_by(*cases.c).order_by(cases.c.created_at.desc()).limit(200)).mappings()]
        names = usernames(conn)
    return render(request, "cases.html", v, cases=rows, names=names)


@router.get("/cases/{case_id}")
def case_page(request: Request, case_id: str, v: Viewer = Depends(reader)) -> Response:
    try:
        c = wf.case(_store(request), case_id)
    except wf.WorkflowError:
        raise ConsoleError(404, "error.not_found") from None
    with _store(request).connect() as conn:
        snippets = queue_snippets(conn, c["items"])
        names = usernames(conn)
    return render(request, "case.html", v, case=c, snippets=snippets, names=names)


# -- search --------------------------------------------------------------------------------------------------------
@router.get("/search")
def search(request: Request, q: str = "", page: int = 1, v: Viewer = Depends(reader)) -> Response:
    q = q.strip()[:200]
    page = max(1, min(page, 1000))
    offset = (page - 1) * SEARCH_PAGE
    results: list[dict] = []
    M = schema.messages
    with _store(request).connect() as conn:
        if ID_RE.match(q):
            if conn.execute(select(review_items.c.id).where(review_items.c.id == q)).first():
                return _back(f"/items/{q}")
            if conn.execute(select(cases.c.id).where(cases.c.id == q)).first():
                return _back(f"/cases/{q}")
            results = messages_where(conn, (M.c.id == q) | (M.c.author_id == q) | (M.c.conversation_id == q)
                                     | (M.c.channel_id == q), SEARCH_PAGE + 1, offset)
            if not results:     # a report or conversation queued by id
                rid = conn.execute(select(review_items.c.id).where(review_items.c.item_id == q)).scalar()
                if rid:
                    return _back(f"/items/{rid}")
        elif len(q) >= 2:
            results = search_messages(conn, q, SEARCH_PAGE + 1, offset)
    more = len(results) > SEARCH_PAGE
    return render(request, "search.html", v, q=q, results=results[:SEARCH_PAGE], page=page,
                  too_short=0 < len(q) < 2,
                  prev_url=f"/search?{urlencode({'q': q, 'page': page - 1})}" if page > 1 else None,
                  next_url=f"/search?{urlencode({'q': q, 'page': page + 1})}" if more else None)
