"""Dead letters: listing, atomic replay and drop, and the `dead-letters` command of each service."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
import redis.asyncio as aioredis

from libs.dead_letters import DeadLetters
from libs.errors import PermanentError
from libs.messages import ENTRY_FIELD, INBOUND_MESSAGE, REPLY, Envelope, Keys
from libs.streams import ConsumerConfig, Entry, StreamConsumer
from tests.conftest import ROOT


def envelope(n: int, kind: str = INBOUND_MESSAGE) -> Envelope:
    return Envelope(kind=kind, fields={"MessageSid": f"SM{n:032d}", "From": "whatsapp:+15550000001"})


async def eventually(check: Callable[[], Awaitable[bool]], timeout_s: float, poll_s: float = 0.02) -> None:
    """Poll `check()` until it is true; fail after `timeout_s`."""
    async with asyncio.timeout(timeout_s):
        while True:
            if await check():
                return
            await asyncio.sleep(poll_s)


async def dead_letter_one(redis: aioredis.Redis, stream: str, env: Envelope) -> str:
    """XADD `env` to `stream`, let a consumer dead-letter it (PermanentError); returns its entry id."""
    added: Any = await redis.xadd(stream, {ENTRY_FIELD: env.encode()})
    entry_id = str(added.decode())
    dead_stream = f"{stream}:dead"
    before = await redis.xlen(dead_stream) if await redis.exists(dead_stream) else 0

    async def handler(entry: Entry, envelope: Envelope) -> None:
        raise PermanentError("no such customer")

    consumer = StreamConsumer(
        redis=redis,
        stream=stream,
        group="g",
        consumer="c1",
        handler=handler,
        dead_letter_stream=dead_stream,
        config=ConsumerConfig(block_ms=50, maintenance_interval_s=0.1),
    )
    task = asyncio.create_task(consumer.run())

    async def dead_lettered() -> bool:
        return int(await redis.xlen(dead_stream)) > before

    try:
        await eventually(dead_lettered, 10)
    finally:
        consumer.stop()
        await asyncio.wait_for(task, 10)
    return entry_id


async def test_list_shows_the_original_id_kind_and_error(
    redis_client: aioredis.Redis, key_prefix: str
) -> None:
    keys = Keys(key_prefix)
    env = envelope(1)
    original = await dead_letter_one(redis_client, keys.inbound, env)
    letters = DeadLetters(redis_client, keys.inbound, keys.dead_letters(keys.inbound))
    (letter,) = await letters.oldest()
    assert letter.original_id == original
    assert letter.kind == INBOUND_MESSAGE and letter.envelope_id == env.id
    assert letter.error == "PermanentError: no such customer"
    assert letter.deliveries == 1 and letter.failed_at > 0
    assert original in letter.line() and "PermanentError" in letter.line()
    assert await letters.count() == 1


async def test_replay_moves_the_original_envelope_back_once(
    redis_client: aioredis.Redis, key_prefix: str
) -> None:
    keys = Keys(key_prefix)
    env = envelope(2)
    original = await dead_letter_one(redis_client, keys.inbound, env)
    letters = DeadLetters(redis_client, keys.inbound, keys.dead_letters(keys.inbound))
    (letter,) = await letters.oldest()
    # Five operators at once: the dead letter is in exactly one stream at any time.
    results = await asyncio.gather(*(letters.replay(letter.id) for _ in range(5)))
    new_ids = [r for r in results if r is not None]
    assert len(new_ids) == 1 and new_ids[0] != original
    found: Any = await redis_client.xrange(keys.inbound, min=new_ids[0], max=new_ids[0])
    (_entry_id, fields), *_ = found
    assert fields == {ENTRY_FIELD: env.encode()}  # the original fields only, no dead-letter metadata
    assert await letters.count() == 0
    assert await letters.replay(letter.id) is None


async def test_replay_all_and_drop(redis_client: aioredis.Redis, key_prefix: str) -> None:
    keys = Keys(key_prefix)
    for n in range(3):
        await dead_letter_one(redis_client, keys.inbound, envelope(10 + n))
    letters = DeadLetters(redis_client, keys.inbound, keys.dead_letters(keys.inbound))
    first, *_ = await letters.oldest()
    assert await letters.drop(first.id)
    assert not await letters.drop(first.id)
    replayed = await letters.replay_all()
    assert len(replayed) == 2 and await letters.count() == 0
    sids = []
    rows: Any = await redis_client.xrange(keys.inbound)
    for _, fields in rows:
        sids.append(Envelope.decode(fields[ENTRY_FIELD]).fields["MessageSid"])
    # the three originals (acked, still in the stream) and the two replays
    assert sids[-2:] == [f"SM{11:032d}", f"SM{12:032d}"]


def cli(service: str, key_prefix: str, redis_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "REDIS_URL": redis_url, "REDIS_KEY_PREFIX": key_prefix}
    return subprocess.run(
        [sys.executable, "-m", f"services.{service}", "dead-letters", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def test_orders_and_notifier_commands_list_replay_and_drop(
    redis_client: aioredis.Redis, key_prefix: str, redis_url: str
) -> None:
    keys = Keys(key_prefix)
    await dead_letter_one(redis_client, keys.inbound, envelope(20))
    await dead_letter_one(redis_client, keys.inbound, envelope(21))
    await dead_letter_one(redis_client, keys.outbound, envelope(22, kind=REPLY))

    listed = await asyncio.to_thread(cli, "orders", key_prefix, redis_url, "list", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = [orjson.loads(line) for line in listed.stdout.splitlines()]
    assert [r["kind"] for r in rows] == [INBOUND_MESSAGE, INBOUND_MESSAGE]
    assert "2 of 2 dead letter(s)" in listed.stderr

    dropped = await asyncio.to_thread(cli, "orders", key_prefix, redis_url, "drop", rows[0]["id"])
    assert (dropped.returncode, dropped.stdout.strip()) == (0, f"dropped {rows[0]['id']}")
    missing = await asyncio.to_thread(cli, "orders", key_prefix, redis_url, "replay", rows[0]["id"])
    assert missing.returncode == 1 and "no dead letter" in missing.stderr
    replayed = await asyncio.to_thread(cli, "orders", key_prefix, redis_url, "replay", rows[1]["id"])
    assert replayed.returncode == 0 and replayed.stdout.startswith(f"replayed {rows[1]['id']} as ")

    notifier = await asyncio.to_thread(cli, "notifier", key_prefix, redis_url, "list")
    assert notifier.returncode == 0 and REPLY in notifier.stdout
    everything = await asyncio.to_thread(cli, "notifier", key_prefix, redis_url, "replay", "--all")
    assert everything.returncode == 0 and "1 dead letter(s) replayed" in everything.stderr
    assert await redis_client.xlen(keys.dead_letters(keys.outbound)) == 0


def test_ingress_says_it_has_none_and_where_to_look(key_prefix: str, redis_url: str) -> None:
    done = cli("ingress", key_prefix, redis_url, "list")
    assert done.returncode == 2
    assert "ingress has no dead letters" in done.stderr
    assert "python -m services.orders dead-letters list" in done.stderr


def test_a_malformed_id_is_a_usage_error_not_a_redis_error() -> None:
    import subprocess
    import sys

    from tests.conftest import ROOT

    for command in (["replay", "NOPE"], ["drop", "12-x"]):
        done = subprocess.run(
            [sys.executable, "-m", "services.orders", "dead-letters", *command],
            cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert done.returncode == 2
        assert "is not a stream entry id" in done.stderr and "redis error" not in done.stderr


async def test_ids_and_limits_redis_would_refuse_are_usage_errors_and_change_nothing(
    redis_client: aioredis.Redis, key_prefix: str, redis_url: str
) -> None:
    keys = Keys(key_prefix)
    await dead_letter_one(redis_client, keys.inbound, envelope(30))
    dead = keys.dead_letters(keys.inbound)
    before = (await redis_client.xrange(dead), await redis_client.xlen(keys.inbound))
    (dead_id, _fields) = before[0][0]
    ms, seq = dead_id.decode().split("-")
    arabic = "".join(chr(0x0660 + int(d)) for d in ms) + "-" + "".join(chr(0x0660 + int(d)) for d in seq)
    bad_ids = [arabic, dead_id.decode() + "\n", f"{2**64}-0", f"0-{2**64}", f" {dead_id.decode()}"]
    commands = [[verb, bad] for bad, verb in zip(bad_ids, ["replay", "drop"] * 3, strict=False)]
    commands.append(["drop", arabic])
    commands += [["list", "--limit", limit] for limit in ("0", "-1", "1" * 5000, "\u0661")]
    for command in commands:
        done = await asyncio.to_thread(cli, "orders", key_prefix, redis_url, *command)
        assert done.returncode == 2, (command[:2], done.returncode, done.stderr[-300:])
        assert "usage:" in done.stderr and "redis error" not in done.stderr, command[:2]
        assert "Traceback" not in done.stderr, command[:2]
    assert (await redis_client.xrange(dead), await redis_client.xlen(keys.inbound)) == before


async def test_a_dead_letter_with_an_unreadable_failure_time_is_still_listed(
    redis_client: aioredis.Redis, key_prefix: str, redis_url: str
) -> None:
    keys = Keys(key_prefix)
    dead = keys.dead_letters(keys.inbound)
    for failed_at in ("inf", "nan", "1e20", "-1e20", "soon"):
        await redis_client.xadd(
            dead,
            {ENTRY_FIELD: envelope(40).encode(), "error": "boom", "failed_at": failed_at, "deliveries": "5"},
        )
    listed = await asyncio.to_thread(cli, "orders", key_prefix, redis_url, "list")
    assert listed.returncode == 0, listed.stderr[-500:]
    assert listed.stdout.count("failed_at=1970-01-01T00:00:00Z") == 5
    assert "5 of 5 dead letter(s)" in listed.stderr
