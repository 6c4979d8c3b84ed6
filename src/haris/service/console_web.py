"""Plumbing of the review console: who is asking, CSRF, rendering, error pages.

Every console route is built with :class:`ConsoleRoute`, which

* turns "not logged in" into a redirect to ``/login`` (a 401 page for
  anything but a GET), a missing role into a 403 page, and workflow or
  input errors into a 400/409 page, all in the user's language;
* checks the CSRF token of **every** POST before the handler runs: the
  session's token in the form field ``csrf``, compared in constant time,
  plus the ``Origin`` header when the browser sends one. The log-in form,
  which has no session yet, uses a double-submit cookie instead
  (:func:`check_login_csrf`).

Handlers get the person through :func:`viewer` / :func:`needs` and answer
with :func:`render`.
"""
from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable
from urllib.parse import quote, urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context

from haris.errors import ConfigError
from haris.review.workflow import LABELS, Forbidden, WorkflowError
from haris.service.auth import User, session_user
from haris.service.i18n import LANGUAGES, direction, from_accept_language, pick, translator
from haris.service.security import SESSION_COOKIE

LOGIN_CSRF_COOKIE = "haris_login_csrf"
READERS = ("reviewer", "senior_reviewer", "auditor")     # may read queues and items
DECIDERS = ("reviewer", "senior_reviewer")               # may take, decide, reveal, open cases
UNCHECKED_POSTS = {"/login"}                              # double-submit cookie instead of the session token

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


@dataclass(frozen=True)
class Viewer:
    """The person behind a console request."""

    user: User
    csrf: str
    token: str          # the session cookie's value (never rendered)

    @property
    def can_read(self) -> bool:
        return self.user.has(*READERS)

    @property
    def can_decide(self) -> bool:
        return self.user.has(*DECIDERS)

    @property
    def is_senior(self) -> bool:
        return self.user.has("senior_reviewer")

    @property
    def is_admin(self) -> bool:
        return "admin" in self.user.roles

    @property
    def sees_audit(self) -> bool:
        return self.user.has("auditor")          # auditors and admins; never plain reviewers

    @property
    def sees_victims(self) -> bool:
        # Deliberately not ``has()``: admin does not imply access to victims' data;
        # an admin who needs it grants themselves the role, which is audited.
        return "victim_data" in self.user.roles


class LoginRequired(Exception):
    """No live session."""


class ConsoleError(Exception):
    """An error shown as a page: ``key`` is an interface string, ``detail`` free text (already translated)."""

    def __init__(self, status: int, key: str, detail: str | None = None):
        self.status, self.key, self.detail = status, key, detail
        super().__init__(detail or key)


def _load_viewer(request: Request) -> Viewer:
    cached = getattr(request.state, "viewer", None)
    if cached is not None:
        return cached
    token = request.cookies.get(SESSION_COOKIE)
    found = session_user(request.app.state.store, token)
    if found is None:
        raise LoginRequired()
    request.state.viewer = Viewer(found[0], found[1], token)
    return request.state.viewer


def viewer(request: Request) -> Viewer:
    """Dependency: the logged-in person (any role)."""
    return _load_viewer(request)


def needs(check: Callable[[Viewer], bool]) -> Callable[[Request], Viewer]:
    """Dependency factory: the logged-in person, who must pass ``check`` (e.g. ``lambda v: v.can_read``)."""
    def dep(request: Request) -> Viewer:
        v = _load_viewer(request)
        if not check(v):
            raise ConsoleError(403, "error.forbidden")
        return v
    return dep


def _same_origin(request: Request) -> bool:
    # Browsers send "Origin: null" for form POSTs under Referrer-Policy: no-referrer (which haris
    # sets), so only a concrete foreign origin is refused; the token is the real check.
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return True
    hosts = {request.headers.get("host", ""), request.headers.get("x-forwarded-host", "")} - {""}
    return urlsplit(origin).netloc in hosts


async def _check_csrf(request: Request) -> None:
    v = _load_viewer(request)
    form = await request.form()            # cached on the request: the handler reads the same form
    sent = form.get("csrf")
    if not isinstance(sent, str) or not secrets.compare_digest(sent.encode(), v.csrf.encode()) \
            or not _same_origin(request):
        raise ConsoleError(403, "error.csrf")


def check_login_csrf(request: Request, sent: str) -> None:
    """The log-in form's double-submit check: the hidden field must equal the cookie set with the form."""
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE) or ""
    if not cookie or not sent or not secrets.compare_digest(sent.encode(), cookie.encode()) \
            or not _same_origin(request):
        raise ConsoleError(403, "error.csrf")


def safe_next(target: str | None, default: str = "/") -> str:
    """A local path to go back to after log-in; anything else (another host, ``//evil``) is ignored."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return default


class ConsoleRoute(APIRoute):
    """A route whose errors are pages and whose POSTs are CSRF-checked before the handler runs."""

    def get_route_handler(self) -> Callable:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                if request.method == "POST" and request.url.path not in UNCHECKED_POSTS:
                    await _check_csrf(request)
                return await handler(request)
            except LoginRequired:
                if request.method == "GET" and not request.url.path.startswith("/media/"):
                    path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                    return RedirectResponse(f"/login?next={quote(path, safe='')}", status_code=303)
                return error_page(request, 401, "error.login_required")
            except ConsoleError as exc:
                return error_page(request, exc.status, exc.key, exc.detail)
            except Forbidden as exc:
                return error_page(request, 403, "error.forbidden", str(exc))
            except WorkflowError as exc:
                return error_page(request, 409, "error.workflow", str(exc))
            except ConfigError as exc:
                return error_page(request, 400, "error.invalid", str(exc))
        return route


def ui_language(request: Request, v: Viewer | None) -> str:
    """``?lang=``, else the user's setting, else the browser's preference, else English."""
    return pick(request.query_params.get("lang"), v.user.language if v else None,
                from_accept_language(request.headers.get("accept-language")))


def _aware(t: datetime | None) -> datetime | None:
    return t.replace(tzinfo=timezone.utc) if t is not None and t.tzinfo is None else t


def _when(value: datetime | None) -> str:
    value = _aware(value)
    return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC") if value else "—"


@pass_context
def _age(ctx, value: datetime | None) -> str:
    value = _aware(value)
    if value is None:
        return "—"
    t = ctx["t"]
    s = max(0, int((datetime.now(timezone.utc) - value).total_seconds()))
    if s < 3600:
        return t("age.minutes", n=s // 60)
    if s < 86400:
        return t("age.hours", n=s // 3600)
    return t("age.days", n=s // 86400)


def _as_json(value) -> str:
    # Not Jinja's tojson: that escapes every non-ASCII letter, which makes Arabic unreadable.
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


templates.env.filters.update(when=_when, age=_age, json=_as_json)


def render(request: Request, name: str, v: Viewer | None, http_status: int = 200, **context) -> HTMLResponse:
    """A page in the viewer's language, with ``t`` (strings), ``v`` (viewer) and ``csrf`` in the template."""
    lang = ui_language(request, v)
    t = translator(lang)
    context.update(request=request, t=t, lang=lang, dir=direction(lang), v=v, csrf=v.csrf if v else "",
                   languages=LANGUAGES, labels=LABELS, path=request.url.path)
    return templates.TemplateResponse(request, name, context, status_code=http_status)


def error_page(request: Request, status: int, key: str, detail: str | None = None) -> HTMLResponse:
    try:
        v = _load_viewer(request)
    except LoginRequired:
        v = None
    return render(request, "error.html", v, http_status=status, key=key, detail=detail, status_code=status)
