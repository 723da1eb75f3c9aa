"""One Messages API call, and what its result proves about whether Twilio got the request.

`TwilioClient.send(form)` makes exactly one `POST .../Messages.json` over a small pool of
keep-alive connections (`libs.http11`) that never retries (twilio-python's async client wraps
aiohttp in `aiohttp_retry`, which re-sends a POST on 5xx and could send a WhatsApp message
twice). It returns one of:

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

Reading back, to settle an attempt whose outcome is unknown
(https://www.twilio.com/docs/messaging/api/message-resource#read-multiple-message-resources):
`recent(to, from_, since)` pages through `GET .../Messages.json?To=…&From=…&PageSize=…`
(newest first, following `next_page_uri`) down to the messages created before `since`, and
`fetch(sid)` reads one message. No `DateSent` filter is sent: a message Twilio has just created
is still `queued` with `date_sent` null, and such a filter would leave out exactly the message
being looked for; `date_created` is compared here instead. Both raise `LookupFailed` for
anything but a readable 200 (or 404 for `fetch`): the caller retries the lookup, never the send.
"""

from __future__ import annotations

import base64
import email.utils
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlencode, urlsplit

import httpx
import orjson

from libs import http11

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


@dataclass(frozen=True, slots=True)
class Listed:
    """A message as Twilio's Message resource shows it; `created_at` in Unix seconds (Twilio
    keeps whole seconds). `body` is what Twilio sent (a template's rendered text for a
    ContentSid message)."""

    sid: str
    to: str
    from_: str
    body: str
    status: str
    direction: str
    created_at: float
    error_code: str


class LookupFailed(Exception):
    """Twilio's read API did not give a usable answer (transport error, timeout, error status,
    unreadable body, more pages than allowed): nothing can be concluded."""


def _listed(raw: Any) -> Listed:
    if not isinstance(raw, dict) or not isinstance(raw.get("sid"), str):
        raise LookupFailed("a message without a sid")
    try:
        created = email.utils.parsedate_to_datetime(str(raw.get("date_created"))).timestamp()
    except (TypeError, ValueError, IndexError) as exc:
        raise LookupFailed(f"unreadable date_created {raw.get('date_created')!r}") from exc
    code = raw.get("error_code")
    return Listed(
        sid=raw["sid"],
        to=str(raw.get("to") or ""),
        from_=str(raw.get("from") or ""),
        body=str(raw.get("body") or ""),
        status=str(raw.get("status") or ""),
        direction=str(raw.get("direction") or ""),
        created_at=created,
        error_code="" if code is None else str(code),
    )


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


def _rejected(response: httpx.Response | http11.Response) -> Rejected:
    if isinstance(response, httpx.Response):
        status, reason = response.status_code, response.reason_phrase
    else:
        status, reason = response.status, response.reason
    code: int | None = None
    message = reason or f"HTTP {status}"
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
        http_status=status,
        code=code,
        message=message[:500],
        retry_after=parse_retry_after(response.headers.get("retry-after")),
    )


def _accepted(response: http11.Response) -> Accepted:
    try:
        body: Any = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        body = None
    if not isinstance(body, dict):
        return Accepted(sid="", status="")
    return Accepted(sid=str(body.get("sid") or ""), status=str(body.get("status") or ""))


def basic_auth(user: str, password: str) -> str:
    """An `Authorization` header value for HTTP Basic (RFC 7617), UTF-8 credentials."""
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


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
        parts = urlsplit(messages_url)
        self._origin = f"{parts.scheme}://{parts.netloc}"
        # The Messages API call, once per reply, goes over `libs.http11` (a fifth of httpx's
        # CPU per call, docs/performance.md); the rare look-ups keep httpx.
        self._messages_target = parts.path + (f"?{parts.query}" if parts.query else "")
        self._send_http = http11.Origin(
            messages_url,
            connect_s=connect_timeout_s,
            read_s=read_timeout_s,
            write_s=read_timeout_s,
            pool_s=connect_timeout_s,
            max_connections=max_connections,
            headers={
                "Accept": "application/json",
                "User-Agent": USER_AGENT,
                "Authorization": basic_auth(account_sid, auth_token),
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )
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
        await self._send_http.aclose()
        await self._http.aclose()

    async def send(self, form: Mapping[str, str]) -> SendOutcome:
        """POST one message with `form` (From, To, Body or ContentSid + ContentVariables, ...).

        Exactly one HTTP request is made. See the module docstring for what each outcome proves.
        https://www.twilio.com/docs/messaging/api/message-resource#create-a-message-resource
        """
        try:
            response = await self._send_http.request("POST", self._messages_target, urlencode(form).encode())
        except http11.ConnectFailed as exc:
            # No connection was established (or none was free), so no byte of this request left.
            return NotDelivered(f"{type(exc).__name__}: {exc}"[:500])
        except http11.RequestFailed as exc:
            # Read/write timeouts, resets, truncated answers: the request may have been processed.
            return Unknown(f"{type(exc).__name__}: {exc}"[:500])
        if response.is_success:
            return _accepted(response)
        return _rejected(response)

    async def _get(self, url: str, params: Mapping[str, str] | None = None) -> httpx.Response:
        try:
            return await self._http.get(url, params=params)
        except httpx.HTTPError as exc:
            raise LookupFailed(f"{type(exc).__name__}: {exc}"[:500]) from exc

    async def recent(
        self, *, to: str, from_: str, since: float, page_size: int = 50, max_pages: int = 20
    ) -> list[Listed]:
        """Messages from `from_` to `to` created at or after `since` (Unix seconds), newest first.

        Follows `next_page_uri` until a page reaches older messages, the last page, or
        `max_pages` (then `LookupFailed`: the answer would be incomplete).
        """
        found: list[Listed] = []
        url: str | None = self.messages_url
        params: dict[str, str] | None = {"To": to, "From": from_, "PageSize": str(page_size)}
        for _ in range(max_pages):
            assert url is not None
            response = await self._get(url, params)
            if response.status_code != 200:
                raise LookupFailed(f"HTTP {response.status_code}: {_rejected(response).message}")
            try:
                page: Any = orjson.loads(response.content)
                messages = page["messages"]
                next_uri = page.get("next_page_uri")
            except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
                raise LookupFailed(f"unreadable page: {exc}") from exc
            listed = [_listed(m) for m in messages]
            found += [m for m in listed if m.created_at >= since]
            if not next_uri or not listed or listed[-1].created_at < since:
                return found
            url, params = self._origin + str(next_uri), None
        raise LookupFailed(f"more than {max_pages} pages of messages to {to} since {since:.0f}")

    async def fetch(self, sid: str) -> Listed | None:
        """The message `sid` (None when Twilio answers 404, code 20404)."""
        response = await self._get(self.messages_url.removesuffix(".json") + f"/{sid}.json")
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise LookupFailed(f"HTTP {response.status_code}: {_rejected(response).message}")
        try:
            return _listed(orjson.loads(response.content))
        except orjson.JSONDecodeError as exc:
            raise LookupFailed(f"unreadable message: {exc}") from exc
