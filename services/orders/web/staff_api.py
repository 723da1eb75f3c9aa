"""orders' HTTP routes besides health and metrics: the staff JSON API.

Every route needs `Authorization: Bearer <ADMIN_API_TOKEN>`, compared in constant time
(`hmac.compare_digest`); without the header, with a wrong token, or when the token is not
configured at all, the answer is 401. Errors are JSON `{"error": "<what to fix>"}` with a 4xx
status, and a request that fails validation changes nothing.

| method | path                                        | body                        | answers            |
|--------|---------------------------------------------|-----------------------------|--------------------|
| GET    | /api/v1/orders?status=a,b&since=ISO&limit=N |                             | 200 `{orders}`, 400 |
| GET    | /api/v1/orders/{number}                     |                             | 200 order, 404     |
| POST   | /api/v1/orders/{number}/transitions         | `{"to": "ready", "reason"}` | 200, 400, 404, 409 |
| PATCH  | /api/v1/items/{code}                        | `{"available": false}`      | 200 item, 400, 404 |
| POST   | /api/v1/conversations/{customer}/handoff    |                             | 200, 404           |
| DELETE | /api/v1/conversations/{customer}/handoff    |                             | 200, 404           |

`{customer}` is Twilio's `From` address URL-encoded (`whatsapp%3A%2B15551230001`). After a
commit that wrote outbox rows the relay is woken so the customer hears promptly.
"""

from __future__ import annotations

import datetime as dt
import hmac
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from libs.errors import DependencyUnavailable
from services.orders.ordering import lifecycle, staff
from services.orders.settings import OrdersSettings
from services.orders.storage import stores
from services.orders.storage.pool import holds_nul, json_depth, transaction
from services.orders.storage.stores import StoreRow, set_item_available

STAFF_ACTOR = "staff"
MAX_REASON_CHARS = 500
# Every staff API body is a small JSON object; anything bigger is refused unread.
MAX_BODY_BYTES = 16_384
# Every staff API body is a flat object; a deeper one is refused before anything walks it.
MAX_JSON_DEPTH = 8
TOO_NESTED = f"the body is nested more than {MAX_JSON_DEPTH} levels deep; send a flat JSON object"
Handler = Callable[[Request], Awaitable[Response]]


class ApiError(Exception):
    """An answer other than 200: `status` and a message saying what to fix."""

    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.extra = extra


def json_response(data: Any, status: int = 200) -> Response:
    """A JSON response encoded with orjson (datetimes as ISO 8601)."""
    return Response(orjson.dumps(data), status_code=status, media_type="application/json")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _authorized(request: Request, token: str | None) -> bool:
    if not token:
        return False
    header = request.headers.get("authorization", "")
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer" or not given:
        return False
    return hmac.compare_digest(given.strip().encode(), token.encode())


def _guard(settings: OrdersSettings, handler: Handler) -> Handler:
    """Wrap a handler with the bearer check and the JSON error shape."""

    async def guarded(request: Request) -> Response:
        if not _authorized(request, settings.admin_api_token):
            return Response(
                orjson.dumps({"error": "missing or wrong bearer token"}),
                status_code=401,
                media_type="application/json",
                headers={"WWW-Authenticate": "Bearer"},
            )
        if "\x00" in request.url.path:
            # PostgreSQL text cannot hold NUL, and no code, number or address contains one.
            return json_response({"error": "the path contains a NUL byte"}, 400)
        try:
            return await handler(request)
        except ApiError as exc:
            return json_response({"error": exc.message, **exc.extra}, exc.status)
        except DependencyUnavailable:
            return json_response({"error": "the database is unavailable; try again shortly"}, 503)

    return guarded


def _state(request: Request) -> Any:
    return request.app.state.orders


async def _store(request: Request, conn: Any) -> StoreRow:
    store: StoreRow | None = await _state(request).stores.current(conn)
    if store is None:
        raise ApiError(503, "no store is loaded yet (run load-menu)")
    return store


async def _json_body(request: Request) -> dict[str, Any]:
    """The request's JSON object body, read up to `MAX_BODY_BYTES` (413 beyond; 400 if
    malformed, not an object, nested deeper than `MAX_JSON_DEPTH`, or holding a NUL)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise ApiError(413, f"the body is larger than {MAX_BODY_BYTES} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise ApiError(413, f"the body is larger than {MAX_BODY_BYTES} bytes")
        chunks.append(chunk)
    raw = b"".join(chunks)
    try:
        data = orjson.loads(raw) if raw else None
    except orjson.JSONDecodeError as exc:
        if "depth" in str(exc):  # orjson refuses more than 1024 levels itself
            raise ApiError(400, TOO_NESTED) from None
        raise ApiError(400, "the body is not valid JSON") from None
    if not isinstance(data, dict):
        raise ApiError(400, "expected a JSON object body")
    if json_depth(data) > MAX_JSON_DEPTH:
        raise ApiError(400, TOO_NESTED)
    if holds_nul(data):
        raise ApiError(400, "text in the body cannot contain NUL characters (\\u0000)")
    return data


def _order_number(request: Request) -> int:
    raw = str(request.path_params["number"]).lstrip("#")
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 9:  # "³".isdigit() is True
        raise ApiError(404, f"no order {request.path_params['number']!r}; order numbers look like 1001")
    return int(raw)


def _notify_relay(request: Request) -> None:
    _state(request).relay.notify()


async def list_orders(request: Request) -> Response:
    """GET /api/v1/orders: `status` (comma-separated, repeatable), `since` (ISO 8601), `limit`."""
    statuses: list[str] = []
    for value in request.query_params.getlist("status"):
        statuses.extend(s.strip() for s in value.split(",") if s.strip())
    unknown = [s for s in statuses if s not in lifecycle.STATUSES]
    if unknown:
        raise ApiError(400, f"unknown status {unknown[0]!r}; use one of {', '.join(lifecycle.STATUSES)}")
    since = None
    if request.query_params.get("since"):
        try:
            since = dt.datetime.fromisoformat(request.query_params["since"].replace(" ", "+"))
        except ValueError:
            raise ApiError(400, "since must be an ISO 8601 time, e.g. 2025-01-31T18:00:00+00:00") from None
        if since.tzinfo is None:
            since = since.replace(tzinfo=dt.UTC)
    limit_raw = request.query_params.get("limit", "50")
    # The length first: int() refuses texts of over 4,300 digits with a ValueError.
    well_formed = limit_raw.isascii() and limit_raw.isdigit() and len(limit_raw) <= len(str(staff.MAX_LIST))
    if not well_formed or not 1 <= int(limit_raw) <= staff.MAX_LIST:
        raise ApiError(400, f"limit must be a whole number from 1 to {staff.MAX_LIST}")
    state = _state(request)
    async with transaction(state.pool, slow_s=state.settings.slow_query_s) as conn:
        store = await _store(request, conn)
        orders = await staff.list_orders(conn, store.id, statuses=statuses, since=since, limit=int(limit_raw))
    return json_response({"orders": orders})


async def get_order(request: Request) -> Response:
    """GET /api/v1/orders/{number}: the order with lines, totals, history and messages."""
    number = _order_number(request)
    state = _state(request)
    async with transaction(state.pool, slow_s=state.settings.slow_query_s) as conn:
        store = await _store(request, conn)
        order = await staff.get_order(conn, store.id, number)
    if order is None:
        raise ApiError(404, f"no order #{number}")
    return json_response(order)


async def post_transition(request: Request) -> Response:
    """POST /api/v1/orders/{number}/transitions `{"to", "reason"}`: move the order."""
    number = _order_number(request)
    body = await _json_body(request)
    to, reason = body.get("to"), body.get("reason", "")
    if not isinstance(to, str) or not to:
        raise ApiError(400, "'to' is required: the status to move to", statuses=list(lifecycle.STATUSES))
    if reason is None:
        reason = ""
    if not isinstance(reason, str) or len(reason) > MAX_REASON_CHARS:
        raise ApiError(400, f"'reason' must be text of at most {MAX_REASON_CHARS} characters")
    if to not in lifecycle.STATUSES:
        raise ApiError(400, f"unknown status {to!r}", statuses=list(lifecycle.STATUSES))
    if to == "cancelled" and not reason.strip():
        raise ApiError(400, "cancelling needs a 'reason' the customer will read")
    state = _state(request)
    async with transaction(state.pool, slow_s=state.settings.slow_query_s) as conn:
        store = await _store(request, conn)
        try:
            result = await lifecycle.transition_in_store(
                conn, store, number=number, to=to, actor=STAFF_ACTOR, reason=reason, now=_now()
            )
        except lifecycle.OrderNotFound:
            raise ApiError(404, f"no order #{number}") from None
        except lifecycle.InvalidTransition as exc:
            raise ApiError(409, str(exc), current=exc.current, allowed=exc.allowed) from None
        order = await staff.get_order(conn, store.id, number)
    if result.notified in ("body", "template"):
        _notify_relay(request)
    return json_response(order)


async def patch_item(request: Request) -> Response:
    """PATCH /api/v1/items/{code} `{"available": bool}`: sold out or back on."""
    code = str(request.path_params["code"])
    body = await _json_body(request)
    available = body.get("available")
    if not isinstance(available, bool):
        raise ApiError(400, "'available' must be true or false")
    state = _state(request)
    async with transaction(state.pool, slow_s=state.settings.slow_query_s) as conn:
        store = await _store(request, conn)
        if not await set_item_available(conn, store.id, code, available):
            raise ApiError(404, f"no item {code!r} on the menu")
        row = await stores.item(conn, store.id, code)
    return json_response(row or {"code": code, "available": available})


def _handoff(mode: str) -> Handler:
    async def handler(request: Request) -> Response:
        address = str(request.path_params["customer"])
        state = _state(request)
        async with transaction(state.pool, slow_s=state.settings.slow_query_s) as conn:
            store = await _store(request, conn)
            result = await staff.set_mode(
                conn, store.id, address, mode, templates=store.templates, now=_now(), store=store.menu.store
            )
        if result is None:
            raise ApiError(404, f"no customer {address!r}; use the From address, URL-encoded")
        if result["notified"] in ("body", "template"):
            _notify_relay(request)
        return json_response(result)

    handler.__doc__ = f"Set the conversation's mode to {mode!r}."
    return handler


def staff_routes(settings: OrdersSettings) -> list[BaseRoute]:
    """The staff API routes; see the module docstring for paths and answers."""

    def route(path: str, handler: Handler, methods: list[str]) -> Route:
        return Route(path, _guard(settings, handler), methods=methods)

    return [
        route("/api/v1/orders", list_orders, ["GET"]),
        route("/api/v1/orders/{number}", get_order, ["GET"]),
        route("/api/v1/orders/{number}/transitions", post_transition, ["POST"]),
        route("/api/v1/items/{code}", patch_item, ["PATCH"]),
        route("/api/v1/conversations/{customer:path}/handoff", _handoff("human"), ["POST"]),
        route("/api/v1/conversations/{customer:path}/handoff", _handoff("bot"), ["DELETE"]),
    ]
