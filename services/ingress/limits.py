"""Request limits checked before a webhook body is parsed: headers, content type, body size.

Each check raises `Rejected(status, outcome, reason)`; the handler turns it into a short
plain-text answer. Limits on the connection itself (header and body deadlines, header size,
connection caps) are enforced under the app by `libs.connection_limits`, which every read of
the body is subject to: a body not complete `BODY_TIMEOUT_SECONDS` after its headers gets a
408 and a closed connection there, and the app's pending read sees a disconnect.
"""

from __future__ import annotations

from typing import Final

from starlette.types import Receive

FORM_TYPE: Final = b"application/x-www-form-urlencoded"


class Rejected(Exception):
    """A request answered with a 4xx/5xx: `status`, metrics `outcome`, log-safe `reason`.

    An answer sent before the body was read to its end closes the connection after it
    (`libs.connection_limits`): what is left of the body is not wanted.
    """

    def __init__(self, status: int, outcome: str, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.outcome = outcome
        self.reason = reason


class ClientGone(Exception):
    """The client disconnected before the body arrived; nothing is answered."""


def check_content_type(value: bytes | None) -> None:
    """Accept `application/x-www-form-urlencoded`, with at most a UTF-8 charset parameter.

    Twilio posts form bodies as UTF-8 (https://www.twilio.com/docs/messaging/guides/webhook-request);
    anything else is 415.
    """
    if value == FORM_TYPE:
        return
    if value is None:
        raise Rejected(415, "bad_request", "missing content type")
    media, _, params = value.partition(b";")
    if media.strip().lower() != FORM_TYPE:
        raise Rejected(415, "bad_request", "unsupported content type")
    for param in params.split(b";"):
        name, _, charset = param.partition(b"=")
        if name.strip().lower() == b"charset" and charset.strip().strip(b'"').lower() not in (
            b"utf-8",
            b"utf8",
        ):
            raise Rejected(415, "bad_request", "unsupported charset")


def check_content_length(value: bytes | None, max_bytes: int) -> None:
    """413 when Content-Length is over `max_bytes`; 400 when it is not a number."""
    if value is None:
        return
    if not value.isdigit():
        raise Rejected(400, "bad_request", "bad content length")
    if int(value) > max_bytes:
        raise Rejected(413, "bad_request", "body too large")


async def read_body(receive: Receive, max_bytes: int) -> bytes:
    """The request body, at most `max_bytes` (413 past that).

    No timer here: the body's deadline is the connection's (`libs.connection_limits`), which
    costs nothing per request, where a timer around the first read would cost the hot path a
    few microseconds, some percent of a webhook's cost. Raises `ClientGone` when the client
    disconnects (or the deadline passed) first.
    """
    message = await receive()
    if message["type"] == "http.disconnect":
        raise ClientGone
    body: bytes = message.get("body", b"")
    if len(body) > max_bytes:
        raise Rejected(413, "bad_request", "body too large")
    if not message.get("more_body", False):
        return body
    chunks = [body]
    size = len(body)
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > max_bytes:
            raise Rejected(413, "bad_request", "body too large")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)
