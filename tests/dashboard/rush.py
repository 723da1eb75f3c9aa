"""A dinner rush written straight into the mesh's database: open orders of several ages and
statuses, with the messages that made them, some notes, one allergy and one diet.

Written as the conversation would leave them (an order row, its lines, its first status in the
history, the customer's messages with `inbox.cart_change`), so the queue renders them as it
renders real orders; the live path (webhook to card) is covered by test_browser.py.
"""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from dataclasses import dataclass

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

# (quantity, item code, name, unit price in cents, option words, what the customer wrote)
MENU = [
    (2, "pepperoni", "Pepperoni", 1400, ["Large", "extra Cheese"], "2 large pepperoni with extra cheese"),
    (1, "margherita", "Margherita", 950, [], "one margherita please"),
    (1, "veggie", "Veggie", 1050, ["Thin crust"], "a thin crust veggie"),
    (3, "coke", "Coke", 250, [], "and 3 cokes"),
    (1, "hawaiian", "Hawaiian", 1150, ["Large"], "large hawaiian"),
    (2, "garlic-bread", "Garlic Bread", 400, [], "2 garlic bread"),
    (1, "wings", "Chicken Wings", 750, [], "wings too"),
    (1, "tiramisu", "Tiramisu", 500, [], "1 tiramisu"),
]
NAMES = ["Ana", "Bruno", "Chen", "Dana", "Eli", "Fatima", "Gus", "Hana", "Ivo", "Jo", "Kemal", "Lea"]
# How many orders are in each status, and how old (minutes) the oldest and newest of them are:
# 40 open (37 in the kitchen's columns, 3 out for delivery) and 5 finished.
SHAPE = [
    ("placed", 9, 9, 0),
    ("confirmed", 9, 16, 6),
    ("preparing", 11, 34, 14),
    ("ready", 8, 42, 22),
    ("out_for_delivery", 3, 50, 40),
    ("picked_up", 5, 70, 45),
]
OPEN = 40
ALLERGY = "I'm allergic to peanuts and tree nuts"
DIET = "we are vegan, no cheese at all"


@dataclass(frozen=True)
class Rush:
    """The seeded orders: every number, and those with an allergy and a diet note."""

    numbers: list[int]
    allergy: int
    diet: int


def seed_rush(database_url: str, now: dt.datetime | None = None) -> Rush:
    """Write the rush (SHAPE) for the store; returns the numbers of its open orders."""
    now = now or dt.datetime.now(dt.UTC)
    total = sum(n for _, n, _, _ in SHAPE)
    with psycopg.connect(database_url, row_factory=dict_row) as conn, conn.transaction():
        store = conn.execute(
            "UPDATE stores SET next_order_number = next_order_number + %s"
            " RETURNING id, next_order_number - %s AS first",
            (total, total),
        ).fetchone()
        assert store is not None
        numbers = itertools.count(int(store["first"]))
        menu = itertools.cycle(MENU)
        out: list[int] = []
        allergy = diet = 0
        for status, count, oldest, newest in SHAPE:
            for i in range(count):
                minutes = oldest - (oldest - newest) * i / max(1, count - 1)
                placed = now - dt.timedelta(minutes=minutes)
                number = next(numbers)
                note = ""
                if status == "confirmed" and i == 1:
                    note, allergy = ALLERGY, number
                elif status == "preparing" and i == 2:
                    note, diet = DIET, number
                lines = [next(menu) for _ in range(1 + number % 3)]
                _order(
                    conn, int(store["id"]), number, status, placed, lines, note, NAMES[number % len(NAMES)]
                )
                if status != "picked_up":
                    out.append(number)
        # At rush someone always wants a person: one customer waits in the handoff inbox.
        conn.execute(
            "UPDATE customers SET mode = 'human', mode_changed_at = %s WHERE id ="
            " (SELECT customer_id FROM orders WHERE store_id = %s AND number = %s)",
            (now, store["id"], out[0]),
        )
    return Rush(out, allergy, diet)


def _order(
    conn: psycopg.Connection[dict[str, object]],
    store_id: int,
    number: int,
    status: str,
    placed: dt.datetime,
    lines: list[tuple[int, str, str, int, list[str], str]],
    note: str,
    name: str,
) -> None:
    address = f"whatsapp:+1999{uuid.uuid4().int % 10**7:07d}"
    customer = conn.execute(
        "INSERT INTO customers (store_id, address, profile_name, last_inbound_at) VALUES (%s, %s, %s, %s)"
        " RETURNING id",
        (store_id, address, f"{name} {number % 97}", placed),
    ).fetchone()
    assert customer is not None
    # The messages that made it: the first started the cart, the others changed it.
    for i, (_, _, _, _, _, words) in enumerate(lines):
        conn.execute(
            "INSERT INTO inbox (message_sid, customer_id, body, received_at, cart_change)"
            " VALUES (%s, %s, %s, %s, %s)",
            (f"SM{uuid.uuid4().hex}", customer["id"], words, placed - dt.timedelta(seconds=60 - i * 10),
             "started" if i == 0 else "changed"),
        )  # fmt: skip
    confirm = f"SM{uuid.uuid4().hex}"
    conn.execute(
        "INSERT INTO inbox (message_sid, customer_id, body, received_at, cart_change)"
        " VALUES (%s, %s, 'confirm', %s, 'emptied')",
        (confirm, customer["id"], placed),
    )
    subtotal = sum(q * price for q, _, _, price, _, _ in lines)
    order = conn.execute(
        "INSERT INTO orders (store_id, number, customer_id, status, fulfilment, delivery_address, notes,"
        " notes_flag, subtotal_cents, delivery_fee_cents, total_cents, currency, confirm_message_sid,"
        " estimated_ready_at, placed_at, updated_at)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 'USD', %s, %s, %s, %s) RETURNING id",
        (
            store_id, number, customer["id"], status,
            "delivery" if number % 3 == 0 or status == "out_for_delivery" else "pickup",
            "12 Main St, Apt 4" if number % 3 == 0 or status == "out_for_delivery" else None, note,
            "allergy" if note == ALLERGY else "diet" if note == DIET else None,
            subtotal, 299 if number % 3 == 0 else 0, subtotal + (299 if number % 3 == 0 else 0), confirm,
            placed + dt.timedelta(minutes=25), placed, placed,
        ),
    ).fetchone()  # fmt: skip
    assert order is not None
    for position, (quantity, code, item, price, options, _) in enumerate(lines, 1):
        conn.execute(
            "INSERT INTO order_lines (order_id, item_code, name, unit_price_cents, quantity, options,"
            " excluded, notes, line_total_cents, position) VALUES (%s, %s, %s, %s, %s, %s, '[]', '', %s, %s)",
            (order["id"], code, item, price, quantity, Jsonb([{"name": o} for o in options]),
             quantity * price, position),
        )  # fmt: skip
    conn.execute(
        "INSERT INTO order_status_history (order_id, from_status, to_status, actor, at)"
        " VALUES (%s, NULL, %s, 'customer', %s)",
        (order["id"], status, placed),
    )
