"""The service: the API and the review console in one FastAPI application.

    haris serve                 # embedded defaults: SQLite file, in-process
    HARIS_DATABASE_URL=postgresql+psycopg://… haris serve --host 0.0.0.0

The OpenAPI schema is published at ``/openapi.json`` (docs at ``/docs``).
"""
from __future__ import annotations

import gc
import threading
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException

from haris import __version__
from haris.service.auth import ApiKeyCache
from haris.service.items import ItemPipeline, LivePolicy
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


class SecurityGuard:
    """Size checks before a body is read, and the security headers on every answer of the app.

    A plain ASGI middleware: Starlette's ``BaseHTTPMiddleware`` (``@app.middleware``) runs each request
    through an extra task and memory streams, which cost more than the rest of a request's HTTP handling.
    """

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = Headers(scope=scope)
        length = headers.get("content-length")
        refusal = None
        if length is not None and (not length.isdigit() or int(length) > MAX_BODY):
            refusal = Problem(413, "Content Too Large", f"requests are limited to {MAX_BODY} bytes")
        elif scope["method"] in ("POST", "PUT", "PATCH") and length is None and \
                "chunked" in headers.get("transfer-encoding", ""):
            refusal = Problem(411, "Length Required", "send a Content-Length")

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for k, v in SECURITY_HEADERS.items():
                    headers.setdefault(k, v)
            await send(message)

        if refusal is not None:
            return await problem_response(refusal, Request(scope).url.path)(scope, receive, send_with_headers)
        await self.app(scope, receive, send_with_headers)


def create_app(database_url: str | None = None, *, store: Store | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        await run_in_threadpool(app.state.items.close)     # answer the items already handed in

    app = FastAPI(title="haris", version=__version__, lifespan=lifespan,
                  description="Detect, triage, act on and report trafficking, child exploitation and terrorist "
                              "content. Errors are RFC 9457 problem details.")
    app.state.store = store or Store.open(database_url)
    app.state.limiter = RateLimiter()
    app.state.api_keys = ApiKeyCache(app.state.store)
    lock = threading.Lock()
    cache: dict = {}

    def analyzer():
        # Built once, on first use: loading detectors and models takes a moment.
        with lock:
            if "analyzer" not in cache:
                from haris.engines.core import Analyzer

                cache["analyzer"] = Analyzer(store=app.state.store)
                # The models are a few hundred thousand long-lived objects: every full collection walked
                # them all (pauses of up to 0.1 s under load, straight into the API's tail latency).
                # Freezing what exists now takes them out of the collector's sight for good.
                gc.collect()
                gc.freeze()
            return cache["analyzer"]

    app.state.analyzer = analyzer
    app.state.policy = LivePolicy(app.state.store)
    app.state.items = ItemPipeline(app.state.store, analyzer, app.state.policy)
    app.add_middleware(SecurityGuard)

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
