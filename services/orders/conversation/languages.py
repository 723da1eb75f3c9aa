"""The customer's language, decided for each message before anything else is said.

A customer's language is remembered on their row (`customers.language`). It is set from the
first message that shows it (else the store's default), changes when the customer asks
("english please", "en español", "em português") and when a message is clear evidence of
another of the store's languages (language/detection.py); short or ambiguous messages ("ok",
"2 coke", a typed address) keep it. See docs/languages.md.
"""

from __future__ import annotations

import re
from typing import Final

from services.orders.conversation import texts
from services.orders.conversation.turn import Turn
from services.orders.language import detection
from services.orders.language import mark as _
from services.orders.language.catalogs import Locale
from services.orders.menu.catalog import Menu
from services.orders.storage import customers
from services.orders.understanding.menu_index import tokenize
from services.orders.understanding.parser import guessed_words, parse_order, unread_words

# The reply to a message that only asks for a language, said in the language asked for (so
# each catalog names its own language).
SWITCHED: Final = _("Sure! I'll write to you in English from now on. 🙂")
# Checkout steps whose answer is free text (an address): never evidence of a language.
_FREE_TEXT_STEPS = frozenset({"address"})
# What may stand around a language request without making it more than one ("please", "hi").
_REQUEST_ONLY = re.compile(
    r"^(?:\W|please|pls|can|you|could|speak|talk|write|reply|answer|in|english|spanish|portuguese|"
    r"en|em|ingles|espanol|castellano|portugues|por|favor|porfa|pfv|habla|hablame|hablas|"
    r"escribeme|fala|falar|comigo|conmigo|hi|hello|hola|oi|ola|ok|si|sim|sure|y|e|and)*$"
)
_MENU_WORDS: dict[int, tuple[Menu, frozenset[str]]] = {}
# `customers.state` key: the customer's language was guessed, no message has shown it yet.
_GUESSED: Final = customers.LANGUAGE_GUESSED


def menu_words(menu: Menu) -> frozenset[str]:
    """Every word of the menu's names and aliases in all its languages, which say nothing about
    the customer's language ("pepperoni", "coke", "grande"), but for the words that mark a
    language ("sin" of "sin gluten"); cached per menu object."""
    hit = _MENU_WORDS.get(id(menu))
    if hit is not None and hit[0] is menu:
        return hit[1]
    words: set[str] = set()
    for locale in menu.store.languages:
        localized = menu.localized(locale)
        for item in localized.items():
            for name in (item.name, *item.aliases):
                words.update(tokenize(name))
        for group in localized.option_groups:
            for option in group.options:
                for name in (option.name, *option.aliases):
                    words.update(tokenize(name))
    found = frozenset(w for w in words if w.isalpha()) - detection.marker_words()
    if len(_MENU_WORDS) > 8:
        _MENU_WORDS.clear()
    _MENU_WORDS[id(menu)] = (menu, found)
    return found


def _by_number(turn: Turn, text: str) -> Locale | None:
    """A new customer's language from their WhatsApp number ("55…" is Brazil), for a message
    with no marker of any language that the number's language reads whole ("1 sprite, 1
    coca", "pepperoni"); None otherwise."""
    settings = turn.catalog.menu.store
    hint = detection.number_language(turn.inbound.wa_id, settings.languages)
    if hint is None or not _reads_whole(turn, hint, text)[0]:
        return None
    return hint


def _by_menu(turn: Turn, text: str) -> Locale | None:
    """A new customer's language from the menu words of a message with no other evidence
    ("2 cocas"): the first of the store's languages whose menu reads all of it, when the
    default language's leaves some of it unread; None otherwise."""
    settings = turn.catalog.menu.store
    default_menu = turn.catalog.menu.localized(settings.default_language)
    default = parse_order(default_menu, text)
    # words the default language does not know ("4 brownies y un tiramisú") leave it unread
    # too, though the parser passes over them; names it reads only as misspellings of its own
    # ("2 havaianas") may be another language's names as written
    guessed = len(guessed_words(default_menu, text))
    if not default.unmatched and not unread_words(default_menu, text) and not guessed:
        # a name the default language passed over ("alitas y 2 sprites" reads only the
        # sprites in English): the first language whose menu reads more lines
        read = len(default.lines) + len(default.ambiguous)
        for locale in settings.languages:
            result = parse_order(turn.catalog.menu.localized(locale), text)
            if locale != settings.default_language and len(result.lines) + len(result.ambiguous) > read:
                return locale
        return None
    readers: list[tuple[bool, int, Locale]] = []
    for locale in settings.languages:
        if locale == settings.default_language:
            continue
        menu = turn.catalog.menu.localized(locale)
        result = parse_order(menu, text)
        if (result.lines or result.ambiguous) and not result.unmatched:
            readers.append((bool(unread_words(menu, text)), len(guessed_words(menu, text)), locale))
    if not readers:
        return None
    # the first that knows every word, as written rather than as a misspelling ("1 havaiana e
    # 1 pepperoni" is Portuguese, though Spanish reads "havaiana" as "hawaiana"); else, when
    # the default's menu left a name unread, the first whose menu reads the names; of those
    # that read it as well ("1 sprite, 1 coca"), the language of the customer's number
    best = min(readers, key=lambda r: (r[0], r[1]))
    hint = detection.number_language(turn.inbound.wa_id, settings.languages)
    unread, fewer, locale = next((r for r in readers if r[:2] == best[:2] and r[2] == hint), best)
    if unread and not default.unmatched:
        return None
    if not default.unmatched and not unread_words(default_menu, text) and fewer >= guessed:
        return None  # the default language reads it as well: it stays
    return locale


def _reads_whole(turn: Turn, locale: Locale, text: str) -> tuple[bool, int]:
    """(whether the menu and lexicon of `locale` read every word of `text`, how many of its
    words they read only as misspellings)."""
    menu = turn.catalog.menu.localized(locale)
    whole = not parse_order(menu, text).unmatched and not unread_words(menu, text)
    return whole, len(guessed_words(menu, text))


def _by_words(turn: Turn, text: str, current: Locale) -> Locale | None:
    """The language of a customer whose language no message has shown yet (`current` was
    guessed), from a message with no marker of any: another of the store's languages that
    reads every word where `current` leaves some unread ("pepperoni" then "hazla grande" is
    Spanish), or reads as written what `current` reads only as misspellings ("pepperoni" then
    "alitas", which English takes for "a liter"); of several, the one of the customer's number,
    else the one whose marker words it holds ("um a menos": "um"), else the first listed."""
    whole, misspelt = _reads_whole(turn, current, text)
    if whole and not misspelt:
        return None
    readers = [
        (guessed, locale)
        for locale in turn.catalog.menu.store.languages
        if locale != current and (reading := _reads_whole(turn, locale, text))[0]
        for guessed in (reading[1],)
        if not whole or guessed < misspelt
    ]
    if not readers:
        return None
    fewest = min(guessed for guessed, _ in readers)
    tied = [locale for guessed, locale in readers if guessed == fewest]
    hint = detection.number_language(turn.inbound.wa_id, tied) or detection.leaning(text, tied)
    return hint or tied[0]


async def choose(turn: Turn) -> str | None:
    """Decide the language of this message, switch `turn` to it and mark it to be saved on the
    customer at the end of the turn (`turn.language_changed`).

    Returns the reply when the message only asked for a language ("english please"), else
    None (the message is then answered as usual, in the language chosen)."""
    settings = turn.catalog.menu.store
    spoken = settings.languages
    current = turn.customer.get("language")
    text = turn.inbound.text
    asked = detection.requested(text, spoken)
    chosen = asked
    step = (turn.state.get("checkout") or {}).get("step")
    if chosen is None and step not in _FREE_TEXT_STEPS and text.strip():
        # a language some message showed is kept on one word it writes too ("tira" from a
        # Spanish customer); a guessed one is not
        remembered = settings.language_of(current) if current and not turn.state.get(_GUESSED) else None
        chosen = detection.detect(text, spoken, menu_words(turn.catalog.menu), remembered=remembered)
        if (
            chosen == "es"
            and current == "pt_BR"
            and not unread_words(turn.catalog.menu.localized(current), text)
        ):
            # "retira a coca por favor": Spanish words Portuguese writes too; a message
            # Portuguese reads whole keeps a Portuguese customer
            chosen = None
    # a language no message has shown yet (a first message of menu names: "pepperoni",
    # "2 cocas") is a guess that later words may correct
    guessed = chosen is None and (not current or bool(turn.state.get(_GUESSED)))
    if chosen is None and step not in _FREE_TEXT_STEPS and text.strip():
        if not current:
            chosen = _by_number(turn, text) or _by_menu(turn, text)
        elif guessed:
            chosen = _by_words(turn, text, settings.language_of(current))
    if chosen is None:
        chosen = settings.language_of(current) if current else settings.default_language
    if chosen != current:
        # Saved with the turn's replies (outbox.queue_replies): one statement less per turn.
        turn.customer["language"] = chosen
        turn.language_changed = True
    if guessed != bool(turn.state.get(_GUESSED)):
        if guessed:
            turn.state[_GUESSED] = True
        else:
            turn.state.pop(_GUESSED, None)
        turn.language_guessed = guessed  # saved with the turn's replies, like the language
    turn.use_language(chosen)
    if asked is not None and _REQUEST_ONLY.match(detection.fold(text)):
        return turn.speaker._(SWITCHED) + "\n\n" + turn.speaker._(texts.ORDER_HINT)
    return None
