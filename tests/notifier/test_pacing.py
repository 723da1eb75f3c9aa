"""The shared token bucket keeps the send rate, across replicas."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable

import redis.asyncio as aioredis

from libs.messages import Keys
from services.notifier.app import Runtime
from services.notifier.pacing import TokenBucket
from services.notifier.settings import NotifierSettings
from tests.notifier.conftest import publish_reply
from tests.sandbox.harness import SandboxHandle

Start = Callable[[NotifierSettings], Awaitable[Runtime]]


async def test_two_buckets_on_one_key_share_the_rate(redis_client: aioredis.Redis, keys: Keys) -> None:
    key = keys.token_bucket("whatsapp:+15557650000")
    replicas = [TokenBucket(redis_client, key, rate=50, burst=5) for _ in range(2)]
    sent_at: list[float] = []
    started = time.monotonic()

    async def send(bucket: TokenBucket) -> None:
        while True:
            grant = await bucket.take()
            await asyncio.sleep(grant.wait_s)
            if grant.granted:
                sent_at.append(time.monotonic() - started)
                return

    await asyncio.gather(*(send(replicas[i % 2]) for i in range(55)))
    # 5 at once (the burst), then 50 more at 50 per second: about 1 s.
    assert 0.9 <= max(sent_at) <= 1.6
    for t in (0.3, 0.6, 0.9):
        assert sum(1 for s in sent_at if s <= t) <= 5 + 50 * t + 2


async def test_pause_stops_every_replica(redis_client: aioredis.Redis, keys: Keys) -> None:
    key = keys.token_bucket("whatsapp:+15557650000")
    a, b = TokenBucket(redis_client, key, rate=10, burst=1), TokenBucket(redis_client, key, rate=10, burst=1)
    assert (await a.take()).granted
    left = await a.pause(2.0)
    assert 1.9 <= left <= 2.0
    grant = await b.take()
    assert grant.paused and not grant.granted and 1.8 <= grant.wait_s <= 2.0
    assert await a.pause(0.5) >= 1.8  # a shorter pause never shortens the one in force
    assert 1.7 <= await b.paused_for() <= 2.0


async def test_notifier_replicas_keep_the_configured_rate(
    sandbox: SandboxHandle,
    make_settings: Callable[..., NotifierSettings],
    start_notifier: Start,
    redis_client: aioredis.Redis,
    keys: Keys,
) -> None:
    settings = make_settings(TWILIO_SEND_RATE_PER_SECOND="20", TWILIO_SEND_BURST="1")
    await start_notifier(settings)
    await start_notifier(settings)
    for i in range(21):
        await publish_reply(redis_client, keys, str(i), f"whatsapp:+1555123{i:04d}", 1, f"hi {i}")
    messages = await sandbox.wait_messages(21, within_s=10)
    times = sorted(m["received_at"] for m in messages)
    # 21 sends at 20 per second need 1 s at least, whichever replica made them.
    assert times[-1] - times[0] >= 0.9
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert sum(gaps) / len(gaps) >= 0.045
