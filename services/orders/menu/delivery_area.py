"""Whether an address or a pin is in a store's delivery area (see catalog.DeliveryArea).

The answer is three-valued on purpose: a typed address often names no postal code or area the
store listed, and refusing it would turn away customers the store does deliver to. So a pin
is measured (great-circle distance to the store), a typed address is checked for the postal
codes it mentions (when the store lists codes, they decide), then for the area names, and
anything else is "unknown": the order goes through and staff see the address as typed.
"""

from __future__ import annotations

import math
import re
import unicodedata

from babel.numbers import format_decimal

from services.orders.language import Speaker
from services.orders.menu.catalog import DeliveryArea, Location, Store

__all__ = ["covers", "describe", "distance_km", "named_area"]

_EARTH_RADIUS_KM = 6371.0088
# Postal codes as people write them: US ZIP (5, or ZIP+4), Brazil's CEP (12345-678), Spain and
# Mexico (5 digits), Portugal (1234-567), UK-like outward codes are matched from the list only.
_POSTAL = re.compile(r"\b(\d{5})(?:-\d{3,4})?\b|\b(\d{4}-\d{3})\b")


def distance_km(a: Location, b: Location) -> float:
    """Great-circle distance between two points, in kilometres (haversine formula)."""
    lat1, lat2 = math.radians(a.latitude), math.radians(b.latitude)
    dlat, dlon = lat2 - lat1, math.radians(b.longitude - a.longitude)
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
    return 2 * _EARTH_RADIUS_KM * math.asin(math.sqrt(min(1.0, h)))


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    return " ".join("".join(c for c in text if not unicodedata.combining(c)).lower().split())


def named_area(area: DeliveryArea, text: str) -> str | None:
    """The area name or postal code of `area` that `text` mentions, else None."""
    folded = _fold(text)
    for name in area.names:
        if re.search(rf"\b{re.escape(_fold(name))}\b", folded):
            return name
    for code in area.postal_codes:
        if re.search(rf"\b{re.escape(code.lower())}\b", folded):
            return code
    return None


def describe(store: Store, speaker: Speaker) -> str:
    """ "We deliver within 4 km of our store (148 Court Street); to Brooklyn Heights, …; ZIP
    codes …", in the speaker's language."""
    s = speaker
    area = store.delivery.area
    parts = []
    if area.radius_km is not None:
        km = format_decimal(area.radius_km, locale=s.locale)
        if store.address:
            parts.append(s._("within {km} km of our store ({address})", km=km, address=store.address))
        else:
            parts.append(s._("within {km} km of our store", km=km))
    if area.names:
        parts.append(s._("to {areas}", areas=", ".join(area.names)))
    if area.postal_codes:
        parts.append(s._("postal codes {codes}", codes=", ".join(area.postal_codes)))
    if not parts:
        return s._("We deliver everywhere nearby.")
    return s._("We deliver {where}.", where="; ".join(parts))


def covers(store: Store, *, text: str | None = None, pin: Location | None = None) -> bool | None:
    """True when the store delivers to `pin` or to the address `text`, False when it surely
    does not, None when the words do not tell (see the module docstring). A store that lists
    no area delivers everywhere (True)."""
    area = store.delivery.area
    if not area.restricted:
        return True
    if pin is not None and area.radius_km is not None and store.location is not None:
        return distance_km(store.location, pin) <= area.radius_km
    if text:
        # A postal code is the more precise word: an area's name is also found in other cities
        # ("Red Hook, NY 12571" is upstate, not Brooklyn), so a code the store does not list wins.
        codes = [m.group(1) or m.group(2) for m in _POSTAL.finditer(text)]
        if codes and area.postal_codes:
            return any(c.upper() in area.postal_codes for c in codes)
        if named_area(area, text) is not None:
            return True
    return None
