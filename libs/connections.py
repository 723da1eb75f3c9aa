"""Redis connections configured for long-lived services: timeouts, keepalive, health checks.

Blocking stream reads (XREADGROUP BLOCK) must return before the socket timeout fires, so
`READ_TIMEOUT_S` is always longer than the longest BLOCK the consumers use (`MAX_BLOCK_MS`).
"""

from __future__ import annotations

from typing import Final

import redis.asyncio as aioredis

MAX_BLOCK_MS: Final = 2_000
READ_TIMEOUT_S: Final = 5.0
CONNECT_TIMEOUT_S: Final = 2.0
HEALTH_CHECK_INTERVAL_S: Final = 15


def redis_client(url: str, *, max_connections: int = 64) -> aioredis.Redis:
    """A pooled asyncio Redis client for `url` (redis://, rediss:// or unix://).

    Commands fail with `redis.exceptions.ConnectionError`/`TimeoutError` after
    `READ_TIMEOUT_S` rather than hanging; redis-py's own retries are off so callers decide
    (https://redis.readthedocs.io/en/stable/retry.html). Nothing connects until first use.
    TCP keepalive is set only on TCP URLs: redis-py's Unix-socket connection refuses the option
    (the embedded Redis of `make run` is reached over a Unix socket).
    """
    tcp: dict[str, bool] = {} if url.startswith("unix://") else {"socket_keepalive": True}
    return aioredis.Redis.from_url(
        url,
        socket_timeout=READ_TIMEOUT_S,
        socket_connect_timeout=CONNECT_TIMEOUT_S,
        health_check_interval=HEALTH_CHECK_INTERVAL_S,
        max_connections=max_connections,
        retry_on_timeout=False,
        retry=None,
        **tcp,
    )
