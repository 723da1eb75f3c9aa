"""A menu file built at run time from the PIZZA benchmark's entity catalogs.

The catalogs (``CATALOG_DIR/*.txt``, one ``surface form<TAB>kind(VALUE)`` per line) are
licensed CC-BY-NC-4.0 and stay outside this repository; this module only reads them.
The menu has one item ``pizza`` (groups size, style, toppings) and one item per drink type
(groups drink-size, container, volume), so that ``exr.render_exr`` can write the benchmark's
notation. Number and quantity catalogs are not needed: the parser knows English numbers and
qualifiers itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

__all__ = ["CatalogError", "build_pizza_menu", "read_catalog"]

_LINE_RE = re.compile(r"^(?P<surface>[^\t]+)\t\s*(?P<kind>\w+)\((?P<value>[^)]*)\)\s*$")

# Everyday names for drinks that the catalogs leave out.
_DRINK_SYNONYMS: dict[str, list[str]] = {
    "COKE": ["coca cola", "cola", "coca colas", "coke classic"],
    "SEVEN_UP": ["7up", "sevenup"],
    "DR_PEPPER": ["drpepper", "dr. pepper"],
    "DIET_COKE": ["coke light"],
}


# Everyday names for toppings that the catalogs leave out.
_TOPPING_SYNONYMS: dict[str, list[str]] = {
    "BEEF": ["hamburger", "hamburger meat", "minced beef"],
}


class CatalogError(ValueError):
    """A catalog line that cannot be read; the message names file and line."""


def read_catalog(path: Path) -> Iterator[tuple[str, str, str]]:
    """``(surface, kind, value)`` for each non-empty line of one catalog file."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        match = _LINE_RE.match(line)
        if match is None:
            raise CatalogError(f"{path.name}:{number}: expected 'surface<TAB>kind(VALUE)'")
        yield match["surface"].strip(), match["kind"], match["value"].strip()


def _code(value: str) -> str:
    parts = [p.strip() for p in value.split(",")]
    return "-".join(parts).lower().replace("_", "-").replace(" ", "-")


def _name(value: str) -> str:
    parts = [p.strip() for p in value.split(",")]
    return " ".join(parts).replace("_", " ").title()


def _options(entries: list[tuple[str, str]], price: str) -> list[dict[str, Any]]:
    by_value: dict[str, list[str]] = {}
    for surface, value in entries:
        by_value.setdefault(value, [])
        if surface not in by_value[value]:
            by_value[value].append(surface)
    return [{"code": _code(v), "name": _name(v), "aliases": s, "price": price} for v, s in by_value.items()]


def build_pizza_menu(catalog_dir: Path) -> dict[str, Any]:
    """The menu document (a mapping ready for ``catalog.load_menu`` or YAML) built from the
    catalogs in ``catalog_dir``. Raises ``OSError`` when a catalog is missing and
    :class:`CatalogError` for an unreadable line."""
    kinds: dict[str, list[tuple[str, str]]] = {}
    for name in ("size", "style", "topping", "drinks", "container", "drink_volume"):
        for surface, kind, value in read_catalog(catalog_dir / f"{name}.txt"):
            kinds.setdefault(kind, []).append((surface, value))
    sizes = _options(kinds.get("size", []), "0")
    toppings = _options(kinds.get("topping", []), "1.00")
    for option in toppings:
        option["aliases"] += _TOPPING_SYNONYMS.get(option["code"].upper().replace("-", "_"), [])
    drinks = []
    for option in _options(kinds.get("drinkType", []), "2.00"):
        value = option["code"].upper().replace("-", "_")
        drinks.append(
            {
                "code": option["code"],
                "name": option["name"],
                "aliases": option["aliases"] + _DRINK_SYNONYMS.get(value, []),
                "price": "2.00",
                "option_groups": ["drink-size", "container", "volume"],
                "kind": "drink",
            }
        )
    return {
        "store": {
            "code": "pizza-benchmark",
            "name": "PIZZA benchmark store",
            "currency": "USD",
            "timezone": "UTC",
            "hours": {day: ["00:00-24:00"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
            "delivery": {"enabled": True, "fee": "0", "minimum_order": "0"},
            "pickup": {"enabled": True},
            "preparation_minutes": 20,
        },
        "option_groups": [
            {"code": "size", "name": "Size", "kind": "single", "options": sizes},
            {
                "code": "style",
                "name": "Style",
                "kind": "multiple",
                "options": _options(kinds.get("style", []), "0"),
            },
            {
                "code": "toppings",
                "name": "Toppings",
                "kind": "multiple",
                "qualifiers": True,
                "options": toppings,
            },
            {"code": "drink-size", "name": "Drink size", "kind": "single", "options": sizes},
            {
                "code": "container",
                "name": "Container",
                "kind": "single",
                "options": _options(kinds.get("containerType", []), "0"),
            },
            {
                "code": "volume",
                "name": "Volume",
                "kind": "single",
                "options": _options(kinds.get("volume", []), "0"),
            },
        ],
        "categories": [
            {
                "code": "pizzas",
                "name": "Pizzas",
                "items": [
                    {
                        "code": "pizza",
                        "name": "Pizza",
                        "price": "10.00",
                        "option_groups": ["size", "style", "toppings"],
                        "kind": "pizza",
                    }
                ],
            },
            {"code": "drinks", "name": "Drinks", "items": drinks},
        ],
    }


def pizza_menu_yaml(catalog_dir: Path) -> str:
    """:func:`build_pizza_menu` as YAML text."""
    return yaml.safe_dump(build_pizza_menu(catalog_dir), sort_keys=False, allow_unicode=True)
