"""What the conversation records for the dashboard: what each message did to the cart
(`inbox.cart_change`), so an order's card quotes the messages that made it, and allergy or
diet notes classified when the order is placed (`notes_flag`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import pytest

from services.orders.storage.carts import CartMark, cart_change
from services.orders.web.dashboard import queries
from tests.orders.chat import DirectChat, direct_chat


@pytest.fixture
async def chat(database_url: str) -> AsyncIterator[DirectChat]:
    async with direct_chat(database_url) as c:
        yield c


async def said(chat: DirectChat, *lines: str) -> None:
    """The customer sends `lines`, a few seconds apart (messages are ordered by when they came)."""
    for line in lines:
        chat.clock.advance(dt.timedelta(seconds=5))
        await chat.say(line)


async def changes(chat: DirectChat) -> list[tuple[str, str | None]]:
    rows = await chat.sql("SELECT body, cart_change FROM inbox ORDER BY received_at")
    return [(r["body"], r["cart_change"]) for r in rows]


async def ticket(chat: DirectChat, number: int | None = None) -> dict[str, Any]:
    async with chat.pool.connection() as conn:
        (store,) = await (await conn.execute("SELECT id FROM stores")).fetchall()
        (order,) = await (
            await conn.execute(
                "SELECT id FROM orders WHERE number = COALESCE(%s, (SELECT max(number) FROM orders))",
                (number,),
            )
        ).fetchall()
        found = await queries.ticket(conn, int(store["id"]), int(order["id"]))
        await conn.rollback()
    assert found is not None
    return found


def test_what_a_turn_did_to_the_cart() -> None:
    empty, one = CartMark(frozenset(), "e"), CartMark(frozenset({1}), "a")
    assert cart_change(empty, empty) is None
    assert cart_change(one, one) is None
    assert cart_change(empty, one) == "started"
    assert cart_change(one, CartMark(frozenset({1}), "b")) == "changed"
    assert cart_change(one, CartMark(frozenset({1, 2}), "c")) == "changed"
    assert cart_change(one, CartMark(frozenset({2}), "d")) == "started"  # nothing of the old cart left
    assert cart_change(one, empty) == "emptied"


async def test_the_card_quotes_the_messages_that_changed_the_cart(chat: DirectChat) -> None:
    await said(
        chat,
        "hi",
        "2 large pepperoni with extra cheese",
        "do you deliver to brooklyn?",
        "1 coke",
        "change 1 to 2",  # line 1 already has 2: nothing changes
        "remove 4",  # there is no line 4
        "cart",
        "checkout",
        "pickup",
        "confirm",
    )
    assert dict(await changes(chat)) == {
        "hi": None,
        "2 large pepperoni with extra cheese": "started",
        "do you deliver to brooklyn?": None,
        "1 coke": "changed",
        "change 1 to 2": None,
        "remove 4": None,
        "cart": None,
        "checkout": None,
        "pickup": None,
        "confirm": "emptied",
    }
    assert (await ticket(chat))["words"] == ["2 large pepperoni with extra cheese", "1 coke"]


async def test_a_new_cart_starts_the_words_again(chat: DirectChat) -> None:
    await said(chat, "1 coke", "checkout", "pickup", "confirm")  # a first order
    await said(
        chat,
        "1 tiramisu",
        "clear",
        "yes",
        "2 margherita",
        "remove 1",
        "1 veggie",
        "checkout",
        "pickup",
        "confirm",
    )
    second = await ticket(chat)
    assert [line["name"] for line in second["lines"]] == ["Veggie"]
    # The cart was emptied twice ("clear", "remove 1"): only what built the last one is quoted.
    assert second["words"] == ["1 veggie"]
    first = await ticket(chat, second["number"] - 1)
    assert first["words"] == ["1 coke"]


async def test_an_allergy_note_is_flagged_on_the_order(chat: DirectChat) -> None:
    await said(chat, "2 margherita", "I'm allergic to peanuts", "checkout", "pickup", "confirm")
    (order,) = await chat.sql("SELECT notes, notes_flag FROM orders")
    assert order == {"notes": "I'm allergic to peanuts", "notes_flag": "allergy"}
    t = await ticket(chat)
    assert t["flag_kind"] == "allergy" and t["notes_flag"] == "allergy"
    assert t["words"] == ["2 margherita"]  # the allergy changed no line; it is on the order


async def test_an_ordinary_note_is_not_flagged(chat: DirectChat) -> None:
    await said(chat, "1 coke", "note: ring the bell twice", "checkout", "pickup", "confirm")
    (order,) = await chat.sql("SELECT notes, notes_flag FROM orders")
    assert order == {"notes": "ring the bell twice", "notes_flag": None}
    assert (await ticket(chat))["flag_kind"] is None
