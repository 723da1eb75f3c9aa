"""The dashboard's HTTP plumbing: its runtime, the staff guard (session + CSRF), forms and templates.

Every dashboard route but the sign-in page goes through `staff_only`: no live session means a
redirect to `/login` for a page and a 401 for htmx or other requests; a state-changing request
(anything but GET/HEAD) must also carry the session's CSRF token and, when the browser sends an
Origin header, come from this site. htmx sends the token as `X-CSRF-Token` (set once on
`<body hx-headers>`); plain forms carry a `csrf_token` field, so every form also works without
JavaScript.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final
from urllib.parse import parse_qsl, urlsplit

import jinja2
from redis.exceptions import RedisError
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response

from libs.errors import DependencyUnavailable
from services.orders.settings import OrdersSettings
from services.orders.storage.pool import holds_nul, transaction
from services.orders.storage.stores import StoreRow
from services.orders.web.dashboard import auth, queries
from services.orders.web.dashboard.events import EventHub, EventRelay

log = logging.getLogger("services.orders.web.dashboard")

HERE: Final = Path(__file__).resolve().parent
MAX_FORM_BYTES: Final = 16_384
DATABASE_DOWN: Final = "The database is unavailable right now; try again in a moment."
REDIS_DOWN: Final = "Live updates are unavailable right now (Redis); try again shortly."
NUL_REFUSED: Final = "Text cannot contain NUL characters; nothing was changed."
SAFE_METHODS: Final = frozenset({"GET", "HEAD"})
# Scripts and styles only from this origin: no inline script, no eval (htmx runs without either).
SECURITY_HEADERS: Final = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; media-src 'self' data: blob:; frame-ancestors 'none'; base-uri 'none'; "
        "form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


class PageError(Exception):
    """A request the dashboard refuses with `status` and a sentence for the person."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class DashboardState:
    """What the dashboard holds for the app's life (`app.state.dashboard`)."""

    settings: OrdersSettings
    templates: jinja2.Environment
    cookies: auth.SessionCookies
    hub: EventHub | None = None
    relay: EventRelay | None = None

    @property
    def secure_cookies(self) -> bool:
        """Cookies get `Secure` in production (served over HTTPS behind the platform's proxy)."""
        return self.settings.common.production


def runtime(request: Request) -> DashboardState:
    """The dashboard runtime of the app serving `request`."""
    return request.app.state.dashboard  # type: ignore[no-any-return]


def orders_state(request: Request) -> Any:
    """The orders service's lifespan state (pool, redis, keys, stores, relay)."""
    return request.app.state.orders


def now() -> dt.datetime:
    """The current UTC time."""
    return dt.datetime.now(dt.UTC)


def is_htmx(request: Request) -> bool:
    """True for a request htmx made (it sends `HX-Request: true`)."""
    return request.headers.get("hx-request") == "true"


async def form(request: Request) -> dict[str, str]:
    """The url-encoded body as a dict (last value wins); at most `MAX_FORM_BYTES`, parsed once.

    Raises `PageError` 413 past the limit and 400 when a name or value holds a NUL character
    (PostgreSQL text cannot store one)."""
    cached: dict[str, str] | None = getattr(request.state, "form", None)
    if cached is not None:
        return cached
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_FORM_BYTES:
        raise PageError(413, "That form is too large.")
    parts: list[bytes] = []
    size = 0
    async for chunk in request.stream():  # never hold more than the limit in memory
        size += len(chunk)
        if size > MAX_FORM_BYTES:
            raise PageError(413, "That form is too large.")
        parts.append(chunk)
    body = b"".join(parts)
    content_type = request.headers.get("content-type", "")
    fields: dict[str, str] = {}
    if not body or content_type.startswith("application/x-www-form-urlencoded"):
        fields = dict(parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True))
    if holds_nul(fields):
        raise PageError(400, NUL_REFUSED)
    request.state.form = fields
    return fields


def path_id(request: Request, name: str, *, max_digits: int, missing: str) -> int:
    """Path parameter `name` as a whole number written in ASCII digits, at most `max_digits` of them.

    Raises `PageError` 404 with `missing` for anything else: `str.isdigit()` and `int()` also
    take other scripts' digits (Arabic-Indic, fullwidth), and `isdigit()` superscripts `int()`
    refuses, none of which is an id of ours."""
    raw = str(request.path_params[name]).lstrip("#")
    if not (raw.isascii() and raw.isdigit()) or len(raw) > max_digits:
        raise PageError(404, missing)
    return int(raw)


def same_origin(request: Request) -> bool:
    """False when the browser says the request came from another site (Origin header)."""
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        return origin is None
    return urlsplit(origin).netloc == request.headers.get("host", "")


def html(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    """Render template `name` with `context` (plus the request and the signed-in staff)."""
    template = runtime(request).templates.get_template(name)
    staff = getattr(request.state, "staff", None)
    context.setdefault("last_event_id", getattr(request.state, "stream_position", ""))
    body = template.render(request=request, staff=staff, **context)
    return HTMLResponse(body, status_code=status, headers=SECURITY_HEADERS)


def refused(request: Request, status: int, message: str) -> Response:
    """An error answer: a line of text for htmx (shown as a notice), a page otherwise."""
    if is_htmx(request) or request.method not in SAFE_METHODS:
        return PlainTextResponse(message, status_code=status, headers=SECURITY_HEADERS)
    return html(request, "error.html", status, message=message)


async def current_staff(request: Request) -> auth.Staff | None:
    """The staff member whose live session cookie came with `request`, or None."""
    rt = runtime(request)
    session_id = rt.cookies.read(request.cookies.get(auth.SESSION_COOKIE))
    if session_id is None:
        return None
    state = orders_state(request)
    async with transaction(state.pool, slow_s=state.settings.slow_query_s) as conn:
        return await auth.load_session(conn, session_id, now())


async def stream_position(request: Request) -> str:
    """The live stream's newest entry id, read BEFORE a page queries what it shows: the page's
    browser resumes the stream from there, so no change falls between the page and the stream.
    "" (the stream from when the browser connects) when Redis cannot be read."""
    hub = runtime(request).hub
    if hub is None:
        return ""
    try:
        return await hub.latest_id()
    except (RedisError, OSError):
        return ""


def tx(request: Request) -> Any:
    """A transaction on the orders pool (`async with tx(request) as conn`)."""
    state = orders_state(request)
    return transaction(state.pool, slow_s=state.settings.slow_query_s)


async def page(request: Request, name: str, **context: Any) -> HTMLResponse:
    """A whole page: template `name` with the handoff count the top bar shows on every page."""
    if "waiting_count" not in context:
        async with tx(request) as conn:
            store = await store_of(request, conn)
            context["waiting_count"] = await queries.handoff_count(conn, store.id)
    return html(request, name, **context)


async def store_of(request: Request, conn: Any) -> StoreRow:
    """The store the dashboard runs; a 503 page when none is loaded yet."""
    store: StoreRow | None = await orders_state(request).stores.current(conn)
    if store is None:
        raise PageError(503, "No store is loaded yet: run `python -m services.orders load-menu`.")
    return store


StaffHandler = Callable[[Request, auth.Staff], Awaitable[Response]]
Handler = Callable[[Request], Awaitable[Response]]


def staff_only(handler: StaffHandler) -> Handler:
    """Wrap `handler` with the session check, the CSRF check and the error pages (503 when
    PostgreSQL or Redis cannot be reached)."""

    async def guarded(request: Request) -> Response:
        try:
            if "\x00" in request.url.path or holds_nul(request.query_params.multi_items()):
                raise PageError(400, NUL_REFUSED)  # no path or query names anything with one
            staff = await current_staff(request)
            if staff is None:
                if request.method in SAFE_METHODS and not is_htmx(request):
                    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                    return RedirectResponse(f"/login?next={_quote(target)}", status_code=303)
                return PlainTextResponse(
                    "Your session has ended; sign in again.",
                    status_code=401,
                    headers={"HX-Redirect": "/login", **SECURITY_HEADERS},
                )
            request.state.staff = staff
            if request.method in SAFE_METHODS and not is_htmx(request):
                request.state.stream_position = await stream_position(request)
            if request.method not in SAFE_METHODS:
                if not same_origin(request):
                    return refused(request, 403, "That request came from another site.")
                given = request.headers.get("x-csrf-token") or (await form(request)).get("csrf_token")
                if not auth.tokens_match(given, staff.csrf_token):
                    return refused(request, 403, "The form's security token is missing or out of date.")
            return await handler(request, staff)
        except PageError as exc:
            return refused(request, exc.status, exc.message)
        except DependencyUnavailable:
            return refused(request, 503, DATABASE_DOWN)
        except RedisError:  # the live stream's position or a fragment that reads it
            return refused(request, 503, REDIS_DOWN)

    guarded.__doc__ = handler.__doc__
    guarded.__name__ = handler.__name__
    return guarded


def _quote(path: str) -> str:
    from urllib.parse import quote

    return quote(path, safe="/")


def safe_next(value: str | None) -> str:
    """Where to go after sign-in: a dashboard path only (never another site)."""
    if value and value.startswith("/dashboard") and not value.startswith("//") and "\\" not in value:
        return value
    return "/dashboard"


def referring_page(request: Request) -> str:
    """The dashboard page this request's form was on (its `Referer`), to go back to after a
    plain-form change; "/dashboard" when the header is missing or names another site or a
    path outside the dashboard (no redirect may leave it)."""
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc and referer.netloc != request.headers.get("host", ""):
        return "/dashboard"
    return safe_next(referer.path + (f"?{referer.query}" if referer.query else ""))


def done(request: Request, fragment: Response | None, back: str) -> Response:
    """After a change: the fragment for htmx, or a redirect to `back` for a plain form."""
    if is_htmx(request) and fragment is not None:
        return fragment
    return RedirectResponse(back, status_code=303)


def make_templates() -> jinja2.Environment:
    """The Jinja2 environment of the dashboard's templates (autoescaped)."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["hhmm"] = lambda value, zone=None: (
        value.astimezone(zone).strftime("%H:%M") if isinstance(value, dt.datetime) else ""
    )
    env.filters["minutes_ago"] = lambda value: (
        max(0, int((now() - value).total_seconds() // 60)) if isinstance(value, dt.datetime) else 0
    )
    return env
