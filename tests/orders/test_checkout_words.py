"""What real customers write around checkout, in English, Spanish and Portuguese (Brazil): a yes
said with a confirm at the summary places the order; pickup and delivery (with its address) said
in words; questions at the summary and "how much?" after a delivery question; a short word of
either language; an ingredient taken off the only pizza; an emptied cart said once."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from evals.conversations import NOON
from tests.orders.chat import DirectChat, direct_chat

ORDERS = "SELECT fulfilment, delivery_address FROM orders ORDER BY id"
# (what to order, how to check out, how to pick it up) in each language
TO_SUMMARY = {
    "en": ["a pepperoni", "checkout", "pickup"],
    "es": ["una pepperoni", "pagar", "recoger"],
    "pt": ["uma pepperoni", "finalizar", "retirar"],
}


@pytest.fixture
async def chat(database_url: str) -> AsyncIterator[DirectChat]:
    async with direct_chat(database_url, start=NOON) as c:
        yield c


async def _last_reply(chat: DirectChat, turns: list[str]) -> str:
    """Say `turns` one after the other; the reply to the last one."""
    replies = [reply for text in turns for reply in await chat.say(text)]
    return replies[-1]


async def _at_summary(chat: DirectChat, language: str) -> None:
    assert "Subtotal" in await _last_reply(chat, TO_SUMMARY[language])


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "yes, confirm"),
        ("en", "yes confirm it"),
        ("en", "yes please confirm"),
        ("en", "ok, confirm the order please"),
        ("es", "sí, confirmo"),
        ("es", "sí, confírmalo"),
        ("es", "dale, confirmá"),
        ("es", "si, confirma el pedido por favor"),
        ("pt", "sim, confirma"),
        ("pt", "sim, pode confirmar"),
        ("pt", "pode confirmar o pedido"),
    ],
)
async def test_a_yes_with_a_confirm_places_the_order(chat: DirectChat, language: str, text: str) -> None:
    await _at_summary(chat, language)
    (reply,) = await chat.say(text)
    assert "#" in reply and "*" in reply, reply
    assert await chat.sql(ORDERS) == [{"fulfilment": "pickup", "delivery_address": None}]


# (what to order, how to check out) in each language: then the "how do you want it?" question
TO_FULFILMENT = {language: turns[:2] for language, turns in TO_SUMMARY.items()}


async def _at_fulfilment(chat: DirectChat, language: str) -> None:
    assert "1 / 2" in await _last_reply(chat, TO_FULFILMENT[language])


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("es", "paso a recogerla"),
        ("es", "voy a pasar por ella"),
        ("es", "yo la recojo"),
        ("pt", "vou retirar aí"),
        ("pt", "vou buscar"),
        ("pt", "eu busco aí"),
        ("en", "i'll pick it up"),
        ("en", "I'll come get it"),
        ("en", "we'll collect it"),
    ],
)
async def test_saying_one_will_come_for_it_is_pickup(chat: DirectChat, language: str, text: str) -> None:
    await _at_fulfilment(chat, language)
    (reply,) = await chat.say(text)
    assert "Demo Pizzeria" in reply and "Subtotal" in reply, reply
    (summary,) = await chat.say({"en": "confirm", "es": "confirmar", "pt": "confirmar"}[language])
    assert await chat.sql(ORDERS) == [{"fulfilment": "pickup", "delivery_address": None}], summary


@pytest.mark.parametrize(
    ("language", "text", "address"),
    [
        ("es", "a domicilio porfa, 250 Court Street, Brooklyn 11201", "250 Court Street, Brooklyn 11201"),
        ("pt", "entrega no endereço Rua Henry 123, 11201", "Rua Henry 123, 11201"),
        ("en", "deliver to 12 Main St, Brooklyn 11201", "12 Main St, Brooklyn 11201"),
        ("en", "delivery please: 75 Smith St 11201", "75 Smith St 11201"),
    ],
)
async def test_delivery_said_with_the_address_uses_that_address(
    chat: DirectChat, language: str, text: str, address: str
) -> None:
    await _at_fulfilment(chat, language)
    (reply,) = await chat.say(text)
    assert address in reply and "Subtotal" in reply, reply
    await chat.say({"en": "confirm", "es": "confirmar", "pt": "confirmar"}[language])
    assert await chat.sql(ORDERS) == [{"fulfilment": "delivery", "delivery_address": address}]


async def test_delivery_said_with_an_address_outside_the_area_is_refused(chat: DirectChat) -> None:
    await _at_fulfilment(chat, "en")
    (reply,) = await chat.say("deliver to 1 Market St, San Francisco 94105")
    assert "outside our delivery area" in reply, reply
    (reply,) = await chat.say("12 Main St, Brooklyn 11201")
    assert "Delivery to: 12 Main St, Brooklyn 11201" in reply


@pytest.mark.parametrize(
    ("language", "text", "reminder", "hint"),
    [
        ("en", "how long will it take?", "Reply *confirm* to place the order", "To order, just type"),
        ("en", "do you take card?", "Reply *confirm* to place the order", "To order, just type"),
        ("es", "¿cuánto tarda?", "Responde *confirmar*", "Para pedir, solo escribe"),
        ("pt", "quanto tempo demora?", "Responda *confirmar*", "Para pedir, é só digitar"),
    ],
)
async def test_a_question_at_the_summary_is_answered_with_how_to_confirm(
    chat: DirectChat, language: str, text: str, reminder: str, hint: str
) -> None:
    await _at_summary(chat, language)
    (reply,) = await chat.say(text)
    assert reminder in reply and hint not in reply, reply
    assert await chat.sql(ORDERS) == []
    await chat.say({"en": "confirm", "es": "confirmar", "pt": "confirmar"}[language])
    assert len(await chat.sql(ORDERS)) == 1


@pytest.mark.parametrize(
    ("turns", "fee", "not_said"),
    [
        (["una pepperoni", "¿hacen envíos a domicilio? ¿cuánto cobran?"], "$2.99", "suma"),
        (["una pepperoni", "¿hacen envíos a domicilio?", "¿cuánto cobran?"], "$2.99", "suma"),
        (["una pepperoni", "¿hacen envíos?", "¿y cuánto es?"], "$2.99", "suma"),
        (["uma pepperoni", "vocês entregam? quanto cobram?"], "US$ 2,99", "Desculpe"),
        (["uma pepperoni", "vocês fazem entrega?", "quanto cobram?"], "US$ 2,99", "Desculpe"),
        (["uma pepperoni", "vocês entregam?", "qual a taxa?"], "US$ 2,99", "Desculpe"),
        (["uma pepperoni", "qual a taxa?"], "US$ 2,99", "Desculpe"),
        (["a pepperoni", "do you deliver?", "how much is it?"], "$2.99", "Your cart comes to"),
    ],
)
async def test_how_much_after_a_delivery_question_is_the_delivery_fee(
    chat: DirectChat, turns: list[str], fee: str, not_said: str
) -> None:
    reply = await _last_reply(chat, turns)
    assert fee in reply and not_said not in reply, reply


@pytest.mark.parametrize(
    "turns",
    [
        ["una pepperoni", "¿cuánto cobran?"],
        ["una pepperoni", "¿hacen envíos?", "y una coca", "¿cuánto cobran?"],
    ],
)
async def test_how_much_otherwise_is_the_cart(chat: DirectChat, turns: list[str]) -> None:
    reply = await _last_reply(chat, turns)
    assert "Tu carrito suma" in reply, reply


async def test_one_short_word_of_either_language_keeps_the_customers_language(chat: DirectChat) -> None:
    await chat.say("una pepperoni")
    (reply,) = await chat.say("tira")
    assert "Lo siento" in reply and "Desculpe" not in reply, reply
    (reply,) = await chat.say("carrito")
    assert "Tu carrito" in reply


CART = "SELECT item_code, quantity, excluded FROM cart_lines ORDER BY id"


@pytest.mark.parametrize(
    "turns",
    [
        ["uma pepperoni", "tira a cebola da pizza"],
        ["uma pepperoni", "pizza sem cebola"],
        ["una pepperoni", "quita la cebolla de la pizza"],
        ["una pepperoni", "pizza sin cebolla"],
        ["a pepperoni", "pizza without onions"],
    ],
)
async def test_an_ingredient_taken_off_the_only_pizza_changes_that_pizza(
    chat: DirectChat, turns: list[str]
) -> None:
    reply = await _last_reply(chat, turns)
    rows = await chat.sql(CART)
    assert [(r["item_code"], r["quantity"]) for r in rows] == [("pepperoni", 1)], reply
    assert len(rows[0]["excluded"]) == 1, reply
    assert " of the " not in reply


async def test_a_ham_taken_off_the_hawaiian_keeps_the_hawaiian(chat: DirectChat) -> None:
    await chat.say("una hawaiana")
    (reply,) = await chat.say("quita el jamón de la hawaiana")
    rows = await chat.sql(CART)
    assert [(r["item_code"], r["quantity"]) for r in rows] == [("hawaiian", 1)], reply
    assert len(rows[0]["excluded"]) == 1, reply


async def test_a_line_not_found_is_quoted_in_the_customers_words(chat: DirectChat) -> None:
    await chat.say("uma pepperoni e uma coca")
    (reply,) = await chat.say("tira o bacon da lasanha")
    assert '"bacon da lasanha"' in reply and " of the " not in reply, reply


@pytest.mark.parametrize(
    ("turns", "emptied", "empty"),
    [
        (
            ["uma coca", "limpa o carrinho", "sim"],
            "Seu carrinho está vazio agora",
            "Seu carrinho está vazio.",
        ),
        (["una coca", "vaciar carrito", "sí"], "Tu carrito quedó vacío", "Tu carrito está vacío."),
        (["a coke", "clear cart", "yes"], "Your cart is empty now", "Your cart is empty."),
    ],
)
async def test_an_emptied_cart_is_said_once(
    chat: DirectChat, turns: list[str], emptied: str, empty: str
) -> None:
    reply = await _last_reply(chat, turns)
    assert emptied in reply and empty not in reply, reply
    assert await chat.sql(CART) == []
