"""The two Twilio webhook endpoints, as raw ASGI: verify, check, dedupe + enqueue, answer.

`POST /api/v1/whatsapp/webhook` (inbound messages, envelope kind `inbound_message`) and
`POST /api/v1/whatsapp/status` (status callbacks, kind `status_callback`). In order:

| check                                                | answer | outcome           |
|------------------------------------------------------|--------|-------------------|
| method other than POST                               | 405    | bad_request       |
| headers over MAX_HEADER_BYTES                        | 431    | bad_request       |
| content type not a UTF-8 urlencoded form             | 415    | bad_request       |
| body over MAX_BODY_BYTES                             | 413    | bad_request       |
| malformed form, too many/too long fields             | 400    | bad_request       |
| X-Twilio-Signature missing or wrong                  | 403    | invalid_signature |
| ... and this address failed too often in its window  | 429    | rate_limited      |
| no MessageSid/From (or MessageStatus on /status)     | 400    | bad_request       |
| AccountSid is not TWILIO_ACCOUNT_SID                 | 403    | invalid_signature |
| NumMedia not an integer 0-10                         | 400    | bad_request       |
| Redis unreachable or slower than REDIS_TIMEOUT       | 503    | unavailable       |
| already seen (dedupe key present)                    | 200    | duplicate         |
| enqueued, customer over the window limit (flagged)   | 200    | throttled         |
| enqueued                                             | 200    | accepted          |

200 carries an empty TwiML `<Response/>` as text/xml and is sent only after the entry is in
the stream (https://www.twilio.com/docs/messaging/guides/webhook-request). A 503 makes
Twilio try the fallback URL (https://www.twilio.com/docs/api/errors/11200).

An answer sent before the body was read to its end closes the connection after it, and a
body not complete within BODY_TIMEOUT_SECONDS gets its 408: both are `libs.connection_limits`'
doing, below this handler (the 408 is counted in `wa_http_refused_total{reason="body_timeout"}`).

This path avoids starlette's Request and form parser, and logs nothing at INFO per request:
it is the service's hot path (see docs/security.md for the threat model).
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass
from typing import Final

from prometheus_client import Counter, Histogram
from redis.exceptions import RedisError
from starlette.types import Receive, Scope, Send

from libs import metrics
from libs.messages import INBOUND_MESSAGE, STATUS_CALLBACK, Envelope, new_id
from services.ingress.enqueue import DUPLICATE, Enqueuer
from services.ingress.forms import FormError, Params, parse_form
from services.ingress.limits import (
    ClientGone,
    Rejected,
    check_content_length,
    check_content_type,
    read_body,
)
from services.ingress.settings import IngressSettings
from services.ingress.signatures import SignatureVerifier, forwarded_base

log = logging.getLogger("services.ingress.webhooks")

WEBHOOK_PATH: Final = "/api/v1/whatsapp/webhook"
STATUS_PATH: Final = "/api/v1/whatsapp/status"
TWIML_EMPTY: Final = b'<?xml version="1.0" encoding="UTF-8"?><Response/>'
MAX_NUM_MEDIA: Final = 10  # Twilio's limit on media per message
MAX_SID_CHARS: Final = 64
OUTCOMES: Final = (
    "accepted",
    "duplicate",
    "invalid_signature",
    "bad_request",
    "rate_limited",
    "throttled",
    "unavailable",
)

_METHODS: Final = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_IDEMPOTENCY_TOKEN: Final = re.compile(r"[A-Za-z0-9._:-]{1,64}")
_NUM_MEDIA: Final = re.compile(r"[0-9]{1,2}")

# Header names as uvicorn gives them (lowercase bytes) -> slot in `_Headers`.
_CONTENT_TYPE, _CONTENT_LENGTH, _SIGNATURE, _SIG_SETTINGS, _IDEMPOTENCY = 0, 1, 2, 3, 4
_XFF, _XF_PROTO, _XF_HOST, _HOST = 5, 6, 7, 8
_WANTED: Final = {
    b"content-type": _CONTENT_TYPE,
    b"content-length": _CONTENT_LENGTH,
    b"x-twilio-signature": _SIGNATURE,
    b"x-twilio-webhooks-signature-settings": _SIG_SETTINGS,
    b"i-twilio-idempotency-token": _IDEMPOTENCY,
    b"x-forwarded-for": _XFF,
    b"x-forwarded-proto": _XF_PROTO,
    b"x-forwarded-host": _XF_HOST,
    b"host": _HOST,
}


def _start(
    status: int, content_type: bytes, body: bytes, extra: tuple[tuple[bytes, bytes], ...] = ()
) -> dict[str, object]:
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode()), *extra]
    return {"type": "http.response.start", "status": status, "headers": headers}


_OK_START: Final = _start(200, b"text/xml", TWIML_EMPTY)
_OK_BODY: Final = {"type": "http.response.body", "body": TWIML_EMPTY}


def _error_messages(status: int, reason: str) -> tuple[dict[str, object], dict[str, object]]:
    body = f"{reason}\n".encode()
    extra = ((b"allow", b"POST"),) if status == 405 else ()
    return _start(status, b"text/plain; charset=utf-8", body, extra), {
        "type": "http.response.body",
        "body": body,
    }


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One webhook route: its path, envelope kind, metrics label and, when fixed, public URL."""

    path: str
    kind: str
    label: str
    public_url: str | None
    required: tuple[str, ...]


class Webhooks:
    """The raw ASGI handler of both webhook paths; `enqueuer` is set by the app's lifespan.

    `endpoints` maps a path to its `Endpoint`; the app routes those paths here before its
    starlette router.
    """

    def __init__(self, settings: IngressSettings) -> None:
        self.settings = settings
        self.verifier = SignatureVerifier(settings.auth_tokens, settings.signing_key)
        self.enqueuer: Enqueuer | None = None
        base = settings.public_base_url
        self.endpoints = {
            WEBHOOK_PATH: Endpoint(
                WEBHOOK_PATH,
                INBOUND_MESSAGE,
                "message",
                settings.webhook_url or (base + WEBHOOK_PATH if base else None),
                ("MessageSid", "From"),
            ),
            STATUS_PATH: Endpoint(
                STATUS_PATH,
                STATUS_CALLBACK,
                "status",
                settings.status_url or (base + STATUS_PATH if base else None),
                ("MessageSid", "From", "MessageStatus"),
            ),
        }
        self._outcomes = {
            (e.label, outcome): metrics.WEBHOOKS.labels(e.label, outcome)
            for e in self.endpoints.values()
            for outcome in OUTCOMES
        }
        self._durations: dict[tuple[str, int], Histogram] = {}
        self._requests: dict[tuple[str, str, int], Counter] = {}
        self._redis_ok = True

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one request to one of `endpoints` (scope["path"] must be one of them)."""
        started = time.perf_counter()
        endpoint = self.endpoints[scope["path"]]
        try:
            outcome = await self._handle(endpoint, scope, receive)
        except Rejected as exc:
            self._outcomes[endpoint.label, exc.outcome].inc()
            start, body = _error_messages(exc.status, exc.reason)
            await send(start)
            await send(body)
            self._observe(endpoint.path, scope["method"], exc.status, started)
            return
        except ClientGone:
            return
        self._outcomes[endpoint.label, outcome].inc()
        await send(_OK_START)
        await send(_OK_BODY)
        self._observe(endpoint.path, "POST", 200, started)

    def _observe(self, path: str, method: str, status: int, started: float) -> None:
        key = (path, method, status)
        counter = self._requests.get(key)
        if counter is None:
            label = method if method in _METHODS else "other"  # bounded label values
            counter = self._requests[key] = metrics.HTTP_REQUESTS.labels(path, label, str(status))
        counter.inc()
        duration = self._durations.get((path, status))
        if duration is None:
            duration = self._durations[path, status] = metrics.HTTP_DURATION.labels(path, str(status))
        duration.observe(time.perf_counter() - started)

    async def _handle(self, endpoint: Endpoint, scope: Scope, receive: Receive) -> str:
        """Returns the outcome of an answered-200 webhook; raises `Rejected` otherwise."""
        settings = self.settings
        if scope["method"] != "POST":
            raise Rejected(405, "bad_request", "method not allowed")
        found: list[bytes | None] = [None] * 9
        size = 0
        for name, value in scope["headers"]:
            size += len(name) + len(value)
            slot = _WANTED.get(name)
            if slot is not None and found[slot] is None:
                found[slot] = value
        if size > settings.connections.max_header_bytes:
            raise Rejected(431, "bad_request", "headers too large")
        check_content_type(found[_CONTENT_TYPE])
        check_content_length(found[_CONTENT_LENGTH], settings.max_body_bytes)
        body = await read_body(receive, settings.max_body_bytes)
        try:
            params = parse_form(
                body, max_fields=settings.max_fields, max_field_chars=settings.max_field_chars
            )
        except FormError as exc:
            raise Rejected(400, "bad_request", exc.reason) from None

        url = self._public_url(endpoint, scope, found)
        signature = found[_SIGNATURE]
        sig_settings = found[_SIG_SETTINGS]
        if (
            url is None
            or signature is None
            or not self.verifier.verify(
                url,
                params,
                signature.decode("latin-1"),
                None if sig_settings is None else sig_settings.decode("latin-1"),
            )
        ):
            await self._reject_signature(scope, found)

        fields = self._check_fields(endpoint, params)
        enqueuer = self.enqueuer
        if enqueuer is None:
            raise Rejected(503, "unavailable", "starting")
        token = found[_IDEMPOTENCY]
        request_id = new_id()
        if token is not None:
            text = token.decode("latin-1")
            if _IDEMPOTENCY_TOKEN.fullmatch(text):
                request_id = text
        envelope = Envelope(kind=endpoint.kind, fields=fields, request_id=request_id)
        if endpoint.kind == INBOUND_MESSAGE:
            dedupe_token, customer = fields["MessageSid"], fields["From"]
        else:
            dedupe_token, customer = f"{fields['MessageSid']}:{fields['MessageStatus']}", None
        try:
            result = await enqueuer.enqueue(envelope, dedupe_token, customer)
        except (RedisError, TimeoutError, OSError) as exc:
            if self._redis_ok:
                self._redis_ok = False
                log.warning(
                    "redis unavailable, answering 503: %s",
                    type(exc).__name__,
                    extra={"request_id": request_id},
                )
            raise Rejected(503, "unavailable", "temporarily unavailable") from None
        if not self._redis_ok:
            self._redis_ok = True
            log.warning("redis available again")
        if result.outcome == DUPLICATE:
            return DUPLICATE
        return "throttled" if result.throttled else "accepted"

    def _public_url(self, endpoint: Endpoint, scope: Scope, found: list[bytes | None]) -> str | None:
        base = endpoint.public_url
        if base is None:
            forwarded = forwarded_base(found[_XF_PROTO], found[_XF_HOST] or found[_HOST])
            if forwarded is None:
                return None
            base = forwarded + endpoint.path
        query: bytes = scope["query_string"]
        if query:
            # As received, still percent-encoded: Twilio signs the URL exactly as configured.
            return f"{base}?{query.decode('utf-8', 'replace')}"
        return base

    async def _reject_signature(self, scope: Scope, found: list[bytes | None]) -> None:
        """Count the failure against the source address; raise 403, or 429 past the limit."""
        address = self._source_address(scope, found)
        if self.enqueuer is not None and address:
            try:
                count = await self.enqueuer.count_bad_signature(address)
            except (RedisError, TimeoutError, OSError):
                count = 0  # the request is rejected either way
            if count > self.settings.bad_signature_limit:
                raise Rejected(429, "rate_limited", "too many invalid requests")
        raise Rejected(403, "invalid_signature", "invalid signature")

    def _source_address(self, scope: Scope, found: list[bytes | None]) -> str:
        forwarded = found[_XFF]
        if self.settings.trust_proxy_headers and forwarded:
            # The first hop is the client as Render's edge proxy saw it.
            first = forwarded.split(b",", 1)[0].strip()[:64]
            return first.decode("latin-1")
        client = scope.get("client")
        return str(client[0]) if client else ""

    def _check_fields(self, endpoint: Endpoint, fields: Params) -> dict[str, str]:
        for name in endpoint.required:
            value = fields.get(name)
            if not value:
                raise Rejected(400, "bad_request", f"missing {name}")
        if len(fields["MessageSid"]) > MAX_SID_CHARS or len(fields.get("MessageStatus", "")) > MAX_SID_CHARS:
            raise Rejected(400, "bad_request", "malformed MessageSid or MessageStatus")
        if fields.get("AccountSid") != self.settings.account_sid:
            raise Rejected(403, "invalid_signature", "wrong account")
        num_media = fields.get("NumMedia")
        if num_media is not None and (not _NUM_MEDIA.fullmatch(num_media) or int(num_media) > MAX_NUM_MEDIA):
            raise Rejected(400, "bad_request", "bad NumMedia")
        return fields
