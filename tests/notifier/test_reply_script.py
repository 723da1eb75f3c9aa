"""What one reply leaves in Redis on its way out: send state, the customer's cursor, the pace.

These hold whether the steps are taken as separate commands or in one script per reply: one
token per call made and none for a reply that is not sent now, `sending` recorded only after
the pace wait (so a call's busy window starts when the call does), the cursor marked seen
while a reply waits for its turn, and nothing recorded for a paused sender.
"""

from __future__ import annotations

import asyncio

from services.notifier.cursor import CustomerCursor
from tests.notifier.conftest import BOT, Bench, pending, wait_for

A = "whatsapp:+15551240001"
B = "whatsapp:+15551240002"
C = "whatsapp:+15551240003"


async def _fields(bench: Bench, key: str) -> dict[str, str]:
    raw = await bench.redis.hgetall(key)
    return {k.decode(): v.decode() for k, v in raw.items()}


async def _no_pending(bench: Bench) -> bool:
    return await pending(bench.redis, bench.keys) == 0


async def test_a_sent_reply_takes_one_token_and_leaves_its_state_and_cursor(bench: Bench) -> None:
    runtime = await bench.start(TWILIO_SEND_RATE_PER_SECOND="10", TWILIO_SEND_BURST="1")
    for i, customer in enumerate((A, B, C), start=1):
        await bench.publish(f"r{i}", customer, 1, f"hello {i}")
    await bench.results(3)
    calls = await bench.sandbox.calls()
    assert len(calls) == 3
    # One token each at 10/s with no burst: the calls are 100 ms apart.
    ats = sorted(c["at"] for c in calls)
    assert ats[2] - ats[0] >= 0.18
    bucket = await _fields(bench, bench.keys.token_bucket(BOT))
    last = max([int((await _fields(bench, bench.keys.send_state(f"r{i}")))["started_us"]) for i in (1, 2, 3)])
    # The bucket's next free slot is one interval after the last reservation.
    assert 0 < int(bucket["tat"]) - last <= 100_000 + 20_000
    for i, customer in enumerate((A, B, C), start=1):
        state = await _fields(bench, bench.keys.send_state(f"r{i}"))
        assert state["state"] == "sent" and state["attempts"] == "1" and state["safe"] == "0"
        assert state["owner"] == runtime.sender.consumer
        assert (state["to"], state["seq"]) == (customer, "1")
        assert state["since_us"] == state["started_us"]
        assert int(state["first_seen_us"]) <= int(state["started_us"])
        assert await _fields(bench, bench.keys.customer_cursor(customer)) == {"seq": "1"}
    await wait_for(lambda: _no_pending(bench), what="acks")


async def test_sending_is_recorded_after_the_pace_wait(bench: Bench) -> None:
    await bench.start(TWILIO_SEND_RATE_PER_SECOND="2", TWILIO_SEND_BURST="1")
    await bench.publish("p1", A, 1, "first")
    await bench.results(1)
    await bench.publish("p2", B, 1, "second")
    await bench.results(2)
    first = await _fields(bench, bench.keys.send_state("p1"))
    second = await _fields(bench, bench.keys.send_state("p2"))
    # The second waited for its slot (0.5 s after the first): its attempt began after the wait,
    # not when the token was reserved, and it was first seen before that.
    assert int(second["started_us"]) - int(first["started_us"]) >= 450_000
    assert int(second["started_us"]) - int(second["first_seen_us"]) >= 200_000


async def test_a_reply_waiting_for_its_turn_is_marked_seen_and_takes_no_token(bench: Bench) -> None:
    await bench.start(NOTIFIER_ORDER_GAP_TIMEOUT_SECONDS="30", NOTIFIER_ORDER_WAIT_SECONDS="0.1")
    # The customer has a position (0) and reply 1 was seen elsewhere: reply 2 must wait.
    cursor = bench.keys.customer_cursor(A)
    now = int((await bench.redis.time())[0])
    await bench.redis.hset(cursor, mapping={"seq": 0, "s:1": now})
    await bench.publish("w2", A, 2, "second")

    async def marked() -> bool:
        return "s:2" in await _fields(bench, cursor)

    await wait_for(marked, what="reply 2 marked seen")
    await asyncio.sleep(0.3)
    assert await bench.sandbox.calls() == []
    assert not await bench.redis.exists(bench.keys.token_bucket(BOT))
    state = await _fields(bench, bench.keys.send_state("w2"))
    assert "state" not in state and "first_seen_us" in state

    # Reply 1 is settled by another replica: reply 2 goes then.
    await CustomerCursor(bench.redis, bench.keys.customer_cursor, ttl_s=86400).finish(A, 1)
    await bench.results(1)
    assert [m["body"] for m in await bench.sandbox.messages()] == ["second"]
    assert await _fields(bench, cursor) == {"seq": "2"}
    assert "tat" in await _fields(bench, bench.keys.token_bucket(BOT))


async def test_a_settled_reply_is_reported_again_without_a_token_or_a_mark(bench: Bench) -> None:
    await bench.redis.hset(
        bench.keys.send_state("f1"), mapping={"state": "sent", "sid": "SM" + "0" * 32, "attempts": 1}
    )
    await bench.start()
    await bench.publish("f1", A, 1, "already sent")
    [result] = await bench.results(1)
    assert (result["outcome"], result["MessageSid"]) == ("sent", "SM" + "0" * 32)
    assert await bench.sandbox.calls() == []
    assert not await bench.redis.exists(bench.keys.token_bucket(BOT))
    state = await _fields(bench, bench.keys.send_state("f1"))
    assert "first_seen_us" not in state
    assert await _fields(bench, bench.keys.customer_cursor(A)) == {"seq": "1"}


async def test_a_paused_sender_records_no_attempt(bench: Bench) -> None:
    bucket = bench.keys.token_bucket(BOT)
    seconds, micros = await bench.redis.time()
    await bench.redis.hset(bucket, "paused_until", int(seconds) * 1_000_000 + int(micros) + 1_500_000)
    await bench.redis.pexpire(bucket, 5000)
    await bench.start()
    await bench.publish("z1", A, 1, "later")

    async def seen() -> bool:
        return "first_seen_us" in await _fields(bench, bench.keys.send_state("z1"))

    await wait_for(seen, what="the reply seen")
    await asyncio.sleep(0.3)
    state = await _fields(bench, bench.keys.send_state("z1"))
    assert "state" not in state and "attempts" not in state
    assert await bench.sandbox.calls() == []
    assert "tat" not in await _fields(bench, bucket)
    # Once the pause is over it goes, with one token.
    [result] = await bench.results(1)
    assert result["outcome"] == "sent"
    assert len(await bench.sandbox.calls()) == 1


async def test_an_attempt_left_unresolved_is_looked_up_before_any_token(bench: Bench) -> None:
    # A dead process (no lease) began an attempt long ago and nothing says how it ended.
    seconds, _ = await bench.redis.time()
    started = (int(seconds) - 600) * 1_000_000
    await bench.redis.hset(
        bench.keys.send_state("u1"),
        mapping={
            "state": "sending",
            "safe": 0,
            "attempt": "old",
            "owner": "notifier-dead",
            "started_us": started,
            "since_us": started,
            "first_seen_us": started,
            "attempts": 1,
            "to": A,
            "seq": 1,
        },
    )
    await bench.start(TWILIO_RECONCILE_SETTLE_SECONDS="0.5")
    await bench.publish("u1", A, 1, "unresolved")

    async def looking_up() -> bool:
        return "lookup_owner" in await _fields(bench, bench.keys.send_state("u1"))

    await wait_for(looking_up, what="the look-up taken")
    assert not await bench.redis.exists(bench.keys.token_bucket(BOT))
    [result] = await bench.results(1)
    assert result["outcome"] == "sent"
    assert len(await bench.sandbox.reads()) >= 1
    # Not found at Twilio, so sent once, with a token.
    assert len(await bench.sandbox.calls()) == 1
    assert "tat" in await _fields(bench, bench.keys.token_bucket(BOT))
