"""What the English words of a message do (understanding/acts.py with phrases/en.py): pure,
no database. A message whose words the rules do not all read, beside a change, must not be
taken for a change or an order: it is read as ``unsure`` (the bot asks) or left to the
parser, never half applied."""

from __future__ import annotations

import pytest

from services.orders.menu.catalog import Menu, demo_menu_path, load_menu_file
from services.orders.understanding.acts import read_acts, unread_words
from services.orders.understanding.phrases import phrases_for


@pytest.fixture(scope="module")
def menu() -> Menu:
    return load_menu_file(demo_menu_path())


def _kinds(menu: Menu, text: str) -> list[str]:
    return [act.kind for act in read_acts(menu, text, phrases_for("en"))]


def test_unread_words_are_the_content_words_neither_menu_nor_everyday_english(menu: Menu) -> None:
    assert unread_words(menu, "on reflection i do not require the water") == ["reflection", "require"]
    assert unread_words(menu, "remove the cokes please") == []
    assert unread_words(menu, "2 pepperonni and a cok") == []  # typos of menu words are read


def test_a_line_said_with_a_negation_beside_unread_words_makes_the_message_unsure(menu: Menu) -> None:
    # "the water", said again beside words no rule reads, is not taken for "the water" as it is
    text = "on consideration i do not require the water. please remove it from my order"
    assert _kinds(menu, text) == ["unsure"]
    # unread words without a negation are chatter around a correction
    assert _kinds(menu, "oops fat fingers i meant 3 sprites") == ["restate"]


def test_the_rest_names_every_line_but_the_ones_talked_about(menu: Menu) -> None:
    acts = read_acts(menu, "only the wings, forget the rest", phrases_for("en"))
    assert [act.kind for act in acts] == ["restate", "remove"]
    target = acts[1].target
    assert target is not None and target.other and target.plural and not target.items


@pytest.mark.parametrize("text", ["is the veggie pizza actually vegetarian", "are the wings actually spicy"])
def test_a_question_about_an_item_is_no_correction(menu: Menu, text: str) -> None:
    assert _kinds(menu, text) == []


def test_chatter_beside_a_change_is_still_dropped(menu: Menu) -> None:
    assert _kinds(menu, "make that 3, the whole family is coming over") == ["set_quantity"]


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("On reflection I do not require the water. Please remove it from my order.", "remove"),
        ("wait no my bad 4 is too many, 2 cokes", "set_quantity"),
    ],
)
def test_lead_words_of_a_second_thought_are_stripped(menu: Menu, text: str, kind: str) -> None:
    assert _kinds(menu, text)[0] == kind


@pytest.mark.parametrize("text", ["wait change the second one", "make the other one"])
def test_one_after_an_ordinal_or_other_ends_the_reference_and_is_no_quantity(menu: Menu, text: str) -> None:
    assert "set_quantity" not in _kinds(menu, text) and "replace" not in _kinds(menu, text)


@pytest.mark.parametrize(
    ("text", "scale", "items"),
    [
        ("double the cokes", (2, 1), ("coke",)),
        ("double the desserts", (2, 1), ("tiramisu", "brownie")),
        ("wait 6 is way too much lol half that", (1, 2), ()),
        ("triple it", (3, 1), ()),
    ],
)
def test_a_quantity_said_relative_to_the_line_scales_it(
    menu: Menu, text: str, scale: tuple[int, int], items: tuple[str, ...]
) -> None:
    (act,) = read_acts(menu, text, phrases_for("en"))
    assert act.kind == "adjust" and act.scale == scale
    assert act.target is not None and act.target.items == items


def test_double_a_topping_is_no_scaled_line(menu: Menu) -> None:
    (act,) = read_acts(menu, "double pepperoni", phrases_for("en"))
    assert act.kind == "change" and act.scale is None


def test_what_other_section_is_a_question(menu: Menu) -> None:
    (act,) = read_acts(menu, "what other desserts are there?", phrases_for("en"))
    assert act.kind == "question" and act.topic == "menu"


def test_the_one_with_an_option_is_a_reference_not_a_count(menu: Menu) -> None:
    (act,) = read_acts(menu, "make the one with pineapple a pepperoni", phrases_for("en"))
    assert act.kind == "replace" and act.target is not None
    assert [o.option for o in act.target.options] == ["pineapple"] and act.target.count is None


def test_an_option_said_again_with_too_changes_the_line_without_asking(menu: Menu) -> None:
    (act,) = read_acts(menu, "pepperoni gluten free as well", phrases_for("en"))
    assert act.kind == "change" and act.subject == ""


def test_only_the_line_with_an_option_is_no_change_of_that_line_alone(menu: Menu) -> None:
    # "only the margherita thin" also says the pepperoni is not: never read as one change
    assert "change" not in _kinds(menu, "no wait only the margherita thin")


def test_an_option_on_a_line_followed_by_is_fine_changes_that_line(menu: Menu) -> None:
    (act,) = read_acts(menu, "normal crust on the pepperoni is fine actually", phrases_for("en"))
    assert act.kind == "change" and act.target is not None and act.target.items == ("pepperoni",)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("oi mate swap the garlic bread for wings will ya", "replace"),
        ("my doctor would kill me 😅 change the wings to a salad", "replace"),
        ("no mushrooms and no peppers on the veggie please my kid is picky", "change"),
    ],
)
def test_an_edit_said_with_chatter_in_the_same_clause_is_read(menu: Menu, text: str, kind: str) -> None:
    assert _kinds(menu, text) == [kind]


@pytest.mark.parametrize(
    "text",
    [
        "one of them diet",  # a word left out could be what is counted
        "and a coke in a bottle",  # an article left out: an order, not a change
        "remove the coke lol the wife wants a lemonade",  # a removal with words after it
    ],
)
def test_words_that_could_change_the_meaning_are_no_chatter(menu: Menu, text: str) -> None:
    kinds = _kinds(menu, text)
    assert "set_quantity" not in kinds and "change" not in kinds and kinds != ["remove"]


@pytest.mark.parametrize("text", ["is stuffed crust extra?", "is the pepperoni thin crust now"])
def test_words_shaped_as_a_question_change_no_line(menu: Menu, text: str) -> None:
    assert not {"change", "set_quantity", "remove", "replace", "adjust"} & set(_kinds(menu, text))
