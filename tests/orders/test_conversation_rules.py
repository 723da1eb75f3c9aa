"""Conversation rules against the real database: serialized messages of one customer, one order
per confirm, opt-out, throttling, cart expiry, opening hours, minimums, and any text at all."""

from __future__ import annotations

import asyncio
import datetime as dt
import random
from collections.abc import AsyncIterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from services.orders.conversation.engine import SORRY
from services.orders.inbound import InboundHandler
from services.orders.language import speaker_for
from services.orders.menu import hours
from services.orders.menu.catalog import load_menu_file
from services.orders.storage.outbox import MAX_BODY_CHARS
from services.orders.storage.stores import StoreCache
from tests.orders.chat import CUSTOMER, Clock, DirectChat, direct_chat, new_sid

STORES = Path(__file__).resolve().parent.parent / "data" / "stores"
CHICAGO = ZoneInfo("America/Chicago")


def chicago(year: int, month: int, day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=CHICAGO).astimezone(dt.UTC)


@pytest.fixture
async def chat(database_url: str) -> AsyncIterator[DirectChat]:
    async with direct_chat(database_url) as c:
        yield c


# -- one customer, several replicas ------------------------------------------------------


def replica(chat: DirectChat) -> InboundHandler:
    """A second handler as another orders replica would have: its own store cache."""
    return InboundHandler(
        chat.pool, StoreCache(None), cart_ttl_s=3600, slow_s=5.0, on_commit=lambda: None, now=chat.clock
    )


async def test_concurrent_messages_of_one_customer_never_lose_a_cart_change(chat: DirectChat) -> None:
    await chat.say("hi")
    handlers = [chat.handler, replica(chat)]

    async def add(i: int) -> None:
        from libs.messages import ENTRY_FIELD, INBOUND_MESSAGE, Envelope
        from libs.streams import Entry

        fields = chat.fields("1 margherita", CUSTOMER, "Alex", {})
        env = Envelope(kind=INBOUND_MESSAGE, fields=fields, received_at=chat.clock().timestamp())
        await handlers[i % 2](Entry("1-0", {ENTRY_FIELD: env.encode()}), env)

    await asyncio.gather(*(add(i) for i in range(12)))
    assert await chat.sql("SELECT sum(quantity)::int AS q, count(*)::int AS n FROM cart_lines") == [
        {"q": 12, "n": 1}
    ]
    seqs = await chat.sql("SELECT seq FROM outbox ORDER BY seq")
    assert [r["seq"] for r in seqs] == list(range(1, 14))  # one reply each, no gaps, no clashes


async def test_a_confirm_sent_twice_at_once_creates_one_order(chat: DirectChat) -> None:
    for line in ("2 margherita", "checkout", "pickup"):
        await chat.say(line)
    from libs.messages import ENTRY_FIELD, INBOUND_MESSAGE, Envelope
    from libs.streams import Entry

    def confirm() -> tuple[Entry, Envelope]:
        fields = chat.fields("confirm", CUSTOMER, "Alex", {})
        env = Envelope(kind=INBOUND_MESSAGE, fields=fields, received_at=chat.clock().timestamp())
        return Entry("1-0", {ENTRY_FIELD: env.encode()}), env

    other = replica(chat)
    await asyncio.gather(chat.handler(*confirm()), other(*confirm()))
    assert await chat.sql("SELECT number, status FROM orders") == [{"number": 1001, "status": "placed"}]
    bodies = [r["body"] for r in await chat.sql("SELECT body FROM outbox ORDER BY seq DESC LIMIT 2")]
    assert any("Order *#1001* placed" in b for b in bodies)
    assert any("already placed" in b for b in bodies)


async def test_the_same_confirm_delivered_twice_is_handled_once(chat: DirectChat) -> None:
    for line in ("2 margherita", "checkout", "pickup"):
        await chat.say(line)
    sid = new_sid()
    first = await chat.say("confirm", MessageSid=sid)
    again = await chat.say("confirm", MessageSid=sid)
    assert "placed" in first[0] and again == []
    assert await chat.sql("SELECT count(*)::int AS n FROM orders") == [{"n": 1}]


# -- opt-out, throttling, handoff ------------------------------------------------------------


async def test_stop_opts_out_with_one_confirmation_and_start_opts_back_in(chat: DirectChat) -> None:
    await chat.say("2 margherita")
    (confirmation,) = await chat.say("STOP")
    assert "unsubscribed" in confirmation
    assert await chat.say("menu") == []
    assert await chat.say("STOP") == []  # one confirmation, nothing more
    assert await chat.say("UNSUBSCRIBE") == []
    outcomes = await chat.sql("SELECT outcome FROM inbox ORDER BY processed_at")
    assert [o["outcome"] for o in outcomes][-4:] == ["opted_out"] * 4
    assert await chat.sql("SELECT opted_out FROM customers") == [{"opted_out": True}]
    (welcome,) = await chat.say("START")
    assert "subscribed again" in welcome
    assert "Margherita" in (await chat.say("menu"))[0]


async def test_unsubscribe_and_a_stop_button_work_too(chat: DirectChat) -> None:
    assert "unsubscribed" in (await chat.say("Unsubscribe"))[0]
    await chat.say("start")
    assert "unsubscribed" in (await chat.say("", ButtonPayload="STOP", ButtonText="Stop promotions"))[0]


async def test_throttled_messages_get_one_polite_reply_and_change_nothing(chat: DirectChat) -> None:
    (reply,) = await chat.say("2 margherita", _throttled="first")
    assert "slow down" in reply
    assert await chat.say("2 margherita", _throttled="yes") == []
    assert await chat.sql("SELECT count(*)::int AS n FROM cart_lines") == [{"n": 0}]
    assert [r["outcome"] for r in await chat.sql("SELECT outcome FROM inbox")] == ["throttled", "throttled"]


async def test_agent_hands_off_and_the_bot_stays_quiet(chat: DirectChat) -> None:
    (reply,) = await chat.say("I want to talk to a human")
    assert "team" in reply
    assert await chat.sql("SELECT mode FROM customers") == [{"mode": "human"}]
    assert await chat.say("hello?") == []
    assert await chat.say("menu") == []
    assert "unsubscribed" in (await chat.say("stop"))[0]  # an opt-out is honoured even then


# -- cart expiry --------------------------------------------------------------------------


async def test_an_idle_cart_expires_with_a_note(chat: DirectChat) -> None:
    await chat.say("2 margherita")
    chat.clock.advance(dt.timedelta(hours=3))
    assert "2 x Margherita" in (await chat.say("cart"))[0]  # viewing is not activity...
    chat.clock.advance(dt.timedelta(hours=1, minutes=1))
    (reply,) = await chat.say("cart")  # ...so 4 h after the last change it has expired
    assert reply.startswith("⏳ Your previous cart expired after 4 hours")
    assert "Your cart is empty" in reply
    (reply,) = await chat.say("cart")
    assert "expired" not in reply


EN = speaker_for("en", currency="USD", timezone="America/Chicago")


# -- hours, pauses, minimums ------------------------------------------------------------------


def test_hours_in_the_store_time_zone() -> None:
    store = load_menu_file(STORES / "corner.yaml").store
    monday_noon = chicago(2025, 1, 6, 12)
    assert not hours.is_open(store, monday_noon)
    closed = "We're closed right now; we open again"
    assert hours.closed_line(store, monday_noon, EN) == f"{closed} tomorrow at 11:30 AM."
    tuesday_break = chicago(2025, 1, 7, 15)
    assert hours.closed_line(store, tuesday_break, EN) == f"{closed} today at 5:00 PM."
    assert hours.open_status(store, chicago(2025, 1, 7, 12), EN) == "We're open now until 2:00 PM."
    assert hours.is_open(store, chicago(2025, 1, 7, 11, 30))
    assert not hours.is_open(store, chicago(2025, 1, 7, 14, 0))  # end is exclusive
    sunday_late = chicago(2025, 1, 5, 21, 30)
    assert hours.closed_line(store, sunday_late, EN) == f"{closed} Tuesday at 11:30 AM."
    es = speaker_for("es", currency="USD", timezone="America/Chicago")
    assert hours.closed_line(store, sunday_late, es) == (
        "Ahora estamos cerrados; volvemos a abrir el martes a las 11:30."
    )
    pt = speaker_for("pt_BR", currency="USD", timezone="America/Chicago")
    assert hours.closed_line(store, monday_noon, pt) == (
        "Estamos fechados agora; abrimos de novo amanhã às 11:30."
    )
    # Daylight saving: 11:30 local is 17:30 UTC in January and 16:30 UTC in July.
    assert hours.is_open(store, dt.datetime(2025, 7, 8, 16, 30, tzinfo=dt.UTC))
    assert not hours.is_open(store, dt.datetime(2025, 1, 7, 16, 30, tzinfo=dt.UTC))


def test_a_store_open_around_the_clock_is_always_open() -> None:
    from services.orders.menu.catalog import demo_menu_path

    store = load_menu_file(demo_menu_path()).store
    for hour in range(0, 24 * 7, 5):
        assert hours.is_open(store, dt.datetime(2025, 3, 3, tzinfo=dt.UTC) + dt.timedelta(hours=hour))
    assert hours.open_status(store, dt.datetime(2025, 3, 3, tzinfo=dt.UTC), EN) == "We're open 24 hours."


async def test_closed_day_no_order_and_says_when_it_opens(database_url: str) -> None:
    async with direct_chat(
        database_url, menu_file=STORES / "corner.yaml", start=chicago(2025, 1, 6, 12)
    ) as chat:
        greeting = (await chat.say("hi"))[0]
        assert "Corner Pizza" in greeting and "we open again tomorrow at 11:30 AM" in greeting
        assert "Added 2 x Margherita" in (await chat.say("2 margherita"))[0]
        (reply,) = await chat.say("checkout")
        assert reply == "Sorry! We're closed right now; we open again tomorrow at 11:30 AM."
        assert await chat.sql("SELECT count(*)::int AS n FROM orders") == [{"n": 0}]


async def test_store_closing_between_summary_and_confirm_places_nothing(database_url: str) -> None:
    async with direct_chat(
        database_url, menu_file=STORES / "corner.yaml", start=chicago(2025, 1, 7, 13, 55)
    ) as chat:
        for line in ("2 margherita", "checkout", "pickup"):
            await chat.say(line)
        chat.clock.advance(dt.timedelta(minutes=6))
        (reply,) = await chat.say("confirm")
        assert "we open again today at 5:00 PM" in reply
        assert await chat.sql("SELECT count(*)::int AS n FROM orders") == [{"n": 0}]


async def test_below_the_delivery_minimum_says_how_much_more(database_url: str) -> None:
    async with direct_chat(
        database_url, menu_file=STORES / "corner.yaml", start=chicago(2025, 1, 9, 19)
    ) as chat:
        await chat.say("1 margherita")
        await chat.say("checkout")
        (reply,) = await chat.say("delivery")
        assert "minimum for delivery is $15.00" in reply and "Add $5.50 more" in reply
        await chat.say("1 coke")  # 12.00: still short
        await chat.say("checkout")
        assert "Add $3.00 more" in (await chat.say("1"))[0]
        await chat.say("1 pepperoni")
        await chat.say("checkout")
        assert "Where should we deliver" in (await chat.say("delivery"))[0]
        (summary,) = await chat.say("742 Evergreen Terrace")
        assert "Subtotal: $23.00" in summary and "Delivery fee: $3.50" in summary
        assert "Total: $26.50" in summary
        (placed,) = await chat.say("confirm")
        assert "#1001" in placed and "about 30 min" in placed and "ready around 7:30 PM" in placed


async def test_a_paused_store_takes_no_orders(chat: DirectChat) -> None:
    await chat.say("2 margherita")
    await chat.sql("UPDATE stores SET accepting_orders = false")
    assert "not taking orders" in (await chat.say("checkout"))[0]
    assert "not taking orders" in (await chat.say("hi"))[0]
    await chat.sql("UPDATE stores SET accepting_orders = true")
    assert "How would you like" in (await chat.say("checkout"))[0]


async def test_an_item_sold_out_before_confirm_is_named_and_taken_out(chat: DirectChat) -> None:
    for line in ("2 margherita and 1 tiramisu", "checkout", "pickup"):
        await chat.say(line)
    await chat.staff("PATCH", "/api/v1/items/tiramisu", {"available": False})
    (reply,) = await chat.say("confirm")
    assert "Tiramisu is no longer available" in reply and "Total: $19.00" in reply
    assert await chat.sql("SELECT count(*)::int AS n FROM orders") == [{"n": 0}]
    assert "#1001" in (await chat.say("confirm"))[0]


async def test_pickup_only_store_skips_the_question(database_url: str) -> None:
    async with direct_chat(database_url, menu_file=STORES / "pickup-only.yaml") as chat:
        await chat.say("2 margherita")
        (reply,) = await chat.say("checkout")
        assert "Pickup at Pickup Only Pies" in reply and "Total: €16.00" in reply
        assert "only offer pickup" in (await chat.say("delivery"))[0]


# -- anything at all ------------------------------------------------------------------------

ODD_TEXTS = [
    "",
    " ",
    "?",
    "🍕",
    "👍",
    "🍕🍕🍕 x3",
    "مرحبا",
    "我要两个披萨",
    "Пицца пожалуйста",
    "ピザを2枚",
    "\u200b\u200d",
    "a" * 1600,
    "2 " * 800,
    "99999999999999999999 margherita",
    "-3 pepperoni",
    "0 coke",
    "remove 999",
    "change 1 to 500",
    "change tiramisu to 0",
    "DROP TABLE orders; --",
    "%s %(x)s {0} {{}}",
    "\x00\x01 control",
    "<script>alert(1)</script>",
    "margherita " * 200,
    "cancel #99999999999",
    "status #1",
    "info",
    "info nothing-like-this",
    "menu desserts",
    "1",
    "#",
]


async def test_any_text_gets_a_sensible_reply_and_never_an_error(chat: DirectChat) -> None:
    rng = random.Random(7)
    alphabet = "abc xyz 123 ,.!?#*\n🍕🥤😀éñüß中文العربيةहिन्दी\u200d"
    samples = ODD_TEXTS + [
        "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 120))) for _ in range(60)
    ]
    for text in samples:
        replies = await chat.say(text.replace("\x00", ""))
        assert replies, text
        for reply in replies:
            assert reply != SORRY, text
            assert len(reply) <= MAX_BODY_CHARS


async def test_media_location_and_unsupported_messages(chat: DirectChat) -> None:
    (reply,) = await chat.say("", NumMedia="1", MessageType="image", MediaContentType0="image/jpeg")
    assert "can only read text" in reply
    (reply,) = await chat.say("", MessageType="sticker")
    assert "can't read that kind of message" in reply
    (reply,) = await chat.say("", MessageType="location", Latitude="40.7128", Longitude="-74.0060")
    assert "saved this location" in reply and "40.7128, -74.0060" in reply
    for line in ("2 margherita", "checkout", "delivery"):
        await chat.say(line)
    (reply,) = await chat.say(
        "", MessageType="location", Latitude="40.7", Longitude="-74.0", Address="1 Main St", Label="Home"
    )
    assert "Delivery to: Home, 1 Main St" in reply
    await chat.say("confirm")
    rows = await chat.sql("SELECT delivery_address, delivery_location FROM orders")
    assert rows[0]["delivery_address"] == "Home, 1 Main St"
    assert rows[0]["delivery_location"]["latitude"] == "40.7"


@pytest.mark.parametrize(
    ("latitude", "longitude"),
    [
        ("nan", "inf"),
        ("1e308", "-1e308"),
        ("91", "0"),
        ("0", "-180.5"),
        ("north", "east"),
        ("-inf", "10"),
        ("40." + "0" * 4000, "-74.0"),  # a real place, but no pin writes it so
    ],
)
async def test_a_pin_with_impossible_coordinates_is_refused_and_never_stored(
    chat: DirectChat, latitude: str, longitude: str
) -> None:
    pin = {"MessageType": "location", "Latitude": latitude, "Longitude": longitude}
    (reply,) = await chat.say("", **pin)
    assert "couldn't read that location" in reply and "saved" not in reply
    for line in ("2 margherita", "checkout", "delivery"):
        await chat.say(line)
    (reply,) = await chat.say("", **pin)
    assert "couldn't read that location" in reply and "Delivery to" not in reply
    (reply,) = await chat.say("same address")
    assert "don't have a saved address" in reply
    (reply,) = await chat.say("", MessageType="location", Latitude="-90", Longitude="180")
    # the edges are real places: read as a location, one outside the delivery area
    assert 'Sorry, "📍 -90, 180" is outside our delivery area' in reply
    rows = await chat.sql("SELECT saved_address, saved_location FROM customers")
    assert rows == [{"saved_address": None, "saved_location": None}]


async def test_a_pin_address_is_capped_like_a_typed_one(chat: DirectChat) -> None:
    """A pin's Address and Label are the customer's client's to fill: 4,000 characters are cut
    to the typed-address limit, stored and echoed so, and the reply stays one message."""
    from services.orders.conversation.checkout import MAX_ADDRESS_CHARS

    pin = {"MessageType": "location", "Latitude": "40.7", "Longitude": "-74.0"}
    (reply,) = await chat.say("", **pin, Address="A" * 4000, Label="L" * 4000)
    assert "saved this location" in reply and len(reply) < 2 * MAX_ADDRESS_CHARS
    for line in ("2 margherita", "checkout", "delivery"):
        await chat.say(line)
    replies = await chat.say("", **pin, Address="12 Main St " + "x" * 4000)
    assert len(replies) == 1 and "Delivery to: 12 Main St" in replies[0]
    await chat.say("confirm")
    (order,) = await chat.sql("SELECT delivery_address, delivery_location FROM orders")
    assert len(order["delivery_address"]) <= MAX_ADDRESS_CHARS
    assert len(order["delivery_location"]["address"]) <= MAX_ADDRESS_CHARS
    (customer,) = await chat.sql("SELECT saved_address, saved_location FROM customers")
    assert len(customer["saved_address"]) <= MAX_ADDRESS_CHARS
    assert all(len(v or "") <= MAX_ADDRESS_CHARS for v in customer["saved_location"].values())


async def test_quick_reply_buttons_are_commands(chat: DirectChat) -> None:
    (reply,) = await chat.say("Show me the menu", ButtonPayload="MENU", ButtonText="Show me the menu")
    assert "Demo Pizzeria* menu" in reply
    await chat.say("2 margherita")
    await chat.say("checkout")
    await chat.say("pickup")
    (reply,) = await chat.say("Yes, place it", ButtonPayload="confirm_order", ButtonText="Yes, place it")
    assert "#1001" in reply
    (reply,) = await chat.say("Where is my order?", ButtonPayload="order_status")
    assert "Order *#1001*" in reply


def test_the_test_clock_moves_forward() -> None:
    clock = Clock(dt.datetime(2025, 1, 1, tzinfo=dt.UTC))
    clock.advance(dt.timedelta(minutes=5))
    assert clock() == dt.datetime(2025, 1, 1, 0, 5, tzinfo=dt.UTC)


# -- bounded carts and replies --------------------------------------------------------------


def _menu_with_cart_limits(folder: Path, limits: str) -> Path:
    """The demo menu with `store.cart` set to `limits` (YAML flow mapping)."""
    from services.orders.menu.catalog import demo_menu_path

    text = demo_menu_path().read_text(encoding="utf-8")
    path = folder / "menu.yaml"
    path.write_text(text.replace("store:\n", f"store:\n  cart: {limits}\n", 1), encoding="utf-8")
    return path


async def test_a_cart_holds_at_most_the_store_s_lines_and_items(database_url: str, tmp_path: Path) -> None:
    menu = _menu_with_cart_limits(tmp_path, "{max_lines: 3, max_items: 10}")
    async with direct_chat(database_url, menu_file=menu) as chat:
        for line in ("1 margherita", "1 pepperoni", "1 veggie"):
            assert "Added" in (await chat.say(line))[0]
        (reply,) = await chat.say("1 coke")
        assert "Added" not in reply and "at most 3 different items" in reply and "didn't add Coke" in reply
        (reply,) = await chat.say("add 2 margherita")  # a line already there: no new line
        assert "Added 2 x Margherita" in reply
        (reply,) = await chat.say("add 9 pepperoni")
        assert "Added 5 x Pepperoni" in reply and "10 items" in reply and "instead of 9" in reply
        (reply,) = await chat.say("1 veggie")
        assert "Added" not in reply and "10 items" in reply and "didn't add Veggie" in reply
        (reply,) = await chat.say("change 1 to 5")
        assert "10 items" in reply and "3 x Margherita" in reply
        assert await chat.sql("SELECT count(*)::int AS n, sum(quantity)::int AS q FROM cart_lines") == [
            {"n": 3, "q": 10}
        ]
        (reply,) = await chat.say("change 1 to 1")
        assert "1 x Margherita" in reply


async def test_the_cart_limits_are_checked_when_the_menu_is_loaded(tmp_path: Path) -> None:
    from services.orders.menu.catalog import MenuError, load_menu_file

    assert load_menu_file(_menu_with_cart_limits(tmp_path, "{max_lines: 2}")).store.cart.max_lines == 2
    for bad in ("{max_lines: 0}", "{max_items: -1}", "{max_items: many}", "{max_liness: 3}"):
        with pytest.raises(MenuError, match=r"store\.cart"):
            load_menu_file(_menu_with_cart_limits(tmp_path, bad))


async def test_every_reply_about_a_full_cart_is_one_message(chat: DirectChat) -> None:
    """The default limits, a cart filled with long lines: each reply is one WhatsApp message
    (at most 1,600 characters), the long cart summarised rather than repeated whole."""
    toppings = "cheese, pepperoni, ham, bacon, sausage, chicken, mushrooms, onions, olives and basil"
    sizes = ("small", "medium", "large", "extra large")
    crusts = ("classic", "thin", "thick", "stuffed", "gluten free")
    said = [f"1 {size} {crust} margherita with extra {toppings}" for size in sizes for crust in crusts]
    said += [f"2 {size} veggie with {toppings}, no garlic" for size in sizes]
    said += ["1 coke", "3 sprite", "cart", "remove 30", "change 2 to 3", "checkout", "pickup", "cart"]
    for text in said:
        replies = await chat.say(text)
        assert len(replies) == 1, (text, replies)
        assert len(replies[0]) <= MAX_BODY_CHARS, (text, len(replies[0]))
    (row,) = await chat.sql("SELECT count(*)::int AS n FROM cart_lines")
    assert row["n"] <= 20  # the default max_lines
    (summary,) = await chat.say("checkout")
    assert "Subtotal" in summary and "Reply *confirm*" in summary
    (placed,) = await chat.say("confirm")
    assert len(placed) <= MAX_BODY_CHARS
    for text in ("status", "reorder", "cart"):
        replies = await chat.say(text)
        assert len(replies) == 1 and len(replies[0]) <= MAX_BODY_CHARS, (text, replies)


def test_a_cart_too_long_for_one_message_is_summarised() -> None:
    """Options shortened, then left out, then the first lines and how many more: always within
    the room given, always with the subtotal."""
    from services.orders.conversation.cart import render_cart
    from services.orders.storage.carts import CartLine

    option = {
        "group": "toppings",
        "option": "x",
        "name": "Extra Mozzarella",
        "qualifier": None,
        "price_cents": 0,
    }
    lines = [
        CartLine(i, "margherita", f"Margherita Napoletana {i}", 950, 2, [option] * 6, ["Onions"], "well done")
        for i in range(1, 121)
    ]
    for count, budget, expect in [
        (3, 1600, "(Extra Mozzarella, Extra Mozzarella, Extra Mozzarella, Extra Mozzarella, Extra"),
        (20, 1600, "(Extra Mozzarella, Extra…)"),
        (120, 1600, "…and "),
        (120, 300, "…and "),
    ]:
        text = render_cart(lines[:count], EN, budget)
        assert len(text) <= budget and expect in text, (count, budget, text)
        assert text.startswith("🛒 Your cart:\n1. 2 x Margherita Napoletana 1") and "Subtotal: " in text
    summary = render_cart(lines, EN, 1600)
    shown = summary.count("\n") - 2
    assert f"…and {120 - shown} more lines, {2 * (120 - shown)} items" in summary
    # the same summary in Spanish: its own words, within the same room
    es = speaker_for("es", currency="USD", timezone="UTC")
    resumen = render_cart(lines, es, 1600)
    assert len(resumen) <= 1600 and resumen.startswith("🛒 Tu carrito:") and "líneas más" in resumen
