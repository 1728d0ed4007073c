"""The dashboard's HTTP layer: login, sessions, CSRF, pages and static files.

Thin on purpose: each page reads its query string, calls a function of
:mod:`frankly.dashboard.views` (in a worker thread, as store calls block) and renders the
dict it returns with a Jinja2 template (autoescaped). Pages need a session (a browser
logs in with an API key); without one they redirect to ``/login``. Every POST must carry
the session's CSRF token, or it is answered 403. Responses carry a Content-Security-Policy
that allows scripts and styles from this server only (no inline script at all: chart data
travel in ``<script type="application/json">`` blocks, which are never executed).
"""

from __future__ import annotations

import hashlib
import time
from datetime import date
from importlib import resources
from typing import Any, Callable
from urllib.parse import parse_qs, urlencode

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from frankly import alerts as alertlib
from frankly.dashboard import session as sess
from frankly.dashboard import templating
from frankly.dashboard import views
from frankly.errors import FranklyError, InputError
from frankly.policy import POLICY_TEXT
from frankly.result import DOCUMENT_LABELS

router = APIRouter(include_in_schema=False)

# Vendored files are named with their content's hash in the URL (?v=...), so browsers may
# keep them for a year without ever running a stale copy after an upgrade.
STATIC_MAX_AGE = 365 * 24 * 3600
STATIC_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
                ".md": "text/markdown; charset=utf-8", ".txt": "text/plain; charset=utf-8"}
# Filter choices (sources, brands, categories) come from a scan of the roll-ups; a minute
# old is fresh enough for a drop-down and keeps that scan off most page views.
FACETS_SECONDS = 60.0
# The form's reason box and the store's limit on a reason.
MAX_REASON = 2000
# Sent with every dashboard page: no inline script, nothing from elsewhere, no framing.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; "
                               "img-src 'self' data:; connect-src 'self'; "
                               "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer", "Cache-Control": "no-store",
}
NAV = (("/", "Overview"), ("/aspects", "Aspects"), ("/urgent", "Urgent queue"),
       ("/explorer", "Explorer"), ("/alerts", "Alerts"))


class Dashboard:
    """Per-app dashboard state: templates, the session signer and cached filter choices."""

    def __init__(self) -> None:
        self.env = templating.environment(static=self.static_url, nav=NAV)
        self._signer: sess.Signer | None = None
        self._facets: tuple[float, dict[str, list[str]]] | None = None
        self._static: dict[str, tuple[bytes, str]] = {}

    def signer(self, store: Any) -> sess.Signer:
        if self._signer is None:
            self._signer = sess.Signer(store.secret("dashboard-sessions"))
        return self._signer

    def facets(self, store: Any) -> dict[str, list[str]]:
        now = time.monotonic()
        if self._facets is None or now - self._facets[0] > FACETS_SECONDS:
            self._facets = (now, store.facets())
        return self._facets[1]

    def static_file(self, name: str) -> tuple[bytes, str] | None:
        if name not in self._static:
            folder = resources.files("frankly.dashboard") / "static"
            names = {entry.name for entry in folder.iterdir() if entry.is_file()}
            if name not in names:  # only the files shipped: no paths, no traversal
                return None
            data = (folder / name).read_bytes()
            self._static[name] = (data, hashlib.sha256(data).hexdigest()[:16])
        return self._static[name]

    def static_url(self, name: str) -> str:
        found = self.static_file(name)
        if found is None:
            raise FileNotFoundError(f"dashboard static file {name!r} is missing")
        return f"/static/{name}?v={found[1]}"

    def render(self, template: str, **context: Any) -> str:
        return self.env.get_template(template).render(**context)


def _dashboard(request: Request) -> Dashboard:
    app = request.app
    board = getattr(app.state, "dashboard", None)
    if board is None:
        board = app.state.dashboard = Dashboard()
    return board


def _state(request: Request) -> Any:
    return request.app.state.frankly


# -- sessions -------------------------------------------------------------------------------

class Page:
    """A signed-in request: the caller (its key), the session and its CSRF token."""

    def __init__(self, caller: Any, session: sess.Session, csrf: str) -> None:
        self.caller = caller
        self.session = session
        self.csrf = csrf

    @property
    def can_write(self) -> bool:
        return bool(self.caller.allows("write"))


async def _signed_in(request: Request) -> Page | None:
    """The request's session when its cookie is valid and its key still active."""
    s = _state(request)
    board = _dashboard(request)
    signer = board._signer or await s.db(board.signer, s.store)
    session = signer.read(request.cookies.get(sess.SESSION_COOKIE))
    if session is None:
        return None
    known, caller = s.keys.cached_by_id(session.key_id)
    if not known:
        caller = await s.db(s.keys.by_id, session.key_id)
    if caller is None:  # revoked or deleted: the session ends with it
        return None
    return Page(caller, session, signer.csrf(session))


def _local(target: str | None, default: str = "/") -> str:
    """``target`` when it is a path on this site, else ``default`` (no open redirects)."""
    if (not target or not target.startswith("/") or target.startswith("//")
            or "\\" in target or any(ord(c) < 32 for c in target)):
        return default
    return target


def _to_login(request: Request) -> RedirectResponse:
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    response = RedirectResponse("/login?" + urlencode({"next": here}), status_code=303)
    response.delete_cookie(sess.SESSION_COOKIE, path="/")
    return response


def _html(body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(body, status_code=status, headers=SECURITY_HEADERS)


def _error_page(request: Request, page: Page | None, exc: FranklyError) -> HTMLResponse:
    status = getattr(exc, "status", None) or {"not_found": 404, "invalid_input": 422,
                                              "storage_error": 503}.get(exc.code, 400)
    body = _dashboard(request).render("error.html", page=page, active=None, status=status,
                                      code=exc.code, message=str(exc), policy=POLICY_TEXT
                                      if exc.code == "policy_refused" else None)
    return _html(body, status)


async def _form(request: Request) -> dict[str, str]:
    """An urlencoded form body (the dashboard's forms are small; no multipart parser)."""
    raw = await request.body()
    try:
        fields = parse_qs(raw.decode("utf-8"), keep_blank_values=True, max_num_fields=20)
    except (UnicodeDecodeError, ValueError):
        return {}
    return {name: values[-1] for name, values in fields.items()}


async def _show(request: Request, template: str, compute: Callable[[], dict[str, Any]],
                active: str | None, **extra: Any) -> Response:
    """A page: session first, then the view's dict (in a worker thread) and its template."""
    page = await _signed_in(request)
    if page is None:
        return _to_login(request)
    s = _state(request)
    board = _dashboard(request)

    params = [(k, v) for k, v in request.query_params.multi_items() if k != "saved"]
    here = _url(request.url.path, params)

    def build() -> str:
        data = compute()
        links = dict(extra)
        if data.get("next_cursor"):
            links["next_page"] = _url(request.url.path, [
                (k, v) for k, v in params if k != "cursor"] + [("cursor", data["next_cursor"])])
        if data.get("older"):
            links["older_page"] = _url(request.url.path, [
                (k, v) for k, v in params if k not in ("cursor", "start", "end")] + [
                ("start", data["older"]["start"]), ("end", data["older"]["end"])])
        return board.render(template, page=page, active=active, data=data,
                            facets=views.facet_options(board.facets(s.store), (
                                ("sources", data.get("sources")),
                                ("brands", data.get("brands")),
                                ("categories", [data["aspect"]] if data.get("aspect")
                                 else []))),
                            k=s.settings.min_group_size, here=here,
                            saved=request.query_params.get("saved"), **links)

    try:
        return _html(await anyio.to_thread.run_sync(build))
    except FranklyError as exc:
        return _error_page(request, page, exc)


# -- query strings --------------------------------------------------------------------------

def _url(path: str, params: list[tuple[str, str]]) -> str:
    return f"{path}?{urlencode(params)}" if params else path


def _date(request: Request, name: str) -> date | None:
    value = request.query_params.get(name)
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InputError(f"{name} must be a date like 2026-11-26, got {value!r}") from None


def _list(request: Request, name: str) -> list[str]:
    return [v for v in request.query_params.getlist(name) if v]


def _bool(request: Request, name: str) -> bool | None:
    value = request.query_params.get(name)
    return {"yes": True, "true": True, "no": False, "false": False}.get(value or "")


def _dates(request: Request) -> tuple[date | None, date | None]:
    return _date(request, "start"), _date(request, "end")


async def _dated(request: Request, template: str, active: str,
                 compute: Callable[[date | None, date | None], dict[str, Any]],
                 **extra: Any) -> Response:
    try:
        start, end = _dates(request)
    except InputError as exc:
        page = await _signed_in(request)
        if page is None:
            return _to_login(request)
        return _error_page(request, page, exc)
    return await _show(request, template, lambda: compute(start, end), active, **extra)


# -- login and logout -----------------------------------------------------------------------

def _login_page(request: Request, *, error: str | None = None, status: int = 200,
                next_url: str = "/") -> Response:
    s = _state(request)
    board = _dashboard(request)
    signer = board.signer(s.store)
    nonce = request.cookies.get(sess.LOGIN_COOKIE)
    if not nonce or not signer.check_login(nonce, signer.login_token(nonce)):
        nonce = signer.login_nonce()
    body = board.render("login.html", page=None, active=None, error=error,
                        csrf=signer.login_token(nonce), next_url=_local(next_url))
    response = _html(body, status)
    response.set_cookie(sess.LOGIN_COOKIE, nonce, max_age=sess.LOGIN_SECONDS, httponly=True,
                        samesite="strict", secure=request.url.scheme == "https", path="/")
    return response


@router.get("/login")
async def login_form(request: Request) -> Response:
    s = _state(request)
    board = _dashboard(request)
    await s.db(board.signer, s.store)
    page = await _signed_in(request)
    next_url = _local(request.query_params.get("next"))
    if page is not None:
        return RedirectResponse(next_url, status_code=303)
    return _login_page(request, next_url=next_url)


@router.post("/login")
async def login(request: Request) -> Response:
    s = _state(request)
    board = _dashboard(request)
    signer = await s.db(board.signer, s.store)
    form = await _form(request)
    next_url = _local(form.get("next"))
    if not signer.check_login(request.cookies.get(sess.LOGIN_COOKIE), form.get("csrf")):
        return _forbidden(request, "The login form expired or did not come from this "
                          "dashboard: reload the login page and try again.")
    key = (form.get("key") or "").strip()
    try:
        caller = await s.db(s.keys.authenticate, f"Bearer {key}") if key else None
    except FranklyError:
        caller = None
    if caller is None:
        return _login_page(request, error="That key is unknown or revoked. Create one with "
                           "'frankly keys create --scope read'.", status=401,
                           next_url=next_url)
    response = RedirectResponse(next_url, status_code=303)
    response.set_cookie(sess.SESSION_COOKIE, signer.issue(caller.key_id),
                        max_age=sess.SESSION_SECONDS, httponly=True, samesite="strict",
                        secure=request.url.scheme == "https", path="/")
    response.delete_cookie(sess.LOGIN_COOKIE, path="/")
    return response


def _forbidden(request: Request, message: str) -> Response:
    return _error_page(request, None, _Forbidden(message))


class _Forbidden(FranklyError):
    code = "csrf_failed"
    status = 403


@router.post("/logout")
async def logout(request: Request) -> Response:
    page = await _signed_in(request)
    if page is None:
        return _to_login(request)
    form = await _form(request)
    signer = _dashboard(request).signer(_state(request).store)
    if not signer.check_csrf(page.session, form.get("csrf")):
        return _forbidden(request, "This form did not come from this dashboard session.")
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(sess.SESSION_COOKIE, path="/")
    return response


# -- pages ----------------------------------------------------------------------------------

@router.get("/")
async def overview_page(request: Request) -> Response:
    k = _state(request).settings.min_group_size
    store = _state(request).store
    return await _dated(request, "overview.html", "/", lambda start, end: views.overview(
        store, start=start, end=end, sources=_list(request, "source"),
        brands=_list(request, "brand"), k=k))


@router.get("/aspects")
async def aspects_page(request: Request) -> Response:
    k = _state(request).settings.min_group_size
    store = _state(request).store
    sort = request.query_params.get("sort") or "share"
    params = [(name, v) for name, v in request.query_params.multi_items()
              if name not in ("sort", "saved")]
    links = {key: _url("/aspects", params + [("sort", key)]) for key in ("share", "change")}
    return await _dated(request, "aspects.html", "/aspects", lambda start, end: views.aspects(
        store, start=start, end=end, sources=_list(request, "source"),
        brands=_list(request, "brand"), sort=sort, k=k), sort_links=links)


@router.get("/urgent")
async def urgent_page(request: Request) -> Response:
    store = _state(request).store
    return await _show(request, "urgent.html", lambda: views.urgent_queue(
        store, sources=_list(request, "source"), brands=_list(request, "brand"),
        handled=_bool(request, "handled") is True,
        cursor=request.query_params.get("cursor") or None), "/urgent")


@router.get("/explorer")
async def explorer_page(request: Request) -> Response:
    store = _state(request).store
    labels = [v for v in _list(request, "label") if v in DOCUMENT_LABELS]
    return await _dated(request, "explorer.html", "/explorer", lambda start, end:
                        views.explorer(store, search=(request.query_params.get("q") or "")[:200],
                                       labels=labels, sources=_list(request, "source"),
                                       brands=_list(request, "brand"),
                                       aspect=request.query_params.get("aspect") or None,
                                       urgent=_bool(request, "urgent"),
                                       overridden=_bool(request, "overridden"),
                                       start=start, end=end,
                                       cursor=request.query_params.get("cursor") or None))


@router.get("/alerts")
async def alerts_page(request: Request) -> Response:
    k = _state(request).settings.min_group_size
    store = _state(request).store
    period = request.query_params.get("period") or "day"
    return await _show(request, "alerts.html", lambda: views.alerts(
        store, period=period, sources=_list(request, "source"),
        brands=_list(request, "brand"), k=k, alpha=alertlib.ALPHA), "/alerts")


@router.get("/item")
async def item_page(request: Request) -> Response:
    item_id = request.query_params.get("id") or ""
    k = _state(request).settings.min_group_size
    store = _state(request).store
    return await _show(request, "item.html", lambda: views.item_detail(store, item_id, k=k),
                       None, back=_local(request.query_params.get("back"), "/explorer"))


@router.post("/override")
async def override(request: Request) -> Response:
    """A person's change to one item, from any page's form: mark it handled, say it is (not)
    urgent, or give it another label; always with a reason, always audited."""
    page = await _signed_in(request)
    if page is None:
        return _to_login(request)
    form = await _form(request)
    s = _state(request)
    board = _dashboard(request)
    if not board.signer(s.store).check_csrf(page.session, form.get("csrf")):
        return _forbidden(request, "This form did not come from this dashboard session: "
                          "reload the page and try again.")
    if not page.can_write:
        return _error_page(request, page, _Forbidden(
            "Changing an item needs a key with the 'write' scope; this one has "
            f"{', '.join(page.caller.scopes)} (create one with 'frankly keys create "
            "--scope write')."))
    item_id = form.get("item", "")
    action = form.get("action", "")
    reason = (form.get("reason") or "").strip()[:MAX_REASON]
    change: dict[str, Any] = {"handled": {"handled": True}, "reopen": {"handled": False},
                              "not_urgent": {"urgent": False}, "urgent": {"urgent": True}
                              }.get(action, {})
    if action == "label":
        label = form.get("label")
        if label not in DOCUMENT_LABELS:
            return _error_page(request, page, InputError(
                f"label must be one of {', '.join(DOCUMENT_LABELS)}"))
        change = {"label": label}
    if not change:
        return _error_page(request, page, InputError(
            "unknown action: use handled, reopen, urgent, not_urgent or label"))
    if not reason:
        reason = {"handled": "handled", "reopen": "reopened"}.get(action, "")
    if not reason:
        return _error_page(request, page, InputError(
            "give a reason for the change: it is kept in the audit trail"))
    k = s.settings.min_group_size

    def apply() -> None:
        views.item_detail(s.store, item_id, k=k)  # the item exists and may be shown
        s.store.override(item_id, reason=reason, actor=page.caller.actor, **change)

    try:
        await anyio.to_thread.run_sync(apply)
    except FranklyError as exc:
        return _error_page(request, page, exc)
    s.metrics.count("overrides")
    back = _local(form.get("next"), "/urgent")
    joiner = "&" if "?" in back else "?"
    return RedirectResponse(f"{back}{joiner}{urlencode({'saved': item_id})}", status_code=303)


@router.api_route("/static/{name}", methods=["GET", "HEAD"])
async def static(request: Request, name: str) -> Response:
    found = _dashboard(request).static_file(name)
    if found is None:
        return Response("not found", status_code=404, media_type="text/plain")
    data, digest = found
    suffix = "." + name.rsplit(".", 1)[-1] if "." in name else ""
    etag = f'"{digest}"'
    headers = {"Cache-Control": f"public, max-age={STATIC_MAX_AGE}, immutable", "ETag": etag,
               "X-Content-Type-Options": "nosniff"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(data, media_type=STATIC_TYPES.get(suffix, "application/octet-stream"),
                    headers=headers)
