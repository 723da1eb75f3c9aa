"""Checkout answered in the customer's own words, in English, Spanish and Portuguese (Brazil):
a yes said with a confirm at the summary places the order, and the other steps read what a
customer writes rather than only the bot's keywords."""

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


async def _at_summary(chat: DirectChat, language: str) -> None:
    for text in TO_SUMMARY[language]:
        (reply,) = await chat.say(text)
    assert "Subtotal" in reply


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
