"""English constructions customers use often when they change a cart: a line named by an option
said before its name ("3 of the small cokes"), options said alone after "with", an order said
instead of the line just added. Each is played through the real conversation (a real
PostgreSQL) and must leave the cart as meant, or ask (reply kind ``ask``) and change nothing."""

from __future__ import annotations

from collections import Counter

import pytest

from evals.conversations import Dialogue, expected_cart
from services.orders.menu.catalog import Menu, demo_menu_path, load_menu_file
from tests.orders.dialogues import play

CUSTOMER = "whatsapp:+15557770021"


@pytest.fixture(scope="module")
def menu() -> Menu:
    return load_menu_file(demo_menu_path())


async def _play(
    database_url: str, menu: Menu, turns: list[str]
) -> tuple[Counter[str], Counter[str], list[str]]:
    """(cart before the last turn, cart after it, the kinds of the replies to it)."""
    return await play(database_url, menu, turns, customer=CUSTOMER)


CHANGED = [
    # an option before the name says which line is counted ("the small cokes")
    (["large coke and small coke", "3 of the small cokes"],
     ["1 coke drink-size=large", "3 coke drink-size=small"]),
    (["2 large pepperoni and a small pepperoni", "2 of the small pepperonis"],
     ["2 pepperoni size=large", "2 pepperoni size=small"]),
    # "let's do a ... with ... instead": an order said instead, no question about the menu
    (["I'll have a veggie", "hmm no, let's do a build your own with chicken and bacon instead"],
     ["1 build-your-own toppings=chicken toppings=bacon"]),
    # toppings said alone after "with" are for the line just added, even one named like a pizza
    (["build your own", "with pepperoni, sausage and onions"],
     ["1 build-your-own toppings=pepperoni toppings=sausage toppings=onions"]),
]  # fmt: skip


@pytest.mark.parametrize(("turns", "cart"), CHANGED, ids=[t[0][-1] for t in CHANGED])
async def test_the_line_meant_is_changed(database_url: str, menu: Menu, turns: list[str], cart: list[str]) -> None:
    _, after, kinds = await _play(database_url, menu, turns)
    assert after == expected_cart(Dialogue("reference", tuple(turns), tuple(cart)), menu), kinds
