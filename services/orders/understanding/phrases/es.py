"""Spanish: the English phrases (a Spanish message is read through its English words,
`parser.english_reading`), and before them the shapes Spanish word order leaves in those words:
what is asked about said before the question ("¿y la hawaiana a cómo está?" → "and the
hawaiana how much is"), "aceptan …" always about paying, "ya está lista mi pizza" (is ready my
pizza)."""

from __future__ import annotations

import dataclasses
import re

from services.orders.understanding.acts import Rule
from services.orders.understanding.phrases import en
from services.orders.understanding.rules import (
    question_rule,
    replace_rule,
    set_quantity_rule,
    the_line_with_options,
)

__all__ = ["PHRASES"]

_MY = r"(?:my|our|the)"


def _re(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern.replace("{NUM}", en.NUM))


SPANISH: list[Rule] = [
    the_line_with_options,
    # "era una coca no agua", "una sprite no coca": "no" between two names is "not"
    replace_rule(_re(r"(?P<x>(?:an?|one)\s+[a-z][a-z ]*?)\s+no\s+(?:the\s+|an?\s+)?(?P<t>[a-z][a-z ]*)")),
    # "¿y la orilla rellena cuánto cuesta aparte?": the thing priced first
    question_rule(
        re.compile(
            r"^(?:and\s+)?(?P<s>(?:the|a|an)\s+.+?)\s+how much(?: is| are)?(?:\s+(?:it|aparte|each))?$"
        ),
        "price",
    ),
    # "¿ya está lista mi pizza?", "¿está listo el pedido?"
    question_rule(
        re.compile(
            r"^(?:is|are) (?:ready|coming|on (?:its|the) way)\s+" + _MY + r"\s+(?:order|food|pizzas?)\b"
            r"|^" + _MY + r"\s+(?:order|food|pizzas?)\s+(?:hasnt arrived|is coming|is ready)\b"
        ),
        "order-status",
    ),
    # "¿aceptan transferencia?", "¿reciben mercado pago?": "aceptan" asks how to pay
    question_rule(
        re.compile(r"^do you take\s+\S|^do you have\s+(?:paypal|bank transfer|cards?|cash)\b"), "payment"
    ),
    # "el brownie que sean dos", "el ítem 2 que sean 3": the line named first
    set_quantity_rule(_re(r"(?P<t>[a-z][a-z0-9 ]*?)\s+make them\s+(?P<n>{NUM})")),
    # "en total quiero 3 hawaianas", "quiero 3 hawaianas en total": the line's new quantity
    set_quantity_rule(
        _re(r"in total\s+(?:i want\s+|give me\s+|make it\s+)?(?P<n>{NUM})\s+(?P<t>.+)"), add_when_missing=True
    ),
    set_quantity_rule(
        _re(r"(?:i want\s+|give me\s+|make it\s+)?(?P<n>{NUM})\s+(?P<t>[a-z].*?)\s+in total"),
        add_when_missing=True,
    ),
]

RULES: list[Rule] = [*SPANISH, *en.RULES]


# "¿el agua es de litro?", "¿cuántas rebanadas tiene la grande?": a question about something;
# "¿me la puedes hacer grande?", "¿se puede agregar champiñones?": a request.
def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


QUESTION_WORDS = _words(
    """es son tiene tienen trae traen lleva llevan viene vienen incluye incluyen hay que cual cuales
    cuanto cuanta cuantos cuantas como donde cuando tan pica pican sabe saben contiene contienen esta
    estan"""
)
REQUEST_WORDS = _words(
    """me nos le les puedes puede pueden podrias podria podes pones pon ponle ponme agrega agregas
    agregar agregale agregame quita quitas quitar quitale quitame saca sacas sacar cambia cambias
    cambiar cambiame haces hacer hazme regalas regala regalame das da dame manda mandas mandame
    apunta apuntas apuntame quiero quisiera queria necesito seria sera mejor"""
)

PHRASES = dataclasses.replace(
    en.PHRASES,
    language="es",
    rules=RULES,
    question_words=QUESTION_WORDS,
    request_words=REQUEST_WORDS,
    article_names_line=True,
)
