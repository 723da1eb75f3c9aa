"""English as many voices write it: slang and chat words around a change ("nah bruh", "fr",
"ngl", "tho"), other ways of saying a total ("so 2 tiramisus", "make it 2 orders"), of
swapping ("swap the veggie out for a pepperoni", "in place of the veggie, a hawaiian") and of
ordering more ("ooh throw in a tiramisu too"). Each is played through the real conversation
(a real PostgreSQL): the cart ends as meant, or the bot asks and leaves it as it was."""

from __future__ import annotations

import pytest

from evals.conversations import Dialogue, expected_cart
from services.orders.menu.catalog import Menu, demo_menu_path, load_menu_file
from services.orders.understanding.acts import said_last
from tests.orders.dialogues import play

CUSTOMER = "whatsapp:+15557770002"


@pytest.fixture(scope="module")
def menu() -> Menu:
    return load_menu_file(demo_menu_path())


CHANGED = [
    # "em" is "them", never a word of another language
    (["2 cokes", "change em to diet"], ["2 diet-coke"]),
    # chat words around a change are no part of it
    (["side salad", "nah bruh replace the salad w wings"], ["1 wings"]),
    (["margherita", "pepperoni", "delete the second one fr"], ["1 margherita"]),
    (["2 cokes", "remove one of the cokes tbh"], ["1 coke"]),
    # words that order more, with the cart holding other things: added, not asked about
    (["could i grab some wings and a brownie", "ooh throw in a tiramisu too"],
     ["1 wings", "1 brownie", "1 tiramisu"]),
    (["a margherita", "can i grab a coke as well"], ["1 margherita", "1 coke"]),
    # a reason, then "so" and the count it comes to: the line's new total
    (["1 tiramasu", "my sister wants one too so 2 tiramisus"], ["2 tiramisu"]),
    (["3 cokes and a margherita", "the kids are out tonight, so that makes 1 coke"],
     ["1 coke", "1 margherita"]),
    (["a margherita", "my brother is coming so 2 cokes"], ["1 margherita", "2 coke"]),
    (["a coke", "my brother is coming so 2 more cokes"], ["3 coke"]),
    # a count said in portions: "orders", "portions", "servings" count the line
    (["1 salad and 1 order of wings", "wings, make it 2 orders"], ["1 salad", "2 wings"]),
    (["a garlic bread and a coke", "make the garlic bread 3 portions"], ["3 garlic-bread", "1 coke"]),
    # a swap said with a particle, "in place of" as "instead of"
    (["a margherita and a veggie", "swap the veggie out for a pepperoni"], ["1 margherita", "1 pepperoni"]),
    (["a coke and a salad", "switch the coke over to a sprite"], ["1 sprite", "1 salad"]),
    (["large veggie and large margherita", "in place of the large veggie, a large hawaiian"],
     ["1 hawaiian size=large", "1 margherita size=large"]),
    # a line named by place or size, then a change of "it": that line
    (["a large pepperoni", "a small pepperoni", "a coke", "the last pizza, make it medium"],
     ["1 pepperoni size=large", "1 pepperoni", "1 coke"]),
    # "one of them ... instead" changes one unit, it orders nothing
    (["2 pepperoni thin", "make one of em stuffed crust instead"],
     ["1 pepperoni crust=stuffed", "1 pepperoni crust=thin"]),
    # an option whose name starts with an article
    (["bottled water", "make it a liter"], ["1 water volume=1l"]),
    (["a coke", "make it a sprite"], ["1 sprite"]),
    (["xl pepperoni and a small hawaiian", "the smaller pizza, make it 2"],
     ["1 pepperoni size=extra-large", "2 hawaiian size=small"]),
]  # fmt: skip


@pytest.mark.parametrize(("turns", "cart"), CHANGED, ids=[t[0][-1] for t in CHANGED])
async def test_the_cart_ends_as_meant(
    database_url: str, menu: Menu, turns: list[str], cart: list[str]
) -> None:
    _, after, kinds = await play(database_url, menu, turns, customer=CUSTOMER)
    assert after == expected_cart(Dialogue("reference", tuple(turns), tuple(cart)), menu), kinds


ASKED = [
    # a verb the bot does not know, on an item of the cart: asked, never added
    ["a tiramisu", "chuck the tiramisu"],
]


@pytest.mark.parametrize("turns", ASKED, ids=[t[-1] for t in ASKED])
async def test_what_could_be_a_change_is_asked_about(database_url: str, menu: Menu, turns: list[str]) -> None:
    before, after, kinds = await play(database_url, menu, turns, customer=CUSTOMER)
    assert after == before, (before, after, kinds)
    assert "ask" in kinds, kinds


QUESTIONS = [
    (["what kinda desserts are there"], "menu"),
    (["a coke", "what sorta drinks do you have"], "menu"),
    (["what type of pizzas are there"], "menu"),
]


@pytest.mark.parametrize(("turns", "kind"), QUESTIONS, ids=[t[0][-1] for t in QUESTIONS])
async def test_a_question_is_answered_and_changes_nothing(
    database_url: str, menu: Menu, turns: list[str], kind: str
) -> None:
    before, after, kinds = await play(database_url, menu, turns, customer=CUSTOMER)
    assert after == before, (before, after, kinds)
    assert kind in kinds, kinds


@pytest.mark.parametrize(
    ("said", "meant"),
    [
        # "no" before what reads as an option left out is "without", not the word of taking back
        ("the small pepperoni is for my kid, no pepperoni on it lol", None),
        ("a coke no a sprite", "a sprite"),
    ],
)
def test_a_bare_no_before_an_option_takes_nothing_back(menu: Menu, said: str, meant: str | None) -> None:
    assert said_last(menu, said) == meant
