"""The phrases of each language the conversation reads: ``phrases_for(language)``."""

from __future__ import annotations

import dataclasses

from services.orders.understanding.acts import Phrases
from services.orders.understanding.phrases import en, es

__all__ = ["LANGUAGES", "phrases_for"]

LANGUAGES: dict[str, Phrases] = {
    "en": en.PHRASES,
    "es": es.PHRASES,
    # Portuguese is read through its English words (lexicons.py) with the English phrases; an
    # article before an adjective names a line ("tira a broto")
    "pt": dataclasses.replace(en.PHRASES, language="pt", article_names_line=True),
}


def phrases_for(language: str) -> Phrases:
    """The phrases of `language` ("en", "es", "pt_BR"; a region falls back to its language),
    English when the language has none."""
    return LANGUAGES.get(language) or LANGUAGES.get(language.split("_")[0]) or LANGUAGES["en"]
