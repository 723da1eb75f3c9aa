"""The queue on a kitchen tablet at dinner rush, in Debian's chromium with touch: 1024x768
landscape and 768x1024 portrait, 40 open orders.

Layout is asserted from element boxes (every working column inside the viewport, nothing
wider than the screen, touch targets at least 44 px). How long the rush takes to render is
measured and printed (and written to test-output/), never asserted. Screenshots of each
viewport go to test-output/ for a person to look at.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.dashboard.conftest import OUTPUT, screenshot, sign_in
from tests.dashboard.rush import OPEN, Rush, seed_rush
from tests.e2e.harness import Mesh

TABLETS = {"landscape": (1024, 768), "portrait": (768, 1024)}
WORKING = ("placed", "confirmed", "preparing", "ready")
MIN_TARGET_PX = 44


@pytest.fixture(scope="module")
def rush(mesh: Mesh) -> Rush:
    return seed_rush(mesh.database_url)


@pytest.fixture(params=list(TABLETS))
def tablet(request: pytest.FixtureRequest, browser: Any, mesh: Mesh) -> Iterator[tuple[str, Any]]:
    page = sign_in(browser, mesh, viewport=TABLETS[request.param], touch=True)
    yield request.param, page
    page.context.close()


def boxes(page: Any, selector: str) -> list[dict[str, float]]:
    return [page.locator(selector).nth(i).bounding_box() for i in range(page.locator(selector).count())]


def test_the_queue_fits_a_tablet_at_rush(tablet: tuple[str, Any], rush: Rush, mesh: Mesh) -> None:
    orientation, page = tablet
    width, height = TABLETS[orientation]
    missing: list[str] = []
    page.on("response", lambda r: missing.append(r.url) if r.status >= 400 else None)
    started = time.monotonic()
    page.goto(mesh.url("orders") + "/dashboard")
    page.locator(f"#order-{rush.numbers[0]}").wait_for()
    page.locator('#live-state[data-state="live"]').wait_for()
    rendered_s = time.monotonic() - started
    cards = page.locator(".working .ticket").count()
    note = f"{orientation}: {cards} cards rendered in {rendered_s * 1000:.0f} ms (page load to live)"
    print(note)
    with (OUTPUT / "rush-render.txt").open("a") as out:
        out.write(note + "\n")
    assert cards >= OPEN - 3  # the 3 out for delivery are behind their count
    assert int(page.locator("#open-count").inner_text()) >= OPEN
    assert missing == []  # no 404 (or any error) while the first page loads

    # The top bar is one row (with the Handoff count), the board gets the rest.
    bar = page.locator("header.top").bounding_box()
    assert bar is not None and bar["height"] <= 56, bar
    assert page.locator("#handoff-badge").is_visible()
    # No sideways scrolling, and every working column wholly on the screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    for key in WORKING:
        box = page.locator(f'.working [data-column="{key}"]').bounding_box()
        assert box is not None, key
        assert box["x"] >= 0 and box["x"] + box["width"] <= width, (key, box)
        assert box["y"] >= 0 and box["y"] + box["height"] <= height, (key, box)
        assert box["width"] >= 150, (key, box)
        assert page.locator(f'.working [data-column="{key}"] h2').is_visible()
    # Oldest first in each column (the longest wait on top).
    for key in WORKING:
        placed = page.locator(f'.working [data-column="{key}"] .ticket').evaluate_all(
            "ts => ts.map(t => Number(t.dataset.placed))"
        )
        assert placed == sorted(placed), key
    # Waiting time: amber past three quarters of the preparation time, red and "late" past it.
    assert page.locator(".ticket.age-warn").count() >= 1
    late = page.locator(".ticket.age-late .age").first
    assert "late" in late.inner_text().lower()
    # Touch targets on the screen (the cards' buttons and links, the bar, the later stages).
    for selector in (".top nav a", ".tools button", ".later-toggle", ".ticket button.next", ".ticket h3 a"):
        for box in boxes(page, selector)[:12]:
            if box and box["y"] < height:
                assert box["height"] >= MIN_TARGET_PX and box["width"] >= MIN_TARGET_PX, (selector, box)

    # The allergy and the diet are flagged with an icon that names them, not by colour alone.
    allergy = page.locator(f"#order-{rush.allergy}")
    allergy.scroll_into_view_if_needed()
    assert allergy.get_by_role("img", name="Allergy").first.is_visible()
    assert "ALLERGY" in allergy.locator(".flag").inner_text().upper()
    assert "peanuts" in allergy.locator(".flag").inner_text()
    assert page.locator(f"#order-{rush.diet}").get_by_role("img", name="Diet").first.is_visible()
    # The card quotes what the customer wrote to order.
    assert "“2 large pepperoni with extra cheese”" in page.locator(".ticket .words").first.inner_text() or (
        page.locator(".ticket .words", has_text="2 large pepperoni with extra cheese").count() > 0
    )
    page.evaluate("document.querySelectorAll('.tickets').forEach(t => t.scrollTop = 0)")
    screenshot(page, f"tablet-{orientation}-rush", full_page=False)

    # A later stage is a count that opens its list (and closes again).
    toggle = page.locator('.later-toggle[data-later="out_for_delivery"]')
    assert int(toggle.locator(".count").inner_text()) >= 3
    toggle.tap()
    dialog = page.get_by_role("dialog", name="Out for delivery")
    dialog.wait_for()
    assert dialog.locator(".ticket").count() >= 3
    assert dialog.get_by_role("button", name="Delivered").first.is_visible()
    screenshot(page, f"tablet-{orientation}-out-for-delivery", full_page=False)
    dialog.get_by_role("button", name="Close").tap()
    dialog.wait_for(state="hidden")


def test_the_order_page_fits_a_tablet(tablet: tuple[str, Any], rush: Rush, mesh: Mesh) -> None:
    orientation, page = tablet
    width, height = TABLETS[orientation]
    page.goto(mesh.url("orders") + f"/dashboard/orders/{rush.allergy}")
    page.get_by_role("heading", name=f"Order #{rush.allergy}").wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    flag = page.locator(".order-items .flag-allergy")
    box = flag.bounding_box()
    assert box is not None and box["y"] + box["height"] <= height  # the allergy without scrolling
    assert flag.get_by_role("img", name="Allergy").is_visible()
    button = page.get_by_role("button", name=f"Start preparing: order {rush.allergy}").bounding_box()
    assert (
        button is not None and button["y"] + button["height"] <= height and button["height"] >= MIN_TARGET_PX
    )
    screenshot(page, f"order-{orientation}", full_page=False)
