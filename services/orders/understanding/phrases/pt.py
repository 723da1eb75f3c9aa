"""Portuguese (Brazil): the English phrases (a Portuguese message is read through its English
words, `parser.english_reading`), and before them the shapes Portuguese leaves in those words:
"era coca e não água" (the second name swapped for the first); an article before an adjective
names a line ("tira a broto": the small one)."""

from __future__ import annotations

import dataclasses
import re

from services.orders.understanding.acts import Rule
from services.orders.understanding.phrases import en
from services.orders.understanding.rules import replace_rule

__all__ = ["PHRASES"]

PORTUGUESE: list[Rule] = [
    # "era coca e não água", "uma sprite e não coca": the second name swapped for the first
    replace_rule(
        re.compile(r"(?:i meant\s+)?(?P<x>[a-z][a-z ]*?)\s+and no\s+(?:the\s+|an?\s+)?(?P<t>[a-z][a-z ]*)")
    ),
]

PHRASES = dataclasses.replace(
    en.PHRASES, language="pt", rules=[*PORTUGUESE, *en.RULES], article_names_line=True
)
