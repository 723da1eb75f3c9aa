"""The dashboard's pages and actions: sign-in, the live queue, orders, menu, handoffs, today.

Changes go through the functions the staff API uses, in one transaction each:
`lifecycle.transition` (validates the move and queues the customer's notification in the same
transaction), `staff.set_mode` (handoff and release), `store.set_item_available`; a staff reply
is written with `outbox.queue_replies`, so it takes the customer's next sequence number and
reaches them in order after the bot's earlier replies. After a commit that queued messages the
outbox relay is woken. The live views hear of every change through the triggers (events.py).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import secrets
from typing import Any, Final

from redis.exceptions import RedisError
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from libs.errors import DependencyUnavailable
from services.orders.menu import hours
from services.orders.ordering import lifecycle, staff
from services.orders.storage import customers, outbox
from services.orders.storage.outbox import WINDOW, ReplyText, queue_replies
from services.orders.storage.pool import transaction
from services.orders.storage.stores import StoreRow, set_item_available
from services.orders.web.dashboard import auth, queries
from services.orders.web.dashboard.events import Outgoing, StreamEvent, follow
from services.orders.web.dashboard.web import (
    DATABASE_DOWN,
    REDIS_DOWN,
    SECURITY_HEADERS,
    PageError,
    current_staff,
    done,
    form,
    html,
    is_htmx,
    now,
    orders_state,
    page,
    path_id,
    referring_page,
    runtime,
    safe_next,
    staff_only,
    store_of,
    tx,
)

log = logging.getLogger("services.orders.web.dashboard")

MAX_REASON_CHARS: Final = 500
MAX_REPLY_CHARS: Final = 1600
STREAM_LIFETIME_S: Final = 300  # an open stream re-checks its session this often (by reconnecting)
# The columns a kitchen works in share the screen; the later stages are counts that open a list.
WORKING: Final = (
    ("placed", "New"),
    ("confirmed", "Confirmed"),
    ("preparing", "Preparing"),
    ("ready", "Ready"),
)
LATER: Final = (("out_for_delivery", "Out for delivery"), ("done", "Done"))
MESSAGES_SHOWN: Final = 8  # the conversation on a page, before "show all"
# The printable ticket may be framed by the dashboard itself (auto-print loads it in a frame).
TICKET_HEADERS: Final = SECURITY_HEADERS | {
    "Content-Security-Policy": SECURITY_HEADERS["Content-Security-Policy"].replace(
        "frame-ancestors 'none'", "frame-ancestors 'self'"
    ),
    "X-Frame-Options": "SAMEORIGIN",
}


def _number(request: Request) -> int:
    return path_id(request, "number", max_digits=9, missing="No such order.")


def _customer_id(request: Request) -> int:
    return path_id(request, "customer", max_digits=18, missing="No such conversation.")


def _ticket_response(request: Request, ticket: dict[str, Any], prep: int) -> HTMLResponse:
    return html(request, "_ticket.html", t=ticket, prep=prep)


def _folded(messages: list[dict[str, Any]], request: Request) -> dict[str, Any]:
    """The last MESSAGES_SHOWN messages (all of them with `?conversation=all`) and how many are left out."""
    show_all = request.query_params.get("conversation") == "all"
    hidden = 0 if show_all else max(0, len(messages) - MESSAGES_SHOWN)
    return {"messages": messages[hidden:], "hidden_count": hidden, "show_all": show_all}


# -- sign-in -----------------------------------------------------------------------------------


def _login_page(request: Request, status: int = 200, error: str = "", email: str = "") -> Response:
    token = request.cookies.get(auth.LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(32)
    response = html(
        request,
        "login.html",
        status,
        error=error,
        email=email,
        csrf_token=token,
        next=safe_next(request.query_params.get("next")),
    )
    response.set_cookie(
        auth.LOGIN_CSRF_COOKIE,
        token,
        max_age=3600,
        path="/login",
        httponly=True,
        secure=runtime(request).secure_cookies,
        samesite="strict",
    )
    return response


async def login_page(request: Request) -> Response:
    """GET /login: the sign-in form (or the queue when already signed in); a 503 page saying so
    when the database cannot be reached to read the session."""
    try:
        if await current_staff(request) is not None:
            return RedirectResponse(safe_next(request.query_params.get("next")), status_code=303)
    except DependencyUnavailable:
        return _login_page(request, 503, DATABASE_DOWN)
    return _login_page(request)


async def login(request: Request) -> Response:
    """POST /login: check the form's token, the rate limit, then the password; start a session.

    The form again with a reason when refused: 403 (expired form), 429 (too many attempts),
    401 (wrong email or password), 503 (Redis or the database cannot be reached; nothing is
    recorded, no session starts)."""
    try:
        return await _login(request)
    except DependencyUnavailable:
        email = (getattr(request.state, "form", None) or {}).get("email", "").strip()
        return _login_page(request, 503, DATABASE_DOWN, email)


async def _login(request: Request) -> Response:
    rt = runtime(request)
    state = orders_state(request)
    try:
        fields = await form(request)
    except PageError as exc:
        return _login_page(request, exc.status, exc.message)
    email, password = fields.get("email", "").strip(), fields.get("password", "")
    if not auth.tokens_match(fields.get("csrf_token"), request.cookies.get(auth.LOGIN_CSRF_COOKIE)):
        return _login_page(request, 403, "The sign-in form expired; please try again.", email)
    address = auth.client_address(request, rt.settings.trust_proxy_headers)
    try:
        allowed = await auth.login_allowed(state.redis, state.keys, address, email)
    except (RedisError, OSError):
        return _login_page(request, 503, "Sign-in is unavailable for a moment; try again shortly.", email)
    if not allowed:
        return _login_page(request, 429, "Too many sign-in attempts. Wait 15 minutes and try again.", email)
    if not email or not password or len(password) > 1024:
        return _login_page(request, 401, "Wrong email or password.", email)
    async with tx(request) as conn:
        user = await auth.find_user(conn, email)
    password_hash = str(user["password_hash"]) if user else None
    if not await auth.verify_password(password_hash, password) or user is None:
        log.info("staff sign-in refused", extra={"address": address})
        return _login_page(request, 401, "Wrong email or password.", email)
    async with tx(request) as conn:
        session_id = await auth.create_session(conn, int(str(user["id"])), address, now())
    with contextlib.suppress(RedisError, OSError):  # the count expires by itself
        await auth.forget_login_attempts(state.redis, state.keys, address, email)
    log.info("staff signed in", extra={"staff_id": user["id"]})
    response = RedirectResponse(safe_next(fields.get("next")), status_code=303)
    response.set_cookie(
        auth.SESSION_COOKIE,
        rt.cookies.sign(session_id),
        max_age=auth.SESSION_MAX_AGE_S,
        path="/",
        httponly=True,
        secure=rt.secure_cookies,
        samesite="lax",
    )
    response.delete_cookie(auth.LOGIN_CSRF_COOKIE, path="/login")
    return response


@staff_only
async def logout_page(request: Request, who: auth.Staff) -> Response:
    """GET /logout: a page with the sign-out button (signing out is a POST, so no link can do it)."""
    return html(request, "logout.html")


@staff_only
async def logout(request: Request, who: auth.Staff) -> Response:
    """POST /logout: end this session (`everywhere=1`: every session of this account)."""
    async with tx(request) as conn:
        if (await form(request)).get("everywhere") == "1":
            await auth.revoke_all_sessions(conn, who.user_id)
        else:
            await auth.revoke_session(conn, who.session_hash)
    response: Response = RedirectResponse("/login", status_code=303)
    if is_htmx(request):
        response = Response(status_code=204, headers={"HX-Redirect": "/login"})
    response.delete_cookie(auth.SESSION_COOKIE, path="/")
    return response


async def root(request: Request) -> Response:
    """GET /: the dashboard."""
    return RedirectResponse("/dashboard", status_code=303)


# -- the live queue ----------------------------------------------------------------------------


async def _board_context(request: Request) -> dict[str, Any]:
    hub = runtime(request).hub
    # Read the stream position BEFORE the board: whatever changes after it is replayed to the
    # browser when it connects, so nothing falls between the page and the live stream.
    last_id = getattr(request.state, "stream_position", "")  # read by staff_only for a page
    if not last_id:
        last_id = await hub.latest_id() if hub is not None else "0-0"
    async with tx(request) as conn:
        store = await store_of(request, conn)
        columns = await queries.board(conn, store.id, now())
        waiting = await queries.handoff_count(conn, store.id)
    timed = [t for key, _ in WORKING for t in columns[key] if t["timed"]]
    oldest = min((t["placed_at"] for t in timed), default=None)
    return {
        "working": WORKING,
        "later": LATER,
        "board": columns,
        "open_count": sum(len(columns[key]) for key in queries.ACTIVE),
        "oldest_minutes": max(0, int((now() - oldest).total_seconds() // 60)) if oldest else None,
        "last_event_id": last_id,
        "prep": store.menu.store.preparation_minutes,
        "store": store,
        "waiting_count": waiting,
    }


@staff_only
async def queue_page(request: Request, who: auth.Staff) -> Response:
    """GET /dashboard: the live queue."""
    try:
        context = await _board_context(request)
    except (RedisError, OSError):
        raise PageError(503, REDIS_DOWN) from None
    return html(request, "queue.html", page="queue", **context)


@staff_only
async def board_fragment(request: Request, who: auth.Staff) -> Response:
    """GET /dashboard/board: the columns alone (a browser that missed too much reloads them)."""
    return html(request, "_board.html", **(await _board_context(request)))


@staff_only
async def events(request: Request, who: auth.Staff) -> Response:
    """GET /dashboard/events: the live stream (SSE); resumes after `Last-Event-ID`."""
    hub = runtime(request).hub
    if hub is None:
        raise PageError(503, "Live updates are not running.")
    last_id = request.headers.get("last-event-id") or request.query_params.get("last_event_id") or None

    async def stream() -> Any:
        yield ServerSentEvent(comment="live", retry=1000)
        async for out in follow(hub, last_id, max_s=STREAM_LIFETIME_S):
            yield ServerSentEvent(data=out.encoded(), event=out.event, id=out.id)

    return EventSourceResponse(
        stream(),
        ping=15,
        send_timeout=30,
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def render_event(request_app: Any, event: StreamEvent) -> Outgoing:
    """Turn a stream entry into what browsers receive; an order's ticket is rendered here once.

    When the database cannot be read the event goes out without HTML and browsers fetch the
    ticket themselves, so the stream never stalls on one bad moment.
    """
    data: dict[str, Any] = {"order_id": event.order_id, "customer": event.customer_id}
    rt = request_app.state.dashboard
    state = request_app.state.orders
    if event.kind in ("order", "message") and event.order_id is not None:
        try:
            async with transaction(state.pool, slow_s=state.settings.slow_query_s) as conn:
                store = await state.stores.current(conn)
                ticket = await queries.ticket(conn, store.id, event.order_id) if store else None
            if ticket is not None:
                data.update(number=ticket["number"], status=ticket["status"])
                if event.kind == "order":
                    data["column"] = queries.column_of(ticket["status"])
                    data["html"] = rt.templates.get_template("_ticket.html").render(
                        t=ticket, prep=store.menu.store.preparation_minutes if store else 20
                    )
        except Exception:
            log.warning("could not render a live ticket", extra={"order_id": event.order_id}, exc_info=True)
    return Outgoing(event.id, event.kind, data)


async def _one_ticket(request: Request) -> tuple[dict[str, Any], StoreRow]:
    number = _number(request)
    async with tx(request) as conn:
        store = await store_of(request, conn)
        order_id = await queries.order_id_of(conn, store.id, number)
        ticket = await queries.ticket(conn, store.id, order_id) if order_id else None
    if ticket is None:
        raise PageError(404, f"No order #{number}.")
    return ticket, store


@staff_only
async def card_fragment(request: Request, who: auth.Staff) -> Response:
    """GET /dashboard/orders/{number}/card: one order's card for the queue."""
    ticket, store = await _one_ticket(request)
    return _ticket_response(request, ticket, store.menu.store.preparation_minutes)


@staff_only
async def kitchen_ticket(request: Request, who: auth.Staff) -> Response:
    """GET /dashboard/orders/{number}/ticket: the printable kitchen ticket (80 mm); `?print=1`
    prints it as soon as it loads (auto-print)."""
    ticket, store = await _one_ticket(request)
    response = html(
        request,
        "ticket.html",
        t=ticket,
        zone=hours.store_zone(store.menu.store),
        printed_at=now(),
        autoprint=request.query_params.get("print") == "1",
    )
    response.headers.update(TICKET_HEADERS)
    return response


@staff_only
async def transition(request: Request, who: auth.Staff) -> Response:
    """POST /dashboard/orders/{number}/transitions `to`, `reason`: move the order, tell the customer."""
    number = _number(request)
    fields = await form(request)
    to, reason = fields.get("to", ""), fields.get("reason", "").strip()
    if to not in lifecycle.STATUSES:
        raise PageError(400, "Choose a status to move the order to.")
    if len(reason) > MAX_REASON_CHARS:
        raise PageError(400, f"Keep the reason under {MAX_REASON_CHARS} characters.")
    if to == "cancelled" and not reason:
        raise PageError(400, "Say why the order is cancelled; the customer will read it.")
    async with tx(request) as conn:
        store = await store_of(request, conn)
        try:
            result = await lifecycle.transition_in_store(
                conn, store, number=number, to=to, actor=who.actor, reason=reason, now=now()
            )
        except lifecycle.OrderNotFound:
            raise PageError(404, f"No order #{number}.") from None
        except lifecycle.InvalidTransition as exc:
            raise PageError(409, str(exc)) from None
        ticket = await queries.ticket(conn, store.id, int(result.order["id"]))
    if result.notified in ("body", "template"):
        orders_state(request).relay.notify()
    assert ticket is not None
    ticket_html = _ticket_response(request, ticket, store.menu.store.preparation_minutes)
    return done(request, ticket_html, referring_page(request))


# -- order detail ------------------------------------------------------------------------------


async def _order_context(request: Request, number: int) -> dict[str, Any]:
    async with tx(request) as conn:
        store = await store_of(request, conn)
        order_id = await queries.order_id_of(conn, store.id, number)
        ticket = await queries.ticket(conn, store.id, order_id) if order_id else None
        if ticket is None or order_id is None:
            raise PageError(404, f"No order #{number}.")
        since = await queries.previous_order_at(conn, ticket["customer_id"], ticket["placed_at"])
        if since is None:
            since = ticket["placed_at"] - dt.timedelta(hours=6)
        messages = await queries.conversation(conn, ticket["customer_id"], since)
        return {
            "t": ticket,
            "history": await queries.history(conn, order_id),
            "zone": hours.store_zone(store.menu.store),
            "prep": store.menu.store.preparation_minutes,
            **_folded(messages, request),
        }


@staff_only
async def order_page(request: Request, who: auth.Staff) -> Response:
    """GET /dashboard/orders/{number}: the order (lines, flags, the customer's words), its
    status and history, then the conversation folded to its last messages (`?conversation=all`)."""
    return await page(
        request, "order.html", page="queue", **(await _order_context(request, _number(request)))
    )


@staff_only
async def order_live(request: Request, who: auth.Staff) -> Response:
    """GET /dashboard/orders/{number}/live: the parts of the order page that change."""
    return html(request, "_order_live.html", **(await _order_context(request, _number(request))))


# -- menu --------------------------------------------------------------------------------------


async def _menu_context(request: Request) -> dict[str, Any]:
    async with tx(request) as conn:
        store = await store_of(request, conn)
        items = await queries.menu_items(conn, store.id)
    names = {c.code: c.name for c in store.menu.categories}
    for item in items:
        item["category_name"] = names.get(item["category"], item["category"])
    return {"items": items, "accepting": store.accepting_orders, "store": store}


@staff_only
async def menu_page(request: Request, who: auth.Staff) -> Response:
    """GET /dashboard/menu: sold-out toggles and pause/resume ordering."""
    return await page(request, "menu.html", page="menu", **(await _menu_context(request)))


@staff_only
async def menu_fragment(request: Request, who: auth.Staff) -> Response:
    """GET /dashboard/menu/panel: the menu controls alone (refreshed when another browser changes them)."""
    return html(request, "_menu.html", **(await _menu_context(request)))


def _bool_field(fields: dict[str, str], name: str) -> bool:
    value = fields.get(name, "")
    if value not in ("true", "false"):
        raise PageError(400, f"'{name}' must be true or false.")
    return value == "true"


@staff_only
async def item_availability(request: Request, who: auth.Staff) -> Response:
    """POST /dashboard/items/{code}/availability `available=true|false`: sold out or back on."""
    available = _bool_field(await form(request), "available")
    code = str(request.path_params["code"])
    async with tx(request) as conn:
        store = await store_of(request, conn)
        if not await set_item_available(conn, store.id, code, available):
            raise PageError(404, f"No item {code!r} on the menu.")
    return done(request, html(request, "_menu.html", **(await _menu_context(request))), "/dashboard/menu")


@staff_only
async def accepting_orders(request: Request, who: auth.Staff) -> Response:
    """POST /dashboard/store/accepting `accepting=true|false`: pause or resume ordering."""
    accepting = _bool_field(await form(request), "accepting")
    async with tx(request) as conn:
        store = await store_of(request, conn)
        await queries.set_accepting_orders(conn, store.id, accepting)
    return done(request, html(request, "_menu.html", **(await _menu_context(request))), "/dashboard/menu")


# -- handoff inbox -----------------------------------------------------------------------------


@staff_only
async def handoff_page(request: Request, who: auth.Staff) -> Response:
    """GET /dashboard/handoff: conversations waiting for staff."""
    async with tx(request) as conn:
        store = await store_of(request, conn)
        waiting = await queries.handoffs(conn, store.id)
    zone = hours.store_zone(store.menu.store)
    return html(
        request, "handoff.html", page="handoff", waiting=waiting, waiting_count=len(waiting), zone=zone
    )


@staff_only
async def handoff_badge(request: Request, who: auth.Staff) -> Response:
    """GET /dashboard/handoff/badge: the top bar's count of conversations waiting for staff."""
    async with tx(request) as conn:
        store = await store_of(request, conn)
        waiting = await queries.handoff_count(conn, store.id)
    return html(request, "_handoff_badge.html", waiting_count=waiting)


@staff_only
async def handoff_fragment(request: Request, who: auth.Staff) -> Response:
    """GET /dashboard/handoff/list: the waiting list alone."""
    async with tx(request) as conn:
        store = await store_of(request, conn)
        waiting = await queries.handoffs(conn, store.id)
    return html(request, "_handoff_list.html", waiting=waiting, zone=hours.store_zone(store.menu.store))


async def _conversation_context(request: Request) -> dict[str, Any]:
    customer_id = _customer_id(request)
    async with tx(request) as conn:
        store = await store_of(request, conn)
        customer = await queries.customer(conn, store.id, customer_id)
        if customer is None:
            raise PageError(404, "No such conversation.")
        messages = await queries.conversation(conn, customer_id, None)
    last = customer.get("last_inbound_at")
    return {
        "customer": customer,
        "zone": hours.store_zone(store.menu.store),
        "in_window": last is not None and now() - last < WINDOW,
        **_folded(messages, request),
    }


@staff_only
async def conversation_page(request: Request, who: auth.Staff) -> Response:
    """GET /dashboard/conversations/{customer}: read and reply."""
    return await page(request, "conversation.html", page="handoff", **(await _conversation_context(request)))


@staff_only
async def conversation_fragment(request: Request, who: auth.Staff) -> Response:
    """GET /dashboard/conversations/{customer}/live: the messages and mode alone."""
    return html(request, "_conversation_live.html", **(await _conversation_context(request)))


async def _locked_customer(conn: Any, store_id: int, customer_id: int) -> dict[str, Any]:
    """The customer row, locked until the transaction ends (its `reply_seq` is then the last
    message before this staff action's); a 404 page when there is none."""
    customer = await customers.lock_in_store(conn, store_id, customer_id)
    if customer is None:
        raise PageError(404, "No such conversation.")
    return customer


async def _sign(conn: Any, customer: dict[str, Any], who: auth.Staff) -> None:
    """Record `who` on the messages this staff action queued (`outbox.sign_staff_messages`)."""
    await outbox.sign_staff_messages(conn, int(customer["id"]), int(customer["reply_seq"]), who.user_id)


async def _set_mode(request: Request, who: auth.Staff, customer_id: int, mode: str) -> dict[str, Any]:
    async with tx(request) as conn:
        store = await store_of(request, conn)
        customer = await _locked_customer(conn, store.id, customer_id)
        result = await staff.set_mode(
            conn, store.id, str(customer["address"]), mode, templates=store.templates, now=now()
        )
        await _sign(conn, customer, who)
    if result and result["notified"] in ("body", "template"):
        orders_state(request).relay.notify()
    return result or {}


@staff_only
async def take_over(request: Request, who: auth.Staff) -> Response:
    """POST /dashboard/conversations/{customer}/handoff: staff take the conversation (bot quiet)."""
    customer_id = _customer_id(request)
    await _set_mode(request, who, customer_id, "human")
    back = f"/dashboard/conversations/{customer_id}"
    return done(
        request, html(request, "_conversation_live.html", **(await _conversation_context(request))), back
    )


@staff_only
async def release(request: Request, who: auth.Staff) -> Response:
    """POST /dashboard/conversations/{customer}/release: hand the conversation back to the bot."""
    customer_id = _customer_id(request)
    await _set_mode(request, who, customer_id, "bot")
    back = f"/dashboard/conversations/{customer_id}"
    return done(
        request, html(request, "_conversation_live.html", **(await _conversation_context(request))), back
    )


@staff_only
async def reply(request: Request, who: auth.Staff) -> Response:
    """POST /dashboard/conversations/{customer}/reply `body`: a staff message to the customer.

    Puts the conversation in human mode first (the bot stays quiet from then on), then queues
    the text in the outbox with the customer's next sequence number, in one transaction.
    WhatsApp refuses free-form text 24 hours after the customer's last message, so such a reply
    is refused here with that reason rather than failing later.
    """
    customer_id = _customer_id(request)
    body = (await form(request)).get("body", "").strip()
    if not body:
        raise PageError(400, "Type a message first.")
    if len(body) > MAX_REPLY_CHARS:
        raise PageError(400, f"Keep a reply under {MAX_REPLY_CHARS} characters.")
    async with tx(request) as conn:
        store = await store_of(request, conn)
        customer = await _locked_customer(conn, store.id, customer_id)
        if customer["opted_out"]:
            raise PageError(409, "This customer unsubscribed (STOP); nothing can be sent to them.")
        last = customer.get("last_inbound_at")
        if last is None or now() - last >= WINDOW:
            raise PageError(
                409,
                "It is more than 24 hours since the customer's last message; WhatsApp only lets "
                "them restart the chat.",
            )
        if customer["mode"] != "human":
            await staff.set_mode(
                conn, store.id, str(customer["address"]), "human", templates=store.templates, now=now()
            )
        await queue_replies(conn, customer_id, str(customer["address"]), [ReplyText(body, purpose="staff")])
        await _sign(conn, customer, who)
    orders_state(request).relay.notify()
    back = f"/dashboard/conversations/{customer_id}"
    return done(
        request, html(request, "_conversation_live.html", **(await _conversation_context(request))), back
    )


# -- today -------------------------------------------------------------------------------------


async def _today_context(request: Request) -> dict[str, Any]:
    async with tx(request) as conn:
        store = await store_of(request, conn)
        zone = hours.store_zone(store.menu.store)
        return {"today": await queries.today(conn, store.id, zone, now()), "store": store}


@staff_only
async def today_page(request: Request, who: auth.Staff) -> Response:
    """GET /dashboard/today: today's orders, revenue, placed-to-ready time, cancellations, failures."""
    return await page(request, "today.html", page="today", **(await _today_context(request)))


@staff_only
async def today_fragment(request: Request, who: auth.Staff) -> Response:
    """GET /dashboard/today/stats: the numbers alone."""
    return html(request, "_today.html", **(await _today_context(request)))
