"""The customer's language: message catalogs, the `Speaker` that words and formats every text a
customer reads, and the locale codes the product speaks (docs/languages.md).

Pure: it imports nothing of storage, the conversation or the web; callers pass the store's
currency and time zone and the customer's locale.
"""

from services.orders.language import detection
from services.orders.language.catalogs import (
    DEFAULT_LOCALE,
    LOCALES,
    Locale,
    language_name,
    mark,
    normalize_locale,
    translations,
)
from services.orders.language.speaker import Speaker, speaker_for

__all__ = [
    "DEFAULT_LOCALE",
    "LOCALES",
    "Locale",
    "Speaker",
    "language_name",
    "mark",
    "normalize_locale",
    "speaker_for",
    "warm_up",
]


def warm_up() -> None:
    """Read every catalog and load the language detector's models now, at start-up, so the
    first message pays for neither (about 1 s and 8 MB; docs/languages.md). Raises `OSError`
    when a catalog file is missing."""
    for locale in LOCALES:
        translations(locale)
    detection.preload(LOCALES)
