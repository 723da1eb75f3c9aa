"""Which language a customer writes in: explicit requests ("english please", "en español",
"em português") and clear evidence in what they write, read with lingua-language-detector
(https://github.com/pemistahl/lingua-py) limited to the store's languages.

Evidence must be clear before the conversation changes language: a message made of menu
words, numbers and words every language shares ("ok", "2 coke", "pepperoni grande") says
nothing, and the customer keeps their language. Two kinds of evidence count:

- marker words and letters only one of the languages uses: "hola", "quiero", "gracias", "ñ",
  "¿" for Spanish; "olá", "quero", "obrigado", "ã", "ç" for Portuguese; "please", "want",
  "the" for English (a single marker decides a short message that has nothing else);
- lingua's confidence, over the words left once menu words and numbers are taken out, when
  at least three words and twelve letters remain, one language is well ahead and the message
  has at least one marker of it (lingua alone reads gibberish and street names as a language).

The detector runs in lingua's low-accuracy mode (trigram models only, about 8 MB for three
languages, preloaded at start-up): its high-accuracy models take about 130 MB, which would
put the orders process over its 150 MB budget (docs/languages.md). Nothing is downloaded at
run time: the models ship inside the lingua wheel.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable
from typing import Final

from services.orders.language.catalogs import LOCALES, Locale

__all__ = ["detect", "marker_words", "number_language", "preload", "requested"]

# Explicit requests for a language, matched on the folded text (no accents, lowercase).
_REQUESTS: Final[dict[Locale, re.Pattern[str]]] = {
    "en": re.compile(
        r"\b(?:(?:in|speak|talk|write|reply|answer)\s+english|english\s+(?:please|pls|plz)|"
        r"en\s+ingles|em\s+ingles|habla\s+ingles|fala\s+ingles|english)\b"
    ),
    "es": re.compile(
        r"\b(?:en\s+espanol|(?:in|speak)\s+spanish|spanish\s+please|habla(?:s|me)?\s+espanol|"
        r"hablame\s+en\s+espanol|escribeme\s+en\s+espanol|em\s+espanhol|espanol|castellano)\b"
    ),
    "pt_BR": re.compile(
        r"\b(?:em\s+portugues|(?:in|speak)\s+portuguese|portuguese\s+please|fala\s+portugues|"
        r"falar\s+portugues|fala\s+em\s+portugues|en\s+portugues|portugues)\b"
    ),
}


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Words (folded) that belong to one language of the three and are common in orders.
_MARKERS: Final[dict[Locale, frozenset[str]]] = {
    "en": _words(
        """
        please want would like the and with without hi hello hey thanks thank you can
        get have some my order need just also could i'd i'm what how much is are does
        there cheers yes yeah nope good morning evening afternoon night
        """
    ),
    "es": _words(
        """
        hola buenas buenos gracias quiero quisiera queria dame porfa favor puedo puedes
        necesito tienen cuanto cuesta cuestan tambien pero sin con una unos unas dos
        tres cuatro seis siete ocho nueve diez doce y el los las del al para llevar
        domicilio recoger ayuda estado carrito mi mis eso esto todo nada mas si claro
        vale listo dale senor hay tiene quita quitar cambiar borrar agrega ponle bebida
        refresco refrescos gaseosa quiere usted ustedes adios mejor solo cambia quita saca
        olvidalo hacen abren cierran cual cuales envio envios porfis regalas regala
        ya otra otro quitame quitale quitala quitalo sacame sacale borrala borralo ponme
        pones poneme ponele mandame pasame muestrame cambiala cambialo cambialas aceptan
        reciben tarjeta efectivo transferencia reparten ubicados estan hasta donde llevo
        pican cancelen cancelad anulen orale perdon sola solas eran alcanza equivoque
        pasas pasan telefono pizzeria llegan
        """
    ),
    "pt_BR": _words(
        """
        ola oi obrigado obrigada valeu quero queria gostaria manda ve pfv voce voces tem
        quanto custa custam tambem mas sem com um uma dois duas quatro sete oito nove
        dez doze e o os as do da dos das pra pro retirada retirar ajuda carrinho
        cardapio meu minha isso tudo nada mais sim nao beleza bom boa dia noite tarde
        pode tira tirar mudar trocar coloca adiciona bebida refrigerante refri tchau
        cade melhor apenas troca muda esquece entregam abre fecha qual quais taxa na verdade
        faz ele ela eles elas dessa desse dessas desses delas deles vc vcs tb tbm mto blz pfvr
        qto qnt obg vlw zera apaga desisti sou diminui aumenta aceitam aceita funcionam funciona
        ficou pedi deixa voce eu oxe uai vixe tche eita kkk kkkk sobremesa sobremesas
        acompanhamento acompanhamentos quis dizer
        telefone pizzaria chegam guarana
        """
    ),
}
# "para" is Portuguese as much as Spanish: a marker of both, it decides neither ("item 3 para
# 2" keeps the customer's language).
_MARKERS["pt_BR"] = _MARKERS["pt_BR"] | {"para"}
# Markers too short or too common elsewhere to decide a one- or two-word message alone.
_WEAK: Final = _words("a e o y as os el la las los do da dos das um mi al del mas pro pra ve tem bom")
# Marker words of one language that another writes too, as words of its own ("tira", "manda",
# "abre" are Spanish as well as Portuguese; "claro", "vale", "todo", "favor" Portuguese as well as
# Spanish): alone in a short message, they keep a customer whose language is known.
_ALSO_WRITTEN: Final[dict[Locale, frozenset[str]]] = {
    "es": _words(
        """
        tira manda abre fecha apaga apenas funciona aumenta retirar retirada muda mudar pedi
        tarde dia sobremesa coloca aceita
        """
    ),
    "pt_BR": _words(
        """
        claro vale todo seis doce tres estado envio domicilio saca solo sola hasta donde
        refresco si favor
        """
    ),
}
# Letters only Spanish or only Portuguese writes (looked for before accents are dropped).
_LETTERS: Final[dict[Locale, frozenset[str]]] = {
    "es": frozenset("ñ¿¡"),
    "pt_BR": frozenset("ãõçê"),
}
# Words written with an accent only one language puts on them ("só", "é", "tá": Spanish
# writes "solo", "es", "está"): evidence like the letters above (looked for before accents
# are dropped, since "so" and "e" without one say nothing).
_ACCENTED: Final[dict[Locale, frozenset[str]]] = {
    "pt_BR": _words("só é tá né já lá aí até você vocês três têm também"),
}
# "e" for "and" before anything but an "i" sound: Spanish writes "e" only there ("agua e
# hielo"), so "1 tiramisu e 1 pepperoni" is Portuguese.
_PORTUGUESE_AND = re.compile(r"(?<!\w)e\s+(?!i|hi|y)[\w]")
# Whole words of letters only: "1e9" or "2x" are no words of any language.
_WORD = re.compile(r"(?<!\w)[^\W\d_]+(?!\w)")
# lingua's confidence a language must reach, and how far ahead of the next it must be.
_CONFIDENT = 0.6
_AHEAD = 0.25
_MIN_WORDS = 3
_MIN_LETTERS = 12


# The calling codes of countries where one of the languages is the one spoken (WhatsApp's
# WaId is the sender's number with its country code): a hint when a message itself says
# nothing. +1 is no hint: the US and Canada speak English, Spanish and more.
_CALLING_CODES: Final[dict[Locale, tuple[str, ...]]] = {
    "pt_BR": ("55", "351", "244", "258"),
    "es": ("34", "52", "53", "54", "56", "57", "58", "51", "240", "502", "503", "504", "505", "506",
           "507", "591", "593", "595", "598"),
}  # fmt: skip


def number_language(wa_id: str | None, languages: Iterable[Locale]) -> Locale | None:
    """The language spoken where the WhatsApp number `wa_id` ("5511987650001") is from, when
    the store speaks it; None for a number of anywhere else (or none)."""
    digits = (wa_id or "").lstrip("+")
    if not digits.isdigit():
        return None
    spoken = set(languages)
    for locale, codes in _CALLING_CODES.items():
        if locale in spoken and digits.startswith(codes):
            return locale
    return None


def leaning(text: str, languages: Iterable[Locale]) -> Locale | None:
    """The one language among `languages` whose marker words `text` holds, weak ones included
    ("um a menos": "um" is Portuguese): a tie-break between languages that read a message
    equally well, never evidence alone; None when none or several do."""
    words = set(_WORD.findall(fold(text)))
    found = [locale for locale in languages if words & _MARKERS.get(locale, frozenset())]
    return found[0] if len(found) == 1 else None


def marker_words() -> frozenset[str]:
    """Every marker word of every language: evidence even where a menu name holds one too
    ("sin" of "sin gluten", "dos" of "dos litros")."""
    return frozenset().union(*_MARKERS.values())


def fold(text: str) -> str:
    """Lowercase without accents ("Español" → "espanol")."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def requested(text: str, languages: Iterable[Locale]) -> Locale | None:
    """The language `text` explicitly asks for ("english please", "en español", "em
    português"), if the store speaks it; None when it asks for none."""
    folded = fold(text)
    for locale in languages:
        pattern = _REQUESTS.get(locale)
        if pattern is not None and pattern.search(folded):
            return locale
    return None


@functools.cache
def _detector(languages: tuple[Locale, ...]) -> object:
    from lingua import Language, LanguageDetectorBuilder

    codes = {"en": Language.ENGLISH, "es": Language.SPANISH, "pt_BR": Language.PORTUGUESE}
    return (
        LanguageDetectorBuilder.from_languages(*(codes[loc] for loc in languages))
        .with_low_accuracy_mode()
        .with_preloaded_language_models()
        .build()
    )


def preload(languages: Iterable[Locale] = LOCALES) -> None:
    """Load the detector's models now (at start-up) rather than on the first message."""
    spoken = tuple(sorted(set(languages)))
    if len(spoken) > 1:
        _detector(spoken)


def _lingua(text: str, languages: tuple[Locale, ...]) -> Locale | None:
    detector = _detector(languages)
    values = detector.compute_language_confidence_values(text)  # type: ignore[attr-defined]
    names = {"ENGLISH": "en", "SPANISH": "es", "PORTUGUESE": "pt_BR"}
    ranked = [(names[v.language.name], float(v.value)) for v in values if v.language.name in names]
    if not ranked:
        return None
    best, confidence = ranked[0]
    runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
    if confidence >= _CONFIDENT and confidence - runner_up >= _AHEAD:
        return best  # type: ignore[return-value]
    return None


def detect(
    text: str,
    languages: Iterable[Locale],
    ignore: frozenset[str] = frozenset(),
    *,
    remembered: Locale | None = None,
) -> Locale | None:
    """The language `text` is clearly written in, among the store's `languages`; None when the
    text is no clear evidence of any (then the customer keeps theirs). `ignore` holds words
    (folded) that say nothing about the language: the menu's names and aliases in every
    language ("pepperoni", "coke", "grande").

    `remembered` is the customer's language when a message has shown it: a short message whose
    one marker is a word that language writes too ("tira" or "manda" to a Spanish customer,
    "claro" or "favor" to a Portuguese one, `_ALSO_WRITTEN`) could be either, and keeps it."""
    spoken = tuple(sorted(set(languages)))
    if len(spoken) < 2:
        return spoken[0] if spoken else None
    lowered = text.lower()
    counts: dict[Locale, int] = {}
    # letters of the customer's own words only: "jalapeño" is a menu name, not Spanish
    own = " ".join(w for w in re.split(r"[\s,.;:!]+", lowered) if fold(w).strip("¿¡?") not in ignore)
    for locale, letters in _LETTERS.items():
        if locale in spoken and any(ch in letters for ch in own):
            counts[locale] = counts.get(locale, 0) + 2
    for locale, accented in _ACCENTED.items():
        # menu words included: "lá" is no menu's "la"
        if locale in spoken and not counts.get(locale) and any(w in accented for w in _WORD.findall(lowered)):
            counts[locale] = counts.get(locale, 0) + 2
    words = [w for w in _WORD.findall(fold(text)) if w not in ignore]
    strong = False
    if "pt_BR" in spoken and _PORTUGUESE_AND.search(fold(text)):
        counts["pt_BR"] = counts.get("pt_BR", 0) + 1
        strong = True
    for word in words:
        for locale in spoken:
            if word in _MARKERS[locale]:
                counts[locale] = counts.get(locale, 0) + 1
                strong = strong or word not in _WEAK
    if counts:
        ranked = sorted(counts.items(), key=lambda kv: kv[1], reverse=True)
        (best, score), rest = ranked[0], ranked[1:]
        runner_up = rest[0][1] if rest else 0
        if score >= 2 and score >= 2 * runner_up:
            return best
        # one marker decides a message of one or two words, unless it is a short word other
        # languages write too ("sweet as" is English, "e" and "o" are letters of anything)
        shared = _ALSO_WRITTEN.get(remembered, frozenset()) if remembered else frozenset()
        if score == 1 and not rest and len(words) <= 2 and strong and not shared & set(words):
            return best
    if len(words) >= _MIN_WORDS and sum(len(w) for w in words) >= _MIN_LETTERS:
        found = _lingua(" ".join(words), spoken)
        # lingua settles a mix of markers; alone (gibberish, names) it is no evidence
        if found is not None and counts.get(found, 0) >= 1:
            return found
    return None
