"""The parser reads Spanish and Portuguese (Brazil) through the menu of the customer's language:
the issue's examples, number words, sizes, connectors and negation, accents typed or not, and
never a cart from a word read in the wrong language."""

from __future__ import annotations

import pytest

from evals.messages import cart_of, expected_cart
from services.orders.menu.catalog import MenuError, demo_menu_path, load_menu, load_menu_file
from services.orders.understanding.parser import parse_order

MENU = load_menu_file(demo_menu_path())


def cart(locale: str, text: str):
    return cart_of(parse_order(MENU.localized(locale), text), expected_cart([]))


@pytest.mark.parametrize(
    ("locale", "text", "wanted"),
    [
        # the examples
        ("es", "dos aguas y un tiramisú", ["2 water", "1 tiramisu"]),
        ("pt_BR", "quero duas margheritas e uma coca", ["2 margherita", "1 coke"]),
        ("es", "una pepperoni grande por favor", ["1 pepperoni size=large"]),
        ("es", "quiero 2 margaritas y una coca cola", ["2 margherita", "1 coke"]),
        # number words, sizes, options, accents typed or not
        ("es", "tres cocas grandes en lata", ["3 coke drink-size=large container=can"]),
        ("es", "una hawaiana pequena sin pina", ["1 hawaiian size=small -toppings=pineapple"]),
        ("es", "una hawaiana pequeña sin piña", ["1 hawaiian size=small -toppings=pineapple"]),
        ("es", "una vegetariana mediana con masa delgada", ["1 veggie size=medium crust=thin"]),
        ("es", "una hawaiana familiar con orilla rellena", ["1 hawaiian size=extra-large crust=stuffed"]),
        ("es", "una margherita pero sin gluten", ["1 margherita crust=gluten-free"]),
        ("es", "un pan de ajo y una coca light", ["1 garlic-bread", "1 diet-coke"]),
        (
            "es",
            "2 pizzas de pepperoni con extra queso pero sin cebolla",
            ["2 pepperoni toppings=cheese:extra -toppings=onions"],
        ),
        ("es", "una margarita con más queso", ["1 margherita toppings=cheese:extra"]),
        ("pt_BR", "uma havaiana grande sem abacaxi", ["1 hawaiian size=large -toppings=pineapple"]),
        ("pt_BR", "2 águas e um tiramisù", ["2 water", "1 tiramisu"]),
        ("pt_BR", "2 aguas e um tiramisu", ["2 water", "1 tiramisu"]),
        ("pt_BR", "me vê 2 cocas em lata e 1 água", ["2 coke container=can", "1 water"]),
        (
            "pt_BR",
            "um pão de alho e uma coca zero em garrafa",
            ["1 garlic-bread", "1 diet-coke container=bottle"],
        ),
        (
            "pt_BR",
            "duas pizzas de pepperoni com queijo extra mas sem cebola",
            ["2 pepperoni toppings=cheese:extra -toppings=onions"],
        ),
        ("pt_BR", "uma pizza de pepperoni com cebola em dobro", ["1 pepperoni toppings=onions:double"]),
        ("pt_BR", "1 pizza grande de pepperoni", ["1 pepperoni size=large"]),
        (
            "pt_BR",
            "uma margherita com mais queijo e sem manjericão",
            ["1 margherita toppings=cheese:extra -toppings=basil"],
        ),
        # English names still work in the other languages
        ("es", "2 coke y 1 water", ["2 coke", "1 water"]),
    ],
)
def test_orders_in_spanish_and_portuguese(locale: str, text: str, wanted: list[str]) -> None:
    assert cart(locale, text) == expected_cart(wanted)


def test_words_are_read_in_the_customer_language_only() -> None:
    # "dos" is two in Spanish but "of the" in Portuguese; "mas" is "more" in Spanish, "but" in
    # Portuguese; "no" is a negation in Spanish, "on the" in Portuguese.
    assert cart("es", "dos margheritas") == expected_cart(["2 margherita"])
    assert cart("pt_BR", "dos margheritas") != expected_cart(["2 margherita"])
    assert cart("es", "una margherita mas queso") == expected_cart(["1 margherita toppings=cheese:extra"])
    assert cart("pt_BR", "uma margherita mas sem queijo") == expected_cart(["1 margherita -toppings=cheese"])
    # English reads neither language's words as numbers
    assert cart("en", "duas margheritas") != expected_cart(["2 margherita"])


def test_a_kind_noun_asks_rather_than_guesses() -> None:
    result = parse_order(MENU.localized("pt_BR"), "2 refrigerantes")
    assert not result.lines and result.ambiguous
    result = parse_order(MENU.localized("es"), "una pizza")
    assert not result.lines and result.ambiguous


@pytest.mark.parametrize(
    ("locale", "text", "candidates"),
    [
        ("en", "add a dessert", ("tiramisu", "brownie")),
        ("es", "quiero un postre", ("tiramisu", "brownie")),
        ("pt_BR", "e uma sobremesa", ("tiramisu", "brownie")),
        ("es", "una entrada", ("garlic-bread", "wings", "salad")),
        ("pt_BR", "dois acompanhamentos", ("garlic-bread", "wings", "salad")),
    ],
)
def test_the_name_of_a_section_of_the_menu_asks_which_of_its_items(
    locale: str, text: str, candidates: tuple[str, ...]
) -> None:
    result = parse_order(MENU.localized(locale), text)
    assert not result.lines
    assert [a.candidates for a in result.ambiguous] == [candidates]


def test_localized_menu_names_and_fallback() -> None:
    es = MENU.localized("es")
    assert es.locale == "es" and es.item("hawaiian").name == "Hawaiana"
    assert es.item("hawaiian").description == "Tomate, mozzarella, jamón, piña"
    assert "Hawaiian" in es.item("hawaiian").aliases  # the default name still works
    assert es.item("sprite").name == "Sprite"
    assert [c.name for c in es.categories] == ["Pizzas", "Entradas", "Bebidas", "Postres"]
    pt = MENU.localized("pt-BR")
    assert pt.item("water").name == "Água" and pt.group("size").name == "Tamanho"
    assert MENU.localized("fr") is MENU  # not a language of the store: its default
    assert MENU.localized("es") is es  # cached


def _doc(**store: object) -> dict:
    base = {
        "store": {"code": "s", "name": "S", "currency": "USD", **store},
        "categories": [{"code": "c", "name": "C", "items": [{"code": "i", "name": "I", "price": "1.00"}]}],
    }
    return base


def test_menu_file_languages_are_checked() -> None:
    menu = load_menu(_doc(languages=["en", "pt-BR"], default_language="pt-BR"))
    assert menu.store.languages == ("en", "pt_BR") and menu.store.default_language == "pt_BR"
    assert menu.locale == "pt_BR"
    with pytest.raises(MenuError, match=r"store.languages\[1\]"):
        load_menu(_doc(languages=["en", "fr"]))
    with pytest.raises(MenuError, match=r"store\.default_language"):
        load_menu(_doc(languages=["en"], default_language="es"))
    doc = _doc(languages=["en"])
    doc["categories"][0]["items"][0]["translations"] = {"es": {"name": "Yo"}}
    with pytest.raises(MenuError, match=r"categories\[0\].items\[0\].translations.es"):
        load_menu(doc)
    doc = _doc(languages=["en", "es"])
    doc["categories"][0]["items"][0]["translations"] = {"es": {"nombre": "Yo"}}
    with pytest.raises(MenuError, match="unknown field 'nombre'"):
        load_menu(doc)
