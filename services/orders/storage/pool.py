"""orders' PostgreSQL pool: sized, checked, bounded, with statement timeouts and slow-query logs.

The pool is opened in the ASGI lifespan (`open=False`, then `open()`) and closed after the
consumer stops (https://www.psycopg.org/psycopg3/docs/advanced/pool.html). Every connection
gets `statement_timeout`; a connection that waited longer than `pool_timeout_s` raises
`PoolTimeout`; more than `pool_max_waiting` waiters raise `TooManyRequests`. Both, and every
`OperationalError`, mean the database is unavailable: callers turn them into
`DependencyUnavailable` so the entry stays in the stream.

`statement_timeout` only bounds what the server runs; a server that stops answering (a hung
host, a partition that drops nothing but delivers nothing) would leave a query waiting for the
kernel's TCP timeout, hours. So `transaction()` also bounds the whole unit of work on the
client (`TRANSACTION_TIMEOUT_S`); on expiry psycopg cancels the query and, when the cancel
cannot reach the server either, closes the connection, which the pool then replaces
(https://www.psycopg.org/psycopg3/docs/advanced/async.html#interrupting-async-operations).
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import psycopg
from psycopg import AsyncConnection
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool, PoolTimeout, TooManyRequests

from libs import metrics
from libs.errors import DependencyUnavailable
from services.orders.settings import OrdersSettings

log = logging.getLogger("services.orders.storage.pool")

Conn = AsyncConnection[dict[str, Any]]
T = TypeVar("T")

# Seconds one transaction may take end to end, waiting for a connection included. Above the
# statement (5 s) and lock (3 s) timeouts, so a merely slow query fails on the server first,
# and well below the stream's visibility timeout (60 s), so no other replica claims the entry
# while this one still waits.
TRANSACTION_TIMEOUT_S = 20.0

# Lock and statement timeouts mean a slow database: the entry waits, like an outage.
UNAVAILABLE = (
    psycopg.OperationalError,
    psycopg.errors.LockNotAvailable,
    psycopg.errors.QueryCanceled,
    PoolTimeout,
    TooManyRequests,
)


def holds_nul(value: object) -> bool:
    """True when `value` (text, or a JSON value: dicts, lists, tuples, keys) contains a NUL
    character, which PostgreSQL text and jsonb cannot store
    (https://www.postgresql.org/docs/current/datatype-character.html): staff input with one is
    refused before it reaches a statement, rather than failing there with a DataError."""
    # A loop, not recursion: a deeply nested body must not raise RecursionError here.
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list | tuple):
            pending.extend(item)
    return False


def json_depth(value: object) -> int:
    """How deeply `value` (a decoded JSON value) nests: 0 for a scalar, 1 for a flat object or
    list. Computed with a loop, so any depth is measured without recursion."""
    deepest = 0
    pending = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict):
            pending.extend((v, depth + 1) for v in item.values())
            deepest = max(deepest, depth + 1)
        elif isinstance(item, list | tuple):
            pending.extend((v, depth + 1) for v in item)
            deepest = max(deepest, depth + 1)
    return deepest


def make_pool(settings: OrdersSettings) -> AsyncConnectionPool[Conn]:
    """A closed pool configured from `settings`; call `await pool.open()` in the lifespan."""

    return AsyncConnectionPool(
        settings.database_url,
        min_size=settings.pool_min_size,
        max_size=settings.pool_max_size,
        timeout=settings.pool_timeout_s,
        max_waiting=settings.pool_max_waiting,
        open=False,
        check=AsyncConnectionPool.check_connection,
        reconnect_timeout=0,  # keep trying forever; readiness reports the outage meanwhile
        # autocommit: every unit of work opens its own `conn.transaction()` explicitly.
        kwargs={
            "row_factory": dict_row,
            "autocommit": True,
            "connect_timeout": 3,
            "application_name": "orders",
            "options": f"-c statement_timeout={int(settings.statement_timeout_ms)} -c lock_timeout=3000",
        },
        name="orders",
    )


# The background sweep of each pool's idle connections, while one runs (`sweep_if_broken`).
_sweeps: weakref.WeakKeyDictionary[AsyncConnectionPool[Conn], asyncio.Task[None]] = (
    weakref.WeakKeyDictionary()
)


def sweep_if_broken(pool: AsyncConnectionPool[Conn], exc: BaseException) -> None:
    """When `exc` says a connection broke, check the pool's idle connections in the background,
    once at a time, so the next transactions get live ones: the idle ones likely died with it
    (a restart, a cut). Broken: an `OperationalError` with no SQLSTATE (the socket), class 08
    (connection exception) or class 57 but a query cancel (a server shutting down, a backend
    terminated), https://www.postgresql.org/docs/current/errcodes-appendix.html."""
    if not isinstance(exc, psycopg.OperationalError):
        return
    state = exc.sqlstate or ""
    if state and not state.startswith("08") and not (state.startswith("57") and state != "57014"):
        return
    running = _sweeps.get(pool)
    if running is not None and not running.done():
        return
    task = asyncio.get_running_loop().create_task(_sweep(pool), name="pool-sweep")
    _sweeps[pool] = task


async def _sweep(pool: AsyncConnectionPool[Conn]) -> None:
    try:
        await pool.check()
    except Exception as exc:  # the pool closing meanwhile; the next failure sweeps again
        log.debug("pool sweep failed", extra={"error": repr(exc)})


def observe_pool(pool: AsyncConnectionPool[Conn]) -> None:
    """Copy the pool's size, lent and waiting counts into the Prometheus gauges."""
    stats = pool.get_stats()
    size = stats.get("pool_size", 0)
    metrics.DB_POOL_SIZE.set(size)
    metrics.DB_POOL_IN_USE.set(size - stats.get("pool_available", 0))
    metrics.DB_POOL_WAITING.set(stats.get("requests_waiting", 0))


# The readiness probe of each pool while one is under way (`ping`).
_probes: weakref.WeakKeyDictionary[AsyncConnectionPool[Conn], asyncio.Task[str]] = weakref.WeakKeyDictionary()


async def ping(pool: AsyncConnectionPool[Conn], *, timeout_s: float = 1.5) -> str:
    """The readiness check: a pooled connection within `timeout_s` answers `SELECT 1`; returns
    "ok", raises on failure (`TimeoutError` when the server does not answer in time).
    Refreshes the pool gauges first.

    The query runs as its own task, left running when it takes too long rather than cancelled:
    cancelling a query sends PostgreSQL a cancel request, and against a hung server that waits
    too, so `/ready` itself would hang instead of answering 503. One probe per pool is under
    way at a time; a check while it still waits fails at once."""
    observe_pool(pool)
    probe = _probes.get(pool)
    if probe is None or probe.done():
        if probe is not None and not probe.cancelled():
            probe.exception()  # a late failure of a probe given up on: seen, not logged by asyncio
        probe = asyncio.get_running_loop().create_task(_select_one(pool, timeout_s), name="db-probe")
        _probes[pool] = probe
    done, _ = await asyncio.wait({probe}, timeout=timeout_s)
    if not done:
        raise TimeoutError(f"PostgreSQL did not answer SELECT 1 within {timeout_s:g}s")
    return probe.result()


async def _select_one(pool: AsyncConnectionPool[Conn], timeout_s: float) -> str:
    async with pool.connection(timeout=timeout_s) as conn:
        await conn.execute("SELECT 1")
    return "ok"


@asynccontextmanager
async def transaction(
    pool: AsyncConnectionPool[Conn], *, slow_s: float, timeout_s: float = TRANSACTION_TIMEOUT_S
) -> AsyncIterator[Conn]:
    """A connection in one transaction; commits on success, rolls back on error.

    Raises `DependencyUnavailable` when the database cannot be reached, the pool is exhausted,
    or the whole transaction took over `timeout_s` seconds (a server that stopped answering).
    Logs the transaction when it took longer than `slow_s` seconds. A cancelled caller returns
    the connection to the pool (the pool's context manager guarantees it).
    """
    started = time.perf_counter()
    try:
        async with asyncio.timeout(timeout_s), pool.connection() as conn, conn.transaction():
            yield conn
    except UNAVAILABLE as exc:
        sweep_if_broken(pool, exc)
        raise DependencyUnavailable(f"database unavailable: {type(exc).__name__}: {exc}") from exc
    except TimeoutError as exc:
        raise DependencyUnavailable(f"database did not answer within {timeout_s:g}s") from exc
    finally:
        elapsed = time.perf_counter() - started
        if elapsed > slow_s:
            log.warning("slow transaction", extra={"duration_s": round(elapsed, 3)})
