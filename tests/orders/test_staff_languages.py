"""Staff see the customer's language: on the order (dashboard ticket, staff API) and in the
handoff inbox; staff messages to the customer go in the customer's language."""

from __future__ import annotations

from services.orders.web.dashboard import queries
from tests.orders.chat import direct_chat

LUCIA = "whatsapp:+5215512300001"


async def test_staff_see_the_language_on_the_order_and_in_the_handoff_inbox(database_url: str) -> None:
    async with direct_chat(database_url) as chat:
        for line in ("hola, quiero 2 margaritas", "pagar", "recoger"):
            await chat.say(line, customer=LUCIA)
        (placed,) = await chat.say("confirmar", customer=LUCIA)
        assert "¡Pedido *#1001* hecho!" in placed
        status, order, _ = await chat.staff("GET", "/api/v1/orders/1001", None, customer=LUCIA)
        assert status == 200 and order["language"] == "es" and order["customer"]["language"] == "es"
        (agent,) = await chat.say("quiero hablar con una persona", customer=LUCIA)
        assert "le pedí a alguien de nuestro equipo" in agent
        (store,) = await chat.sql("SELECT id FROM stores")
        async with chat.pool.connection() as conn:
            (order_id,) = [r["id"] for r in await chat.sql("SELECT id FROM orders WHERE number = 1001")]
            ticket = await queries.ticket(conn, store["id"], order_id)
            waiting = await queries.handoffs(conn, store["id"])
        assert ticket is not None and ticket["language"] == "Spanish"
        assert [(w["address"], w["language"]) for w in waiting] == [(LUCIA, "Spanish")]
        # staff hand the chat back: the customer reads it in Spanish
        status, _, sent = await chat.staff(
            "DELETE", "/api/v1/conversations/whatsapp%3A%2B5215512300001/handoff", None, customer=LUCIA
        )
        assert status == 200 and any("Volviste con nuestro bot" in m for m in sent), sent
