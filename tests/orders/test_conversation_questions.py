"""Messages that name an item without ordering it: a word that only starts a menu name, a
question about an item, and an allergy or diet said without an item."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.orders.chat import DirectChat, direct_chat

SALAD_LINE = "SELECT item_code, quantity, notes FROM cart_lines ORDER BY id"


@pytest.fixture
async def chat(database_url: str) -> AsyncIterator[DirectChat]:
    async with direct_chat(database_url) as c:
        yield c


@pytest.mark.parametrize(
    "text",
    ["the quick brown fox jumps over the lazy dog again and again and again", "the brown dog"],
)
async def test_a_word_that_only_starts_an_item_name_is_asked_about(chat: DirectChat, text: str) -> None:
    (reply,) = await chat.say(text)
    assert "Added" not in reply
    assert 'couldn\'t find "brown"' in reply
    assert "Did you mean *Chocolate Brownie*?" in reply
    assert await chat.sql(SALAD_LINE) == []


async def test_a_quantity_still_orders_the_guessed_item(chat: DirectChat) -> None:
    (reply,) = await chat.say("2 brown")
    assert "Added 2 x Chocolate Brownie" in reply


@pytest.mark.parametrize(
    "text",
    [
        "is the salad vegan",
        "is the salad vegan?",
        "does the garden salad have cucumber?",
    ],
)
async def test_a_question_naming_an_item_gets_its_details(chat: DirectChat, text: str) -> None:
    (reply,) = await chat.say(text)
    assert "Added" not in reply
    assert "*Garden Salad* $5.50" in reply
    assert "To add it: *1 garden salad*" in reply
    assert await chat.sql(SALAD_LINE) == []


@pytest.mark.parametrize(
    "text", ["how much is the salad", "what does a garden salad cost?", "price of the salad"]
)
async def test_a_price_question_gets_the_price_and_adds_nothing(chat: DirectChat, text: str) -> None:
    (reply,) = await chat.say(text)
    assert "Added" not in reply
    assert "Garden Salad: $5.50" in reply
    assert await chat.sql(SALAD_LINE) == []


@pytest.mark.parametrize("text", ["can I get a garden salad?", "3 garden salads?", "could you add a salad?"])
async def test_a_request_phrased_as_a_question_is_an_order(chat: DirectChat, text: str) -> None:
    (reply,) = await chat.say(text)
    assert "Added" in reply and "Garden Salad" in reply


async def test_a_question_about_a_diet_points_to_the_team(chat: DirectChat) -> None:
    (reply,) = await chat.say("is the salad vegan")
    assert "send *agent*" in reply


@pytest.mark.parametrize("text", ["I am allergic to nuts", "I'm vegan", "gluten free please"])
async def test_an_allergy_without_an_item_is_a_note_for_the_whole_order(chat: DirectChat, text: str) -> None:
    await chat.say("1 garden salad")
    (reply,) = await chat.say(text)
    assert "Updated" not in reply
    assert f"Noted for your whole order: {text}" in reply
    assert await chat.sql(SALAD_LINE) == [{"item_code": "salad", "quantity": 1, "notes": ""}]
    await chat.say("checkout")
    (summary,) = await chat.say("pickup")
    assert text in summary


async def test_allergy_notes_add_up(chat: DirectChat) -> None:
    await chat.say("1 garden salad")
    await chat.say("I am allergic to nuts")
    (reply,) = await chat.say("we are vegetarian")
    assert "Noted for your whole order" in reply
    await chat.say("checkout")
    (summary,) = await chat.say("pickup")
    assert "I am allergic to nuts; we are vegetarian" in summary


async def test_options_without_an_item_still_change_the_line(chat: DirectChat) -> None:
    await chat.say("1 margherita")
    (reply,) = await chat.say("make it gluten free crust")
    assert "Updated 1 x Margherita (Gluten-free crust)" in reply


async def test_a_diet_said_with_an_order_notes_it_and_adds_the_rest(chat: DirectChat) -> None:
    (reply,) = await chat.say("we are vegetarian, 2 garden salads please")
    assert "Noted for your whole order" in reply
    assert "Added 2 x Garden Salad" in reply
    assert await chat.sql(SALAD_LINE) == [{"item_code": "salad", "quantity": 2, "notes": ""}]
