"""Words nothing reads: a message that carries them never changes a cart silently. With a cart,
such a message is asked about (outbox purpose `reply:ask`) instead of being added, and a first
message's language is the one that reads all of its words."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from services.orders.menu.catalog import Menu, demo_menu_path, load_menu_file
from services.orders.understanding.parser import english_reading, unread_words
from tests.orders.chat import DirectChat, direct_chat

LINES = "SELECT item_code, quantity FROM cart_lines ORDER BY id"
KINDS = "SELECT purpose FROM outbox WHERE starts_with(purpose, 'reply') ORDER BY id DESC LIMIT 1"


@pytest.fixture(scope="module")
def menu() -> Menu:
    return load_menu_file(demo_menu_path())


@pytest.fixture
async def chat(database_url: str) -> AsyncIterator[DirectChat]:
    async with direct_chat(database_url) as c:
        yield c


@pytest.mark.parametrize(
    ("locale", "text", "unread"),
    [
        ("es", "vuela el pan de ajo", ("vuela",)),
        ("es", "hasta luego", ()),
        ("es", "los tiramisus fuera", ()),
        ("es", "la pizza tiene que volar", ("volar",)),
        ("es", "quiero 2 margaritas y una coca por favor", ()),
        ("es", "quita la coca", ()),
        ("pt_BR", "troca brownie por tiramisu bjs", ()),  # an interjection of the lexicon
        ("pt_BR", "a coca geladinha", ("geladinha",)),
        ("pt_BR", "esquece o pão de alho", ()),  # bridged to English: read
        ("en", "2 large pepperoni and a coke please", ()),
        ("en", "4 brownies y un tiramisú", ("un",)),
        ("en", "2 cokes for my wife", ()),  # whom an order is for is read: it changes nothing
        ("en", "2 cokes for the carpool", ("carpool",)),
        ("en", "ooh throw in a tiramisu ngl", ()),  # a sound, words of ordering, a chat tag
        ("en", "chuck the tiramisu", ("chuck",)),  # "chuck" orders only as "chuck in"
        ("en", "2 margaritas", ()),  # a misspelling of a menu word is read as that word
    ],
)
def test_unread_words(menu: Menu, locale: str, text: str, unread: tuple[str, ...]) -> None:
    assert unread_words(menu.localized(locale), text) == unread


async def last_kind(chat: DirectChat) -> str:
    (row,) = await chat.sql(KINDS)
    return str(row["purpose"])


@pytest.mark.parametrize(
    ("first", "then"),
    [
        ("dos pepperoni y un pan de ajo", "descarto el pan de ajo"),
        ("ponme 2 brownies y 2 tiramisus", "los tiramisus vuelan"),
        # an option the store does not have, on an item already in the cart: maybe a removal
        ("quiero una hawaiana y unas alitas", "las alitas no pican"),
    ],
)
async def test_an_unread_word_with_a_cart_asks_rather_than_adds(
    chat: DirectChat, first: str, then: str
) -> None:
    await chat.say(first)
    before = await chat.sql(LINES)
    (reply,) = await chat.say(then)
    assert await chat.sql(LINES) == before
    assert await last_kind(chat) == "reply:ask"
    assert "Quiero hacerlo bien" in reply


async def test_a_message_nothing_reads_with_a_cart_is_a_question(chat: DirectChat) -> None:
    await chat.say("5 cocas")
    (reply,) = await chat.say("nah, con 3 nos arreglamos")
    assert await chat.sql(LINES) == [{"item_code": "coke", "quantity": 5}]
    assert await last_kind(chat) == "reply:ask"
    assert "¿Quieres cambiar tu carrito?" in reply


async def test_a_message_nothing_reads_without_a_cart_is_no_question(chat: DirectChat) -> None:
    (reply,) = await chat.say("the quick brown fox")
    assert await last_kind(chat) == "reply"
    assert "change your cart" not in reply


async def test_the_first_message_language_is_the_one_that_reads_every_word(chat: DirectChat) -> None:
    (reply,) = await chat.say("4 brownies y un tiramisú")
    assert "Agregué" in reply
    assert await chat.sql(LINES) == [
        {"item_code": "brownie", "quantity": 4},
        {"item_code": "tiramisu", "quantity": 1},
    ]


@pytest.mark.parametrize(
    ("first", "then", "left"),
    [
        (
            "dos pepperoni y un pan de ajo",
            "cancela el pan de ajo",
            [{"item_code": "pepperoni", "quantity": 2}],
        ),
        (
            "una pepperoni y una margarita",
            "descarta la margarita porfa",
            [{"item_code": "pepperoni", "quantity": 1}],
        ),
        (
            "quero uma pepperoni e uma marguerita",
            "desisti da marguerita",
            [{"item_code": "pepperoni", "quantity": 1}],
        ),
        ("pão de alho e asinhas", "esquece o pão de alho", [{"item_code": "wings", "quantity": 1}]),
        ("ponme 2 brownies y 2 tiramisus", "los tiramisus fuera", [{"item_code": "brownie", "quantity": 2}]),
        (
            "havaiana, coca, brownie",
            "deleta o brownie pfv",
            [{"item_code": "hawaiian", "quantity": 1}, {"item_code": "coke", "quantity": 1}],
        ),
    ],
)
async def test_words_of_removal(
    chat: DirectChat, first: str, then: str, left: list[dict[str, object]]
) -> None:
    await chat.say(first)
    await chat.say(then)
    assert await chat.sql(LINES) == left


async def test_an_option_the_store_does_not_have_is_named_back_not_asked(chat: DirectChat) -> None:
    await chat.say("una margarita")
    (reply,) = await chat.say("una hawaiana sin pepinillos")
    assert await chat.sql(LINES) == [
        {"item_code": "margherita", "quantity": 1},
        {"item_code": "hawaiian", "quantity": 1},
    ]
    assert "pepinillos" in reply


@pytest.mark.parametrize(
    ("first", "then"),
    [
        # a correction that names no line of the cart may replace one (after one line added,
        # that one: tests/orders/test_dialogue_spanish.py)
        ("una coca chica y una margarita", "mejor una sprite"),
        ("uma havaiana pequena e uma coca", "na verdade uma pepperoni"),
        # a line of the cart named with "the" points at that line ("el tiramisú por un brownie"
        # is a swap: tests/orders/test_dialogue_spanish.py)
        ("2 cocas y una margarita", "las cocas pa llevar"),
    ],
)
async def test_a_correction_or_a_named_line_asks_rather_than_adds(
    chat: DirectChat, first: str, then: str
) -> None:
    await chat.say(first)
    before = await chat.sql(LINES)
    await chat.say(then)
    assert await chat.sql(LINES) == before
    assert await last_kind(chat) == "reply:ask"


async def test_a_question_about_a_line_is_answered(chat: DirectChat) -> None:
    await chat.say("a margherita")
    (reply,) = await chat.say("is the margherita vegetarian?")
    assert "Margherita" in reply
    assert await last_kind(chat) == "reply:item-info"
    assert await chat.sql(LINES) == [{"item_code": "margherita", "quantity": 1}]


@pytest.mark.parametrize("text", ["che cuanto sale el tiramisu", "q precio tienen las alitas"])
async def test_interjections_are_dropped_from_a_question(chat: DirectChat, text: str) -> None:
    await chat.say(text)
    assert await last_kind(chat) == "reply:price"
    assert await chat.sql(LINES) == []


@pytest.mark.parametrize(
    ("text", "english"),
    [
        ("a la hawaiana ponle borde relleno", "add borde relleno to the hawaiana"),
        (
            "a la vegetariana agrégale pollo y quítale las aceitunas",
            "add pollo to the vegetariana and remove the aceitunas",
        ),
        ("al pan de ajo agrégale marinara", "add marinara to the pan de ajo"),
        # a "no" that ends the message after an item takes it out
        ("la sprite mejor no", "remove the sprite"),
        ("no, la hawaiana no", "actually remove the hawaiana"),
    ],
)
def test_the_line_named_first_is_read_after_its_options(menu: Menu, text: str, english: str) -> None:
    assert english_reading(menu.localized("es"), text)[1] == english


async def test_a_no_after_an_item_removes_it(chat: DirectChat) -> None:
    await chat.say("una coca y una sprite")
    await chat.say("la sprite mejor no")
    assert await chat.sql(LINES) == [{"item_code": "coke", "quantity": 1}]
