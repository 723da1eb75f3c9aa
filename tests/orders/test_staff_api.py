"""The staff JSON API: bearer auth, listing and reading orders, transitions, sold-out toggles,
handoffs; bad input answers a clear 4xx and changes nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import quote

import pytest
from starlette.testclient import TestClient

from services.orders.app import create_app
from services.orders.settings import OrdersSettings
from tests.orders.chat import ADMIN_TOKEN, CUSTOMER, DirectChat, direct_chat, load_store

CUSTOMER_PATH = f"/api/v1/conversations/{quote(CUSTOMER, safe='')}/handoff"


def app_settings(database_url: str, redis_url: str, key_prefix: str, token: str | None) -> OrdersSettings:
    env = {"DATABASE_URL": database_url, "REDIS_URL": redis_url, "REDIS_KEY_PREFIX": key_prefix}
    if token is not None:
        env["ADMIN_API_TOKEN"] = token
    return OrdersSettings.from_env(env)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong-token"},
        {"Authorization": f"Basic {ADMIN_TOKEN}"},
        {"Authorization": "Bearer"},
        {"Authorization": f"Bearer {ADMIN_TOKEN}x"},
    ],
)
def test_without_the_right_bearer_token_every_route_is_401(
    database_url: str, redis_url: str, key_prefix: str, headers: dict[str, str]
) -> None:
    settings = app_settings(database_url, redis_url, key_prefix, ADMIN_TOKEN)
    with TestClient(create_app(settings)) as client:
        for method, path in [
            ("GET", "/api/v1/orders"),
            ("GET", "/api/v1/orders/1001"),
            ("POST", "/api/v1/orders/1001/transitions"),
            ("PATCH", "/api/v1/items/margherita"),
            ("POST", CUSTOMER_PATH),
            ("DELETE", CUSTOMER_PATH),
        ]:
            response = client.request(method, path, headers=headers)
            assert response.status_code == 401, (method, path)
            assert response.json() == {"error": "missing or wrong bearer token"}


def test_with_no_token_configured_even_an_empty_bearer_is_401(
    database_url: str, redis_url: str, key_prefix: str
) -> None:
    settings = app_settings(database_url, redis_url, key_prefix, None)
    with TestClient(create_app(settings)) as client:
        assert client.get("/api/v1/orders", headers={"Authorization": "Bearer "}).status_code == 401
        assert client.get("/api/v1/orders", headers={"Authorization": "Bearer None"}).status_code == 401


async def test_the_real_app_lists_orders_with_the_token(
    database_url: str, redis_url: str, key_prefix: str
) -> None:
    async with direct_chat(database_url) as chat:
        await chat.say("2 margherita")
        await chat.say("checkout")
        await chat.say("pickup")
        await chat.say("confirm")
    settings = app_settings(database_url, redis_url, key_prefix, ADMIN_TOKEN)
    with TestClient(create_app(settings)) as client:
        response = client.get("/api/v1/orders", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
        assert response.status_code == 200
        (order,) = response.json()["orders"]
        assert order["number"] == 1001 and order["total"] == "19.00"
        moved = client.post(
            "/api/v1/orders/1001/transitions",
            json={"to": "confirmed"},
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        )
        assert moved.status_code == 200 and moved.json()["status"] == "confirmed"


@pytest.fixture
async def chat(database_url: str) -> AsyncIterator[DirectChat]:
    async with direct_chat(database_url) as c:
        yield c


async def order(chat: DirectChat, customer: str = CUSTOMER, what: str = "2 margherita") -> None:
    for line in (what, "checkout", "delivery", "12 Main Street", "confirm"):
        await chat.say(line, customer=customer)


async def test_list_filters_by_status_and_since(chat: DirectChat) -> None:
    await order(chat)
    await order(chat, "whatsapp:+15551230002", "3 pepperoni")
    await chat.staff("POST", "/api/v1/orders/1002/transitions", {"to": "confirmed"})
    _, body, _ = await chat.staff("GET", "/api/v1/orders")
    assert [o["number"] for o in body["orders"]] == [1002, 1001]
    _, body, _ = await chat.staff("GET", "/api/v1/orders?status=confirmed")
    assert [o["number"] for o in body["orders"]] == [1002]
    _, body, _ = await chat.staff("GET", "/api/v1/orders?status=placed,confirmed&status=ready")
    assert len(body["orders"]) == 2
    _, body, _ = await chat.staff("GET", "/api/v1/orders?since=2999-01-01T00:00:00Z")
    assert body["orders"] == []
    _, body, _ = await chat.staff("GET", "/api/v1/orders?since=2000-01-01T00:00:00+00:00")
    assert len(body["orders"]) == 2


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ("status=eaten", "unknown status 'eaten'"),
        ("since=yesterday", "ISO 8601"),
        ("limit=0", "limit"),
        ("limit=abc", "limit"),
    ],
)
async def test_list_rejects_bad_filters(chat: DirectChat, query: str, fragment: str) -> None:
    status, body, _ = await chat.staff("GET", f"/api/v1/orders?{query}")
    assert status == 400 and fragment in body["error"]


async def test_get_one_order_has_lines_totals_history_and_messages(chat: DirectChat) -> None:
    await order(chat, what="2 large pepperoni with extra cheese and a coke")
    await chat.staff("POST", "/api/v1/orders/1001/transitions", {"to": "confirmed"})
    # a status callback for the confirmation message
    (message,) = await chat.sql("SELECT id FROM outbox WHERE purpose = 'status:confirmed'")
    await chat.sql(
        "UPDATE outbox SET twilio_sid = 'SMx1', status = 'delivered', status_rank = 3 WHERE id = %s",
        message["id"],
    )
    status, body, _ = await chat.staff("GET", "/api/v1/orders/1001")
    assert status == 200
    assert body["subtotal_cents"] == 3450 and body["delivery_fee_cents"] == 299 and body["total"] == "37.49"
    assert [(line["item_code"], line["quantity"], line["line_total_cents"]) for line in body["lines"]] == [
        ("pepperoni", 2, 3200),
        ("coke", 1, 250),
    ]
    assert body["lines"][0]["options"][1]["qualifier"] == "extra"
    assert [h["to"] for h in body["history"]] == ["placed", "confirmed"]
    assert body["messages"][0]["status"] == "delivered" and body["messages"][0]["twilio_sid"] == "SMx1"
    assert body["delivery_address"] == "12 Main Street"
    assert body["allowed_transitions"] == ["preparing", "cancelled"]


async def test_unknown_order_is_404(chat: DirectChat) -> None:
    for method, path in [("GET", "/api/v1/orders/9999"), ("GET", "/api/v1/orders/abc")]:
        status, body, _ = await chat.staff(method, path)
        assert status == 404 and "error" in body
    status, body, _ = await chat.staff("POST", "/api/v1/orders/9999/transitions", {"to": "confirmed"})
    assert status == 404 and body == {"error": "no order #9999"}


@pytest.mark.parametrize(
    ("payload", "fragment"),
    [
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "JSON object"),
        (b"{}", "'to' is required"),
        (b'{"to": 5}', "'to' is required"),
        (b'{"to": "eaten"}', "unknown status"),
        (b'{"to": "cancelled"}', "needs a 'reason'"),
        (b'{"to": "cancelled", "reason": 7}', "'reason' must be text"),
        (b'{"to": "cancelled", "reason": "a\\u0000b"}', "NUL"),
        (b'{"to": "cancelled", "reason": "fine", "note\\u0000": 1}', "NUL"),
    ],
)
async def test_bad_transition_bodies_are_400_and_change_nothing(
    chat: DirectChat, payload: bytes, fragment: str
) -> None:
    await order(chat)
    async with chat.client() as client:
        response = await client.post("/api/v1/orders/1001/transitions", content=payload)
    assert response.status_code == 400 and fragment in response.json()["error"]
    assert await chat.sql("SELECT status FROM orders") == [{"status": "placed"}]
    assert await chat.sql("SELECT count(*)::int AS n FROM order_status_history") == [{"n": 1}]


async def test_invalid_transition_is_409_with_what_is_allowed(chat: DirectChat) -> None:
    await order(chat)
    status, body, sent = await chat.staff("POST", "/api/v1/orders/1001/transitions", {"to": "delivered"})
    assert status == 409 and sent == []
    assert body["error"] == (
        "order #1001 (a delivery order) cannot go from placed to delivered; "
        "allowed next: confirmed, cancelled"
    )
    assert body["current"] == "placed" and body["allowed"] == ["confirmed", "cancelled"]


async def test_item_availability_toggle(chat: DirectChat) -> None:
    status, body, _ = await chat.staff("PATCH", "/api/v1/items/tiramisu", {"available": False})
    assert status == 200 and body["available"] is False and body["code"] == "tiramisu"
    assert "sold out" in (await chat.say("1 tiramisu"))[0]
    assert "Tiramisu" not in (await chat.say("menu"))[0]
    status, body, _ = await chat.staff("PATCH", "/api/v1/items/tiramisu", {"available": True})
    assert status == 200 and body["available"] is True
    assert "Added 1 x Tiramisu" in (await chat.say("1 tiramisu"))[0]


@pytest.mark.parametrize(
    ("code", "payload", "expected"),
    [
        ("nope", {"available": False}, 404),
        ("tiramisu", {"available": "no"}, 400),
        ("tiramisu", {}, 400),
        ("tiramisu", [True], 400),
    ],
)
async def test_item_toggle_bad_input(chat: DirectChat, code: str, payload: object, expected: int) -> None:
    status, body, _ = await chat.staff("PATCH", f"/api/v1/items/{code}", payload)
    assert status == expected and "error" in body
    assert await chat.sql("SELECT bool_and(available) AS ok FROM items") == [{"ok": True}]


async def test_handoff_and_release(chat: DirectChat) -> None:
    await chat.say("hi")
    status, body, sent = await chat.staff("POST", CUSTOMER_PATH)
    assert status == 200 and body == {
        "customer": CUSTOMER,
        "mode": "human",
        "changed": True,
        "notified": "body",
    }
    assert sent == ["🙋 A member of our team has joined this chat and will reply here."]
    assert await chat.say("2 margherita") == []
    assert await chat.sql(
        "SELECT outcome FROM inbox ORDER BY received_at DESC, processed_at DESC LIMIT 1"
    ) == [{"outcome": "human_mode"}]
    assert await chat.sql("SELECT count(*)::int AS n FROM cart_lines") == [{"n": 0}]
    status, body, sent = await chat.staff("POST", CUSTOMER_PATH)
    assert status == 200 and body["changed"] is False and sent == []
    status, body, sent = await chat.staff("DELETE", CUSTOMER_PATH)
    assert status == 200 and body["mode"] == "bot" and "back with our ordering bot" in sent[0]
    assert "Added 2 x Margherita" in (await chat.say("2 margherita"))[0]


async def test_handoff_of_an_unknown_customer_is_404(chat: DirectChat) -> None:
    status, body, _ = await chat.staff("POST", "/api/v1/conversations/whatsapp%3A%2B19990000000/handoff")
    assert status == 404 and "whatsapp:+19990000000" in body["error"]


async def test_an_opaque_customer_id_with_a_slash_works(chat: DirectChat) -> None:
    customer = "whatsapp:ID.abc/def"
    await chat.say("hi", customer=customer)
    status, body, _ = await chat.staff(
        "POST", f"/api/v1/conversations/{quote(customer, safe='')}/handoff", customer=customer
    )
    assert status == 200 and body["customer"] == customer


TEMPLATES_STORE = Path(__file__).resolve().parent.parent / "data" / "stores" / "templates.yaml"


async def test_release_outside_the_window_uses_the_template(database_url: str) -> None:
    async with direct_chat(database_url, menu_file=TEMPLATES_STORE) as chat:
        await chat.say("agent")
        await chat.sql("UPDATE customers SET last_inbound_at = now() - interval '2 days'")
        status, body, sent = await chat.staff("DELETE", CUSTOMER_PATH)
        assert status == 200 and body["notified"] == "template"
        assert sent == ['[template HXrelease00000000000000000000000000 {"1":"Alex"}]']


async def test_load_store_is_idempotent(chat: DirectChat) -> None:
    await load_store(chat.pool)
    assert await chat.sql("SELECT count(*)::int AS n FROM stores") == [{"n": 1}]
