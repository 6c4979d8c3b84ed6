"""The service: the API and the review console in one FastAPI application.

    haris serve                 # embedded defaults: SQLite file, in-process
    HARIS_DATABASE_URL=postgresql+psycopg://… haris serve --host 0.0.0.0

The OpenAPI schema is published at ``/openapi.json`` (docs at ``/docs``).
"""
from __future__ import annotations

import threading

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from haris import __version__
from haris.service.security import MAX_BODY, Problem, RateLimiter, problem_response
from haris.store.db import Store

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    # Everything the console needs is served by haris itself: no third-party script, style or image.
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                               "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "Cache-Control": "no-store",
}


def create_app(database_url: str | None = None, *, store: Store | None = None) -> FastAPI:
    app = FastAPI(title="haris", version=__version__,
                  description="Detect, triage, act on and report trafficking, child exploitation and terrorist "
                              "content. Errors are RFC 9457 problem details.")
    app.state.store = store or Store.open(database_url)
    app.state.limiter = RateLimiter()
    lock = threading.Lock()
    cache: dict = {}

    def analyzer():
        # Built once, on first use: loading detectors and models takes a moment.
        with lock:
            if "analyzer" not in cache:
                from haris.engines.core import Analyzer

                cache["analyzer"] = Analyzer(store=app.state.store)
            return cache["analyzer"]

    def policy():
        # Parsing and validating the YAML takes 10-30 ms, far more than the rest of an item's work;
        # so the parsed document is kept and re-read only when the live version's SHA-256 changes
        # (one indexed lookup a request, so an activation still takes effect at once, in every process).
        from sqlalchemy import select

        from haris.policy.tables import policy_versions as pv
        from haris.policy.versions import current

        with app.state.store.connect() as conn:
            live = conn.execute(select(pv.c.sha256).where(pv.c.policy_id == "default", pv.c.active.is_(True))
                                ).scalar() or "shipped-default"
        with lock:
            if cache.get("policy_sha") != live:
                cache["policy"], cache["policy_sha"] = current(app.state.store)[0], live
            return cache["policy"]

    app.state.analyzer = analyzer
    app.state.policy = policy

    @app.middleware("http")
    async def guard(request: Request, call_next):
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > MAX_BODY):
            return problem_response(Problem(413, "Content Too Large", f"requests are limited to {MAX_BODY} bytes"),
                                    request.url.path)
        if request.method in ("POST", "PUT", "PATCH") and length is None and \
                "chunked" in request.headers.get("transfer-encoding", ""):
            return problem_response(Problem(411, "Length Required", "send a Content-Length"), request.url.path)
        response = await call_next(request)
        for k, v in SECURITY_HEADERS.items():
            response.headers.setdefault(k, v)
        return response

    @app.exception_handler(Problem)
    async def on_problem(request: Request, exc: Problem):
        return problem_response(exc, request.url.path)

    @app.exception_handler(RequestValidationError)
    async def on_invalid(request: Request, exc: RequestValidationError):
        detail = "; ".join(f"{'.'.join(str(x) for x in e['loc'])}: {e['msg']}" for e in exc.errors()[:10])
        return problem_response(Problem(422, "Unprocessable Content", detail), request.url.path)

    @app.exception_handler(StarletteHTTPException)
    async def on_http(request: Request, exc: StarletteHTTPException):
        return problem_response(Problem(exc.status_code, str(exc.detail)), request.url.path)

    @app.exception_handler(Exception)
    async def on_error(request: Request, exc: Exception):
        import logging

        logging.getLogger("haris.service").exception("unhandled error on %s", request.url.path)
        return problem_response(Problem(500, "Internal Server Error", "the error was logged"), request.url.path)

    @app.get("/healthz", include_in_schema=False)
    def healthz():
        return {"ok": True, "version": __version__}

    from haris.service.api import router as api_router

    app.include_router(api_router)
    try:
        from haris.service.console import router as console_router
    except ModuleNotFoundError as exc:   # the console ships in the same package; only a broken install lacks it
        if exc.name != "haris.service.console":
            raise
    else:
        app.include_router(console_router)
        from haris.act.console_routes import router as transparency_router

        app.include_router(transparency_router)
        from fastapi.staticfiles import StaticFiles
        from pathlib import Path

        static = Path(__file__).parent / "static"
        if static.is_dir():
            app.mount("/static", StaticFiles(directory=static), name="static")
    return app
