"""The order state machine (every pair of statuses, both fulfilments), its history, and the
customer's notification under WhatsApp's 24-hour rule, against a real PostgreSQL."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from services.orders.ordering import lifecycle
from tests.orders.chat import CUSTOMER, DirectChat, direct_chat

DATA = Path(__file__).resolve().parent.parent / "data"

VALID = {
    "delivery": {
        ("placed", "confirmed"),
        ("confirmed", "preparing"),
        ("preparing", "ready"),
        ("ready", "out_for_delivery"),
        ("out_for_delivery", "delivered"),
    },
    "pickup": {
        ("placed", "confirmed"),
        ("confirmed", "preparing"),
        ("preparing", "ready"),
        ("ready", "picked_up"),
    },
}
CANCELLABLE = {"placed", "confirmed", "preparing", "ready", "out_for_delivery"}


def expected_valid(fulfilment: str, current: str, wanted: str) -> bool:
    if wanted == "cancelled":
        return current in CANCELLABLE
    return (current, wanted) in VALID[fulfilment]


@pytest.mark.parametrize("fulfilment", ["delivery", "pickup"])
@pytest.mark.parametrize(("current", "wanted"), list(itertools.product(lifecycle.STATUSES, repeat=2)))
def test_every_pair_of_statuses(fulfilment: str, current: str, wanted: str) -> None:
    if expected_valid(fulfilment, current, wanted):
        lifecycle.check_transition(1001, current, wanted, fulfilment, "a reason")
    else:
        with pytest.raises(lifecycle.InvalidTransition) as info:
            lifecycle.check_transition(1001, current, wanted, fulfilment, "a reason")
        assert "#1001" in str(info.value)


def test_unknown_status_and_cancel_without_reason_are_refused() -> None:
    with pytest.raises(lifecycle.InvalidTransition, match="unknown status 'eaten'"):
        lifecycle.check_transition(1001, "placed", "eaten", "delivery", "")
    with pytest.raises(lifecycle.InvalidTransition, match="needs a reason"):
        lifecycle.check_transition(1001, "placed", "cancelled", "delivery", "  ")


def test_the_message_names_what_is_allowed() -> None:
    with pytest.raises(lifecycle.InvalidTransition) as info:
        lifecycle.check_transition(1002, "ready", "delivered", "pickup", "")
    assert "(a pickup order) cannot go from ready to delivered" in str(info.value)
    assert info.value.allowed == ["picked_up", "cancelled"]


@pytest.fixture
async def chat(database_url: str) -> AsyncIterator[DirectChat]:
    async with direct_chat(database_url, menu_file=DATA / "stores" / "templates.yaml") as c:
        yield c


async def place(chat: DirectChat, fulfilment: str = "pickup", customer: str = CUSTOMER) -> int:
    """Order 2 margherita for pickup (or delivery) as `customer`; returns the order number."""
    await chat.say("2 margherita", customer=customer)
    await chat.say("checkout", customer=customer)
    if fulfilment == "delivery":
        await chat.say("delivery", customer=customer)
        await chat.say("12 Main Street", customer=customer)
    else:
        await chat.say("pickup", customer=customer)
    (reply,) = await chat.say("confirm", customer=customer)
    number = int(reply.split("#")[1].split("*")[0])
    return number


async def move(
    chat: DirectChat, number: int, to: str, reason: str = ""
) -> tuple[int, dict[str, object], list[str]]:
    status, body, sent = await chat.staff(
        "POST", f"/api/v1/orders/{number}/transitions", {"to": to, "reason": reason}
    )
    return status, body, sent


async def test_delivery_order_walks_to_delivered_with_history_and_a_message_each_step(
    chat: DirectChat,
) -> None:
    number = await place(chat, "delivery")
    texts = {}
    for to in ("confirmed", "preparing", "ready", "out_for_delivery", "delivered"):
        status, body, sent = await move(chat, number, to)
        assert status == 200, body
        assert body["status"] == to
        assert len(sent) == 1
        texts[to] = sent[0]
    assert "on its way" in texts["out_for_delivery"]
    assert "delivered" in texts["delivered"]
    status, body, _ = await move(chat, number, "cancelled", "too late")
    assert status == 409 and "finished order" in body["error"]
    _, order, _ = await chat.staff("GET", f"/api/v1/orders/{number}")
    assert [(h["from"], h["to"], h["actor"]) for h in order["history"]] == [
        (None, "placed", "customer"),
        ("placed", "confirmed", "staff"),
        ("confirmed", "preparing", "staff"),
        ("preparing", "ready", "staff"),
        ("ready", "out_for_delivery", "staff"),
        ("out_for_delivery", "delivered", "staff"),
    ]
    assert [m["purpose"] for m in order["messages"]] == [
        "status:confirmed",
        "status:preparing",
        "status:ready",
        "status:out_for_delivery",
        "status:delivered",
    ]
    assert all(m["status"] == "pending" and m["kind"] == "text" for m in order["messages"])


async def test_pickup_order_cannot_go_out_for_delivery(chat: DirectChat) -> None:
    number = await place(chat, "pickup")
    for to in ("confirmed", "preparing", "ready"):
        assert (await move(chat, number, to))[0] == 200
    status, body, sent = await move(chat, number, "out_for_delivery")
    assert status == 409 and body["allowed"] == ["picked_up", "cancelled"] and sent == []
    status, body, sent = await move(chat, number, "picked_up")
    assert status == 200 and "picking up" in sent[0]


async def test_cancel_records_the_reason_and_tells_the_customer(chat: DirectChat) -> None:
    number = await place(chat)
    status, body, sent = await move(chat, number, "cancelled", "we ran out of dough")
    assert status == 200
    assert sent == [f"❌ Your order #{number} was cancelled: we ran out of dough."]
    assert body["history"][-1]["reason"] == "we ran out of dough"
    rows = await chat.sql(
        "SELECT to_status, reason, actor FROM order_status_history ORDER BY id DESC LIMIT 1"
    )
    assert rows == [{"to_status": "cancelled", "reason": "we ran out of dough", "actor": "staff"}]


async def age_last_message(chat: DirectChat, hours: float) -> None:
    """Pretend the customer last wrote `hours` ago (the staff API runs on the real clock)."""
    await chat.sql("UPDATE customers SET last_inbound_at = now() - %s * interval '1 hour'", hours)


async def test_outside_the_window_a_configured_template_is_sent(chat: DirectChat) -> None:
    number = await place(chat)
    await age_last_message(chat, 25)
    status, order, sent = await move(chat, number, "confirmed")
    assert status == 200
    assert sent == [
        '[template HXconfirmed00000000000000000000000 {"1":"' + str(number) + '","2":"Templates Pizza"}]'
    ]
    message = order["messages"][-1]
    assert message["kind"] == "template" and message["body"] is None and message["status"] == "pending"


async def test_outside_the_window_without_a_template_the_message_is_recorded_not_sent(
    chat: DirectChat,
) -> None:
    number = await place(chat)
    await age_last_message(chat, 25)
    await move(chat, number, "confirmed")
    status, order, sent = await move(chat, number, "preparing")
    assert status == 200 and sent == []  # nothing goes to Twilio
    message = order["messages"][-1]
    assert message["purpose"] == "status:preparing"
    assert message["status"] == "not_sent" and "24-hour" in message["error_message"]
    assert message["body"] == f"👩‍🍳 We're preparing your order #{number} now."


async def test_inside_the_window_free_text_is_sent_even_when_a_template_exists(chat: DirectChat) -> None:
    number = await place(chat)
    await age_last_message(chat, 23)
    _, order, sent = await move(chat, number, "confirmed")
    assert sent == [f"👍 Templates Pizza confirmed your order #{number}."]
    assert order["messages"][-1]["kind"] == "text"


async def test_an_opted_out_customer_gets_no_notification(chat: DirectChat) -> None:
    number = await place(chat)
    assert await chat.say("STOP") != []
    status, order, sent = await move(chat, number, "confirmed")
    assert status == 200 and sent == [] and order["messages"] == []


async def test_transitions_count_in_metrics(chat: DirectChat) -> None:
    from libs import metrics

    number = await place(chat)
    before = metrics.ORDER_TRANSITIONS.labels("confirmed")._value.get()
    await move(chat, number, "confirmed")
    assert metrics.ORDER_TRANSITIONS.labels("confirmed")._value.get() == before + 1


async def test_a_not_sent_row_leaves_no_gap_in_the_reply_sequence(chat: DirectChat) -> None:
    number = await place(chat)
    await age_last_message(chat, 25)
    await move(chat, number, "confirmed")  # template, seq n
    await move(chat, number, "preparing")  # no template: not_sent
    await chat.say("status")  # a reply, seq n + 1
    rows = await chat.sql("SELECT seq, status, purpose FROM outbox ORDER BY id")
    sent = [r["seq"] for r in rows if r["status"] != "not_sent"]
    assert sent == list(range(1, len(sent) + 1))
    (skipped,) = [r for r in rows if r["status"] == "not_sent"]
    assert skipped["seq"] < 0 and skipped["purpose"] == "status:preparing"
