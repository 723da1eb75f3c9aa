"""One customer's backlog of replies cannot hold another customer's reply behind it."""

from __future__ import annotations

from tests.notifier.conftest import Bench

FLOOD = "whatsapp:+15551230011"
OTHER = "whatsapp:+15551230012"


async def test_another_customers_reply_goes_out_before_a_flood_is_through(bench: Bench) -> None:
    """300 replies of one customer, then one of another. A consumer that took batches of 64 and
    waited for each whole batch sent it after about 256 of the flood; lanes that never wait for
    each other send it among the first."""
    await bench.sandbox.fault("slow", count=300, delay_s=0.005)  # every call takes a moment
    for seq in range(1, 301):
        await bench.publish(str(seq), FLOOD, seq, f"part {seq}")
    await bench.publish("9999", OTHER, 1, "your reply")
    await bench.start()

    messages = await bench.sandbox.wait_messages(301, within_s=60)
    order = [m["to"] for m in messages]
    assert order.index(OTHER) < 40, order.index(OTHER)
    assert [m["body"] for m in messages if m["to"] == FLOOD] == [f"part {n}" for n in range(1, 301)]
