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
    # a bare number after a hesitation reconsiders the line just added
    (["3 brownies please", "hmm 2"], ["2 brownie"]),
    # a word of one item's name before "one" names that line
    (["coke and diet coke", "make the diet one large"], ["1 coke", "1 diet-coke drink-size=large"]),
    # a line named by its place, then what it should have
    (["pepperoni, margherita", "the last one with extra cheese"],
     ["1 pepperoni", "1 margherita toppings=cheese:extra"]),
    (["1 coke 1 diet coke 1 sprite", "the middle one in a bottle"],
     ["1 coke", "1 diet-coke container=bottle", "1 sprite"]),
    # one unit of the line being talked about becomes another item
    (["2 pepperoni", "change one to a hawaiian"], ["1 pepperoni", "1 hawaiian"]),
    # "the rest", after some units of a line were changed, is what that line still has
    (["3 cokes and a veggie", "make one a sprite and the rest diet"],
     ["1 sprite", "2 diet-coke", "1 veggie"]),
    # "just one of them": one unit of the only line that has several
    (["2 brownies and a margherita", "no actually just one of them"], ["1 brownie", "1 margherita"]),
    # a name typed with its last letter doubled is that name ("spritess")
    (["2 spritess n a hawaian", "hawaiian x2 and them sprites large"],
     ["2 hawaiian", "2 sprite drink-size=large"]),
    # "normal ham" is the ham's amount, not a medium size: the dish as it comes again
    (["Hawaiian with light ham please, and a diet coke", "Actually, normal ham is fine."],
     ["1 hawaiian", "1 diet-coke"]),
    # "X instead of Y" of two options of one choice: X
    (["large veggie gluten free", "and 2 brownies", "the veggie on thin crust instead of gf"],
     ["1 veggie crust=thin size=large", "2 brownie"]),
    # a quantity for each line being talked about, in order
    (["i'll take three large veggie pizzas and three waters", "Actually make it two and two"],
     ["2 veggie size=large", "2 water"]),
    # two lines trade their choices of one group
    (["hawaiian thin crust, pepperoni thick crust", "swap the crusts"],
     ["1 hawaiian crust=thick", "1 pepperoni crust=thin"]),
    (["large pepperoni, small hawaiian, a coke", "switch the sizes around"],
     ["1 pepperoni size=small", "1 hawaiian size=large", "1 coke"]),
]  # fmt: skip


@pytest.mark.parametrize(("turns", "cart"), CHANGED, ids=[t[0][-1] for t in CHANGED])
async def test_the_line_meant_is_changed(
    database_url: str, menu: Menu, turns: list[str], cart: list[str]
) -> None:
    _, after, kinds = await _play(database_url, menu, turns)
    assert after == expected_cart(Dialogue("reference", tuple(turns), tuple(cart)), menu), kinds


ANSWERED = [
    (["what sizes do the pizzas come in"], "menu"),
    (["pepperoni", "forget it i dont want anything anymore"], "confirm-empty-cart"),
]


@pytest.mark.parametrize(("turns", "kind"), ANSWERED, ids=[t[0][-1] for t in ANSWERED])
async def test_the_answer_is_of_the_kind_asked_and_the_cart_unchanged(
    database_url: str, menu: Menu, turns: list[str], kind: str
) -> None:
    before, after, kinds = await _play(database_url, menu, turns)
    assert after == before, (before, after, kinds)
    assert kind in kinds, kinds


ASKED = [
    # the second edit names no line it can change: the first is not applied alone
    ["2 pepperoni and a coke", "remove the coke and make the rest diet"],
    # two lines of several units: which one is meant is not said
    ["3 cokes and 2 sprites", "only two of those"],
    # two quantities for three lines: which is which is not said
    ["a pepperoni, a coke and a sprite", "make them two and three"],
    # nothing to trade: both have the same crust, or three lines could
    ["margherita thin crust and pepperoni thin crust", "swap the crusts"],
    ["thin margherita, thick pepperoni, stuffed veggie", "swap the crusts"],
]


@pytest.mark.parametrize("turns", ASKED, ids=[t[-1] for t in ASKED])
async def test_a_message_that_cannot_be_applied_whole_is_asked_about(
    database_url: str, menu: Menu, turns: list[str]
) -> None:
    before, after, kinds = await _play(database_url, menu, turns)
    assert after == before, (before, after, kinds)
    assert "ask" in kinds, kinds
