"""The gettext catalogs: one `messages.po` per locale under `locales/<locale>/LC_MESSAGES/`,
read once at start-up with Babel's `read_po` and compiled in memory (no `.mo` file is built or
committed). English is the source language: its texts are the `msgid`s in the code.

A missing or empty translation falls back to the English text (gettext's rule); the catalog
test (tests/orders/test_language_catalogs.py) fails when any string of the code is missing,
empty or fuzzy in a catalog, so that fallback never reaches a customer.
"""

from __future__ import annotations

import functools
import io
from pathlib import Path
from typing import Final, Literal, get_args

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

Locale = Literal["en", "es", "pt_BR"]
# Every locale the product speaks; the source texts are English.
LOCALES: Final[tuple[Locale, ...]] = get_args(Locale)
DEFAULT_LOCALE: Final[Locale] = "en"
LOCALES_DIR: Final = Path(__file__).resolve().parent / "locales"
DOMAIN: Final = "messages"

# What people write for each locale: BCP 47 tags ("pt-BR"), POSIX ones ("pt_BR"), bare
# languages ("pt" is Brazilian Portuguese here: the only Portuguese we have).
_ALIASES: Final[dict[str, Locale]] = {
    "en": "en",
    "en-us": "en",
    "en-gb": "en",
    "english": "en",
    "es": "es",
    "es-es": "es",
    "es-mx": "es",
    "es-419": "es",
    "spanish": "es",
    "pt": "pt_BR",
    "pt-br": "pt_BR",
    "portuguese": "pt_BR",
}


# What staff read for each locale (the dashboard and the staff API are in English).
LANGUAGE_NAMES: Final[dict[str, str]] = {"en": "English", "es": "Spanish", "pt_BR": "Portuguese (Brazil)"}


def language_name(locale: str | None) -> str:
    """`"pt_BR"` → `"Portuguese (Brazil)"`; "" for None, the code itself when unknown."""
    return LANGUAGE_NAMES.get(locale or "", locale or "")


def normalize_locale(value: str | None) -> Locale | None:
    """`"pt-BR"`, `"pt_br"`, `"PT"` → `"pt_BR"`; `"es-MX"` → `"es"`; None for anything the
    product does not speak (or None)."""
    if not value:
        return None
    return _ALIASES.get(value.strip().lower().replace("_", "-"))


def po_path(locale: str) -> Path:
    """Where the catalog of `locale` lives (`locales/<locale>/LC_MESSAGES/messages.po`)."""
    return LOCALES_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


def read_catalog(locale: str) -> Catalog:
    """The parsed `.po` of `locale`; raises `OSError` when it is missing."""
    with po_path(locale).open("rb") as fp:
        return read_po(fp, locale=locale, domain=DOMAIN)


@functools.cache
def translations(locale: Locale) -> NullTranslations:
    """The gettext translations of `locale`, compiled in memory from its `.po` (cached for the
    process). English has none: its texts are the source. Fuzzy entries are left out, as
    gettext's own compiler does."""
    if locale == DEFAULT_LOCALE:
        return NullTranslations()
    buffer = io.BytesIO()
    write_mo(buffer, read_catalog(locale), use_fuzzy=False)
    buffer.seek(0)
    return Translations(fp=buffer, domain=DOMAIN)


def mark(message: str) -> str:
    """Mark a module-level text for the catalogs without translating it (gettext's `N_`):
    imported as `_` so the extractor finds it; `speaker._(TEXT)` translates it where it is
    sent. Returns `message` unchanged."""
    return message
