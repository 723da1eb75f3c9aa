"""One Messages API call, and what its result proves about whether Twilio got the request.

`TwilioClient.send(form)` makes exactly one `POST .../Messages.json` over one pooled
`httpx.AsyncClient` whose transport never retries (httpx retries only connection attempts, and
only when asked; twilio-python's async client wraps aiohttp in `aiohttp_retry`, which re-sends a
POST on 5xx and could send a WhatsApp message twice). It returns one of:

    Accepted       201 (any 2xx): Twilio created the message; `sid` is its MessageSid.
    Rejected       an HTTP error status with Twilio's error body: Twilio processed the request
                   and refused it, so nothing was sent (https://www.twilio.com/docs/usage/twilios-response).
                   `retryable` for 429/20429 and 5xx, `daily_cap` for 63038, final otherwise.
    NotDelivered   the connection could not be made (or no pooled connection was free): the
                   request never left this process, resending cannot duplicate.
    Unknown        anything after the request may have been written (read timeout, reset,
                   truncated answer): Twilio may have accepted it. Never resend blindly.

`send` itself never raises for transport or HTTP failures; it raises only on programming
errors. Error codes: https://www.twilio.com/docs/api/errors (20429, 63038, 21211, 21610).
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import httpx
import orjson

TOO_MANY_REQUESTS: Final = 20429
DAILY_CAP: Final = 63038
USER_AGENT: Final = "wa-ordering-notifier/1"


@dataclass(frozen=True, slots=True)
class Accepted:
    """Twilio answered 2xx: the message exists; `status` is its initial status (`queued`)."""

    sid: str
    status: str


@dataclass(frozen=True, slots=True)
class Rejected:
    """Twilio answered an HTTP error status; `code` is Twilio's error code when the body had one.

    `retry_after` (seconds) comes from a `Retry-After` header when present; Twilio does not
    document one on 429, so it is honoured but never required
    (https://www.twilio.com/docs/api/errors/20429).
    """

    http_status: int
    code: int | None
    message: str
    retry_after: float | None = None

    @property
    def daily_cap(self) -> bool:
        """63038: the account's rolling 24-hour message cap; fast retries are pointless."""
        return self.code == DAILY_CAP

    @property
    def retryable(self) -> bool:
        """429 (other than 63038) and 5xx: Twilio did not process it; safe to retry with backoff."""
        if self.daily_cap:
            return False
        return self.http_status == 429 or self.http_status >= 500

    @property
    def error_code(self) -> str:
        """The Twilio error code, or the HTTP status when the body carried none."""
        return str(self.code if self.code is not None else self.http_status)


@dataclass(frozen=True, slots=True)
class NotDelivered:
    """The request never reached Twilio (connect failure, pool exhausted); resending is safe."""

    error: str


@dataclass(frozen=True, slots=True)
class Unknown:
    """The request may have reached Twilio (read timeout, dropped connection): the ambiguous window."""

    error: str


SendOutcome = Accepted | Rejected | NotDelivered | Unknown


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` header (delta-seconds or HTTP-date), or None.

    RFC 9110 section 10.2.3. Negative or unparsable values give None.
    """
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    return seconds if seconds >= 0 else None


def _rejected(response: httpx.Response) -> Rejected:
    code: int | None = None
    message = response.reason_phrase or f"HTTP {response.status_code}"
    try:
        body: Any = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        body = None
    if isinstance(body, dict):
        raw_code = body.get("code")
        if isinstance(raw_code, int):
            code = raw_code
        elif isinstance(raw_code, str) and raw_code.isdigit():
            code = int(raw_code)
        if isinstance(body.get("message"), str):
            message = body["message"]
    return Rejected(
        http_status=response.status_code,
        code=code,
        message=message[:500],
        retry_after=parse_retry_after(response.headers.get("retry-after")),
    )


def _accepted(response: httpx.Response) -> Accepted:
    try:
        body: Any = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        body = None
    if not isinstance(body, dict):
        return Accepted(sid="", status="")
    return Accepted(sid=str(body.get("sid") or ""), status=str(body.get("status") or ""))


class TwilioClient:
    """A pooled client for one account's Messages endpoint; open it with `async with`.

    `messages_url` is the full `.../2010-04-01/Accounts/{AccountSid}/Messages.json`; auth is
    HTTP Basic AccountSid:AuthToken (https://www.twilio.com/docs/usage/requests-to-twilio).
    """

    def __init__(
        self,
        messages_url: str,
        account_sid: str,
        auth_token: str,
        *,
        connect_timeout_s: float,
        read_timeout_s: float,
        max_connections: int,
    ) -> None:
        self.messages_url = messages_url
        self._http = httpx.AsyncClient(
            auth=httpx.BasicAuth(account_sid, auth_token),
            timeout=httpx.Timeout(
                connect=connect_timeout_s, read=read_timeout_s, write=read_timeout_s, pool=connect_timeout_s
            ),
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
            # retries=0: nothing re-sends behind our back; the caller decides from the outcome.
            transport=httpx.AsyncHTTPTransport(retries=0),
            headers={"Accept": "application/json", "User-Agent": USER_AGENT},
            follow_redirects=False,
            trust_env=False,
        )

    async def __aenter__(self) -> TwilioClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the pooled connections."""
        await self._http.aclose()

    async def send(self, form: Mapping[str, str]) -> SendOutcome:
        """POST one message with `form` (From, To, Body or ContentSid + ContentVariables, ...).

        Exactly one HTTP request is made. See the module docstring for what each outcome proves.
        https://www.twilio.com/docs/messaging/api/message-resource#create-a-message-resource
        """
        try:
            response = await self._http.post(self.messages_url, data=dict(form))
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            # No connection was established (or none was free), so no byte of this request left.
            return NotDelivered(f"{type(exc).__name__}: {exc}"[:500])
        except httpx.TransportError as exc:
            # Read/write timeouts, resets, truncated answers: the request may have been processed.
            return Unknown(f"{type(exc).__name__}: {exc}"[:500])
        if response.is_success:
            return _accepted(response)
        return _rejected(response)
