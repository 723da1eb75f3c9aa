"""A store's menu as frozen dataclasses, loaded and validated from a YAML menu file.

The file format is documented in docs/menu-format.md. Money is integer cents everywhere:
prices in the file are strings or numbers such as ``"9.50"`` and are parsed exactly with
:class:`decimal.Decimal`, never through ``float``.

Every validation failure raises :class:`MenuError` naming the offending field by its path
in the file, e.g. ``categories[0].items[2].price: expected a price like 9.50, got 'abc'``.
"""

from __future__ import annotations

import dataclasses
import re
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal

import yaml

from services.orders.language import DEFAULT_LOCALE, LOCALES, Locale, Speaker, normalize_locale, speaker_for

__all__ = [
    "QUALIFIERS",
    "WEEKDAYS",
    "Category",
    "ChosenOption",
    "Delivery",
    "Item",
    "ItemKind",
    "Menu",
    "MenuError",
    "Option",
    "OptionGroup",
    "Store",
    "Translation",
    "demo_menu_path",
    "format_money",
    "load_menu",
    "load_menu_file",
    "parse_price",
]

ItemKind = Literal["pizza", "drink", "other"]
GroupKind = Literal["single", "multiple"]

WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

# Quantity qualifiers a customer may put on an option of a group with ``qualifiers: true``,
# mapped to how many times the option's price is charged. "light" costs the same as the
# plain option; "extra" and "double" charge it once more; "triple" twice more.
QUALIFIERS: Mapping[str, int] = {"light": 1, "extra": 2, "double": 2, "triple": 3}
# The most of one item on one order line: a bigger quantity in a message is a typo or a joke,
# not an order line, and a cart line never holds more.
MAX_QUANTITY = 99

_CODE_RE = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_PRICE_RE = re.compile(r"^[+-]?\d+(\.\d+)?$")
_SPAN_RE = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")
_CURRENCY_RE = re.compile(r"^[A-Z]{3}$")
# Payment methods a store may name; the conversation says each in the customer's words.
PAYMENT_METHODS: frozenset[str] = frozenset(
    {
        "cash",
        "card",
        "credit-card",
        "debit-card",
        "apple-pay",
        "google-pay",
        "paypal",
        "pix",
        "bizum",
        "mercado-pago",
        "online",
    }
)


class MenuError(ValueError):
    """A menu file that cannot be used; ``path`` names the field, e.g. ``store.delivery.fee``."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path
        self.message = message


@dataclass(frozen=True, slots=True)
class Translation:
    """What a menu entry is called in one language: its name, the other names customers use,
    and its description ("" where the entry has none or keeps the default's)."""

    name: str = ""
    aliases: tuple[str, ...] = ()
    description: str = ""


# locale ("es", "pt_BR") -> its translation; the default language is the entry itself.
Translations = Mapping[str, Translation]


def _localize(
    name: str, aliases: tuple[str, ...], translations: Translations, locale: str
) -> tuple[str, tuple[str, ...]]:
    """(name, aliases) in `locale`: the translated name, its aliases, then the default
    language's name and aliases (customers mix them: "una coke"); untranslated, as it is.
    Other languages' words are not read: "media" is half in Spanish ("media docena") but the
    medium size in Portuguese."""
    tr = translations.get(locale)
    if tr is None:
        return name, aliases
    shown = tr.name or name
    merged: list[str] = []
    for alias in (*tr.aliases, name, *aliases):
        if alias != shown and alias not in merged:
            merged.append(alias)
    return shown, tuple(merged)


@dataclass(frozen=True, slots=True)
class Option:
    """One choice inside an option group; ``price`` is a delta in cents (may be negative)."""

    code: str
    name: str
    price: int = 0
    aliases: tuple[str, ...] = ()
    available: bool = True
    translations: Translations = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class OptionGroup:
    """A reusable set of options (size, crust, toppings...), referenced by code from items.

    ``kind="single"`` allows at most one option (``default`` applies when none is chosen);
    ``kind="multiple"`` allows up to ``max`` options (``None`` = no limit). ``qualifiers``
    allows light/extra/double/triple on its options, priced per :data:`QUALIFIERS`.
    """

    code: str
    name: str
    kind: GroupKind
    options: tuple[Option, ...]
    required: bool = False
    default: str | None = None
    max: int | None = None
    qualifiers: bool = False
    translations: Translations = field(default_factory=dict)

    def option(self, code: str) -> Option | None:
        """The option with this code, or ``None``."""
        for opt in self.options:
            if opt.code == code:
                return opt
        return None


@dataclass(frozen=True, slots=True)
class Item:
    """A menu item; ``price`` is its base price in cents (before options)."""

    code: str
    name: str
    price: int
    category: str
    aliases: tuple[str, ...] = ()
    description: str = ""
    available: bool = True
    option_groups: tuple[str, ...] = ()
    kind: ItemKind = "other"
    translations: Translations = field(default_factory=dict)
    # Pieces in one portion of an item sold by the portion ("Eight wings": 8), or None.
    pieces: int | None = None


@dataclass(frozen=True, slots=True)
class Category:
    """A menu section (Pizzas, Drinks...) holding items in display order."""

    code: str
    name: str
    items: tuple[Item, ...]
    translations: Translations = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CartLimits:
    """How much one customer's cart may hold (menu file: ``store.cart``): at most ``max_lines``
    different lines and ``max_items`` items in all (the sum of the quantities). They keep one
    customer from filling the kitchen's queue, and the replies that show the cart short."""

    max_lines: int = 20
    max_items: int = 100


@dataclass(frozen=True, slots=True)
class Location:
    """A point on the map in degrees (WGS 84), as a WhatsApp location pin gives it."""

    latitude: float
    longitude: float


@dataclass(frozen=True, slots=True)
class DeliveryArea:
    """Where a store delivers: postal codes, named areas (neighbourhoods, towns) and/or a
    radius in kilometres around the store's location. An area with none of them is
    unrestricted."""

    postal_codes: tuple[str, ...] = ()
    names: tuple[str, ...] = ()
    radius_km: float | None = None

    @property
    def restricted(self) -> bool:
        """True when the store named where it delivers."""
        return bool(self.postal_codes or self.names or self.radius_km)


@dataclass(frozen=True, slots=True)
class Delivery:
    """Delivery settings; ``fee`` and ``minimum_order`` are cents, ``minutes`` the usual time
    on the road after the order is ready."""

    enabled: bool = False
    fee: int = 0
    minimum_order: int = 0
    minutes: int = 20
    area: DeliveryArea = field(default_factory=DeliveryArea)


@dataclass(frozen=True, slots=True)
class Store:
    """Store settings. ``hours`` maps each weekday in :data:`WEEKDAYS` to ``(start, end)``
    spans in minutes after local midnight (end exclusive, at most 1440); an empty tuple
    means closed that day."""

    code: str
    name: str
    currency: str
    timezone: str
    hours: Mapping[str, tuple[tuple[int, int], ...]]
    delivery: Delivery = field(default_factory=Delivery)
    pickup: bool = True
    preparation_minutes: int = 20
    cart: CartLimits = field(default_factory=CartLimits)
    address: str = ""
    phone: str = ""
    location: Location | None = None
    payment_methods: tuple[str, ...] = ()
    # ISO 3166-1 alpha-2 country of the store ("US"), "" when not given: money and times are
    # written as that country's speakers of each language write them (es + US: "$9.50").
    country: str = ""
    # The languages the store speaks (locale codes, docs/languages.md); the first is not
    # special: `default_language` is what a customer gets until their own is known.
    languages: tuple[Locale, ...] = (DEFAULT_LOCALE,)
    default_language: Locale = DEFAULT_LOCALE

    def language_of(self, language: str | None) -> Locale:
        """`language` when the store speaks it, else the store's default language."""
        locale = normalize_locale(language)
        return locale if locale in self.languages else self.default_language

    def speaker(self, language: str | None) -> Speaker:
        """How the store talks to a customer whose language is `language` (a locale such as
        "es" or "pt_BR"; None when not known yet): that language if the store speaks it, else
        its default, with the store's currency, time zone and country."""
        return speaker_for(
            self.language_of(language), currency=self.currency, timezone=self.timezone, country=self.country
        )


@dataclass(frozen=True, slots=True)
class ChosenOption:
    """An option picked for an order line; ``qualifier`` is a key of :data:`QUALIFIERS` or None."""

    group: str
    option: str
    qualifier: str | None = None


@dataclass(frozen=True, slots=True)
class Menu:
    """A whole store menu: settings, reusable option groups and categories of items."""

    store: Store
    option_groups: tuple[OptionGroup, ...]
    categories: tuple[Category, ...]
    # The language names, aliases and descriptions are in (the store's default unless localized).
    locale: Locale = DEFAULT_LOCALE

    def localized(self, language: str | None) -> Menu:
        """This menu with names, aliases, descriptions, categories and options in `language`
        (a language the store speaks, else its default); what the store left untranslated
        stays in the default language. Codes, prices and availability are unchanged, so a
        cart line means the same item in every language. Cached per menu object."""
        locale = self.store.language_of(language)
        if locale == self.locale:
            return self
        key = (id(self), locale)
        hit = _LOCALIZED.get(key)
        if hit is not None and hit[0] is self:
            return hit[1]
        localized = _localized(self, locale)
        with _LOCALIZED_LOCK:
            if len(_LOCALIZED) >= 64:
                _LOCALIZED.pop(next(iter(_LOCALIZED)))
            _LOCALIZED[key] = (self, localized)
        return localized

    def items(self) -> Iterator[Item]:
        """Every item, in category then display order."""
        for category in self.categories:
            yield from category.items

    def item(self, code: str) -> Item | None:
        """The item with this code, or ``None``."""
        for it in self.items():
            if it.code == code:
                return it
        return None

    def group(self, code: str) -> OptionGroup | None:
        """The option group with this code, or ``None``."""
        for grp in self.option_groups:
            if grp.code == code:
                return grp
        return None

    def groups_of(self, item: Item) -> tuple[OptionGroup, ...]:
        """The option groups an item offers, in the item's order."""
        groups = []
        for code in item.option_groups:
            grp = self.group(code)
            if grp is not None:
                groups.append(grp)
        return tuple(groups)

    def unit_price(self, item_code: str, options: Iterable[ChosenOption] = ()) -> int:
        """Price in cents of one unit of an item with the chosen options.

        Single-choice groups with a default and no explicit choice contribute the default
        option's delta. Raises ``KeyError`` for an unknown item, group or option.
        """
        item = self.item(item_code)
        if item is None:
            raise KeyError(item_code)
        total = item.price
        chosen = list(options)
        chosen_groups = {c.group for c in chosen}
        for grp in self.groups_of(item):
            if grp.kind == "single" and grp.default and grp.code not in chosen_groups:
                default = grp.option(grp.default)
                if default is not None:
                    total += default.price
        for choice in chosen:
            chosen_group = self.group(choice.group)
            if chosen_group is None:
                raise KeyError(choice.group)
            opt = chosen_group.option(choice.option)
            if opt is None:
                raise KeyError(f"{choice.group}.{choice.option}")
            total += opt.price * QUALIFIERS.get(choice.qualifier or "", 1)
        return total


_LOCALIZED: dict[tuple[int, str], tuple[Menu, Menu]] = {}
_LOCALIZED_LOCK = threading.Lock()


def _localized(menu: Menu, locale: Locale) -> Menu:
    def option(o: Option) -> Option:
        name, aliases = _localize(o.name, o.aliases, o.translations, locale)
        return dataclasses.replace(o, name=name, aliases=aliases)

    def group(g: OptionGroup) -> OptionGroup:
        name, _ = _localize(g.name, (), g.translations, locale)
        return dataclasses.replace(g, name=name, options=tuple(option(o) for o in g.options))

    def item(i: Item) -> Item:
        name, aliases = _localize(i.name, i.aliases, i.translations, locale)
        tr = i.translations.get(locale)
        description = tr.description if tr is not None and tr.description else i.description
        return dataclasses.replace(i, name=name, aliases=aliases, description=description)

    def category(c: Category) -> Category:
        name, _ = _localize(c.name, (), c.translations, locale)
        return dataclasses.replace(c, name=name, items=tuple(item(i) for i in c.items))

    return dataclasses.replace(
        menu,
        option_groups=tuple(group(g) for g in menu.option_groups),
        categories=tuple(category(c) for c in menu.categories),
        locale=locale,
    )


def format_money(cents: int) -> str:
    """Cents as the customer sees them: ``950 -> "9.50"``, ``-150 -> "-1.50"``."""
    sign = "-" if cents < 0 else ""
    whole, rest = divmod(abs(cents), 100)
    return f"{sign}{whole}.{rest:02d}"


def parse_price(value: object, path: str, *, allow_negative: bool = False) -> int:
    """A price from the file (``"9.50"``, ``9.5``, ``9``) as integer cents.

    Raises :class:`MenuError` for anything that is not a plain decimal with at most two
    decimals, and for negatives unless ``allow_negative``.
    """
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise MenuError(path, f"expected a price like 9.50, got {value!r}")
    # A YAML float such as 9.5 goes through repr(), which is the shortest exact form.
    text = value.strip() if isinstance(value, str) else repr(value)
    if not _PRICE_RE.match(text):
        raise MenuError(path, f"expected a price like 9.50, got {value!r}")
    try:
        amount = Decimal(text)
    except InvalidOperation as exc:  # pragma: no cover - the regex already rules this out
        raise MenuError(path, f"expected a price like 9.50, got {value!r}") from exc
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        raise MenuError(path, f"at most 2 decimals allowed, got {value!r}")
    if amount < 0 and not allow_negative:
        raise MenuError(path, f"must not be negative, got {value!r}")
    return int(amount * 100)


def demo_menu_path() -> Path:
    """Path of the demo store's menu file shipped with the service."""
    return Path(__file__).resolve().parent / "demo.yaml"


def load_menu_file(path: str | Path) -> Menu:
    """Read and validate a YAML menu file. Raises :class:`MenuError` (also for bad YAML)
    and ``OSError`` when the file cannot be read."""
    text = Path(path).read_text(encoding="utf-8")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise MenuError("", f"not valid YAML: {exc}") from exc
    return load_menu(data)


def load_menu(data: object) -> Menu:
    """Validate an already-decoded menu mapping (the YAML document) into a :class:`Menu`.

    Raises :class:`MenuError` naming the first offending field.
    """
    root = _mapping(data, "")
    store = _store(root.get("store"), "store")
    langs = store.languages
    groups = tuple(
        _group(g, f"option_groups[{i}]", langs)
        for i, g in enumerate(_list(root.get("option_groups", []), "option_groups"))
    )
    _unique((g.code for g in groups), "option_groups", "option group")
    group_codes = {g.code for g in groups}
    categories = tuple(
        _category(c, f"categories[{i}]", group_codes, langs)
        for i, c in enumerate(_list(root.get("categories"), "categories"))
    )
    _unique((c.code for c in categories), "categories", "category")
    _unique((it.code for c in categories for it in c.items), "categories", "item")
    by_code = {g.code: g for g in groups}
    for ci, category in enumerate(categories):
        for ii, item in enumerate(category.items):
            _check_cheapest(item, [by_code[g] for g in item.option_groups], f"categories[{ci}].items[{ii}]")
    return Menu(store=store, option_groups=groups, categories=categories, locale=store.default_language)


def _check_cheapest(item: Item, groups: list[OptionGroup], path: str) -> None:
    """Raise `MenuError` at `path` when some choice of options makes one `item` cost less than 0.

    Only single-choice groups may carry negative deltas (a smaller size); the cheapest line takes
    each such group's cheapest option, charged `max(QUALIFIERS)` times when the group allows
    qualifiers ("triple small"), or no option at all when the group may be left out (no default,
    not required). A negative price would be a cart, an order and a total below zero."""
    total = item.price
    cheapest: list[str] = []
    most = max(QUALIFIERS.values())
    for group in groups:
        if group.kind != "single":
            continue  # multiple-choice options are never negative (parse_price refuses them)
        times = most if group.qualifiers else 1
        option = min(group.options, key=lambda o: o.price)
        optional = group.default is None and not group.required
        if option.price >= 0 and (optional or option.price == 0):
            continue
        if option.price < 0:
            total += option.price * times
            qualifier = "triple " if times > 1 else ""
            cheapest.append(f"{group.name}: {qualifier}{option.name} {format_money(option.price * times)}")
        else:
            total += option.price
    if total < 0:
        chosen = f" with {', '.join(cheapest)}" if cheapest else ""
        raise MenuError(
            path,
            f"{item.name} ({item.code}) would cost {format_money(total)}{chosen}; "
            "an item's price with its cheapest options must not be negative",
        )


# -- field readers: each takes the raw value and its path, returns a typed value or raises --


def _mapping(value: object, path: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise MenuError(path, f"expected a mapping, got {_kind(value)}")
    for key in value:
        if not isinstance(key, str):
            raise MenuError(path, f"keys must be strings, got {key!r}")
    return value


def _list(value: object, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise MenuError(path, f"expected a list, got {_kind(value)}")
    return value


def _kind(value: object) -> str:
    return "nothing" if value is None else type(value).__name__


def _str(m: Mapping[str, Any], key: str, path: str, default: str | None = None) -> str:
    value = m.get(key, default)
    if not isinstance(value, str) or not value.strip():
        raise MenuError(f"{path}.{key}", f"expected a non-empty text, got {value!r}")
    return value.strip()


def _code(m: Mapping[str, Any], path: str) -> str:
    value = _str(m, "code", path)
    if not _CODE_RE.match(value):
        raise MenuError(f"{path}.code", f"use lowercase letters, digits, '-', '_' or '.', got {value!r}")
    return value


def _bool(m: Mapping[str, Any], key: str, path: str, default: bool) -> bool:
    value = m.get(key, default)
    if not isinstance(value, bool):
        raise MenuError(f"{path}.{key}", f"expected true or false, got {value!r}")
    return value


def _int(m: Mapping[str, Any], key: str, path: str, default: int | None) -> int | None:
    value = m.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise MenuError(f"{path}.{key}", f"expected a whole number >= 0, got {value!r}")
    return value


def _aliases(m: Mapping[str, Any], path: str) -> tuple[str, ...]:
    raw = _list(m.get("aliases", []), f"{path}.aliases")
    out = []
    for i, alias in enumerate(raw):
        if not isinstance(alias, str) or not alias.strip():
            raise MenuError(f"{path}.aliases[{i}]", f"expected a non-empty text, got {alias!r}")
        out.append(alias.strip())
    return tuple(out)


def _translations(m: Mapping[str, Any], path: str, languages: tuple[Locale, ...]) -> Translations:
    """The `translations` of an entry: language -> {name?, aliases?, description?}."""
    raw = _mapping(m.get("translations", {}), f"{path}.translations")
    out: dict[str, Translation] = {}
    for key, value in raw.items():
        where = f"{path}.translations.{key}"
        locale = normalize_locale(key)
        if locale is None or locale not in languages:
            spoken = ", ".join(languages)
            raise MenuError(where, f"not one of the store's languages ({spoken}); add it to store.languages")
        entry = _mapping(value, where)
        unknown = set(entry) - {"name", "aliases", "description"}
        if unknown:
            raise MenuError(where, f"unknown field {sorted(unknown)[0]!r}; use name, aliases, description")
        name = entry.get("name", "")
        description = entry.get("description", "")
        if not isinstance(name, str) or not isinstance(description, str):
            raise MenuError(where, "name and description are texts")
        out[locale] = Translation(name.strip(), _aliases(entry, where), description.strip())
    return out


def _languages(m: Mapping[str, Any], path: str) -> tuple[tuple[Locale, ...], Locale]:
    """(languages, default) of `store`: `languages: [en, es, pt-BR]`, `default_language: en`."""
    raw = _list(m.get("languages", [DEFAULT_LOCALE]), f"{path}.languages")
    spoken: list[Locale] = []
    for i, value in enumerate(raw):
        locale = normalize_locale(value) if isinstance(value, str) else None
        if locale is None:
            known = ", ".join(LOCALES)
            raise MenuError(f"{path}.languages[{i}]", f"expected one of {known} (or pt-BR), got {value!r}")
        if locale not in spoken:
            spoken.append(locale)
    if not spoken:
        raise MenuError(f"{path}.languages", "name at least one language")
    raw_default = m.get("default_language", spoken[0])
    default = normalize_locale(raw_default) if isinstance(raw_default, str) else None
    if default is None or default not in spoken:
        raise MenuError(
            f"{path}.default_language", f"expected one of the store's languages, got {raw_default!r}"
        )
    return tuple(spoken), default


def _unique(codes: Iterable[str], path: str, what: str) -> None:
    seen: set[str] = set()
    for code in codes:
        if code in seen:
            raise MenuError(path, f"duplicate {what} code {code!r}")
        seen.add(code)


def _store(value: object, path: str) -> Store:
    m = _mapping(value, path)
    currency = _str(m, "currency", path)
    if not _CURRENCY_RE.match(currency):
        raise MenuError(f"{path}.currency", f"expected an ISO 4217 code like USD, got {currency!r}")
    hours_raw = _mapping(m.get("hours", {}), f"{path}.hours")
    hours: dict[str, tuple[tuple[int, int], ...]] = {day: () for day in WEEKDAYS}
    for day, spans in hours_raw.items():
        if day not in WEEKDAYS:
            raise MenuError(f"{path}.hours.{day}", f"unknown weekday, use one of {WEEKDAYS}")
        hours[day] = _spans(spans, f"{path}.hours.{day}")
    delivery_raw = _mapping(m.get("delivery", {}), f"{path}.delivery")
    dpath = f"{path}.delivery"
    minutes = _int(delivery_raw, "minutes", dpath, 20)
    location = _location(m.get("location"), f"{path}.location")
    area = _area(delivery_raw.get("area", {}), f"{dpath}.area")
    if area.radius_km is not None and location is None:
        raise MenuError(f"{dpath}.area.radius_km", "a delivery radius needs the store's location")
    delivery = Delivery(
        enabled=_bool(delivery_raw, "enabled", dpath, False),
        fee=parse_price(delivery_raw.get("fee", "0"), f"{dpath}.fee"),
        minimum_order=parse_price(delivery_raw.get("minimum_order", "0"), f"{dpath}.minimum_order"),
        minutes=minutes if minutes is not None else 20,
        area=area,
    )
    pickup_raw = _mapping(m.get("pickup", {"enabled": True}), f"{path}.pickup")
    prep = _int(m, "preparation_minutes", path, 20)
    cart = _cart_limits(m.get("cart", {}), f"{path}.cart")
    methods = tuple(
        _code_value(v, f"{path}.payment_methods[{i}]")
        for i, v in enumerate(_list(m.get("payment_methods", []), f"{path}.payment_methods"))
    )
    for i, method in enumerate(methods):
        if method not in PAYMENT_METHODS:
            raise MenuError(
                f"{path}.payment_methods[{i}]",
                f"unknown payment method {method!r}, use one of {sorted(PAYMENT_METHODS)}",
            )
    languages, default_language = _languages(m, path)
    country = str(m.get("country") or "").strip().upper()
    if country and not re.fullmatch(r"[A-Z]{2}", country):
        raise MenuError(f"{path}.country", f"{country!r} is not an ISO 3166-1 alpha-2 code such as US or BR")
    return Store(
        code=_code(m, path),
        name=_str(m, "name", path),
        currency=currency,
        timezone=_str(m, "timezone", path, "UTC"),
        hours=hours,
        delivery=delivery,
        pickup=_bool(pickup_raw, "enabled", f"{path}.pickup", True),
        preparation_minutes=prep if prep is not None else 20,
        cart=cart,
        address=str(m.get("address") or "").strip(),
        phone=str(m.get("phone") or "").strip(),
        location=location,
        payment_methods=methods,
        country=country,
        languages=languages,
        default_language=default_language,
    )


def _cart_limits(value: object, path: str) -> CartLimits:
    m = _mapping(value, path)
    unknown = sorted(set(m) - {"max_lines", "max_items"})
    if unknown:
        raise MenuError(f"{path}.{unknown[0]}", "unknown field, use max_lines or max_items")
    default = CartLimits()
    limits = {}
    for key in ("max_lines", "max_items"):
        number = _int(m, key, path, getattr(default, key))
        if number is None or number < 1:
            raise MenuError(f"{path}.{key}", f"expected a whole number >= 1, got {m.get(key)!r}")
        limits[key] = number
    return CartLimits(**limits)


def _location(value: object, path: str) -> Location | None:
    if value is None:
        return None
    m = _mapping(value, path)
    try:
        latitude, longitude = float(m["latitude"]), float(m["longitude"])
    except (KeyError, TypeError, ValueError):
        raise MenuError(path, "expected {latitude, longitude} in degrees") from None
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise MenuError(path, f"not a point on the map: {latitude}, {longitude}")
    return Location(latitude, longitude)


def _area(value: object, path: str) -> DeliveryArea:
    m = _mapping(value, path)
    codes = tuple(str(c).strip().upper() for c in _list(m.get("postal_codes", []), f"{path}.postal_codes"))
    names = tuple(str(n).strip() for n in _list(m.get("names", []), f"{path}.names"))
    radius = m.get("radius_km")
    if radius is not None:
        try:
            radius = float(radius)
        except (TypeError, ValueError):
            raise MenuError(f"{path}.radius_km", f"expected kilometres, got {radius!r}") from None
        if not radius > 0:
            raise MenuError(f"{path}.radius_km", f"must be above 0, got {radius!r}")
    if any(not c for c in codes) or any(not n for n in names):
        raise MenuError(path, "postal codes and names must not be empty")
    return DeliveryArea(postal_codes=codes, names=names, radius_km=radius)


def _code_value(value: object, path: str) -> str:
    text = str(value).strip().lower()
    if not text:
        raise MenuError(path, "must not be empty")
    return text


def _spans(value: object, path: str) -> tuple[tuple[int, int], ...]:
    if value is None:
        return ()
    spans = []
    for i, raw in enumerate(_list(value, path)):
        match = _SPAN_RE.match(raw) if isinstance(raw, str) else None
        if match is None:
            raise MenuError(f"{path}[{i}]", f"expected a span like 11:00-22:00, got {raw!r}")
        h1, m1, h2, m2 = (int(x) for x in match.groups())
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if h1 > 23 or m1 > 59 or m2 > 59 or end > 24 * 60 or end <= start:
            raise MenuError(f"{path}[{i}]", f"expected a start before the end within one day, got {raw!r}")
        spans.append((start, end))
    return tuple(sorted(spans))


def _group(value: object, path: str, languages: tuple[Locale, ...]) -> OptionGroup:
    m = _mapping(value, path)
    kind = m.get("kind", "single")
    if kind not in ("single", "multiple"):
        raise MenuError(f"{path}.kind", f"expected single or multiple, got {kind!r}")
    options = tuple(
        _option(o, f"{path}.options[{i}]", languages, allow_negative=kind == "single")
        for i, o in enumerate(_list(m.get("options"), f"{path}.options"))
    )
    if not options:
        raise MenuError(f"{path}.options", "a group needs at least one option")
    _unique((o.code for o in options), f"{path}.options", "option")
    default = m.get("default")
    if default is not None and default not in {o.code for o in options}:
        raise MenuError(f"{path}.default", f"no option with code {default!r} in this group")
    max_ = _int(m, "max", path, 1 if kind == "single" else None)
    if kind == "single" and max_ != 1:
        raise MenuError(f"{path}.max", "a single-choice group has max 1")
    if max_ == 0:
        raise MenuError(f"{path}.max", "must be at least 1")
    return OptionGroup(
        code=_code(m, path),
        name=_str(m, "name", path),
        kind="single" if kind == "single" else "multiple",
        options=options,
        required=_bool(m, "required", path, False),
        default=default,
        max=max_,
        qualifiers=_bool(m, "qualifiers", path, False),
        translations=_translations(m, path, languages),
    )


def _option(value: object, path: str, languages: tuple[Locale, ...], *, allow_negative: bool) -> Option:
    m = _mapping(value, path)
    # A negative delta only makes sense where it replaces a default (a smaller size).
    price = parse_price(m.get("price", "0"), f"{path}.price", allow_negative=allow_negative)
    return Option(
        code=_code(m, path),
        name=_str(m, "name", path),
        price=price,
        aliases=_aliases(m, path),
        available=_bool(m, "available", path, True),
        translations=_translations(m, path, languages),
    )


def _category(value: object, path: str, group_codes: set[str], languages: tuple[Locale, ...]) -> Category:
    m = _mapping(value, path)
    code = _code(m, path)
    items = tuple(
        _item(it, f"{path}.items[{i}]", code, group_codes, languages)
        for i, it in enumerate(_list(m.get("items"), f"{path}.items"))
    )
    return Category(
        code=code, name=_str(m, "name", path), items=items, translations=_translations(m, path, languages)
    )


def _item(
    value: object, path: str, category: str, group_codes: set[str], languages: tuple[Locale, ...]
) -> Item:
    m = _mapping(value, path)
    if "price" not in m:
        raise MenuError(f"{path}.price", "missing; expected a price like 9.50")
    groups = []
    for i, g in enumerate(_list(m.get("option_groups", []), f"{path}.option_groups")):
        if g not in group_codes:
            raise MenuError(f"{path}.option_groups[{i}]", f"no option group with code {g!r}")
        groups.append(g)
    kind = m.get("kind", "other")
    if kind not in ("pizza", "drink", "other"):
        raise MenuError(f"{path}.kind", f"expected pizza, drink or other, got {kind!r}")
    description = m.get("description", "")
    if not isinstance(description, str):
        raise MenuError(f"{path}.description", f"expected a text, got {description!r}")
    pieces = _int(m, "pieces", path, None)
    if pieces is not None and pieces < 2:
        raise MenuError(f"{path}.pieces", f"expected a whole number >= 2, got {pieces!r}")
    return Item(
        code=_code(m, path),
        name=_str(m, "name", path),
        price=parse_price(m["price"], f"{path}.price"),
        category=category,
        aliases=_aliases(m, path),
        description=description.strip(),
        available=_bool(m, "available", path, True),
        option_groups=tuple(groups),
        kind="pizza" if kind == "pizza" else "drink" if kind == "drink" else "other",
        translations=_translations(m, path, languages),
        pieces=pieces,
    )
