"""The FastAPI app factory: state, lifespan, middleware and error handling.

Nothing is built at import. :func:`create_app` returns an app whose lifespan opens the
store and loads the model (unless a test hands them in), and starts the retention purge.
"""

from __future__ import annotations

import asyncio
import logging
import time
from contextlib import asynccontextmanager
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, AsyncIterator, Callable

import anyio
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from frankly import __version__
from frankly.config import ServiceSettings
from frankly.errors import FranklyError
from frankly.service.auth import KeyRing
from frankly.service.metrics import Metrics

if TYPE_CHECKING:
    from frankly.analyzer import Analyzer
    from frankly.ingest import Ingestor
    from frankly.result import Result
    from frankly.store import Store

log = logging.getLogger("frankly.service")

# How often the retention purge runs. Hourly keeps rows at most an hour past their limit.
PURGE_EVERY_SECONDS = 3600.0
# Analyses run one request at a time in a worker thread: the model already uses both cores
# (onnxruntime's intra-op threads), and one at a time keeps latency predictable.
ANALYSIS_THREADS = 1
# Handing a request to that thread and back cost the event loop about as much CPU as the
# fast model's own work on one tweet (py-spy under benchmarks/service.py). So a small
# request (at most INLINE_MAX_CHARS characters in all) runs on the event loop itself, in
# its turn (same limiter), when small requests have lately taken under INLINE_SECONDS of
# CPU (an average weighted INLINE_WEIGHT towards the latest): the loop is then held about
# as long as a pure-Python analysis in the thread would hold the interpreter lock. The
# accurate model (tens of ms a text, mostly in onnxruntime, which lets the loop run) stays
# in the thread.
INLINE_MAX_CHARS = 1000
INLINE_SECONDS = 0.002
INLINE_WEIGHT = 0.1
# Concurrent POST /v1/analyze requests are read together: while one model call runs, the
# requests that arrive queue up, and the next call takes all of them (up to this many
# texts, the Analyzer's batch size). A model call over 8 texts costs far less than 8 calls
# over one, and a lone request waits for nothing.
BATCH_TEXTS = 64

# The HTTP status of each error code the service raises on purpose.
STATUS_BY_CODE = {"invalid_input": 422, "not_found": 404, "policy_refused": 403,
                  "unauthorized": 401, "insufficient_scope": 403, "rate_limited": 429,
                  "too_many_texts": 413, "request_too_large": 413, "storage_error": 503,
                  "missing_dependency": 500, "data_error": 422, "model_error": 500}


@dataclass
class State:
    settings: ServiceSettings
    analyzer: Analyzer
    store: Store
    ingestor: Ingestor
    keys: KeyRing
    metrics: Metrics
    limiter: anyio.CapacityLimiter
    small_seconds: float | None = None  # recent time of a small request's analysis
    variants: dict[tuple[bool, bool, bool], Analyzer] = field(default_factory=dict)
    batchers: dict[int, Batcher] = field(default_factory=dict)

    async def analyse_texts(self, analyzer: Analyzer, texts: list[str],
                            targets: tuple[str, ...]) -> list[Result]:
        """One Result per text, read together with other requests' texts (see
        BATCH_TEXTS)."""
        if not texts:
            return []
        batcher = self.batchers.get(id(analyzer))
        if batcher is None:
            batcher = self.batchers[id(analyzer)] = Batcher(self, analyzer)
        return await batcher.submit(texts, targets)

    def reader(self, *, evidence: bool, sentences: bool, aspects: bool) -> Analyzer:
        """The Analyzer for a request that turned some steps off (sharing the model)."""
        if evidence and sentences and aspects:
            return self.analyzer
        key = (evidence, sentences, aspects)
        found = self.variants.get(key)
        if found is None:
            found = self.variants[key] = self.analyzer.without(
                explain=not evidence, sentences=not sentences, aspects=not aspects)
        return found

    async def analyse(self, fn: Callable[..., Any], *args: Any, chars: int | None = None) -> Any:
        """Run model work in the analysis thread, off the event loop; or, for a request of
        ``chars`` characters that is small and cheap (see INLINE_SECONDS), on the loop."""
        if chars is None or chars > INLINE_MAX_CHARS:
            return await anyio.to_thread.run_sync(fn, *args, limiter=self.limiter)
        if self.small_seconds is not None and self.small_seconds <= INLINE_SECONDS:
            async with self.limiter:  # still one analysis at a time, in turn
                return self._timed(time.perf_counter, fn, *args)
        # In the thread, its own CPU time: waiting for the interpreter lock while the loop
        # parses other requests is not the analysis's cost.
        return await anyio.to_thread.run_sync(self._timed, time.thread_time, fn, *args,
                                              limiter=self.limiter)

    def _timed(self, clock: Callable[[], float], fn: Callable[..., Any], *args: Any) -> Any:
        start = clock()
        try:
            return fn(*args)
        finally:
            seconds = clock() - start
            last = self.small_seconds
            self.small_seconds = (seconds if last is None
                                  else last + INLINE_WEIGHT * (seconds - last))

    async def db(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run a store call in a worker thread (SQLite and psycopg calls block)."""
        return await anyio.to_thread.run_sync(lambda: fn(*args, **kwargs))


@dataclass
class _Job:
    texts: list[str]
    targets: tuple[str, ...]
    future: asyncio.Future


class Batcher:
    """Gathers the texts of concurrent requests to one Analyzer into shared model calls."""

    def __init__(self, state: State, analyzer: Analyzer) -> None:
        self.state = state
        self.analyzer = analyzer
        self.queue: deque[_Job] = deque()
        self.task: asyncio.Task | None = None

    async def submit(self, texts: list[str], targets: tuple[str, ...]) -> list[Result]:
        job = _Job(texts, targets, asyncio.get_running_loop().create_future())
        self.queue.append(job)
        if self.task is None or self.task.done():
            self.task = asyncio.create_task(self._drain())
        return await job.future

    async def _drain(self) -> None:
        while self.queue:
            jobs = [self.queue.popleft()]
            size = len(jobs[0].texts)
            while (self.queue and self.queue[0].targets == jobs[0].targets
                   and size + len(self.queue[0].texts) <= BATCH_TEXTS):
                jobs.append(self.queue.popleft())
                size += len(jobs[-1].texts)
            texts = [t for job in jobs for t in job.texts]
            targets = jobs[0].targets or None

            def read() -> list[Result]:
                return list(self.analyzer.analyze_many(texts, targets=targets))

            try:
                results = await self.state.analyse(read, chars=sum(map(len, texts)))
            except Exception as exc:  # every request of the batch hears it
                for job in jobs:
                    if not job.future.done():
                        job.future.set_exception(exc)
                continue
            start = 0
            for job in jobs:
                if not job.future.done():  # a client that went away cancelled its own
                    job.future.set_result(results[start:start + len(job.texts)])
                start += len(job.texts)


def create_app(settings: ServiceSettings | None = None, *, analyzer: Analyzer | None = None,
               store: Store | None = None) -> FastAPI:
    """The Frankly service as an ASGI app (run it with ``frankly serve``).

    ``analyzer`` and ``store`` default to ``settings.model`` and ``settings.database_url``,
    built when the app starts (not here). A store handed in is not closed on shutdown.
    """
    settings = settings or ServiceSettings()
    settings.check()
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from frankly.ingest import Ingestor

        own_store = store is None
        the_store = store
        if the_store is None:
            from frankly.config import open_default_store

            the_store = await anyio.to_thread.run_sync(open_default_store,
                                                       settings.database_url)
        the_analyzer = analyzer
        if the_analyzer is None:
            from frankly.analyzer import Analyzer

            the_analyzer = await anyio.to_thread.run_sync(Analyzer, settings.model)
        app.state.frankly = State(
            settings=settings, analyzer=the_analyzer, store=the_store,
            ingestor=Ingestor(the_analyzer, the_store, settings),
            keys=KeyRing(the_store, settings.rate_limit_per_second), metrics=metrics,
            limiter=anyio.CapacityLimiter(ANALYSIS_THREADS))
        purge = (asyncio.create_task(_purge_forever(app.state.frankly))
                 if settings.retention_days else None)
        log.info("frankly service ready: model %s, database %s", the_analyzer.model.id,
                 _safe_url(settings.database_url))
        try:
            yield
        finally:
            if purge is not None:
                purge.cancel()
            if own_store:
                the_store.close()

    app = FastAPI(
        title="Frankly", version=__version__, lifespan=lifespan,
        description="Honest, calibrated sentiment, urgency and aspects for customer "
                    "feedback, offline. Every endpoint but /health needs "
                    "'Authorization: Bearer <key>' (create keys with 'frankly keys create'). "
                    "Errors are JSON: {\"error\": {\"code\", \"message\"}}.",
        responses={401: {"description": "No key or an unknown one"},
                   422: {"description": "The request does not match the schema"},
                   429: {"description": "Rate limited"}})
    app.add_exception_handler(FranklyError, _frankly_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
    from frankly.service.routes import router

    app.include_router(router)
    from frankly.dashboard import install

    install(app)  # the web dashboard at / (same keys: a browser logs in with one)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(Observe, metrics=metrics)
    return app


async def _purge_forever(state: State) -> None:
    while True:
        try:
            cutoff = datetime.now(timezone.utc) - timedelta(days=state.settings.retention_days
                                                            or 0)
            n = await state.db(state.store.purge_older_than, cutoff)
            if n:
                log.info("retention: purged %d items older than %d days", n,
                         state.settings.retention_days)
                state.metrics.count("items_purged", n)
        except Exception:  # keep purging later; the error is logged, without any text
            log.exception("retention purge failed")
        await asyncio.sleep(PURGE_EVERY_SECONDS)


def error_response(status: int, code: str, message: str, details: Any = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        body["details"] = details
    return JSONResponse({"error": body}, status_code=status, headers=headers)


async def _frankly_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, FranklyError)
    status = getattr(exc, "status", None) or STATUS_BY_CODE.get(exc.code, 400)
    headers = None
    retry = getattr(exc, "retry_after", None)
    if retry is not None:
        headers = {"Retry-After": str(max(1, int(retry + 0.999)))}
    if status >= 500:
        log.error("%s on %s: %s", exc.code, _route(request.scope), type(exc).__name__)
    return error_response(status, exc.code, str(exc), headers=headers)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    details = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err.get("loc", ()))
        # No 'input' or 'ctx': they may echo the client's text back or hold objects.
        details.append({"field": where, "problem": err.get("msg", "invalid"),
                        "type": err.get("type")})
    first = details[0] if details else {"field": "body", "problem": "invalid"}
    more = f" (and {len(details) - 1} more problems)" if len(details) > 1 else ""
    return error_response(422, "invalid_request", f"{first['field']}: {first['problem']}{more}",
                          details)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    codes = {400: "invalid_request", 404: "not_found", 405: "method_not_allowed",
             413: "request_too_large"}
    message = {404: f"no such endpoint: {request.method} {request.url.path} (see /docs)",
               405: f"{request.method} is not allowed here (see /docs)"}.get(
        exc.status_code, str(exc.detail))
    return error_response(exc.status_code, codes.get(exc.status_code, "http_error"), message,
                          headers=getattr(exc, "headers", None))


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    _log_unexpected(request.method, _route(request.scope), exc)
    return _internal_error()


def _internal_error() -> JSONResponse:
    return error_response(500, "internal_error", "Frankly hit an unexpected error; it has "
                          "been logged. Retrying the same request is safe.")


def _log_unexpected(method: str, route: str, exc: BaseException) -> None:
    # The exception's type and the code path, not its message: a message can quote the
    # request's data, and logs never hold feedback text.
    import traceback

    where = "".join(traceback.format_tb(exc.__traceback__))
    log.error("unexpected %s on %s %s\n%s", type(exc).__name__, method, route, where)


class BodyLimit:
    """Refuse request bodies over ``max_bytes`` with 413, before reading them into memory."""

    def __init__(self, app: Any, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    too_big = int(value) > self.max_bytes
                except ValueError:
                    too_big = False
                if too_big:
                    await self._refuse(scope, receive, send)
                    return
        seen = 0

        async def counted() -> dict:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise StarletteHTTPException(413, self._message())
            return message

        await self.app(scope, counted, send)

    def _message(self) -> str:
        return (f"the request body is over {self.max_bytes:,} bytes: send fewer or shorter "
                f"texts per request")

    async def _refuse(self, scope: dict, receive: Callable, send: Callable) -> None:
        response = error_response(413, "request_too_large", self._message())
        await response(scope, receive, send)


class Observe:
    """Time every request for /metrics and log one line: method, route template, status."""

    def __init__(self, app: Any, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500
        started = False

        async def sending(message: dict) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                status, started = message["status"], True
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception as exc:
            # Handled here, not by the server: its own log line would print the message.
            _log_unexpected(scope["method"], _route(scope), exc)
            status = 500
            if not started:
                await _internal_error()(scope, receive, send)
        finally:
            seconds = time.perf_counter() - start
            route = _route(scope)
            self.metrics.observe(scope["method"], route, status, seconds)
            if log.isEnabledFor(logging.INFO):
                log.info("%s %s %d %.1f ms", scope["method"], route, status, seconds * 1000)


def _route(scope: dict) -> str:
    """The route template ("/v1/subjects/{subject_id}"), never the raw path with its ids."""
    route = scope.get("route")
    return getattr(route, "path", None) or "(unmatched)"


def _safe_url(url: str) -> str:
    """A database URL without its password, for the log."""
    scheme, sep, rest = url.partition("://")
    if "@" in rest:
        creds, _, host = rest.rpartition("@")
        user = creds.split(":", 1)[0]
        return f"{scheme}{sep}{user}:***@{host}"
    return url


def app_from_environment() -> FastAPI:
    """The app for each of ``frankly serve --workers N``'s processes (settings travel in
    ``FRANKLY_SERVE_SETTINGS`` as JSON, written by the command)."""
    import json
    import os

    return create_app(ServiceSettings(**json.loads(os.environ["FRANKLY_SERVE_SETTINGS"])))
