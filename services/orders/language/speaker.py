"""`Speaker`: how the bot says things to one customer: their locale, the store's currency and
time zone. Every text a customer reads goes through one (docs/languages.md).

```python
speaker._("Added {items}.", items=...)          # translate, then str.format(**values)
speaker.n_("{n} line", "{n} lines", 3)          # plural by the locale's rules; {n} is n
speaker.money(950)                              # "$9.50" en · "9,50 US$" es · "US$ 9,50" pt_BR
speaker.time(moment)                            # "7:45 PM" en · "19:45" es/pt_BR (store's zone)
# a store whose country is US: es writes "$9.50" and "7:45 p.m." (es_US); pt_BR is unchanged
speaker.list(["a", "b", "c"])                   # "a, b, and c" · "a, b y c" · "a, b e c"
```

Money and times follow CLDR through Babel (https://babel.pocoo.org/en/latest/numbers.html);
the no-break spaces CLDR puts inside them ("9,50\u00a0US$", "7:45\u202fPM") are written as
plain spaces, so that what customers read and what staff search for is the same text.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import localedata
from babel.dates import format_time
from babel.lists import format_list
from babel.numbers import format_currency
from babel.support import NullTranslations

from services.orders.language.catalogs import DEFAULT_LOCALE, Locale, normalize_locale, translations

_PLAIN_SPACES = str.maketrans({"\u00a0": " ", "\u202f": " "})


def zone_of(name: str) -> ZoneInfo:
    """The IANA zone `name`; an unknown one is UTC rather than a failed message."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


@dataclass(frozen=True, slots=True)
class Speaker:
    """Words and formats for one customer: `locale` ("en" | "es" | "pt_BR") for the words,
    the store's ISO 4217 `currency` and IANA `zone`, and `formats`, the CLDR locale money,
    times and lists are written in (`locale` itself, or it in the store's country: "es_US").
    Build one with `speaker_for` (cached)."""

    locale: Locale
    currency: str
    zone: ZoneInfo
    catalog: NullTranslations
    formats: str = ""

    @property
    def _formats(self) -> str:
        return self.formats or self.locale

    def _(self, message: str, **values: object) -> str:
        """`message` (English, as written in the code) in the speaker's language, then
        `str.format(**values)`. Raises `KeyError` when a placeholder has no value."""
        return self.catalog.gettext(message).format(**values)

    def n_(self, singular: str, plural: str, n: int, **values: object) -> str:
        """The singular or plural form for `n` by the locale's plural rules, then
        `str.format(n=n, **values)`."""
        return self.catalog.ngettext(singular, plural, n).format(n=n, **values)

    def money(self, cents: int) -> str:
        """An amount in integer cents of the store's currency, as CLDR writes it in this
        locale: `950` → `$9.50` (en, USD), `9,50 US$` (es), `US$ 9,50` (pt_BR)."""
        return _money(self._formats, self.currency, cents)

    def time(self, moment: dt.datetime) -> str:
        """The clock time of an aware `moment` in the store's zone, CLDR's short form:
        `7:45 PM` (en), `19:45` (es, pt_BR)."""
        shown: str = format_time(moment, "short", tzinfo=self.zone, locale=self._formats)
        return shown.translate(_PLAIN_SPACES)

    def list(self, words: list[str], style: Literal["standard", "or"] = "standard") -> str:
        """Words joined as the locale does: `a, b, and c` / `a, b y c` / `a, b e c`;
        `style="or"` for alternatives (`a, b, or c` / `a, b o c` / `a, b ou c`)."""
        return format_list(words, style=style, locale=self._formats)


def formats_locale(locale: Locale, country: str) -> str:
    """The CLDR locale for money and times: `locale`'s language in the store's `country` when
    CLDR has it ("es" + "US" → "es_US": "$9.50", "7:45 p.m."), else `locale` itself ("pt_BR"
    + "US" → "pt_BR", since CLDR has no pt_US)."""
    if country:
        candidate = f"{locale.split('_')[0]}_{country}"
        if localedata.exists(candidate):
            return candidate
    return locale


# Babel's format_currency takes about 0.2 ms; a menu shows a dozen prices per message, and a
# store has few distinct ones, so each (locale, currency, amount) is formatted once.
@functools.lru_cache(maxsize=8192)
def _money(locale: str, currency: str, cents: int) -> str:
    amount = Decimal(cents).scaleb(-2)
    return format_currency(amount, currency, locale=locale).translate(_PLAIN_SPACES)


@functools.cache
def _cached(locale: Locale, currency: str, timezone: str, country: str) -> Speaker:
    return Speaker(locale, currency, zone_of(timezone), translations(locale), formats_locale(locale, country))


def speaker_for(
    language: str | None, *, currency: str, timezone: str, default: str | None = None, country: str = ""
) -> Speaker:
    """The speaker for a customer whose language is `language` (a locale code or tag such as
    "pt-BR"; None when not known yet), at a store with ISO 4217 `currency`, IANA `timezone` and
    ISO 3166-1 `country` ("" when unknown). An unknown or missing language is the store's
    `default`, else English."""
    locale = normalize_locale(language) or normalize_locale(default) or DEFAULT_LOCALE
    return _cached(locale, currency, timezone, country)
