"""Whether a typed address or a pin is in the demo store's delivery area (Brooklyn, 11201)."""

from __future__ import annotations

import pytest

from services.orders.menu.catalog import Location, demo_menu_path, load_menu_file
from services.orders.menu.delivery_area import covers

STORE = load_menu_file(demo_menu_path()).store


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("12 Atlantic Ave, Brooklyn Heights", True),
        ("300 Smith St, Brooklyn NY 11231", True),
        ("45 Fifth Avenue, Park Slope, NY 11217", True),
        ("12 Main Street, Springfield, IL 62701", False),
        # A listed area's name beside a postal code the store does not list: the code tells.
        ("100 Peachtree St NE, Midtown, Atlanta, GA 30303", False),
        ("7400 South Broadway, Red Hook, NY 12571", False),
        ("the blue house by the park", None),
    ],
)
def test_a_typed_address_is_judged_by_its_postal_code_before_a_name(
    address: str, expected: bool | None
) -> None:
    assert covers(STORE, text=address) is expected


def test_a_pin_is_measured_from_the_store() -> None:
    assert covers(STORE, pin=Location(latitude=40.6860, longitude=-73.9900)) is True  # a few blocks
    assert covers(STORE, pin=Location(latitude=33.7560, longitude=-84.3880)) is False  # Atlanta
