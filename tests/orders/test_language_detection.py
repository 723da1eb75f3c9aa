"""Which language a customer writes in: explicit requests, clear evidence, and the short or
ambiguous messages that must keep the language the customer has."""

from __future__ import annotations

import pytest

from services.orders.conversation.languages import menu_words
from services.orders.language.detection import detect, requested
from services.orders.menu.catalog import demo_menu_path, load_menu_file

ALL = ("en", "es", "pt_BR")
MENU_WORDS = menu_words(load_menu_file(demo_menu_path()))


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("hola", "es"),
        ("quiero 2 margaritas y una coca cola", "es"),
        ("dos aguas y un tiramisú", "es"),
        ("una pepperoni grande por favor", "es"),
        ("¿tienen pizza hawaiana?", "es"),
        ("gracias", "es"),
        ("sin cebolla", "es"),  # "sin" is in a menu alias ("sin gluten") and still Spanish
        ("olá, boa noite", "pt_BR"),
        ("quero duas margheritas e uma coca", "pt_BR"),
        ("cardápio", "pt_BR"),
        ("uma havaiana sem abacaxi", "pt_BR"),
        ("obrigado", "pt_BR"),
        ("sem cebola", "pt_BR"),
        ("1 tiramisu e 1 pepperoni grande", "pt_BR"),  # Spanish writes "e" only before an "i"
        ("brownie só 1", "pt_BR"),  # "só" with its accent is Portuguese, "so" without is nothing
        ("faz elas grandes", "pt_BR"),
        ("oxe, entrega lá no centro?", "pt_BR"),
        ("2 large pepperoni with extra cheese and a coke", "en"),
        ("good morning!!", "en"),
        ("thanks", "en"),
    ],
)
def test_clear_evidence(text: str, language: str) -> None:
    assert detect(text, ALL, MENU_WORDS) == language


@pytest.mark.parametrize(
    "text",
    [
        "ok",
        "2 coke",
        "pepperoni grande",
        "1 margherita",
        "checkout",
        "no",
        "👍",
        "12 Main Street",
        "asdkjh qwpoeiru zxmcnv",
        "Bonjour",
        "brownie so 1",
        "item 3 para 2",  # "para" is Spanish and Portuguese
        "agua e hielo",
    ],
)
def test_short_or_ambiguous_messages_are_no_evidence(text: str) -> None:
    assert detect(text, ALL, MENU_WORDS) is None


def test_only_the_store_languages_count() -> None:
    assert detect("quiero 2 margaritas y una coca cola", ("en", "pt_BR"), MENU_WORDS) != "es"
    assert detect("hola", ("en",), MENU_WORDS) == "en"
    assert requested("en español por favor", ("en", "pt_BR")) is None


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("english please", "en"),
        ("can you speak English?", "en"),
        ("en inglés por favor", "en"),
        ("en español", "es"),
        ("Español por favor", "es"),
        ("em português", "pt_BR"),
        ("fala português?", "pt_BR"),
        ("portugues pfv", "pt_BR"),
    ],
)
def test_explicit_requests(text: str, language: str) -> None:
    assert requested(text, ALL) == language


def test_no_request_in_an_order() -> None:
    assert requested("2 margherita and a coke", ALL) is None
    assert requested("quiero una hawaiana", ALL) is None


@pytest.mark.parametrize(
    ("text", "remembered"),
    [
        ("tira", "es"),
        ("manda", "es"),
        ("abre", "es"),
        ("claro", "pt_BR"),
        ("vale", "pt_BR"),
        ("por favor", "pt_BR"),
    ],
)
def test_one_word_the_customers_language_writes_too_is_no_evidence(text: str, remembered: str) -> None:
    assert detect(text, ALL, MENU_WORDS) is not None  # a new customer's language would follow it
    assert detect(text, ALL, MENU_WORDS, remembered=remembered) is None  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "remembered", "language"),
    [
        ("tira a cebola da pizza", "es", "pt_BR"),
        ("so duas agua", "es", "pt_BR"),
        ("obrigado", "es", "pt_BR"),
        ("não", "es", "pt_BR"),
        ("¿tienen coca?", "pt_BR", "es"),
        ("gracias", "pt_BR", "es"),
        ("can i get a coke please", "es", "en"),
    ],
)
def test_clear_evidence_changes_a_remembered_language(text: str, remembered: str, language: str) -> None:
    assert detect(text, ALL, MENU_WORDS, remembered=remembered) == language  # type: ignore[arg-type]
