"""The sandbox's HTTP app: Twilio's Messages API (create only) plus an inspection/control API.

Twilio side (https://www.twilio.com/docs/messaging/api/message-resource#create-a-message-resource):
- `POST /2010-04-01/Accounts/{sid}/Messages.json`, form-encoded, HTTP Basic
  AccountSid:AuthToken. 401 code 20003 for wrong credentials; 400 code 21604 (no `To`), 21603
  (no `From`/`MessagingServiceSid`), 21602 (no `Body`/`ContentSid`/`MediaUrl`), 21617 (Body
  over 1600 characters); 201 with the Message resource as Twilio returns it, `sid` = `SM` + 32
  hex, `status` = `queued`. Errors use the v2010 shape `{code, message, more_info, status}`.
- With `StatusCallback`, status callbacks `sent`, `delivered`, `read` are posted to it in the
  background, form-encoded and signed with `X-Twilio-Signature` like Twilio's
  (https://www.twilio.com/docs/messaging/guides/track-outbound-message-status), each tried at
  most `callback_attempts` times.

Control side, for tests and the chat:
- `GET /sandbox/messages?to=…&after=N`: accepted messages with index > N, in arrival order.
- `DELETE /sandbox/messages`: forget messages and calls (indexes keep growing).
- `GET /sandbox/calls`: every Messages API call with its answer (status, code).
- `POST /sandbox/faults` `{"mode", "count", "delay_s", "retry_after"}`: the next `count` calls
  fail as `mode`: `status_429` (20429, with `Retry-After` when `retry_after` is given),
  `status_500`, `code_63038` (429), `code_21211` (400), `slow` (answer after `delay_s`),
  `drop_after_receive` (record the message as accepted, then close the connection without
  answering: the ambiguous window), `none` (clear). `GET /sandbox/faults` shows it.
- `GET /health`.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import email.utils
import hmac
import logging
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import httpx
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from twilio.request_validator import RequestValidator

from sandbox.settings import SandboxSettings

log = logging.getLogger("sandbox")

FAULT_MODES = (
    "none",
    "status_429",
    "status_500",
    "code_63038",
    "code_21211",
    "slow",
    "drop_after_receive",
)
MAX_BODY_CHARS = 1600
API_VERSION = "2010-04-01"


@dataclass
class Fault:
    """The failure injected into the next `count` Messages API calls."""

    mode: str = "none"
    count: int = 0
    delay_s: float = 0.0
    retry_after: float | None = None


@dataclass
class Sandbox:
    """Everything the sandbox remembers (in memory; a restart forgets it)."""

    settings: SandboxSettings
    messages: list[dict[str, Any]] = field(default_factory=list)
    calls: list[dict[str, Any]] = field(default_factory=list)
    fault: Fault = field(default_factory=Fault)
    next_index: int = 1
    next_call: int = 1
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    http: httpx.AsyncClient | None = None

    def take_fault(self) -> Fault | None:
        """The fault for this call, counting it down; None when no fault is armed."""
        if self.fault.mode == "none" or self.fault.count <= 0:
            return None
        self.fault.count -= 1
        fault = Fault(self.fault.mode, 1, self.fault.delay_s, self.fault.retry_after)
        if self.fault.count == 0:
            self.fault = Fault()
        return fault


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


def message_resource(settings: SandboxSettings, sid: str, form: dict[str, str], now: float) -> dict[str, Any]:
    """The 201 body of Messages create, shaped like Twilio's (fixture api-message-created-201)."""
    date = email.utils.formatdate(now, usegmt=False).replace("-0000", "+0000")
    uri = f"/2010-04-01/Accounts/{settings.account_sid}/Messages/{sid}"
    return {
        "account_sid": settings.account_sid,
        "api_version": API_VERSION,
        "body": form.get("Body", ""),
        "date_created": date,
        "date_sent": None,
        "date_updated": date,
        "direction": "outbound-api",
        "error_code": None,
        "error_message": None,
        "from": form.get("From"),
        "messaging_service_sid": form.get("MessagingServiceSid"),
        "num_media": "0",
        "num_segments": "1",
        "price": None,
        "price_unit": None,
        "sid": sid,
        "status": "queued",
        "subresource_uris": {"media": f"{uri}/Media.json"},
        "to": form.get("To"),
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


async def _post_callbacks(sandbox: Sandbox, record: dict[str, Any]) -> None:
    """Post sent, delivered, read to the message's StatusCallback; bounded tries per status."""
    settings = sandbox.settings
    url = record["status_callback"]
    validator = RequestValidator(settings.auth_token)
    assert sandbox.http is not None
    for status in ("sent", "delivered", "read"):
        await asyncio.sleep(settings.callback_delay_s)
        params = status_params(settings, record, status)
        headers = {
            "X-Twilio-Signature": validator.compute_signature(url, params),
            "User-Agent": "TwilioProxy/1.1",
            "I-Twilio-Idempotency-Token": secrets.token_hex(16),
        }
        for attempt in range(settings.callback_attempts):
            try:
                response = await sandbox.http.post(url, data=params, headers=headers)
                if response.is_success:
                    record["callbacks"].append(status)
                    break
                error = f"HTTP {response.status_code}"
            except httpx.HTTPError as exc:
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
        return answer(
            twilio_error(
                401,
                20003,
                "Authenticate",
                {"WWW-Authenticate": 'Basic realm="Twilio API"'},
                detail="Your AccountSid or AuthToken was incorrect.",
            ),
            20003,
        )
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

    now = time.time()
    sid = new_sid()
    record = {
        "index": sandbox.next_index,
        "sid": sid,
        "to": form["To"],
        "from": form.get("From"),
        "body": form.get("Body"),
        "content_sid": form.get("ContentSid"),
        "content_variables": form.get("ContentVariables"),
        "status_callback": form.get("StatusCallback"),
        "received_at": now,
        "callbacks": [],
    }
    sandbox.next_index += 1
    sandbox.messages.append(record)
    if record["status_callback"]:
        task = asyncio.create_task(_post_callbacks(sandbox, record))
        sandbox.tasks.add(task)
        task.add_done_callback(sandbox.tasks.discard)
    if mode == "drop_after_receive" and _abort_connection(request):
        call.update(status=None, code=None, sid=sid)
        await asyncio.sleep(0.01)  # let the server see the closed connection; nothing is sent
        return Response(status_code=204)
    return answer(_json(message_resource(settings, sid, form, now), 201), None, sid)


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
    """`DELETE /sandbox/messages`: forget messages and calls."""
    sandbox: Sandbox = request.app.state.sandbox
    sandbox.messages.clear()
    sandbox.calls.clear()
    return Response(status_code=204)


async def list_calls(request: Request) -> Response:
    """`GET /sandbox/calls`: every Messages API call and how it was answered."""
    sandbox: Sandbox = request.app.state.sandbox
    return _json(sandbox.calls)


async def faults(request: Request) -> Response:
    """`GET`/`POST /sandbox/faults`: show or arm the failure of the next calls."""
    sandbox: Sandbox = request.app.state.sandbox
    if request.method == "POST":
        try:
            raw = orjson.loads(await request.body())
            mode = raw.get("mode", "none")
            if mode not in FAULT_MODES:
                raise ValueError(f"mode must be one of {', '.join(FAULT_MODES)}")
            retry_after = raw.get("retry_after")
            sandbox.fault = Fault(
                mode=mode,
                count=int(raw.get("count", 1)) if mode != "none" else 0,
                delay_s=float(raw.get("delay_s", 0.0)),
                retry_after=float(retry_after) if retry_after is not None else None,
            )
        except (orjson.JSONDecodeError, AttributeError, TypeError, ValueError) as exc:
            return _json({"error": str(exc)}, 400)
    return _json(asdict(sandbox.fault))


async def health_check(request: Request) -> Response:
    """`GET /health`: the sandbox is up."""
    return _json({"status": "ok"})


def create_app(settings: SandboxSettings | None = None) -> Starlette:
    """The sandbox app; settings default to the environment."""
    settings = settings or SandboxSettings.from_env()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        sandbox = Sandbox(settings)
        sandbox.http = httpx.AsyncClient(timeout=httpx.Timeout(5.0, read=15.0), trust_env=False)
        app.state.sandbox = sandbox
        log.info("sandbox ready", extra={"account_sid": settings.account_sid, "port": settings.port})
        try:
            yield
        finally:
            for task in list(sandbox.tasks):
                task.cancel()
            await asyncio.gather(*sandbox.tasks, return_exceptions=True)
            await sandbox.http.aclose()

    return Starlette(
        routes=[
            Route("/2010-04-01/Accounts/{sid}/Messages.json", create_message, methods=["POST"]),
            Route("/sandbox/messages", list_messages, methods=["GET"]),
            Route("/sandbox/messages", clear_messages, methods=["DELETE"]),
            Route("/sandbox/calls", list_calls, methods=["GET"]),
            Route("/sandbox/faults", faults, methods=["GET", "POST"]),
            Route("/health", health_check, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
