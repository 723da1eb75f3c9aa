"""What comes between a question that holds a message (docs/conversation.md, "a message is
applied whole or not at all") and its answer: a checkout summary, the cart expiring, staff
taking the conversation. The held changes never land on a cart or an order the customer did
not mean. Played through the real conversation on a real PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest

from evals.conversations import Dialogue, cart_of, expected_cart
from services.orders.menu.catalog import Menu, demo_menu_path, load_menu_file
from tests.orders.chat import direct_chat

CUSTOMER = "whatsapp:+15557770003"
NOON = dt.datetime(2025, 6, 4, 16, 0, tzinfo=dt.UTC)  # the demo store is open


@pytest.fixture(scope="module")
def menu() -> Menu:
    return load_menu_file(demo_menu_path())


def _cart(menu: Menu, lines: list[str]) -> object:
    return expected_cart(Dialogue("add", ("x",), tuple(lines)), menu)


@pytest.mark.parametrize(
    ("cart", "asking"),
    [
        # a numbered choice (which pizza to remove) holding the coke
        ("margherita and pepperoni", "remove the pizza and add a coke"),
        # a "did you mean" question holding the coke
        ("a margherita", "2 pizza and a coke"),
    ],
)
@pytest.mark.parametrize("confirm", ["confirm", "yes"])
async def test_a_message_held_at_the_summary_drops_the_checkout(
    database_url: str, menu: Menu, cart: str, asking: str, confirm: str
) -> None:
    # the message will change the cart: the summary shown before no longer holds, so a
    # "confirm" next never places the order without what the customer just asked for
    async with direct_chat(database_url, start=NOON) as chat:
        for text in [cart, "checkout", "pickup", asking, confirm]:
            await chat.say(text, customer=CUSTOMER)
        orders = await chat.sql("SELECT count(*) AS n FROM orders")
    assert orders == [{"n": 0}]


async def test_a_choice_held_before_the_cart_expired_adds_nothing(database_url: str, menu: Menu) -> None:
    async with direct_chat(database_url, start=NOON, cart_ttl_s=3600) as chat:
        for text in ["margherita and pepperoni", "remove the pizza and add a coke"]:
            await chat.say(text, customer=CUSTOMER)
        chat.clock.advance(dt.timedelta(hours=2))
        await chat.say("1", customer=CUSTOMER)
        assert await cart_of(chat, menu, CUSTOMER) == _cart(menu, [])


async def test_a_choice_held_before_staff_took_over_is_dropped(database_url: str, menu: Menu) -> None:
    # staff see the cart and take it from there: "1" after they hand back is no answer to a
    # question asked before them
    path = f"/api/v1/conversations/{CUSTOMER}/handoff"
    async with direct_chat(database_url, start=NOON) as chat:
        for text in ["margherita and pepperoni", "remove the pizza and add a coke"]:
            await chat.say(text, customer=CUSTOMER)
        assert (await chat.staff("POST", path, customer=CUSTOMER))[0] == 200
        assert (await chat.staff("DELETE", path, customer=CUSTOMER))[0] == 200
        await chat.say("1", customer=CUSTOMER)
        assert await cart_of(chat, menu, CUSTOMER) == _cart(menu, ["1 margherita", "1 pepperoni"])
