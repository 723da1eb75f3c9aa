"""The readiness probe against a PostgreSQL that stops answering (a hung host)."""

from __future__ import annotations

import asyncio
import time
from urllib.parse import urlsplit, urlunsplit

import pytest
from psycopg_pool import AsyncConnectionPool

from services.orders.storage.pool import ping
from tests.faults.proxy import FaultProxy


async def test_a_hung_server_fails_the_probe_in_time_and_a_later_one_recovers(database_url: str) -> None:
    """Cancelling a query sends PostgreSQL a cancel request, which a hung server never answers
    either: a probe that cancelled its SELECT 1 hung /ready instead of making it 503."""
    parts = urlsplit(database_url)
    proxy = FaultProxy((parts.hostname or "127.0.0.1", parts.port or 5432))
    await proxy.start()
    url = urlunsplit(parts._replace(netloc=f"{parts.username or 'postgres'}@127.0.0.1:{proxy.port}"))
    pool: AsyncConnectionPool = AsyncConnectionPool(url, min_size=1, max_size=2, open=False)
    await pool.open(wait=True)
    try:
        assert await ping(pool, timeout_s=1.0) == "ok"
        proxy.hold()
        started = time.monotonic()
        try:
            await asyncio.wait_for(ping(pool, timeout_s=0.5), 3)  # the caller's own deadline
        except TimeoutError as exc:
            assert "did not answer" in str(exc), exc
        else:
            raise AssertionError("the probe answered while the server was hung")
        assert time.monotonic() - started < 1.5
        # a second check while the first probe still waits fails at once, without a new one
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            await ping(pool, timeout_s=0.5)
        assert time.monotonic() - started < 1.0
        proxy.release()
        for _ in range(20):
            try:
                if await ping(pool, timeout_s=1.0) == "ok":
                    break
            except TimeoutError:
                await asyncio.sleep(0.2)
        else:
            raise AssertionError("the probe did not recover once the server answered")
    finally:
        proxy.release()
        await pool.close(timeout=1)
        await proxy.stop()
