"""A message is applied whole or not at all: when one of its phrases needs a question, nothing
of it changes the cart until the customer answers, and the answer applies the whole message
(docs/conversation.md). Played through the real conversation on a real PostgreSQL."""

from __future__ import annotations

import pytest

from evals.conversations import Dialogue, expected_cart
from services.orders.menu.catalog import Menu, demo_menu_path, load_menu_file
from tests.orders.dialogues import play_replies

CUSTOMER = "whatsapp:+15557770002"


@pytest.fixture(scope="module")
def menu() -> Menu:
    return load_menu_file(demo_menu_path())


def _cart(menu: Menu, lines: list[str]) -> object:
    return expected_cart(Dialogue("add", ("x",), tuple(lines)), menu)


async def test_a_question_after_a_change_shows_the_cart_as_it_was(database_url: str, menu: Menu) -> None:
    turns = ["3 veggie", "one of them large and the other thin"]
    before, after, replies = await play_replies(database_url, menu, turns, customer=CUSTOMER)
    assert after == before
    [(kind, text)] = replies
    assert kind == "ask"
    assert "3 x Veggie" in text and "Large" not in text


# (turns, the cart after the last turn) where the last turn asks: nothing of the message is
# applied, neither before the question nor after it
HELD = [
    # an order with a phrase that could be several items: the other lines wait too
    (["2 pizza and a coke"], []),
    # options for the line being talked about, beside a phrase asked about
    (["a coke", "large, and a pizza"], ["1 coke"]),
    # the asking act first, an independent one after it
    (["margherita and pepperoni", "remove the pizza and add a coke"], ["1 margherita", "1 pepperoni"]),
    # the asking act after a change
    (
        ["margherita and pepperoni and a sprite", "remove the sprite and make the pizza large"],
        ["1 margherita", "1 pepperoni", "1 sprite"],
    ),
]


@pytest.mark.parametrize(("turns", "cart"), HELD, ids=[t[-1] for t, _ in HELD])
async def test_a_message_one_phrase_of_which_asks_changes_nothing(
    database_url: str, menu: Menu, turns: list[str], cart: list[str]
) -> None:
    _before, after, replies = await play_replies(database_url, menu, turns, customer=CUSTOMER)
    assert after == _cart(menu, cart)
    assert [kind for kind, _ in replies] == ["ask"]


# the answer applies the whole message: the option chosen and what the rest of it asked for
ANSWERED = [
    (["2 pizza and a coke", "2"], ["2 pepperoni", "1 coke"]),
    (["a coke", "large, and a pizza", "3"], ["1 coke drink-size=large", "1 veggie"]),
    (["margherita and pepperoni", "remove the pizza and add a coke", "1"], ["1 pepperoni", "1 coke"]),
    (
        ["margherita and pepperoni and a sprite", "remove the sprite and make the pizza large", "2"],
        ["1 margherita", "1 pepperoni size=large"],
    ),
    # a second question waits for its own answer; what the message held came with the first
    (["a pizza and a drink and a brownie", "1"], ["1 margherita", "1 brownie"]),
    (["a pizza and a drink and a brownie", "1", "2"], ["1 margherita", "1 brownie", "1 diet-coke"]),
]


@pytest.mark.parametrize(("turns", "cart"), ANSWERED, ids=[" | ".join(t) for t, _ in ANSWERED])
async def test_the_answer_applies_the_whole_message(
    database_url: str, menu: Menu, turns: list[str], cart: list[str]
) -> None:
    _before, after, _replies = await play_replies(database_url, menu, turns, customer=CUSTOMER)
    assert after == _cart(menu, cart)


async def test_never_mind_drops_what_the_message_held(database_url: str, menu: Menu) -> None:
    turns = ["a coke", "remove the coke and add a pizza", "never mind"]
    _before, after, _replies = await play_replies(database_url, menu, turns, customer=CUSTOMER)
    assert after == _cart(menu, ["1 coke"])


async def test_what_cannot_wait_for_the_answer_is_asked_again(database_url: str, menu: Menu) -> None:
    # "the other" depends on which one is meant: nothing is held, and the customer is told
    turns = ["3 veggie", "one of them large and the other thin"]
    _before, _after, replies = await play_replies(database_url, menu, turns, customer=CUSTOMER)
    [(_kind, text)] = replies
    assert "tell me the rest again" in text


@pytest.mark.parametrize(
    ("turns", "cart"),
    [
        (["2 margherita 2 coke", "just the pizzas, no drinks"], ["2 margherita"]),
        (
            ["veggie pizza", "and a coke", "that's the wrong pizza sorry, i meant hawaiian"],
            ["1 hawaiian", "1 coke"],
        ),
    ],
)
async def test_a_kind_said_again_beside_a_change_names_the_lines_of_the_cart(
    database_url: str, menu: Menu, turns: list[str], cart: list[str]
) -> None:
    # no "which pizza?": the pizzas meant are the ones in the cart
    _before, after, replies = await play_replies(database_url, menu, turns, customer=CUSTOMER)
    assert after == _cart(menu, cart)
    assert [kind for kind, _ in replies] == ["changed"]


@pytest.mark.parametrize(
    ("turns", "cart"),
    [
        (["2 pizza and a coke", "pepperoni"], ["2 pepperoni", "1 coke"]),
        (["a pizza and a coke", "the hawaiian please"], ["1 hawaiian", "1 coke"]),
        (["a pizza and a coke", "veggie large"], ["1 veggie size=large", "1 coke"]),
        (["uma pizza e uma coca", "a havaiana"], ["1 hawaiian", "1 coke"]),
    ],
)
async def test_a_question_answered_by_name_applies_the_whole_message(
    database_url: str, menu: Menu, turns: list[str], cart: list[str]
) -> None:
    _before, after, _replies = await play_replies(database_url, menu, turns, customer=CUSTOMER)
    assert after == _cart(menu, cart)


async def test_a_choice_answered_by_the_name_of_its_line_applies_the_whole_message(
    database_url: str, menu: Menu
) -> None:
    turns = ["margherita and pepperoni", "remove the pizza and add a coke", "the pepperoni"]
    _before, after, _replies = await play_replies(database_url, menu, turns, customer=CUSTOMER)
    assert after == _cart(menu, ["1 margherita", "1 coke"])
