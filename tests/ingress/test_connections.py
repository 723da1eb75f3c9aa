"""ingress as a real process against clients that hold connections: slow or oversized headers,
silent or slow bodies, bytes after a refusal, many connections from one address, floods of
refusals in the log."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest

from tests.conftest import read_response, read_until_closed
from tests.ingress.conftest import FORM, WEBHOOK, IngressProcess, inbound_params, ingress_process, sign

HEAD = (
    b"POST /api/v1/whatsapp/webhook HTTP/1.1\r\nHost: x\r\n"
    b"Content-Type: application/x-www-form-urlencoded\r\n"
)


@pytest.fixture
def ingress(key_prefix: str, redis_url: str, tmp_path: Path) -> Iterator[IngressProcess]:
    with ingress_process(
        tmp_path,
        REDIS_KEY_PREFIX=key_prefix,
        REDIS_URL=redis_url,
        HEADER_TIMEOUT_SECONDS="1",
        BODY_TIMEOUT_SECONDS="1",
        MAX_HEADER_BYTES="4096",
        MAX_BODY_BYTES="8192",
        MAX_CONNECTIONS_PER_ADDRESS="4",
    ) as running:
        yield running


def _hold(sockets: Callable[..., socket.socket], base: str, count: int) -> list[socket.socket]:
    """`count` connections that made a request and now idle (kept alive, no deadline of ours)."""
    held = [sockets(base) for _ in range(count)]
    for sock in held:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        assert read_response(sock).startswith(b"HTTP/1.1 200 ")
    return held


def _signed_webhook(base: str, source: str = "127.0.0.1") -> int:
    params = inbound_params()
    signature = sign("https://bot.example.com" + WEBHOOK, params)
    transport = httpx.HTTPTransport(local_address=source)
    with httpx.Client(transport=transport, timeout=10) as client:
        response = client.post(
            base + WEBHOOK,
            content=urlencode(params),
            headers={"Content-Type": FORM, "X-Twilio-Signature": signature},
        )
    return response.status_code


def test_a_body_that_never_comes_gets_408_and_a_close(
    ingress: IngressProcess, sockets: Callable[..., socket.socket]
) -> None:
    sock = sockets(ingress.base)
    started = time.monotonic()
    sock.sendall(HEAD + b"Content-Length: 100\r\n\r\n")
    answer = read_until_closed(sock)  # TimeoutError after 10 s if the server waits for ever
    assert answer.startswith(b"HTTP/1.1 408 "), answer
    assert b"connection: close" in answer.lower()
    assert time.monotonic() - started < 5


def test_a_trickled_body_gets_408_when_its_time_is_up(
    ingress: IngressProcess, sockets: Callable[..., socket.socket]
) -> None:
    """Each byte comes well within the deadline; the whole body does not."""
    sock = sockets(ingress.base, timeout=0.25)
    sock.sendall(HEAD + b"Content-Length: 100\r\n\r\n")
    started = time.monotonic()
    answer = b""
    while time.monotonic() - started < 8:
        try:
            sock.sendall(b"a")
            chunk = sock.recv(65536)
        except TimeoutError:
            continue
        except (BrokenPipeError, ConnectionResetError):
            break
        if not chunk:
            break
        answer += chunk
    assert answer.startswith(b"HTTP/1.1 408 "), answer
    assert time.monotonic() - started < 5


def test_after_413_one_more_byte_does_not_keep_the_connection(
    ingress: IngressProcess, sockets: Callable[..., socket.socket]
) -> None:
    sock = sockets(ingress.base)
    sock.sendall(HEAD + b"Content-Length: 100000\r\n\r\n")
    head = sock.recv(65536)
    assert head.startswith(b"HTTP/1.1 413 "), head
    assert b"connection: close" in head.lower()  # so no client sends another request on it
    try:
        sock.sendall(b"a")
    except (BrokenPipeError, ConnectionResetError):
        return  # already closed
    started = time.monotonic()
    read_until_closed(sock)  # TimeoutError after 10 s when the byte keeps it open
    assert time.monotonic() - started < 3


def test_a_413_reaches_a_client_still_sending_its_body(
    ingress: IngressProcess, sockets: Callable[..., socket.socket]
) -> None:
    """The connection is closed after the 413, but not with the body's rest unread: that would
    reset it, and a client that sends its whole body before reading (most do) would get a
    broken pipe instead of the answer."""
    for _ in range(5):
        sock = sockets(ingress.base)
        sock.sendall(HEAD + b"Content-Length: 16000000\r\n\r\n" + b"a" * 16_000_000)  # no reset
        answer = read_until_closed(sock)
        assert answer.startswith(b"HTTP/1.1 413 "), answer
        sock.close()


def test_an_answer_before_a_small_body_keeps_the_connection_usable(
    ingress: IngressProcess, sockets: Callable[..., socket.socket]
) -> None:
    """A 415 is answered before the body is read; the rest of a body within the limit is read
    and dropped as it comes, and the connection serves the next request."""
    sock = sockets(ingress.base)
    sock.sendall(b"POST /api/v1/whatsapp/webhook HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n")
    sock.sendall(b"Content-Length: 10\r\n\r\n01234")
    assert read_response(sock).startswith(b"HTTP/1.1 415 ")
    sock.sendall(b"56789GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
    assert read_response(sock).startswith(b"HTTP/1.1 200 ")


def test_one_address_cannot_hold_more_than_its_share(
    ingress: IngressProcess, sockets: Callable[..., socket.socket]
) -> None:
    held = _hold(sockets, ingress.base, 4)
    extra = sockets(ingress.base, timeout=3)
    assert read_until_closed(extra) == b""  # closed at once, no wait for the header deadline
    # Another client is served meanwhile, and a connection freed is a connection available.
    assert _signed_webhook(ingress.base, source="127.0.0.2") == 200
    held.pop().close()
    time.sleep(0.2)
    assert _signed_webhook(ingress.base) == 200
    for sock in held:
        sock.close()


def test_a_flood_of_refusals_is_summarised_in_the_log(
    ingress: IngressProcess, sockets: Callable[..., socket.socket]
) -> None:
    """Refused connections and malformed requests: counted, one summary line, not one each."""
    held = _hold(sockets, ingress.base, 4)
    for _ in range(40):
        refused = sockets(ingress.base, timeout=3)
        read_until_closed(refused)
        refused.close()
    for _ in range(40):
        garbage = sockets(ingress.base, source="127.0.0.3", timeout=3)
        garbage.sendall(b"\x00\x01 not http\r\n\r\n")
        read_until_closed(garbage)
        garbage.close()
    time.sleep(1.5)  # the summary is written at most a second after the refusals
    for sock in held:
        sock.close()
    assert ingress.stop() == 0
    lines = [json.loads(line) for line in ingress.log_text().splitlines() if line.startswith("{")]
    assert not [line for line in lines if line["msg"] == "Invalid HTTP request received."]
    summaries = [line for line in lines if "refused" in line]
    assert 1 <= len(summaries) <= 2, summaries
    total: dict[str, int] = {}
    for line in summaries:
        for reason, count in line["refused"].items():
            total[reason] = total.get(reason, 0) + count
    assert total == {"address_limit": 40, "invalid_request": 40}, total
    assert len(lines) < 30, lines


def test_a_metric_counts_the_refusals(ingress: IngressProcess, sockets: Callable[..., socket.socket]) -> None:
    held = _hold(sockets, ingress.base, 4)
    refused = sockets(ingress.base, timeout=3)
    read_until_closed(refused)
    for sock in held:
        sock.close()
    time.sleep(0.2)
    text = httpx.get(ingress.base + "/metrics", timeout=5).text
    assert 'wa_http_refused_total{reason="address_limit"} 1.0' in text


def test_bytes_between_requests_do_not_hold_an_idle_connection(
    ingress: IngressProcess, sockets: Callable[..., socket.socket]
) -> None:
    """A blank line now and then is no request: the header deadline still applies."""
    sock = sockets(ingress.base, timeout=0.3)
    sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
    assert read_response(sock).startswith(b"HTTP/1.1 200 ")
    started = time.monotonic()
    closed = False
    while time.monotonic() - started < 6 and not closed:
        try:
            sock.sendall(b"\r\n")
            closed = sock.recv(65536) == b""
        except TimeoutError:
            continue
        except OSError:
            closed = True
    assert closed
    assert time.monotonic() - started < 4


def test_slow_headers_are_cut_off(ingress: IngressProcess, sockets: Callable[..., socket.socket]) -> None:
    """Headers trickling in (slowloris) or never sent: closed after HEADER_TIMEOUT_SECONDS."""
    base = ingress.base
    idle = sockets(base)
    trickle = sockets(base)
    started = time.monotonic()
    trickle.sendall(b"POST /api/v1/whatsapp/webhook HTTP/1.1\r\nHost: x\r\n")
    time.sleep(0.5)
    trickle.sendall(b"X-A: 1\r\n")
    assert read_until_closed(trickle) == b""
    assert read_until_closed(idle) == b""
    assert 0.8 < time.monotonic() - started < 5
    # A normal request on a fresh connection is unaffected.
    assert httpx.get(base + "/health", timeout=5).status_code == 200


def test_oversized_headers_are_431(ingress: IngressProcess, sockets: Callable[..., socket.socket]) -> None:
    base = ingress.base
    sock = sockets(base)
    sock.sendall(
        b"POST /api/v1/whatsapp/webhook HTTP/1.1\r\nHost: x\r\n" + b"X-Pad: " + b"p" * 20_000 + b"\r\n"
    )
    answer = read_until_closed(sock)
    assert answer.startswith(b"HTTP/1.1 431 ")
    # Keep-alive requests whose bodies add up past the limit are not mistaken for headers.
    params = inbound_params()
    body = urlencode(params).encode()
    signature = sign("https://bot.example.com" + WEBHOOK, params)
    with httpx.Client(base_url=base, timeout=10) as client:
        for i in range(12):
            response = client.post(
                WEBHOOK, content=body, headers={"Content-Type": FORM, "X-Twilio-Signature": signature}
            )
            assert response.status_code == 200, i
