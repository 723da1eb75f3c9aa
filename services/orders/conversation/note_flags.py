"""Which order notes are allergies or diets: per-language word lists and a pure classifier.

The conversation classifies each note when it places an order (checkout.place) and stores the
answer with the note (`orders.notes_flag`, `order_lines.notes_flag`), so every view (the queue,
the order page, the printed ticket) shows the same flag without guessing again.

An allergy is a health risk the kitchen must act on (cross-contact matters): "allergic to
nuts", "celiac", "gluten-free", "sin lactosa". A diet is a choice the kitchen must respect:
"vegan", "vegetariano", "halal". A note naming both is an allergy. Words are matched on whole
words after folding case and accents ("Alérgico" reads as "alergico"); an entry ending in `*`
matches any word starting with it ("allerg*": allergy, allergic, allergies). Negations are not
read: "no allergies" is flagged, the safe mistake.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal

Flag = Literal["allergy", "diet"]
ALLERGY: Final = "allergy"
DIET: Final = "diet"


@dataclass(frozen=True, slots=True)
class FlagWords:
    """One language's words and phrases for allergies and for diets (lower case; `*` = prefix)."""

    allergy: tuple[str, ...]
    diet: tuple[str, ...]


WORDS: Final[Mapping[str, FlagWords]] = {
    "en": FlagWords(
        allergy=(
            "allerg*", "anaphyla*", "epipen", "celiac", "coeliac", "intoleran*",
            "gluten free", "glutenfree", "no gluten", "without gluten", "dairy free", "lactose free",
            "nut free", "egg free", "nut", "nuts", "peanut*", "tree nut*", "hazelnut*", "walnut*",
            "almond*", "cashew*", "pistachio*", "pecan*", "shellfish", "sesame",
        ),
        diet=(
            "vegan*", "vegetarian*", "pescatarian*", "plant based", "halal", "kosher", "no meat", "no pork",
        ),
    ),
    "es": FlagWords(
        allergy=(
            "alerg*", "anafila*", "celiac*", "intoleran*", "sin gluten", "sin lactosa", "sin lacteos",
            "sin frutos secos", "frutos secos", "nuez", "nueces", "mani", "manies", "cacahuete*",
            "cacahuate*", "almendra*", "avellana*", "anacardo*", "pistacho*", "marisco*", "sesamo",
        ),
        diet=("vegan*", "vegetarian*", "halal", "kosher", "sin carne", "sin cerdo"),
    ),
    "pt": FlagWords(
        allergy=(
            "alerg*", "anafila*", "celiac*", "intoleran*", "sem gluten", "sem lactose", "sem leite",
            "noz", "nozes", "amendoim", "amendoins", "castanha*", "amendoa*", "avela*", "caju",
            "pistache*", "frutos do mar", "marisco*", "gergelim", "sesamo",
        ),
        diet=("vegan*", "vegetarian*", "halal", "kosher", "sem carne", "sem porco"),
    ),
}  # fmt: skip

_NON_WORD = re.compile(r"[^a-z0-9]+")


def fold(text: str) -> tuple[str, ...]:
    """The words of `text` in lower case without accents: `"Alérgico a nueces!"` ->
    `("alergico", "a", "nueces")`. Hyphens and punctuation separate words ("gluten-free")."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return tuple(word for word in _NON_WORD.split(plain) if word)


def _matches(words: tuple[str, ...], entry: str) -> bool:
    """True when the phrase `entry` (its last word may end in `*`) stands in `words`."""
    prefix = entry.endswith("*")
    phrase = fold(entry)
    if not phrase:
        return False
    size = len(phrase)
    for start in range(len(words) - size + 1):
        window = words[start : start + size]
        if window[:-1] != phrase[:-1]:
            continue
        last = window[-1]
        if last == phrase[-1] or (prefix and last.startswith(phrase[-1])):
            return True
    return False


def flag_of(note: str, words: Mapping[str, FlagWords] = WORDS) -> Flag | None:
    """`"allergy"`, `"diet"` or None for a note, reading it with every language's words.

    Every language is tried because a customer may write in any of them whatever the chat's
    language; allergy wins over diet ("vegan, nut allergy" is an allergy). Pure: no I/O.
    """
    folded = fold(note)
    if not folded:
        return None
    if any(_matches(folded, entry) for lang in words.values() for entry in lang.allergy):
        return ALLERGY
    if any(_matches(folded, entry) for lang in words.values() for entry in lang.diet):
        return DIET
    return None
