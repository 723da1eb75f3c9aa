"""orders as a real process (staff API and dashboard) against clients that hold connections:
idle or silent connections, bodies that never come, clients that drop mid-body, many
connections from one address. The limits themselves are libs.connection_limits'."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import migrated_database, read_response, read_until_closed, redis_namespace
from tests.e2e.harness import ADMIN_TOKEN, Mesh


@pytest.fixture(scope="module")
def mesh(pg_template: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mesh]:
    """orders alone, with short deadlines and a small per-address cap."""
    with migrated_database(pg_template) as db, redis_namespace(redis_url) as prefix:
        env = {
            "ADMIN_EMAIL": "kitchen@example.com",
            "ADMIN_PASSWORD": "correct-horse-battery-staple",
            "HEADER_TIMEOUT_SECONDS": "1",
            "BODY_TIMEOUT_SECONDS": "1",
            "MAX_CONNECTIONS_PER_ADDRESS": "6",
        }
        with Mesh(
            db, redis_url, prefix, Path(tmp_path_factory.mktemp("orders")), service_env={"orders": env}
        ) as m:
            m.start("orders")
            yield m


def _log_lines(mesh: Mesh) -> list[dict[str, object]]:
    text = (mesh.log_dir / "orders.log").read_text(errors="replace")
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_a_connection_that_sends_nothing_is_closed(mesh: Mesh, sockets: Callable[..., socket.socket]) -> None:
    sock = sockets(mesh.url("orders"))
    started = time.monotonic()
    assert read_until_closed(sock) == b""  # TimeoutError after 10 s when it is held
    assert time.monotonic() - started < 5


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/login", b"Content-Type: application/x-www-form-urlencoded\r\n"),
        ("/api/v1/orders/1001/transitions", f"Authorization: Bearer {ADMIN_TOKEN}\r\n".encode()),
    ],
)
def test_a_body_that_never_comes_gets_408_and_a_close(
    mesh: Mesh, path: str, headers: bytes, sockets: Callable[..., socket.socket]
) -> None:
    sock = sockets(mesh.url("orders"))
    sock.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\n".encode() + headers + b"Content-Length: 100\r\n\r\n")
    started = time.monotonic()
    answer = read_until_closed(sock)
    assert answer.startswith(b"HTTP/1.1 408 "), answer
    assert time.monotonic() - started < 5


def test_one_address_cannot_hold_more_than_its_share(
    mesh: Mesh, sockets: Callable[..., socket.socket]
) -> None:
    held = [sockets(mesh.url("orders"), source="127.0.0.5") for _ in range(6)]
    for sock in held:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        assert read_response(sock).startswith(b"HTTP/1.1 200 ")
    assert read_until_closed(sockets(mesh.url("orders"), source="127.0.0.5", timeout=3)) == b""
    transport = httpx.HTTPTransport(local_address="127.0.0.6")
    with httpx.Client(transport=transport, timeout=10) as client:
        assert client.get(mesh.url("orders") + "/ready").status_code == 200
    for sock in held:
        sock.close()


def test_a_client_that_drops_mid_body_is_not_an_error(
    mesh: Mesh, sockets: Callable[..., socket.socket]
) -> None:
    before = len(_log_lines(mesh))
    for _ in range(3):
        sock = sockets(mesh.url("orders"))
        sock.sendall(
            b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            b"Content-Length: 100\r\n\r\nemail=kitchen%40exa"
        )
        time.sleep(0.2)
        sock.close()
    time.sleep(0.5)
    assert httpx.get(mesh.url("orders") + "/health", timeout=5).status_code == 200
    new = _log_lines(mesh)[before:]
    assert not [line for line in new if line["level"] in ("error", "critical")], new
    assert not [line for line in new if "ClientDisconnect" in json.dumps(line)], new
