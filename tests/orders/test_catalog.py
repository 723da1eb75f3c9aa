"""Menu file loading and validation: prices in cents, errors that name the field."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from services.orders.menu.catalog import (
    ChosenOption,
    MenuError,
    demo_menu_path,
    format_money,
    load_menu,
    load_menu_file,
    parse_price,
)


def _demo_data() -> dict[str, Any]:
    data = yaml.safe_load(demo_menu_path().read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_demo_menu_has_the_contract_items_and_prices() -> None:
    menu = load_menu_file(demo_menu_path())
    prices = {item.code: item.price for item in menu.items()}
    assert prices["margherita"] == 950
    assert prices["pepperoni"] == 1100
    assert prices["veggie"] == 1050
    assert prices["garlic-bread"] == 400
    assert prices["coke"] == 250
    assert prices["water"] == 150
    assert prices["tiramisu"] == 500
    assert [c.name for c in menu.categories] == ["Pizzas", "Sides", "Drinks", "Desserts"]


def test_demo_store_settings() -> None:
    store = load_menu_file(demo_menu_path()).store
    assert store.currency == "USD"
    assert store.delivery.enabled and store.pickup
    assert store.delivery.fee == 299
    assert store.delivery.minimum_order == 1000
    assert all(store.hours[day] == ((0, 1440),) for day in store.hours)


def test_demo_has_composed_and_sized_items() -> None:
    menu = load_menu_file(demo_menu_path())
    byo = menu.item("build-your-own")
    assert byo is not None and byo.kind == "pizza"
    toppings = menu.group("toppings")
    assert toppings is not None and toppings.qualifiers and toppings.kind == "multiple"
    coke = menu.item("coke")
    assert coke is not None
    assert {g.code for g in menu.groups_of(coke)} == {"drink-size", "container"}


def test_unit_price_applies_defaults_deltas_and_qualifiers() -> None:
    menu = load_menu_file(demo_menu_path())
    assert menu.unit_price("margherita") == 950
    assert menu.unit_price("margherita", [ChosenOption("size", "small")]) == 800
    large_extra_cheese = [
        ChosenOption("size", "large"),
        ChosenOption("toppings", "cheese", "extra"),
    ]
    # extra charges the option price twice (documented in docs/menu-format.md)
    assert menu.unit_price("pepperoni", large_extra_cheese) == 1100 + 300 + 200
    with pytest.raises(KeyError):
        menu.unit_price("nope")


@pytest.mark.parametrize(
    ("cents", "text"),
    [(950, "9.50"), (-150, "-1.50"), (0, "0.00"), (5, "0.05"), (123456, "1234.56")],
)
def test_format_money(cents: int, text: str) -> None:
    assert format_money(cents) == text


@pytest.mark.parametrize(
    ("raw", "cents"), [("9.50", 950), ("9.5", 950), (9.5, 950), (9, 900), ("0", 0), (" 2.99 ", 299)]
)
def test_parse_price_is_exact(raw: object, cents: int) -> None:
    assert parse_price(raw, "x") == cents


@pytest.mark.parametrize("raw", ["abc", "9.505", "1e3", "", None, True, [1], "9,50"])
def test_parse_price_rejects(raw: object) -> None:
    with pytest.raises(MenuError) as err:
        parse_price(raw, "items[0].price")
    assert err.value.path == "items[0].price"


def test_negative_price_only_where_allowed() -> None:
    with pytest.raises(MenuError, match="negative"):
        parse_price("-1.00", "p")
    assert parse_price("-1.50", "p", allow_negative=True) == -150


def test_error_names_the_field() -> None:
    data = _demo_data()
    data["categories"][0]["items"][2]["price"] = "abc"
    with pytest.raises(MenuError) as err:
        load_menu(data)
    assert str(err.value) == "categories[0].items[2].price: expected a price like 9.50, got 'abc'"


def _break(mutate: Any) -> MenuError:
    data = copy.deepcopy(_demo_data())
    mutate(data)
    with pytest.raises(MenuError) as err:
        load_menu(data)
    return err.value


def test_negative_delta_rejected_in_multiple_group() -> None:
    def mutate(d: dict[str, Any]) -> None:
        d["option_groups"][2]["options"][0]["price"] = "-1.00"

    assert _break(mutate).path == "option_groups[2].options[0].price"


def test_unknown_group_reference() -> None:
    def mutate(d: dict[str, Any]) -> None:
        d["categories"][0]["items"][0]["option_groups"] = ["size", "nope"]

    assert _break(mutate).path == "categories[0].items[0].option_groups[1]"


def test_duplicate_item_code() -> None:
    def mutate(d: dict[str, Any]) -> None:
        d["categories"][1]["items"][0]["code"] = "margherita"

    assert "duplicate item code" in str(_break(mutate))


def test_bad_hours_and_default() -> None:
    def hours(d: dict[str, Any]) -> None:
        d["store"]["hours"]["mon"] = ["22:00-10:00"]

    assert _break(hours).path == "store.hours.mon[0]"

    def default(d: dict[str, Any]) -> None:
        d["option_groups"][0]["default"] = "huge"

    assert _break(default).path == "option_groups[0].default"


def test_missing_weekday_is_closed() -> None:
    data = _demo_data()
    del data["store"]["hours"]["sun"]
    data["store"]["hours"]["sat"] = []
    store = load_menu(data).store
    assert store.hours["sun"] == () and store.hours["sat"] == ()


def test_not_a_mapping_and_bad_yaml(tmp_path: Path) -> None:
    with pytest.raises(MenuError):
        load_menu(["a"])
    bad = tmp_path / "bad.yaml"
    bad.write_text("store: [unclosed", encoding="utf-8")
    with pytest.raises(MenuError, match="YAML"):
        load_menu_file(bad)


def test_an_item_whose_cheapest_choice_costs_less_than_nothing_is_refused() -> None:
    def cheaper_than_free(d: dict[str, Any]) -> None:
        d["option_groups"][0]["options"][0]["price"] = "-10.00"  # Size: Small, on Margherita (9.50)

    err = _break(cheaper_than_free)
    assert err.path == "categories[0].items[0]"
    assert "Margherita" in str(err) and "Small" in str(err) and "-0.50" in str(err)

    def item_itself(d: dict[str, Any]) -> None:
        d["categories"][0]["items"][0]["price"] = "1.00"  # with Small (-1.50): -0.50

    assert _break(item_itself).path == "categories[0].items[0]"

    def tripled(d: dict[str, Any]) -> None:
        # Qualifiers charge an option up to three times: 'triple small' would be 9.50 - 3 x 3.50.
        d["option_groups"][0]["qualifiers"] = True
        d["option_groups"][0]["options"][0]["price"] = "-3.50"

    assert "triple" in str(_break(tripled))


def test_a_negative_option_that_still_leaves_a_price_loads() -> None:
    data = copy.deepcopy(_demo_data())
    data["option_groups"][0]["options"][0]["price"] = "-8.00"  # a free small Build Your Own (8.00)
    menu = load_menu(data)
    assert menu.unit_price("build-your-own", [ChosenOption("size", "small")]) == 0


def test_pieces_of_a_portion() -> None:
    menu = load_menu_file(demo_menu_path())
    wings, coke = menu.item("wings"), menu.item("coke")
    assert wings is not None and wings.pieces == 8
    assert coke is not None and coke.pieces is None

    def mutate(d: dict[str, Any]) -> None:
        d["categories"][0]["items"][0]["pieces"] = 1

    assert _break(mutate).path == "categories[0].items[0].pieces"
