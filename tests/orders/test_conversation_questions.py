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


@pytest.mark.parametrize("text", ["do you have pepsi?", "do you have a fanta?"])
async def test_a_drink_the_menu_does_not_have_is_answered_with_its_drinks(
    chat: DirectChat, text: str
) -> None:
    (reply,) = await chat.say(text)
    assert "Added" not in reply
    assert "couldn't find" in reply and "Sprite $2.50" in reply, reply
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


# -- questions about an option, a topping, a crust or an item: answered, the cart untouched ----
CART = "SELECT item_code, quantity, options FROM cart_lines ORDER BY id"


async def _cart(chat: DirectChat) -> list[tuple[str, int, list[str]]]:
    return [
        (row["item_code"], row["quantity"], [o["option"] for o in row["options"]])
        for row in await chat.sql(CART)
    ]


@pytest.mark.parametrize(
    ("first", "question", "said", "never"),
    [
        (
            "1 large pepperoni",
            "do you have thin crust?",
            ["thin crust (no extra cost) for pizzas", "say *thin crust*"],
            "Updated",
        ),
        (
            "1 large pepperoni",
            "do you have gluten free crust?",
            ["gluten-free crust (+$2.50) for pizzas"],
            "Updated",
        ),
        (
            "1 large pepperoni",
            "do you have anything gluten free?",
            ["gluten-free crust (+$2.50)", "send *agent*"],
            "Noted",
        ),
        ("una pepperoni grande", "tienen masa delgada?", ["masa delgada (sin costo extra)"], "Cuál"),
        (
            "uma pepperoni grande",
            "vocês têm massa sem glúten?",
            ["massa sem glúten (+US$ 2,50)"],
            "Atualizei",
        ),
    ],
)
async def test_a_question_about_an_option_is_answered_and_changes_nothing(
    chat: DirectChat, first: str, question: str, said: list[str], never: str
) -> None:
    await chat.say(first)
    before = await _cart(chat)
    ((kind, reply),) = await chat.replies(question)
    assert kind == "menu"
    for words in said:
        assert words in reply
    assert never not in reply
    assert await _cart(chat) == before == [("pepperoni", 1, ["large"])]
    assert "note" not in str(await chat.sql("SELECT state FROM customers"))


@pytest.mark.parametrize(
    ("first", "question", "said"),
    [
        (
            "1 large pepperoni",
            "is there pineapple on the hawaiian?",
            "Yes, the Hawaiian comes with pineapple",
        ),
        ("una pepperoni grande", "la hawaiana lleva piña?", "Hawaiana lleva piña"),
        ("uma pepperoni grande", "a havaiana vem com abacaxi?", "Havaiana vem com abacaxi"),
    ],
)
async def test_a_question_about_a_topping_of_an_item_is_answered_and_adds_nothing(
    chat: DirectChat, first: str, question: str, said: str
) -> None:
    await chat.say(first)
    ((kind, reply),) = await chat.replies(question)
    assert kind == "item-info"
    assert said in reply
    assert await _cart(chat) == [("pepperoni", 1, ["large"])]


async def test_a_topping_an_item_does_not_come_with_is_offered_with_its_price(chat: DirectChat) -> None:
    await chat.say("1 large pepperoni")
    ((kind, reply),) = await chat.replies("does the margherita come with mushrooms?")
    assert kind == "item-info"
    assert "The Margherita doesn't come with mushrooms; you can add it for +$1.00" in reply
    assert await _cart(chat) == [("pepperoni", 1, ["large"])]


async def test_an_option_an_item_cannot_have_is_said_so(chat: DirectChat) -> None:
    await chat.say("1 large pepperoni")
    ((kind, reply),) = await chat.replies("does the coke come with pineapple?")
    assert kind == "item-info"
    assert "Sorry, we don't have pineapple for the Coke" in reply
    ((kind, reply),) = await chat.replies("does the garden salad have cucumber?")
    assert "Yes, the Garden Salad comes with cucumber" in reply
    assert await _cart(chat) == [("pepperoni", 1, ["large"])]


async def test_a_request_phrased_as_a_question_still_changes_the_line(chat: DirectChat) -> None:
    await chat.say("1 large pepperoni")
    (reply,) = await chat.say("can I get thin crust?")
    assert "Updated 1 x Pepperoni (Large, Thin crust)" in reply


async def test_home_delivery_is_no_place_name(chat: DirectChat) -> None:
    await chat.say("una pepperoni grande")
    ((kind, reply),) = await chat.replies("hacen entregas a domicilio?")
    assert kind == "delivery-area"
    assert "domicilio" not in reply
    assert "Hacemos envíos" in reply
