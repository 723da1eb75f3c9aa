"""The dashboard in a real browser (Debian's chromium through Playwright) against the real mesh:
sign-in and sign-out, a webhook-placed order appearing live, a status tap that reaches the
customer, a sold-out toggle the bot honours, and a handoff reply with the bot staying quiet."""

from __future__ import annotations

import re
import time
from typing import Any

from services.orders.conversation import texts
from services.orders.ordering.staff import RELEASE_TEXT
from tests.dashboard.conftest import OUTPUT, STAFF_EMAIL, screenshot, sign_in
from tests.e2e.harness import Mesh

LIVE_WITHIN_S = 2.0


def laid_out(locator: Any, timeout_s: float = 10.0) -> dict[str, float]:
    """The locator's box once the page has laid it out. A live update may replace the element
    between a wait and the measure (its box is then None for a moment), so measure until it
    has one."""
    deadline = time.monotonic() + timeout_s
    while True:
        locator.wait_for(timeout=timeout_s * 1000)
        box = locator.bounding_box()
        if box is not None:
            return dict(box)
        assert time.monotonic() < deadline, f"{locator} was never laid out"
        time.sleep(0.05)


def customer() -> str:
    """A customer address of this test's own (the mesh is shared by the folder)."""
    return f"whatsapp:+1556{time.time_ns() % 10**7:07d}"


def test_sign_in_and_sign_out(browser: Any, mesh: Mesh) -> None:
    context = browser.new_context()
    page = context.new_page()
    errors: list[str] = []  # the console says "Failed to load resource" (Playwright hides favicon requests)
    page.on("console", lambda m: errors.append(m.text) if "404" in m.text else None)
    page.goto(mesh.url("orders") + "/dashboard")
    page.wait_for_url("**/login?next=/dashboard")
    page.get_by_label("Email").fill(STAFF_EMAIL)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("alert").inner_text() == "Wrong email or password."
    page.get_by_label("Password").fill("correct-horse-battery-staple")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/dashboard")
    assert page.get_by_role("heading", name="New").is_visible()
    page.locator('#live-state[data-state="live"]').wait_for()
    assert errors == []  # no 404 on the first load (it was /favicon.ico)
    sound = page.get_by_role("button", name="Sound off")
    assert sound.get_attribute("aria-pressed") == "false"  # muted until staff switch it on
    sound.click()
    assert page.get_by_role("button", name="Sound on").get_attribute("aria-pressed") == "true"
    cookie = next(c for c in context.cookies() if c["name"] == "wa_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    page.get_by_role("button", name=f"Sign out {STAFF_EMAIL}").click()
    page.wait_for_url("**/login")
    page.goto(mesh.url("orders") + "/dashboard")
    page.wait_for_url("**/login?next=/dashboard")  # the old cookie no longer signs anyone in
    context.close()


ORDERING = (
    "2 large pepperoni with extra cheese",
    "do you deliver to brooklyn?",
    "1 coke",
    "I'm allergic to peanuts",
)
MM_PX = 96 / 25.4  # CSS pixels per millimetre


def place_order(mesh: Mesh, who: str, name: str, lines: tuple[str, ...] = ORDERING) -> None:
    """The customer chats their order up to the summary (not confirmed yet)."""
    for line in (*lines, "checkout", "pickup"):
        before = len(mesh.sent(who))
        mesh.say(who, line, ProfileName=name)
        mesh.wait_sent(who, before + 1)


def test_a_webhook_order_appears_live_and_a_status_tap_tells_the_customer(browser: Any, mesh: Mesh) -> None:
    tablet = sign_in(browser, mesh, viewport=(1024, 768), touch=True)
    phone = sign_in(browser, mesh, viewport=(390, 844), touch=True)
    who, name = customer(), f"Dana {time.time_ns() % 10**6}"
    place_order(mesh, who, name)
    started = time.monotonic()
    mesh.say(who, "confirm", ProfileName=name)
    for page in (tablet, phone):
        page.locator('[data-column="placed"] .ticket', has_text=name).wait_for(timeout=LIVE_WITHIN_S * 1000)
    elapsed = time.monotonic() - started
    assert elapsed < LIVE_WITHIN_S, f"the new order took {elapsed:.2f}s to appear"

    ticket = tablet.locator(".ticket", has_text=name)
    number = ticket.get_attribute("data-number")
    text = ticket.inner_text().lower()
    assert "2\u00d7 pepperoni" in text and "large, extra cheese" in text and "1\u00d7 coke" in text
    assert "pickup" in text and "34.50" in text
    # The card quotes the messages that made the order, not the question or the commands.
    quoted = ticket.locator(".words p").all_inner_texts()
    assert quoted == ["“2 large pepperoni with extra cheese”", "“1 coke”"]
    # The allergy stands out: an icon named "Allergy", the word, the customer's note.
    assert ticket.get_by_role("img", name="Allergy").first.is_visible()
    assert "ALLERGY" in ticket.locator(".flag").inner_text().upper()
    assert "allergic to peanuts" in ticket.locator(".flag").inner_text()
    ticket.scroll_into_view_if_needed()
    screenshot(tablet, "queue-tablet-live", full_page=False)
    screenshot(phone, "queue-phone")

    sent_before = len(mesh.sent(who))
    ticket.get_by_role("button", name=f"Confirm: order {number}").tap()
    tablet.locator(f'[data-column="confirmed"] #order-{number}').wait_for(timeout=LIVE_WITHIN_S * 1000)
    phone.locator(f'[data-column="confirmed"] #order-{number}').wait_for(timeout=LIVE_WITHIN_S * 1000)
    (message,) = mesh.wait_sent(who, sent_before + 1)[sent_before:]
    assert f"confirmed your order #{number}" in message["body"]

    tablet.locator(f"#order-{number}").get_by_role("link", name=f"#{number}").tap()
    tablet.wait_for_url(f"**/dashboard/orders/{number}")
    tablet.get_by_role("heading", name=f"Order #{number}").wait_for()
    # The order first: its items above the status and the conversation (both laid out first:
    # on a busy machine the page may still be rendering).
    items = laid_out(tablet.locator("#order-items"))
    talk = laid_out(tablet.locator("#order-conversation"))
    assert items["y"] < talk["y"] and items["y"] < 768
    assert tablet.locator(".order-items").get_by_role("img", name="Allergy").first.is_visible()
    # History names the staff member, not "staff".
    assert "placed → confirmed" in tablet.locator("table.history").inner_text().replace("— →", "")
    assert (
        tablet.locator("table.history tr", has_text="placed → confirmed").locator("td").nth(2).inner_text()
        == "Owner"
    )
    # The conversation is folded to its last messages, with "show all".
    shown = tablet.locator("#order-messages-panel .msg").count()
    assert 0 < shown <= 8
    conversation = tablet.locator("#order-messages-panel .messages").inner_text()
    assert "2 large pepperoni with extra cheese" not in conversation
    tablet.locator("#order-messages-panel .delivery").first.wait_for()
    screenshot(tablet, "order-tablet", full_page=False)
    tablet.get_by_role("link", name="Show all").tap()
    tablet.locator("#order-messages-panel .msg", has_text="2 large pepperoni with extra cheese").wait_for()
    assert tablet.locator("#order-messages-panel .msg").count() > shown

    # The keyboard works too: focus the next-status button and press Enter.
    sent_before = len(mesh.sent(who))
    tablet.get_by_role("button", name=f"Start preparing: order {number}").focus()
    tablet.keyboard.press("Enter")
    tablet.get_by_role("heading", name="Status: Being prepared").wait_for()
    assert "preparing your order" in mesh.wait_sent(who, sent_before + 1)[sent_before]["body"]

    # Cancelling asks for a reason, and the customer reads it.
    sent_before = len(mesh.sent(who))
    tablet.get_by_text("Cancel…").tap()
    tablet.get_by_label("Reason (the customer reads it)").fill("Oven broke down")
    # A live refresh meanwhile (the stream catching up, another tablet) keeps what is typed.
    panel = tablet.locator("#order-status-panel").element_handle()
    with tablet.expect_response(f"**/dashboard/orders/{number}/live"):
        tablet.evaluate(f"document.body.dispatchEvent(new CustomEvent('dash-order-{number}'))")
    tablet.wait_for_function("old => !document.contains(old)", arg=panel)
    assert tablet.get_by_label("Reason (the customer reads it)").input_value() == "Oven broke down"
    tablet.get_by_role("button", name=f"Cancel order #{number}").tap()
    tablet.get_by_role("heading", name="Status: Cancelled").wait_for()
    (message,) = mesh.wait_sent(who, sent_before + 1)[sent_before:]
    assert "cancelled: Oven broke down" in message["body"]

    tablet.get_by_role("link", name="Today").tap()
    assert int(tablet.locator("#stat-orders").inner_text()) >= 1
    assert int(tablet.locator("#stat-cancelled").inner_text()) >= 1
    tablet.context.close()
    phone.context.close()


def test_the_kitchen_ticket_prints_80_mm_wide_with_the_allergy(browser: Any, mesh: Mesh) -> None:
    page = sign_in(browser, mesh, viewport=(1024, 768), touch=True)
    who, name = customer(), f"Kim {time.time_ns() % 10**6}"
    place_order(mesh, who, name)
    mesh.say(who, "confirm", ProfileName=name)
    ticket = page.locator('[data-column="placed"] .ticket', has_text=name)
    ticket.wait_for()
    number = ticket.get_attribute("data-number")
    page.goto(mesh.url("orders") + f"/dashboard/orders/{number}/ticket")
    page.emulate_media(media="print")
    paper = page.locator(".kitchen-ticket")
    box = paper.bounding_box()
    assert box is not None and abs(box["width"] - 80 * MM_PX) < 1, box
    assert not page.get_by_role("button", name="Print").is_visible()  # screen only
    assert paper.get_by_role("heading", name=f"#{number}").is_visible()
    assert paper.get_by_role("img", name="Allergy").is_visible()
    assert "allergic to peanuts" in paper.locator(".flag-allergy").inner_text()
    assert "2\u00d7 Pepperoni" in paper.inner_text()
    screenshot(page, "ticket-print")
    pdf = page.pdf(prefer_css_page_size=True, print_background=True)
    (OUTPUT / "ticket.pdf").write_bytes(pdf)
    media_box = re.search(rb"/MediaBox \[0 0 ([0-9.]+) ([0-9.]+)\]", pdf)
    assert media_box and abs(float(media_box.group(1)) - 80 * 72 / 25.4) < 0.5, media_box  # 80 mm in points
    page.context.close()


def test_auto_print_prints_each_new_order_on_the_tablet_that_asked(browser: Any, mesh: Mesh) -> None:
    page = sign_in(browser, mesh, viewport=(1024, 768), touch=True)
    page.get_by_role("button", name="Auto-print off").tap()
    assert page.get_by_role("button", name="Auto-print on").get_attribute("aria-pressed") == "true"
    who, name = customer(), f"Lou {time.time_ns() % 10**6}"
    place_order(mesh, who, name, ("1 tiramisu",))
    mesh.say(who, "confirm", ProfileName=name)
    ticket = page.locator('[data-column="placed"] .ticket', has_text=name)
    ticket.wait_for()
    number = ticket.get_attribute("data-number")
    printed = page.frame_locator(f'iframe.print-frame[title="Ticket {number}"]')
    printed.get_by_role("heading", name=f"#{number}").wait_for()
    page.context.close()


def test_a_sold_out_toggle_makes_the_bot_refuse_the_item(browser: Any, mesh: Mesh) -> None:
    page = sign_in(browser, mesh)
    page.get_by_role("link", name="Menu").click()
    page.get_by_role("button", name="Mark Tiramisu sold out").click()
    page.get_by_role("button", name="Put Tiramisu back on sale").wait_for()
    who = customer()
    (reply,) = mesh.converse(who, ["1 tiramisu"])
    assert "Tiramisu* is sold out" in reply
    page.get_by_role("button", name="Put Tiramisu back on sale").click()
    page.get_by_role("button", name="Mark Tiramisu sold out").wait_for()
    (reply,) = mesh.converse(who, ["1 tiramisu"])
    assert "sold out" not in reply

    page.get_by_role("button", name="Pause ordering").click()
    page.get_by_role("button", name="Resume ordering").click()
    page.get_by_role("button", name="Pause ordering").wait_for()
    page.context.close()


def test_a_handoff_reply_reaches_the_customer_and_the_bot_stays_quiet_until_released(
    browser: Any, mesh: Mesh
) -> None:
    page = sign_in(browser, mesh, viewport=(768, 1024), touch=True)
    page.get_by_role("link", name="Handoff").tap()
    who, name = customer(), f"Sam {time.time_ns() % 10**6}"
    mesh.say(who, "I want to talk to a human", ProfileName=name)
    assert mesh.wait_sent(who, 1)[0]["body"] == texts.AGENT
    page.get_by_role("link", name=name).click()  # appeared without a reload
    # The reply box is at the top of the page.
    reply = page.get_by_label("Message to the customer (the bot stays quiet once you reply)")
    box = reply.bounding_box()
    assert box is not None and box["y"] < 300, box
    reply.fill("Hi, this is Maria from the kitchen. How can I help?")
    page.get_by_role("button", name="Send").click()
    assert mesh.wait_sent(who, 2)[1]["body"] == "Hi, this is Maria from the kitchen. How can I help?"

    mesh.say(who, "menu please", ProfileName=name)
    page.locator(".msg.in", has_text="menu please").wait_for()  # staff see it live ...
    screenshot(page, "conversation-tablet", full_page=False)
    time.sleep(1.5)
    assert len(mesh.sent(who)) == 2  # ... and the bot said nothing

    page.get_by_role("button", name="Return to bot").click()
    assert mesh.wait_sent(who, 3)[2]["body"] == RELEASE_TEXT
    page.get_by_role("button", name="Take over from the bot").wait_for()
    # The top bar's Handoff shows a count (or nothing), never a stray dot.
    nav = page.locator("#nav-handoff").inner_text()
    assert "●" not in nav and nav.replace("Handoff", "").strip() in ("", *map(str, range(100)))
    (reply,) = mesh.converse(who, ["menu"])
    assert "Margherita" in reply
    page.context.close()
