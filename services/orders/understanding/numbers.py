"""Quantities as customers write them: digits, number words, "a couple of", "half a dozen".

Only the phrase tables and a small reader live here; the parser decides where a number is a
quantity and where it is part of something else ("2 liter", "7 up").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

__all__ = ["NUMBER_PHRASES", "NUMERAL", "WEAK_NUMBERS", "ascii_digits", "number_from_words"]


# Numerals that are no plain count, as regular-expression source (lowercase text): "1e9",
# "0x10", "0b11", "1,000", "1,5", "1/2", "2-3", "1k". Each is read as one word, so that no
# part of one is taken for a quantity ("1e9 coke" is not 9 cokes, "0x10" not 10); where a
# quantity is expected, the customer is told it is not one they can use.
NUMERAL = (
    r"[0-9]+(?:\.[0-9]+)?e[+-]?[0-9]+\b|0(?:x[0-9a-f]+|b[01]+|o[0-7]+)\b|[0-9]+(?:[,/-][0-9]+)+|[0-9]+k\b"
)

_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def _ascii_digit(match: re.Match[str]) -> str:
    value = unicodedata.decimal(match.group(), None)
    return match.group() if value is None else str(value)


def ascii_digits(text: str) -> str:
    """`text` with the decimal digits of every script as ASCII digits ("٣" -> "3", "३" -> "3"),
    and the fraction slash as "/" (NFKD writes "½" as 1, U+2044, 2); nothing else changes."""
    text = text.replace("\u2044", "/")
    return text if text.isascii() else _NON_ASCII.sub(_ascii_digit, text)


_UNITS: Mapping[str, int] = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19,
}  # fmt: skip
_TENS: Mapping[str, int] = {
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
    "eighty": 80, "ninety": 90,
}  # fmt: skip


def _phrases() -> dict[tuple[str, ...], int]:
    table: dict[tuple[str, ...], int] = {}
    for word, value in _UNITS.items():
        table[(word,)] = value
    for word, value in _TENS.items():
        table[(word,)] = value
        for unit, unit_value in _UNITS.items():
            if unit_value < 10:
                table[(word, unit)] = value + unit_value
                table[(f"{word}{unit}",)] = value + unit_value
    idioms: dict[str, int] = {
        "a": 1, "an": 1, "single": 1, "a single": 1, "just one": 1, "only one": 1,
        "just a": 1, "only a": 1, "one more": 1, "another": 1, "another one": 1,
        "a couple": 2, "a couple of": 2, "couple of": 2, "couple": 2, "a pair of": 2,
        "pair of": 2, "a few": 3, "few": 3, "a dozen": 12, "dozen": 12, "half a dozen": 6,
        "half dozen": 6, "a half dozen": 6, "two dozen": 24, "a duo of": 2,
        "uno": 1, "dos": 2, "tres": 3, "the other": 1, "the other one": 1,
        "the second": 1, "the second one": 1, "the last": 1, "the last one": 1,
    }  # fmt: skip
    for phrase, value in idioms.items():
        table[tuple(phrase.split())] = value
    return table


NUMBER_PHRASES: Mapping[tuple[str, ...], int] = _phrases()

# Articles count as one only where nothing better is said; a frame opened by one of these
# with nothing recognisable after it is dropped instead of reported as not understood.
WEAK_NUMBERS: frozenset[tuple[str, ...]] = frozenset(
    {
        ("a",),
        ("an",),
        ("another",),
        ("just", "a"),
        ("only", "a"),
        ("the", "other"),
        ("the", "other", "one"),
        ("the", "second"),
        ("the", "second", "one"),
        ("the", "last"),
        ("the", "last", "one"),
    }
)


def number_from_words(tokens: tuple[str, ...]) -> int | None:
    """The integer a token tuple spells (``("twenty", "one") -> 21``, ``("3",) -> 3``), else None."""
    if len(tokens) == 1 and tokens[0].isascii() and tokens[0].isdigit():
        return int(tokens[0])
    return NUMBER_PHRASES.get(tokens)
