"""The classification of order notes as allergies or diets (a pure function, word lists per language)."""

from __future__ import annotations

import pytest

from services.orders.conversation.note_flags import WORDS, FlagWords, flag_of, fold


@pytest.mark.parametrize(
    "note",
    [
        "I'm allergic to peanuts",
        "nut allergy!!",
        "no nuts please",
        "my son is celiac",
        "gluten-free base if you can",
        "Coeliac",
        "lactose intolerant",
        "she carries an EpiPen",
        "soy alérgica al maní",  # es
        "sin gluten por favor",
        "celíaco",
        "tengo alergia a las nueces",
        "sou alérgico a amendoim",  # pt
        "sem glúten",
        "intolerância à lactose",
        "vegan but allergic to sesame",  # both: the allergy wins
    ],
)
def test_allergies_in_english_spanish_and_portuguese(note: str) -> None:
    assert flag_of(note) == "allergy"


@pytest.mark.parametrize(
    "note",
    ["we are vegan", "Vegetarian please", "halal only", "soy vegana", "somos vegetarianos", "sem carne"],
)
def test_diets(note: str) -> None:
    assert flag_of(note) == "diet"


@pytest.mark.parametrize(
    "note",
    [
        "",
        "ring the bell twice",
        "extra spicy",
        "no onions",
        "a donut for later",
        "Nutella on the side",
        "3rd floor",
    ],
)
def test_ordinary_notes_are_not_flagged(note: str) -> None:
    assert flag_of(note) is None


def test_words_are_folded_without_case_accents_or_punctuation() -> None:
    assert fold("Alérgico a NUECES, gluten-free!") == ("alergico", "a", "nueces", "gluten", "free")


def test_the_word_lists_are_a_parameter() -> None:
    words = {"it": FlagWords(allergy=("allergi*",), diet=("vegano",))}
    assert flag_of("ho un'allergia alle noci", words) == "allergy"
    assert flag_of("sono vegano", words) == "diet"
    assert flag_of("no peanuts, we are vegan", words) is None  # the English words are not given
    assert set(WORDS) == {"en", "es", "pt"}
