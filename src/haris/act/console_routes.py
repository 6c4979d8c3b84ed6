"""The transparency charts in the review console: ``GET /reports/transparency?from=…&to=…``.

For people with the ``admin`` or ``auditor`` role. Mount it next to the
console's router (``app.include_router(haris.act.console_routes.router)``).

The charts are embedded as ``data:`` images, not inline SVG: the console's
Content-Security-Policy forbids inline styles, which matplotlib's SVG uses,
and an SVG loaded as an image is rendered with its own styles intact.
"""
from __future__ import annotations

import base64
from datetime import datetime, timedelta, timezone

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from haris.act.items import parse_when
from haris.errors import ConfigError
from haris.report import transparency
from haris.service.security import principal_from

router = APIRouter(include_in_schema=False)
DEFAULT_DAYS = 28


def _data_uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode()


@router.get("/reports/transparency")
def transparency_page(request: Request) -> Response:
    p = principal_from(request)
    if p is None or p.user is None:
        return RedirectResponse("/login?next=/reports/transparency", status_code=303)
    if not p.user.has("auditor"):       # has() is true for admin too
        return HTMLResponse("<!doctype html><title>Forbidden</title><p>Transparency reports need the admin or "
                            "auditor role.</p>", status_code=403)
    q = request.query_params
    try:
        end = parse_when(q.get("to"), end=True) or datetime.now(timezone.utc)
        start = parse_when(q.get("from")) or end - timedelta(days=DEFAULT_DAYS)
    except ConfigError as exc:
        return HTMLResponse(f"<!doctype html><title>Bad request</title><p>{_escape(str(exc))}</p>", status_code=400)
    store = request.app.state.store
    m = transparency.compute(store, start, end, evasion=False)
    charts = {k: _data_uri(v) for k, v in transparency.charts_svg(store, start, end, metrics=m).items()}
    html = transparency.environment().get_template("console_transparency.html").render(
        m=m, charts=charts, titles=transparency.CHART_TITLES, rows=transparency.summary_rows(m),
        from_value=start.date().isoformat(), to_value=(end - timedelta(microseconds=1)).date().isoformat())
    return HTMLResponse(html)


def _escape(text: str) -> str:
    from markupsafe import escape

    return str(escape(text))
