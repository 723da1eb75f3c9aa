"""Staff accounts: the owner adds, disables and resets them; actions carry the person's name.

The account functions against a real PostgreSQL, then the whole flow in Debian's chromium on a
tablet against the real mesh: the owner adds Maria, Maria confirms an order and answers the
customer under her own name, the owner resets her password (her session ends) and disables her
(she can no longer sign in).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import AsyncIterator
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

from services.orders.web.dashboard import accounts, auth
from tests.dashboard.conftest import STAFF_EMAIL, screenshot, sign_in
from tests.e2e.harness import Mesh

PASSWORD = "a long enough password"


@pytest.fixture
async def conn(database_url: str) -> AsyncIterator[Any]:
    async with await psycopg.AsyncConnection.connect(
        database_url, row_factory=dict_row, autocommit=True
    ) as c:
        yield c


async def owner(conn: Any) -> auth.Staff:
    user_id = await auth.create_user(conn, "owner@example.com", PASSWORD, "Olga", auth.OWNER)
    return auth.Staff(user_id, "owner@example.com", "Olga", "csrf", "hash", auth.OWNER)


async def test_adding_an_account_checks_what_it_is_given(conn: Any) -> None:
    await owner(conn)
    user_id = await accounts.add_account(
        conn, name="  Maria  Lopez ", email="maria@example.com", password=PASSWORD
    )
    listed = {a.email: a for a in await accounts.list_accounts(conn)}
    assert listed["maria@example.com"].name == "Maria Lopez" and listed["maria@example.com"].role == "staff"
    assert listed["maria@example.com"].id == user_id and listed["owner@example.com"].role == "owner"
    for name, email, password, why in [
        ("", "x@example.com", PASSWORD, "name"),
        ("X", "not an email", PASSWORD, "email"),
        ("X", "x@example.com", "short", "at least 12"),
        ("X", "MARIA@example.com", PASSWORD, "already exists"),
    ]:
        with pytest.raises(accounts.AccountError, match=why):
            await accounts.add_account(conn, name=name, email=email, password=password)
    assert len(await accounts.list_accounts(conn)) == 2  # nothing refused was written


async def test_disabling_and_resetting_end_the_accounts_sessions(conn: Any) -> None:
    boss = await owner(conn)
    maria = await accounts.add_account(conn, name="Maria", email="maria@example.com", password=PASSWORD)
    now = dt.datetime.now(dt.UTC)
    session = await auth.create_session(conn, maria, None, now)
    assert await auth.load_session(conn, session, now) is not None

    await accounts.reset_password(conn, maria, "another long password")
    assert await auth.load_session(conn, session, now) is None
    row = await (
        await conn.execute("SELECT password_hash FROM staff_users WHERE id = %s", (maria,))
    ).fetchone()
    assert await auth.verify_password(row["password_hash"], "another long password")

    session = await auth.create_session(conn, maria, None, now)
    await accounts.set_disabled(conn, boss, maria, True)
    assert await auth.load_session(conn, session, now) is None
    assert await auth.find_user(conn, "maria@example.com") is None
    await accounts.set_disabled(conn, boss, maria, False)
    assert await auth.find_user(conn, "maria@example.com") is not None

    with pytest.raises(accounts.AccountError, match="your own"):
        await accounts.set_disabled(conn, boss, boss.user_id, True)
    with pytest.raises(accounts.AccountError, match="No such account"):
        await accounts.set_disabled(conn, boss, 999_999, True)
    with pytest.raises(accounts.AccountError, match="at least"):
        await accounts.reset_password(conn, maria, "short")


async def test_an_owner_resetting_their_own_password_keeps_this_session(conn: Any) -> None:
    boss = await owner(conn)
    now = dt.datetime.now(dt.UTC)
    here = await auth.create_session(conn, boss.user_id, None, now)
    elsewhere = await auth.create_session(conn, boss.user_id, None, now)
    kept = await auth.load_session(conn, here, now)
    assert kept is not None
    await accounts.reset_password(conn, boss.user_id, "another long password", keep_session=kept.session_hash)
    assert await auth.load_session(conn, here, now) is not None
    assert await auth.load_session(conn, elsewhere, now) is None


def test_the_owner_manages_staff_and_actions_carry_their_names(browser: Any, mesh: Mesh) -> None:
    boss = sign_in(browser, mesh, viewport=(1024, 768), touch=True)
    boss.get_by_role("link", name="Staff").tap()
    email = f"maria{time.time_ns() % 10**6}@example.com"
    boss.get_by_label("Name (shown in the history)").fill("Maria")
    boss.get_by_label("Email (to sign in)").fill(email)
    boss.get_by_label("Password (at least 12 characters)").fill(PASSWORD)
    boss.get_by_role("button", name="Add account").tap()
    boss.get_by_role("status").filter(has_text="Account added").wait_for()
    row = boss.locator("tr", has_text=email)
    assert "Staff" in row.inner_text()
    assert boss.get_by_role("button", name=f"Disable {STAFF_EMAIL}").count() == 0  # not one's own
    screenshot(boss, "staff-accounts-tablet", full_page=False)

    maria = sign_in(browser, mesh, viewport=(1024, 768), touch=True, email=email, password=PASSWORD)
    maria_context = maria.context
    assert maria.get_by_role("link", name="Staff").count() == 0
    maria.goto(mesh.url("orders") + "/dashboard/staff")
    assert "Only the owner manages staff accounts." in maria.get_by_role("alert").inner_text()
    maria.goto(mesh.url("orders") + "/dashboard")
    maria.locator('#live-state[data-state="live"]').wait_for()

    who, name = f"whatsapp:+1557{time.time_ns() % 10**7:07d}", f"Noor {time.time_ns() % 10**6}"
    for line in ("1 margherita", "checkout", "pickup", "confirm"):
        before = len(mesh.sent(who))
        mesh.say(who, line, ProfileName=name)
        mesh.wait_sent(who, before + 1)
    card = maria.locator('[data-column="placed"] .ticket', has_text=name)
    number = card.get_attribute("data-number")
    card.get_by_role("button", name=f"Confirm: order {number}").tap()
    maria.locator(f'[data-column="confirmed"] #order-{number}').wait_for()
    history = mesh.admin("GET", f"/api/v1/orders/{number}").json()["history"]
    assert history[-1]["actor"] == "staff:Maria"

    maria.goto(mesh.url("orders") + f"/dashboard/orders/{number}")
    maria.get_by_role("link", name=who.removeprefix("whatsapp:")).tap()
    maria.get_by_label("Message to the customer (the bot stays quiet once you reply)").fill("Ready in 15!")
    maria.get_by_role("button", name="Send").tap()
    maria.locator(".msg.out", has_text="Ready in 15!").locator(".who", has_text="Maria").wait_for()

    # A reset ends her session at once; disabling stops her signing in.
    boss.locator("tr", has_text=email).get_by_text("Reset password…").tap()
    boss.get_by_label(f"New password for {email}").fill("a brand new password")
    boss.get_by_role("button", name="Set password").tap()
    boss.get_by_role("status").filter(has_text="Password changed").wait_for()
    # Her open page may itself notice and go to the sign-in page; a fresh tab asks plainly.
    maria.close()
    maria = maria_context.new_page()
    maria.goto(mesh.url("orders") + "/dashboard")
    maria.wait_for_url("**/login?next=/dashboard")
    boss.get_by_role("button", name=f"Disable {email}").tap()
    boss.get_by_role("status").filter(has_text="disabled").wait_for()
    maria.get_by_label("Email").fill(email)
    maria.get_by_label("Password").fill("a brand new password")
    maria.get_by_role("button", name="Sign in").click()
    assert maria.get_by_role("alert").inner_text() == "Wrong email or password."
    boss.context.close()
    maria_context.close()
