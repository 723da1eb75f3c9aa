"""The phrases of each language the conversation reads: ``phrases_for(language)``."""

from __future__ import annotations

from services.orders.understanding.acts import Phrases
from services.orders.understanding.phrases import en, es, pt

__all__ = ["LANGUAGES", "phrases_for"]

LANGUAGES: dict[str, Phrases] = {"en": en.PHRASES, "es": es.PHRASES, "pt": pt.PHRASES}


def phrases_for(language: str) -> Phrases:
    """The phrases of `language` ("en", "es", "pt_BR"; a region falls back to its language),
    English when the language has none."""
    return LANGUAGES.get(language) or LANGUAGES.get(language.split("_")[0]) or LANGUAGES["en"]
