"""Order per customer across notifier replicas, and a customer never stuck behind a lost reply."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import Awaitable, Callable

import redis.asyncio as aioredis

from libs.messages import NOTIFIER_GROUP, Envelope, Keys
from libs.streams import Entry
from services.notifier.app import Runtime
from services.notifier.cursor import CustomerCursor
from services.notifier.settings import NotifierSettings
from tests.notifier.conftest import publish_reply, send_results, wait_for
from tests.sandbox.harness import SandboxHandle

Start = Callable[[NotifierSettings], Awaitable[Runtime]]


async def test_successor_on_another_replica_waits_for_its_predecessor(
    sandbox: SandboxHandle,
    make_settings: Callable[..., NotifierSettings],
    start_notifier: Start,
    redis_client: aioredis.Redis,
    keys: Keys,
) -> None:
    customer = "whatsapp:+15551230001"
    await sandbox.fault("slow", count=1, delay_s=2.0)
    # Seq 1 takes longer than the gap timeout, but it is on its way, so seq 2 still waits.
    settings = make_settings(NOTIFIER_ORDER_GAP_TIMEOUT_SECONDS="1", TWILIO_READ_TIMEOUT_SECONDS="5")
    await start_notifier(settings)
    await publish_reply(redis_client, keys, "1", customer, 1, "first")
    await wait_for(lambda: _calls_started(sandbox), what="the slow first call")
    # The first replica is busy with seq 1, so the second one takes seq 2.
    await start_notifier(settings)
    await publish_reply(redis_client, keys, "2", customer, 2, "second")

    messages = await sandbox.wait_messages(2)
    assert [m["body"] for m in messages] == ["first", "second"]
    cursor = CustomerCursor(redis_client, keys.customer_cursor, ttl_s=86400)
    assert await cursor.position(customer) == 2
    assert await redis_client.hgetall(keys.customer_cursor(customer)) == {b"seq": b"2"}


async def _calls_started(sandbox: SandboxHandle) -> bool:
    return len(await sandbox.calls()) >= 1


async def test_two_replicas_keep_each_customers_order_and_send_each_reply_once(
    sandbox: SandboxHandle,
    make_settings: Callable[..., NotifierSettings],
    redis_client: aioredis.Redis,
    keys: Keys,
) -> None:
    customers = [f"whatsapp:+1555123000{i}" for i in range(4)]
    per_customer = 8
    handled: Counter[str] = Counter()
    runtimes = [Runtime.build(make_settings()) for _ in range(2)]
    for index, runtime in enumerate(runtimes):
        inner = runtime.consumer.handler

        async def counting(
            entry: Entry,
            envelope: Envelope,
            inner: Callable[[Entry, Envelope], Awaitable[None]] = inner,
            name: str = str(index),
        ) -> None:
            handled[name] += 1
            await inner(entry, envelope)

        runtime.consumer.handler = counting
        runtime.start()
    try:
        # Some calls are slow and some refused, so replicas finish out of step.
        await sandbox.fault("slow", count=6, delay_s=0.15)
        rng = random.Random(7)
        reply_id = 0
        for seq in range(1, per_customer + 1):
            for customer in rng.sample(customers, len(customers)):
                reply_id += 1
                await publish_reply(redis_client, keys, str(reply_id), customer, seq, f"{customer[-1]}:{seq}")
                await asyncio.sleep(rng.uniform(0, 0.02))
            if seq == 4:
                await sandbox.fault("status_500", count=3)

        messages = await sandbox.wait_messages(len(customers) * per_customer, within_s=30)
        for customer in customers:
            bodies = [m["body"] for m in messages if m["to"] == customer]
            assert bodies == [f"{customer[-1]}:{s}" for s in range(1, per_customer + 1)], customer
        assert len(messages) == len(customers) * per_customer
        results = await send_results(redis_client, keys)
        assert sorted(int(r["reply_id"]) for r in results) == list(range(1, reply_id + 1))
        assert all(r["outcome"] == "sent" for r in results)
        assert handled["0"] > 0 and handled["1"] > 0, handled
    finally:
        for runtime in runtimes:
            await runtime.stop()


async def test_dead_lettered_reply_still_advances_the_cursor(
    sandbox: SandboxHandle,
    make_settings: Callable[..., NotifierSettings],
    redis_client: aioredis.Redis,
    keys: Keys,
) -> None:
    customer = "whatsapp:+15551230002"
    await publish_reply(redis_client, keys, "1", customer, 1, "doomed")
    await publish_reply(redis_client, keys, "2", customer, 2, "next")
    # A crash-looping consumer took seq 1 twice and never acked it.
    await redis_client.xgroup_create(keys.outbound, NOTIFIER_GROUP, id="0")
    await redis_client.xreadgroup(NOTIFIER_GROUP, "notifier-crashing", {keys.outbound: ">"}, count=1)
    await redis_client.xreadgroup(NOTIFIER_GROUP, "notifier-crashing", {keys.outbound: "0"}, count=1)
    runtime = Runtime.build(make_settings(STREAM_MAX_DELIVERIES="2"), consumer="notifier-crashing")
    runtime.start()
    try:
        # Its third delivery is over the limit: dead-lettered, and seq 2 must not wait for it
        # (the gap timeout is 60 s here).
        [message] = await sandbox.wait_messages(1, within_s=5)
        assert message["body"] == "next"
        first, second = await send_results(redis_client, keys)
        assert (first["reply_id"], first["outcome"]) == ("1", "failed")
        assert first["ErrorMessage"].startswith("dead-lettered:")
        assert (second["reply_id"], second["outcome"]) == ("2", "sent")
        assert await redis_client.xlen(keys.dead_letters(keys.outbound)) == 1
        cursor = CustomerCursor(redis_client, keys.customer_cursor, ttl_s=86400)
        assert await cursor.position(customer) == 2
    finally:
        await runtime.stop()


async def test_missing_predecessor_is_skipped_after_the_gap_timeout(
    sandbox: SandboxHandle,
    make_settings: Callable[..., NotifierSettings],
    start_notifier: Start,
    redis_client: aioredis.Redis,
    keys: Keys,
) -> None:
    customer = "whatsapp:+15551230003"
    await start_notifier(
        make_settings(NOTIFIER_ORDER_GAP_TIMEOUT_SECONDS="1", NOTIFIER_ORDER_WAIT_SECONDS="3")
    )
    await publish_reply(redis_client, keys, "2", customer, 2, "second")
    [message] = await sandbox.wait_messages(1)
    assert message["body"] == "second"
    cursor = CustomerCursor(redis_client, keys.customer_cursor, ttl_s=86400)
    assert await cursor.position(customer) == 2
    # The stepped-over reply turns up late (a dead letter replayed): it goes at once.
    await publish_reply(redis_client, keys, "1", customer, 1, "first")
    await publish_reply(redis_client, keys, "3", customer, 3, "third")
    messages = await sandbox.wait_messages(3)
    assert [m["body"] for m in messages] == ["second", "first", "third"]


async def test_cursor_steps_over_replies_finished_out_of_turn(
    redis_client: aioredis.Redis, keys: Keys
) -> None:
    cursor = CustomerCursor(redis_client, keys.customer_cursor, ttl_s=3600)
    customer = "whatsapp:+15551230004"
    assert await cursor.position(customer) == 0
    assert await cursor.ready(customer, 1) and not await cursor.ready(customer, 2)
    assert await cursor.finish(customer, 3) == 0  # dead-lettered while 1 and 2 are in flight
    assert await cursor.finish(customer, 1) == 1
    assert await cursor.finish(customer, 2) == 3  # closes the gap, steps over 3
    assert await cursor.finish(customer, 2) == 3  # idempotent
    assert await cursor.finish(customer, 9, force=True) == 9
    assert await cursor.ready(customer, 5)  # stepped over: goes without waiting
    fields = await redis_client.hgetall(keys.customer_cursor(customer))
    assert fields == {b"seq": b"9"}
    assert 0 < await redis_client.ttl(keys.customer_cursor(customer)) <= 3600
