"""EXR trees: reading, unordered comparison, mismatch kinds."""

from __future__ import annotations

import pytest

from evals.pizza.evaluation import mismatch_kinds
from evals.pizza.exr import ExrError, parse_exr, render_exr, same_tree
from services.orders.menu.catalog import load_menu
from services.orders.understanding.parser import parse_order

A = "(ORDER (PIZZAORDER (NUMBER 2 ) (SIZE LARGE ) (TOPPING HAM ) (NOT (TOPPING OLIVES ) ) ) )"
B = "(ORDER (PIZZAORDER (NOT (TOPPING OLIVES ) ) (TOPPING HAM ) (NUMBER 2 ) (SIZE LARGE ) ) )"


def test_unordered_match() -> None:
    assert same_tree(A, B)
    assert not same_tree(A, A.replace("HAM", "BACON"))
    assert not same_tree(A, A.replace("(SIZE LARGE ) ", ""))
    two = "(ORDER (DRINKORDER (NUMBER 1 ) (DRINKTYPE COKE ) ) (DRINKORDER (NUMBER 1 ) (DRINKTYPE COKE ) ) )"
    one = "(ORDER (DRINKORDER (NUMBER 1 ) (DRINKTYPE COKE ) ) )"
    assert not same_tree(two, one)  # children are a multiset, not a set


def test_parse_errors() -> None:
    for bad in ["(ORDER", ")", "(ORDER ) )", "( )"]:
        with pytest.raises(ExrError):
            parse_exr(bad)


def test_mismatch_kinds() -> None:
    assert mismatch_kinds(A, A.replace("HAM", "BACON")) == ("TOPPING",)
    assert mismatch_kinds(A, A.replace("(NOT (TOPPING OLIVES ) ) ", "")) == ("NOT TOPPING",)
    assert mismatch_kinds(A, "(ORDER )") == ("order count",)


def test_render() -> None:
    menu = load_menu(
        {
            "store": {"code": "b", "name": "B", "currency": "USD"},
            "option_groups": [
                {"code": "size", "name": "Size", "options": [{"code": "large", "name": "Large"}]},
                {
                    "code": "toppings",
                    "name": "Toppings",
                    "kind": "multiple",
                    "qualifiers": True,
                    "options": [
                        {"code": "ham", "name": "Ham"},
                        {"code": "olives", "name": "Olives"},
                        {"code": "cheese", "name": "Cheese"},
                    ],
                },
                {"code": "volume", "name": "Volume", "options": [{"code": "2-liter", "name": "2 liter"}]},
            ],
            "categories": [
                {
                    "code": "all",
                    "name": "All",
                    "items": [
                        {"code": "pizza", "name": "Pizza", "price": "9", "kind": "pizza",
                         "option_groups": ["size", "toppings"]},
                        {"code": "diet-coke", "name": "Diet Coke", "price": "2", "kind": "drink",
                         "option_groups": ["volume"]},
                    ],
                }
            ],
        }
    )  # fmt: skip
    result = parse_order(
        menu, "two large pizzas with ham and extra cheese but no olives and a 2 liter diet coke"
    )
    want = (
        "(ORDER (PIZZAORDER (NUMBER 2 ) (SIZE LARGE ) (TOPPING HAM ) (NOT (TOPPING OLIVES ) )"
        " (COMPLEX_TOPPING (QUANTITY EXTRA ) (TOPPING CHEESE ) ) )"
        " (DRINKORDER (NUMBER 1 ) (DRINKTYPE DIET_COKE ) (VOLUME 2 LITER ) ) )"
    )
    assert same_tree(render_exr(menu, result), want)
