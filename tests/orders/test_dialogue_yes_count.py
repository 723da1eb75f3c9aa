"""A yes to an offer to add, said with a count: the count said is added, never the one offered;
a yes with words the bot cannot read asks again rather than adding what was offered. Played
through the real conversation on a real PostgreSQL."""

from __future__ import annotations

import pytest

from evals.conversations import Dialogue, expected_cart
from services.orders.menu.catalog import Menu, demo_menu_path, load_menu_file
from tests.orders.dialogues import play_replies

CUSTOMER = "whatsapp:+15557770007"

# a message whose unread words leave it in doubt: the bot offers "Add 2 x Hawaiian" and waits
OFFER = {
    "en": ["3 cokes", "2 hawaiian zorblax"],
    "es": ["3 cokes", "y dos hawaianas mmm quizas"],
    "pt": ["3 cokes", "duas havaianas zorblax"],
}


@pytest.fixture(scope="module")
def menu() -> Menu:
    return load_menu_file(demo_menu_path())


def _cart(menu: Menu, lines: list[str]) -> object:
    return expected_cart(Dialogue("add", ("x",), tuple(lines)), menu)


async def test_the_offer_is_made(database_url: str, menu: Menu) -> None:
    for number, (language, turns) in enumerate(OFFER.items()):
        customer = f"{CUSTOMER}{number}"
        before, after, replies = await play_replies(database_url, menu, turns, customer=customer)
        assert after == before
        [(kind, text)] = replies
        assert kind == "ask" and "2 x Ha" in text, (language, text)


# (language, the answer, the Hawaiians it adds)
COUNTED = [
    ("es", "sí, pero solo una", 1),
    ("es", "sí, 3", 3),
    ("es", "si, nada más una", 1),
    ("es", "sí", 2),
    ("en", "yes but just one", 1),
    ("en", "yes, only 1", 1),
    ("en", "yes make it 3", 3),
    ("en", "yes", 2),
    ("en", "yes please", 2),
    ("pt", "sim, mas só uma", 1),
    ("pt", "sim, 3", 3),
    ("pt", "sim", 2),
]


@pytest.mark.parametrize(("language", "answer", "count"), COUNTED, ids=[a for _, a, _ in COUNTED])
async def test_a_yes_with_a_count_adds_that_count(
    database_url: str, menu: Menu, language: str, answer: str, count: int
) -> None:
    turns = [*OFFER[language], answer]
    _before, after, _replies = await play_replies(database_url, menu, turns, customer=CUSTOMER)
    assert after == _cart(menu, ["3 coke", f"{count} hawaiian"])


UNREAD = [
    ("en", "yes but zorblax"),
    ("en", "yes, the big one"),
    ("es", "sí, pero zorblax"),
    ("pt", "sim, mas zorblax"),
    ("en", "yes, 1 or 2"),
    # the number of the one option offered, or a count of it: asked
    ("en", "yes, 1"),
    ("es", "sí 1"),
]


@pytest.mark.parametrize(("language", "answer"), UNREAD, ids=[a for _, a in UNREAD])
async def test_a_yes_with_words_not_read_asks_again(
    database_url: str, menu: Menu, language: str, answer: str
) -> None:
    turns = [*OFFER[language], answer]
    before, after, replies = await play_replies(database_url, menu, turns, customer=CUSTOMER)
    assert after == before
    assert [kind for kind, _ in replies] == ["ask"]
    # the offer still stands: a plain yes now adds it
    _before, after, _replies = await play_replies(database_url, menu, [*turns, "yes"], customer=CUSTOMER)
    assert after == _cart(menu, ["3 coke", "2 hawaiian"])
