"""Messages the dialogue layer must never turn into a cart the customer did not ask for: a
reference that names no line, words it does not understand beside a change, a correction that
could be read as an addition. Each is played through the real conversation (a real PostgreSQL),
and either changes the cart as meant or asks (reply kind ``ask``), leaving the cart as it was."""

from __future__ import annotations

from collections import Counter

import pytest

from evals.conversations import Dialogue, canonical_cart, expected_cart
from services.orders.menu.catalog import Menu, demo_menu_path, load_menu_file
from tests.orders.chat import DirectChat, direct_chat

CART = (
    "SELECT l.item_code, l.quantity, l.options, l.excluded FROM cart_lines l"
    " JOIN customers c ON c.id = l.customer_id WHERE c.address = %s ORDER BY l.position"
)
CUSTOMER = "whatsapp:+15557770001"


@pytest.fixture(scope="module")
def menu() -> Menu:
    return load_menu_file(demo_menu_path())


async def _cart(chat: DirectChat, menu: Menu) -> Counter[str]:
    rows = await chat.sql(CART, CUSTOMER)
    lines = []
    for row in rows:
        words = [f"{o['group']}={o['option']}" + (f":{o['qualifier']}" if o.get("qualifier") else "")
                 for o in row["options"]]  # fmt: skip
        words += [f"-toppings={str(name).lower()}" for name in row["excluded"]]
        lines.append((row["item_code"], int(row["quantity"]), tuple(words)))
    return canonical_cart(lines, menu)


async def _play(
    database_url: str, menu: Menu, turns: list[str]
) -> tuple[Counter[str], Counter[str], list[str]]:
    """(cart before the last turn, cart after it, the kinds of the replies to it)."""
    async with direct_chat(database_url) as chat:
        for turn in turns[:-1]:
            await chat.say(turn, customer=CUSTOMER)
        before = await _cart(chat, menu)
        replies = await chat.replies(turns[-1], customer=CUSTOMER)
        return before, await _cart(chat, menu), [kind for kind, _ in replies]


ASKED = [
    # a line described by options no line has: never another line instead
    ["a pepperoni", "a pepperoni with extra cheese", "the one with mushrooms large"],
    ["2 pepperoni", "the cheesy one large"],
    # words the bot does not understand, with a cart to change: a question, not "sorry"
    ["1 pepperoni and 1 margherita", "make them the same size"],
    ["a margherita and a veggie", "i want the bigger one"],
    # an item of the cart named with a "no" beside words that could change it
    ["a thin margherita and a brownie", "brownie no, tiramisu yes"],
    # an ingredient left out that two lines have (one chose it, the other comes with it)
    ["a veggie", "and a margherita with olives", "take off the olives"],
    # "them" over pizzas and drinks: a size for which of them?
    ["1 pepperoni and 1 hawaiian and 2 cokes", "make them large"],
    # a correction that would leave the cart as it was was not understood: asked
    ["i'll get a margherita and a pepperoni, both thin", "no wait only the margherita thin"],
    ["margherita and pepperoni, add mushrooms to both", "only on the margherita actually"],
    # what is meant instead is not on the menu: the line named is not said again
    ["2 cokes and a hawaiian", "instead of the coke, a guarana"],
    # a reference the remove command cannot find is a question
    ["1 small hawaiian, 1 large hawaiian", "and a tiramisu", "remove the bigger one"],
]


@pytest.mark.parametrize("turns", ASKED, ids=[t[-1] for t in ASKED])
async def test_words_that_name_no_line_or_are_not_understood_are_asked_about(
    database_url: str, menu: Menu, turns: list[str]
) -> None:
    before, after, kinds = await _play(database_url, menu, turns)
    assert after == before, (before, after, kinds)
    assert "ask" in kinds, kinds


CHANGED = [
    (["2 veggie no onions", "a veggie", "2 cokes", "the one without onions make it thin"],
     ["2 veggie -toppings=onions crust=thin", "1 veggie", "2 coke"]),
    (["salad, garlic bread, wings", "only the wings, forget the rest"], ["1 wings"]),
    (["one coke, one sprite, one diet coke", "and a margherita", "drop the first two drinks"],
     ["1 diet-coke", "1 margherita"]),
    (["garlic bread", "wings", "salad", "remove the first two"], ["1 salad"]),
    (["a hawaiian and a veggie", "remove the veggie and add another of the other one"], ["2 hawaiian"]),
    (["large pepperoni stuffed crust x2, coke x2", "make both 3"],
     ["3 pepperoni size=large crust=stuffed", "3 coke"]),
]  # fmt: skip


@pytest.mark.parametrize(("turns", "cart"), CHANGED, ids=[t[0][-1] for t in CHANGED])
async def test_a_line_named_by_what_it_is_without_is_the_one_changed(
    database_url: str, menu: Menu, turns: list[str], cart: list[str]
) -> None:
    _, after, kinds = await _play(database_url, menu, turns)
    assert after == expected_cart(Dialogue("reference", tuple(turns), tuple(cart)), menu), kinds
