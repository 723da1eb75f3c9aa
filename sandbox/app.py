"""The sandbox's HTTP app: Twilio's Messages API (create, read, fetch) plus a control API.

Twilio side (https://www.twilio.com/docs/messaging/api/message-resource), HTTP Basic
AccountSid:AuthToken on every route (401 code 20003 otherwise); errors in the v2010 shape
`{code, message, more_info, status}`:
- `POST /2010-04-01/Accounts/{sid}/Messages.json`, form-encoded. 400 code 21604 (no `To`),
  21603 (no `From`/`MessagingServiceSid`), 21602 (no `Body`/`ContentSid`/`MediaUrl`), 21617
  (Body over 1600 characters); 201 with the Message resource as Twilio returns it, `sid` =
  `SM` + 32 hex, `status` = `queued`, `date_sent` null.
- `GET /2010-04-01/Accounts/{sid}/Messages.json`: the account's messages, newest first, as one
  page: `{"messages": [...], "end", "first_page_uri", "next_page_uri", "page", "page_size",
  "previous_page_uri", "start", "uri"}` (`next_page_uri` null on the last page). Filters:
  `To`, `From` (exact), `DateSent` (that GMT date), `DateSent<` / `DateSent>` (on or before /
  on or after a `YYYY-MM-DD` date or a `YYYY-MM-DDTHH:MM:SSZ` time, as twilio-python sends
  `date_sent_before`/`date_sent_after`); a message not sent yet (`date_sent` null) matches no
  `DateSent` filter. `PageSize` 1-1000 (default 50), `Page`, `PageToken` (`PA<sid>`: the page
  after that message; `PB<sid>`: the page before it), as the `*_page_uri` fields give them.
- `GET /2010-04-01/Accounts/{sid}/Messages/{MessageSid}.json`: one Message resource; 404 code
  20404 when there is none.
- Every message moves `queued` -> `sent` (its `date_sent` set) -> `delivered` -> `read`, one
  step every `callback_delay_s`. With `StatusCallback`, each step is also posted to it,
  form-encoded and signed with `X-Twilio-Signature` like Twilio's
  (https://www.twilio.com/docs/messaging/guides/track-outbound-message-status), tried at most
  `callback_attempts` times. A message shows in the list `list_lag_s` after it was created
  (Twilio's list is eventually consistent); fetching it by sid finds it at once.

Control side, for tests and the chat:
- `GET /sandbox/messages?to=…&after=N`: created messages with index > N, in creation order.
- `DELETE /sandbox/messages`: forget messages, calls and reads (indexes keep growing).
- `GET /sandbox/calls`: every create call with its answer (status, code, sid); `GET
  /sandbox/reads`: every list and fetch call with its answer.
- `POST /sandbox/faults` `{"mode", "count", "delay_s", "retry_after", "status", "on"}`: the next
  `count` create calls (or, with `"on": "read"`, list and fetch calls) fail as `mode`:
  - `status_429` (20429, `Retry-After` when `retry_after` is given), `status_500`,
    `code_63038` (429), `code_21211` (400), `slow` (answer after `delay_s`), `drop` (close the
    connection without answering, nothing created), `none` (clear);
  - create only, the outcomes a client cannot tell apart from a failure: `status_5xx_after_create`
    (create the message, then answer `status`, 500 by default: Twilio calls such outcomes
    indeterminate), `drop_after_create` (create it, then close the connection without an
    answer; `drop_after_receive` is the same), `drop_then_create_late` (close the connection,
    and create the message `delay_s` later: a request Twilio finished after the client gave up).
  `count` is a whole number from 1 to 1,000,000, `delay_s` seconds from 0 to 600, `retry_after`
  seconds from 0 (years and "inf" too: it is only a header), `status` 500-599; anything else
  (nan, a negative number, 2.5, true, an endless delay) is a 400 that arms nothing.
  `GET /sandbox/faults` shows the create fault, with the read fault under `read`.
- `GET /health`.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime as dt
import email.utils
import hmac
import logging
import secrets
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from twilio.request_validator import RequestValidator

from libs import http11
from sandbox.settings import SandboxSettings

log = logging.getLogger("sandbox")

READ_FAULT_MODES = ("none", "status_429", "status_500", "slow", "drop")
FAULT_MODES = (
    *READ_FAULT_MODES,
    "code_63038",
    "code_21211",
    "status_5xx_after_create",
    "drop_after_create",
    "drop_after_receive",
    "drop_then_create_late",
)
MAX_BODY_CHARS = 1600
API_VERSION = "2010-04-01"
MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 50
STATUSES = ("sent", "delivered", "read")
CALLBACK_CONNECTIONS = 32
FILTERS = ("To", "From", "DateSent", "DateSent<", "DateSent>")
SERVER_ERRORS = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}


@dataclass
class Fault:
    """The failure injected into the next `count` calls (`status`: the code of a 5xx fault)."""

    mode: str = "none"
    count: int = 0
    delay_s: float = 0.0
    retry_after: float | None = None
    status: int = 500


@dataclass
class Sandbox:
    """Everything the sandbox remembers (in memory; a restart forgets it)."""

    settings: SandboxSettings
    messages: list[dict[str, Any]] = field(default_factory=list)
    calls: list[dict[str, Any]] = field(default_factory=list)
    reads: list[dict[str, Any]] = field(default_factory=list)
    fault: Fault = field(default_factory=Fault)
    read_fault: Fault = field(default_factory=Fault)
    next_index: int = 1
    next_call: int = 1
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    # Status callbacks go over keep-alive connections, one pool per callback origin
    # (`libs.http11`: httpx cost the sandbox more CPU per reply than the services spent).
    origins: dict[str, http11.Origin] = field(default_factory=dict)
    validator: RequestValidator = field(init=False)

    def __post_init__(self) -> None:
        self.validator = RequestValidator(self.settings.auth_token)

    def callback_origin(self, url: str) -> tuple[http11.Origin, str]:
        """The connection pool for `url`'s origin, and the request target (path and query)."""
        parts = urlsplit(url)
        origin = self.origins.get(parts.netloc)
        if origin is None:
            origin = self.origins[parts.netloc] = http11.Origin(
                url,
                connect_s=5.0,
                read_s=15.0,
                write_s=15.0,
                pool_s=5.0,
                max_connections=CALLBACK_CONNECTIONS,
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
        return origin, (parts.path or "/") + (f"?{parts.query}" if parts.query else "")

    def take_fault(self, *, read: bool = False) -> Fault | None:
        """The fault for this create (or read) call, counting it down; None when none is armed."""
        armed = self.read_fault if read else self.fault
        if armed.mode == "none" or armed.count <= 0:
            return None
        armed.count -= 1
        fault = Fault(armed.mode, 1, armed.delay_s, armed.retry_after, armed.status)
        if armed.count == 0:
            if read:
                self.read_fault = Fault()
            else:
                self.fault = Fault()
        return fault

    def spawn(self, work: Callable[[], Any]) -> None:
        """Run the coroutine `work()` in the background, cancelled at shutdown."""
        task = asyncio.create_task(work())
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def find(self, sid: str) -> dict[str, Any] | None:
        """The message with MessageSid `sid`, if created."""
        return next((m for m in self.messages if m["sid"] == sid), None)


def new_sid(prefix: str = "SM") -> str:
    """A Twilio-shaped sid: two letters and 32 hex digits."""
    return prefix + secrets.token_hex(16)


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        orjson.dumps(body), status_code=status, media_type="application/json; charset=utf-8", headers=headers
    )


def twilio_error(
    status: int, code: int, message: str, headers: dict[str, str] | None = None, **extra: Any
) -> Response:
    """An error answer in Twilio's v2010 shape (https://www.twilio.com/docs/usage/twilios-response)."""
    body = {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
        **extra,
    }
    return _json(body, status, {"Twilio-Request-Id": new_sid("RQ"), **(headers or {})})


async def read_form(request: Request) -> dict[str, str]:
    """The form fields of a urlencoded body, blank values kept (the first of repeated keys)."""
    form: dict[str, str] = {}
    for key, value in parse_qsl((await request.body()).decode("utf-8", "replace"), keep_blank_values=True):
        form.setdefault(key, value)
    return form


def _authorized(request: Request, settings: SandboxSettings, path_sid: str) -> bool:
    header = request.headers.get("authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        user, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return False
    ok_user = hmac.compare_digest(user.encode(), settings.account_sid.encode())
    ok_password = hmac.compare_digest(password.encode(), settings.auth_token.encode())
    return ok_user and ok_password and path_sid == settings.account_sid


def rfc2822(at: float) -> str:
    """A Unix time as Twilio writes dates: RFC 2822 in GMT, `Thu, 05 Jun 2025 14:03:21 +0000`."""
    return email.utils.formatdate(at, usegmt=False).replace("-0000", "+0000")


def message_resource(settings: SandboxSettings, record: dict[str, Any]) -> dict[str, Any]:
    """A message as Twilio's Message resource shows it now (fixtures api-message-created-201,
    api-message-list-200): status, `date_sent` (null until sent) and `date_updated` follow it."""
    sid = record["sid"]
    uri = f"/2010-04-01/Accounts/{settings.account_sid}/Messages/{sid}"
    return {
        "account_sid": settings.account_sid,
        "api_version": API_VERSION,
        "body": record["body"] or "",
        "date_created": rfc2822(record["received_at"]),
        "date_sent": rfc2822(record["sent_at"]) if record["sent_at"] is not None else None,
        "date_updated": rfc2822(record["updated_at"]),
        "direction": "outbound-api",
        "error_code": None,
        "error_message": None,
        "from": record["from"],
        "messaging_service_sid": record["messaging_service_sid"],
        "num_media": "0",
        "num_segments": "1",
        "price": None,
        "price_unit": None,
        "sid": sid,
        "status": record["status"],
        "subresource_uris": {"media": f"{uri}/Media.json"},
        "to": record["to"],
        "uri": f"{uri}.json",
    }


def _masked(address: str) -> str:
    number = address.removeprefix("whatsapp:")
    return number[:-4] + "XXXX" if len(number) > 4 else number


def status_params(settings: SandboxSettings, record: dict[str, Any], status: str) -> dict[str, str]:
    """A WhatsApp status callback's form fields, as in the fixtures status-sent/delivered/read."""
    params = {
        "SmsSid": record["sid"],
        "SmsStatus": status,
        "MessageStatus": status,
        "ChannelToAddress": _masked(record["to"]),
        "To": record["to"],
        "ChannelPrefix": "whatsapp",
        "MessageSid": record["sid"],
        "AccountSid": settings.account_sid,
        "From": record["from"] or "",
        "ApiVersion": API_VERSION,
        "ChannelInstallSid": "XE" + "0" * 32,
    }
    if status == "sent":
        params["StructuredMessage"] = "false"
    else:
        params["EventType"] = status.upper()
    return params


async def _advance(sandbox: Sandbox, record: dict[str, Any]) -> None:
    """Move the message through sent, delivered, read; post each to its StatusCallback if any."""
    settings = sandbox.settings
    url = record["status_callback"]
    validator = sandbox.validator
    for status in STATUSES:
        await asyncio.sleep(settings.callback_delay_s)
        record["status"] = status
        record["updated_at"] = time.time()
        if status == "sent":
            record["sent_at"] = record["updated_at"]
        if not url:
            continue
        params = status_params(settings, record, status)
        headers = {
            "X-Twilio-Signature": validator.compute_signature(url, params),
            "User-Agent": "TwilioProxy/1.1",
            "I-Twilio-Idempotency-Token": secrets.token_hex(16),
        }
        body = urlencode(params).encode()
        origin, target = sandbox.callback_origin(url)
        for attempt in range(settings.callback_attempts):
            try:
                response = await origin.request("POST", target, body, headers)
                if response.is_success:
                    record["callbacks"].append(status)
                    break
                error = f"HTTP {response.status}"
            except http11.HttpError as exc:
                error = f"{type(exc).__name__}: {exc}"
            log.warning(
                "status callback failed", extra={"sid": record["sid"], "status": status, "error": error}
            )
            await asyncio.sleep(0.2 * 2**attempt)


def _abort_connection(request: Request) -> bool:
    """Close the client's connection without an answer; False when the server hides its transport.

    uvicorn's `receive` is a bound method of its request cycle, which holds the transport.
    """
    cycle = getattr(request.receive, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None:
        return False
    transport.close()
    return True


async def create_message(request: Request) -> Response:
    """`POST /2010-04-01/Accounts/{sid}/Messages.json`, as Twilio answers it (see module doc)."""
    sandbox: Sandbox = request.app.state.sandbox
    settings = sandbox.settings
    call: dict[str, Any] = {"index": sandbox.next_call, "at": time.time()}
    sandbox.next_call += 1
    sandbox.calls.append(call)

    def answer(response: Response, code: int | None = None, sid: str | None = None) -> Response:
        call.update(status=response.status_code, code=code, sid=sid)
        return response

    if not _authorized(request, settings, request.path_params["sid"]):
        return answer(_unauthorized(), 20003)
    form = await read_form(request)
    call["to"] = form.get("To")
    fault = sandbox.take_fault()
    mode = fault.mode if fault else "none"
    call["fault"] = mode
    if fault and mode == "status_429":
        headers = {"Retry-After": f"{fault.retry_after:g}"} if fault.retry_after is not None else None
        return answer(twilio_error(429, 20429, "Too Many Requests", headers), 20429)
    if mode == "status_500":
        return answer(twilio_error(500, 20500, "Internal Server Error"), 20500)
    if mode == "drop" and _abort_connection(request):
        call.update(status=None, code=None, sid=None)
        await asyncio.sleep(0.01)
        return Response(status_code=204)
    if mode == "code_63038":
        message = f"Account {settings.account_sid} exceeded the 50 daily messages limit"
        return answer(twilio_error(429, 63038, message), 63038)
    if mode == "code_21211":
        message = f"The 'To' number {form.get('To', '')} is not a valid phone number."
        return answer(twilio_error(400, 21211, message), 21211)
    if fault and mode == "slow":
        await asyncio.sleep(fault.delay_s)
    if not form.get("To"):
        return answer(twilio_error(400, 21604, "A 'To' phone number is required."), 21604)
    if not form.get("From") and not form.get("MessagingServiceSid"):
        return answer(twilio_error(400, 21603, "A 'From' phone number is required."), 21603)
    if not (form.get("Body") or form.get("ContentSid") or form.get("MediaUrl")):
        return answer(twilio_error(400, 21602, "Message body is required."), 21602)
    if len(form.get("Body", "")) > MAX_BODY_CHARS:
        message = "The concatenated message body exceeds the 1600 character limit."
        return answer(twilio_error(400, 21617, message), 21617)

    if mode == "drop_then_create_late" and _abort_connection(request):
        call.update(status=None, code=None, sid=None)

        async def later() -> None:
            await asyncio.sleep(fault.delay_s if fault else 0.0)
            call["sid"] = _create(sandbox, form)["sid"]

        sandbox.spawn(later)
        await asyncio.sleep(0.01)  # let the server see the closed connection; nothing is sent
        return Response(status_code=204)
    record = _create(sandbox, form)
    sid = record["sid"]
    if mode in ("drop_after_create", "drop_after_receive") and _abort_connection(request):
        call.update(status=None, code=None, sid=sid)
        await asyncio.sleep(0.01)
        return Response(status_code=204)
    if fault and mode == "status_5xx_after_create":
        code = 20000 + fault.status
        message = SERVER_ERRORS.get(fault.status, "Server Error")
        return answer(twilio_error(fault.status, code, message), code, sid)
    return answer(_json(message_resource(settings, record), 201), None, sid)


def _create(sandbox: Sandbox, form: dict[str, str]) -> dict[str, Any]:
    """Record a new message from a valid create form and start its status progression."""
    now = time.time()
    record: dict[str, Any] = {
        "index": sandbox.next_index,
        "sid": new_sid(),
        "to": form["To"],
        "from": form.get("From"),
        "messaging_service_sid": form.get("MessagingServiceSid"),
        "body": form.get("Body"),
        "content_sid": form.get("ContentSid"),
        "content_variables": form.get("ContentVariables"),
        "status_callback": form.get("StatusCallback"),
        "received_at": now,
        "updated_at": now,
        "sent_at": None,
        "status": "queued",
        "listed_at": now + sandbox.settings.list_lag_s,
        "callbacks": [],
    }
    sandbox.next_index += 1
    sandbox.messages.append(record)
    sandbox.spawn(lambda: _advance(sandbox, record))
    return record


def _read_fault_answer(sandbox: Sandbox, request: Request) -> Response | None:
    """The answer a read fault forces (None: answer normally; `slow` is awaited by the caller)."""
    fault = sandbox.take_fault(read=True)
    request.state.read_fault = fault
    if fault is None or fault.mode == "slow":
        return None
    if fault.mode == "status_429":
        return twilio_error(429, 20429, "Too Many Requests")
    if fault.mode == "status_500":
        return twilio_error(500, 20500, "Internal Server Error")
    _abort_connection(request)
    return Response(status_code=204)  # `drop`: never reaches the client


def _unauthorized() -> Response:
    return twilio_error(
        401,
        20003,
        "Authenticate",
        {"WWW-Authenticate": 'Basic realm="Twilio API"'},
        detail="Your AccountSid or AuthToken was incorrect.",
    )


async def _read(request: Request, serve: Callable[[], Response]) -> Response:
    """Auth, read faults and the `GET /sandbox/reads` log around one list or fetch call."""
    sandbox: Sandbox = request.app.state.sandbox
    entry: dict[str, Any] = {"at": time.time(), "path": request.url.path, "query": dict(request.query_params)}
    sandbox.reads.append(entry)
    if not _authorized(request, sandbox.settings, request.path_params["sid"]):
        response = _unauthorized()
    else:
        forced = _read_fault_answer(sandbox, request)
        fault: Fault | None = request.state.read_fault
        entry["fault"] = fault.mode if fault else "none"
        if fault is not None and fault.mode == "slow":
            await asyncio.sleep(fault.delay_s)
        response = forced if forced is not None else serve()
    entry["status"] = response.status_code
    return response


def parse_date_filter(value: str) -> tuple[float, bool]:
    """A `DateSent` filter value as (Unix time, date only). Raises ValueError when malformed.

    `YYYY-MM-DD` is midnight GMT of that date; `YYYY-MM-DDTHH:MM:SS[Z]` is that time in GMT.
    """
    text = value.strip().removesuffix("Z")
    if len(text) == 10:
        day = dt.datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=dt.UTC)
        return day.timestamp(), True
    return dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=dt.UTC).timestamp(), False


def _day(at: float) -> float:
    return at - at % 86_400


def _date_filter(params: Any) -> Callable[[dict[str, Any]], bool]:
    """The predicate of the DateSent, DateSent< and DateSent> filters (inclusive bounds)."""
    checks: list[Callable[[float], bool]] = []
    if "DateSent" in params:
        day, _ = parse_date_filter(params["DateSent"])
        checks.append(lambda sent: _day(sent) == _day(day))
    if "DateSent<" in params:
        at, date_only = parse_date_filter(params["DateSent<"])
        checks.append((lambda sent: _day(sent) <= at) if date_only else (lambda sent: sent <= at))
    if "DateSent>" in params:
        at, date_only = parse_date_filter(params["DateSent>"])
        checks.append((lambda sent: _day(sent) >= at) if date_only else (lambda sent: sent >= at))
    if not checks:
        return lambda record: True
    # Twilio keeps dates to the second, as its RFC 2822 strings show them.
    return lambda record: record["sent_at"] is not None and all(c(int(record["sent_at"])) for c in checks)


def _page_uri(base: str, filters: list[tuple[str, str]], size: int, page: int, token: str | None) -> str:
    query = [*filters, ("PageSize", str(size)), ("Page", str(page))]
    if token:
        query.append(("PageToken", token))
    return f"{base}?{urlencode(query, quote_via=quote, safe='')}"


async def read_messages(request: Request) -> Response:
    """`GET /2010-04-01/Accounts/{sid}/Messages.json`: one page, newest first (see module doc)."""
    sandbox: Sandbox = request.app.state.sandbox
    params = request.query_params

    def serve() -> Response:
        try:
            size = int(params.get("PageSize", DEFAULT_PAGE_SIZE))
            page = int(params.get("Page", "0"))
            if not 1 <= size <= MAX_PAGE_SIZE or page < 0:
                raise ValueError
        except ValueError:
            return twilio_error(400, 20001, f"PageSize must be 1-{MAX_PAGE_SIZE} and Page at least 0")
        try:
            dated = _date_filter(params)
        except ValueError:
            return twilio_error(400, 20001, "DateSent must be YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ")
        now = time.time()
        found = [
            m
            for m in reversed(sandbox.messages)
            if m["listed_at"] <= now
            and all(params[k] == m[k.lower()] for k in ("To", "From") if k in params)
            and dated(m)
        ]
        token = params.get("PageToken")
        if token and token[:2] in ("PA", "PB"):
            anchor = next((i for i, m in enumerate(found) if m["sid"] == token[2:]), None)
            if anchor is None:
                found_page: list[dict[str, Any]] = []
                first = len(found)
            elif token.startswith("PA"):
                first = anchor + 1
                found_page = found[first : first + size]
            else:
                first = max(0, anchor - size)
                found_page = found[first:anchor]
        else:
            first = page * size
            found_page = found[first : first + size]
        base = request.url.path
        filters = [(k, params[k]) for k in FILTERS if k in params]
        more = first + len(found_page) < len(found)
        body = {
            "end": page * size + max(0, len(found_page) - 1),
            "first_page_uri": _page_uri(base, filters, size, 0, None),
            "messages": [message_resource(sandbox.settings, m) for m in found_page],
            "next_page_uri": (
                _page_uri(base, filters, size, page + 1, "PA" + found_page[-1]["sid"])
                if more and found_page
                else None
            ),
            "page": page,
            "page_size": size,
            "previous_page_uri": (
                _page_uri(base, filters, size, page - 1, "PB" + found_page[0]["sid"])
                if page > 0 and found_page
                else None
            ),
            "start": page * size,
            "uri": _page_uri(base, filters, size, page, token),
        }
        return _json(body)

    return await _read(request, serve)


async def fetch_message(request: Request) -> Response:
    """`GET /2010-04-01/Accounts/{sid}/Messages/{MessageSid}.json`: one message, or 404 20404."""
    sandbox: Sandbox = request.app.state.sandbox

    def serve() -> Response:
        record = sandbox.find(request.path_params["message_sid"])
        if record is None:
            return twilio_error(404, 20404, f"The requested resource {request.url.path} was not found")
        return _json(message_resource(sandbox.settings, record))

    return await _read(request, serve)


async def list_messages(request: Request) -> Response:
    """`GET /sandbox/messages?to=…&after=N`: accepted messages, oldest first."""
    sandbox: Sandbox = request.app.state.sandbox
    to = request.query_params.get("to")
    try:
        after = int(request.query_params.get("after", "0"))
    except ValueError:
        return _json({"error": "after must be an integer"}, 400)
    found = [m for m in sandbox.messages if m["index"] > after and (to is None or m["to"] == to)]
    return _json(found)


async def clear_messages(request: Request) -> Response:
    """`DELETE /sandbox/messages`: forget messages, calls and reads."""
    sandbox: Sandbox = request.app.state.sandbox
    sandbox.messages.clear()
    sandbox.calls.clear()
    sandbox.reads.clear()
    return Response(status_code=204)


async def list_calls(request: Request) -> Response:
    """`GET /sandbox/calls`: every Messages API call and how it was answered."""
    sandbox: Sandbox = request.app.state.sandbox
    return _json(sandbox.calls)


async def list_reads(request: Request) -> Response:
    """`GET /sandbox/reads`: every list and fetch call and how it was answered."""
    sandbox: Sandbox = request.app.state.sandbox
    return _json(sandbox.reads)


# What a fault may ask for: enough for any test or chaos run, never a request held for hours.
MAX_FAULT_COUNT = 1_000_000
MAX_FAULT_SECONDS = 600.0


def _whole(value: object, name: str, lowest: int, highest: int) -> int:
    """A whole number from `lowest` to `highest` (not a bool, not 2.5); ValueError otherwise."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f"{name} must be a whole number from {lowest} to {highest}")
    text = str(value).strip()
    digits = text.removeprefix("-")
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 9 or not lowest <= int(text) <= highest:
        raise ValueError(f"{name} must be a whole number from {lowest} to {highest}")
    return int(text)


def _seconds(value: object, name: str) -> float:
    """Seconds from 0 to `MAX_FAULT_SECONDS`; ValueError otherwise (nan, inf, negative, a bool)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"{name} must be seconds from 0 to {MAX_FAULT_SECONDS:g}")
    seconds = float(value)
    if not 0.0 <= seconds <= MAX_FAULT_SECONDS:  # also false for nan
        raise ValueError(f"{name} must be seconds from 0 to {MAX_FAULT_SECONDS:g}")
    return seconds


def _header_seconds(value: object) -> float:
    """A `Retry-After` to send: any number of seconds from 0, "inf" and years included (it only
    becomes a header, so a client's handling of absurd values can be tried); ValueError for
    nan, a negative number or a bool."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError("retry_after must be seconds from 0")
    seconds = float(value)
    if not seconds >= 0.0:  # also true for nan
        raise ValueError("retry_after must be seconds from 0")
    return seconds


async def faults(request: Request) -> Response:
    """`GET`/`POST /sandbox/faults`: show or arm the failure of the next calls."""
    sandbox: Sandbox = request.app.state.sandbox
    if request.method == "POST":
        try:
            raw = orjson.loads(await request.body())
            mode = raw.get("mode", "none")
            read = raw.get("on", "create") == "read"
            if raw.get("on", "create") not in ("create", "read"):
                raise ValueError("on must be create or read")
            modes = READ_FAULT_MODES if read else FAULT_MODES
            if mode not in modes:
                raise ValueError(f"mode must be one of {', '.join(modes)}")
            retry_after = raw.get("retry_after")
            status = _whole(raw.get("status", 500), "status", 500, 599)
            fault = Fault(
                mode=mode,
                count=_whole(raw.get("count", 1), "count", 1, MAX_FAULT_COUNT) if mode != "none" else 0,
                delay_s=_seconds(raw.get("delay_s", 0.0), "delay_s"),
                retry_after=_header_seconds(retry_after) if retry_after is not None else None,
                status=status,
            )
            if read:
                sandbox.read_fault = fault
            else:
                sandbox.fault = fault
        except (orjson.JSONDecodeError, AttributeError, TypeError, ValueError) as exc:
            return _json({"error": str(exc)}, 400)
    return _json({**asdict(sandbox.fault), "read": asdict(sandbox.read_fault)})


async def health_check(request: Request) -> Response:
    """`GET /health`: the sandbox is up."""
    return _json({"status": "ok"})


def create_app(settings: SandboxSettings | None = None) -> Starlette:
    """The sandbox app; settings default to the environment."""
    settings = settings or SandboxSettings.from_env()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        sandbox = Sandbox(settings)
        app.state.sandbox = sandbox
        log.info("sandbox ready", extra={"account_sid": settings.account_sid, "port": settings.port})
        try:
            yield
        finally:
            for task in list(sandbox.tasks):
                task.cancel()
            await asyncio.gather(*sandbox.tasks, return_exceptions=True)
            for origin in sandbox.origins.values():
                await origin.aclose()

    return Starlette(
        routes=[
            Route("/2010-04-01/Accounts/{sid}/Messages.json", create_message, methods=["POST"]),
            Route("/2010-04-01/Accounts/{sid}/Messages.json", read_messages, methods=["GET"]),
            Route("/2010-04-01/Accounts/{sid}/Messages/{message_sid}.json", fetch_message, methods=["GET"]),
            Route("/sandbox/messages", list_messages, methods=["GET"]),
            Route("/sandbox/messages", clear_messages, methods=["DELETE"]),
            Route("/sandbox/calls", list_calls, methods=["GET"]),
            Route("/sandbox/reads", list_reads, methods=["GET"]),
            Route("/sandbox/faults", faults, methods=["GET", "POST"]),
            Route("/health", health_check, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
