"""Redis restarted empty (a Key Value instance replaced): replies resume at once, one warning."""

from __future__ import annotations

import logging

import pytest

from tests.notifier.conftest import Bench

CUSTOMER = "whatsapp:+15551230009"


async def test_replies_resume_at_once_after_redis_lost_its_data(
    bench: Bench, key_prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The customer's cursor stood at 2 and is gone with the rest; reply 3 must not wait for
    the gap timeout (10 minutes here) for replies 1 and 2 that no notifier will see again."""
    await bench.start(NOTIFIER_ORDER_GAP_TIMEOUT_SECONDS="600")
    for seq in (1, 2):
        await bench.publish(str(seq), CUSTOMER, seq, f"reply {seq}")
    await bench.sandbox.wait_messages(2)
    caplog.clear()
    caplog.set_level(logging.INFO)
    await bench.redis.delete(*[k async for k in bench.redis.scan_iter(match=f"{key_prefix}:*")])

    await bench.publish("3", CUSTOMER, 3, "reply 3")
    messages = await bench.sandbox.wait_messages(3, within_s=15)
    assert [m["body"] for m in messages] == ["reply 1", "reply 2", "reply 3"]
    noisy = [(r.name, r.getMessage()) for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(noisy) == 1 and noisy[0][1].startswith("Redis lost its data (restarted empty?)"), noisy
