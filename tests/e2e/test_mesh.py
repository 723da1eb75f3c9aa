"""The whole path on real processes: signed webhook in, the right reply out, exactly once."""

from __future__ import annotations

import signal
import time

import psycopg
import redis

from libs.messages import ORDERS_GROUP, Keys
from tests.e2e.harness import WEBHOOK_PATH, Mesh, new_sid


def customer() -> str:
    """A customer address of this test's own (the mesh is shared by the module)."""
    return f"whatsapp:+1555{time.time_ns() % 10**7:07d}"


def test_menu_lists_margherita_at_9_50(mesh: Mesh) -> None:
    (reply,) = mesh.converse(customer(), ["menu"])
    assert "Margherita" in reply
    assert "9.50" in reply


def test_two_margherita_gives_subtotal_19_00(mesh: Mesh) -> None:
    who = customer()
    add, cart = mesh.converse(who, ["2 margherita", "cart"])
    assert "19.00" in add
    assert "Margherita" in cart and "19.00" in cart
    with psycopg.connect(mesh.database_url) as conn:
        row = conn.execute(
            "SELECT l.quantity, l.unit_price_cents FROM cart_lines l JOIN customers c"
            " ON c.id = l.customer_id WHERE c.address = %s",
            (who,),
        ).fetchone()
    assert row == (2, 950)


def test_webhook_delivered_twice_gets_one_reply(mesh: Mesh) -> None:
    who = customer()
    params = mesh.message_params(who, "menu", MessageSid=new_sid())
    first = mesh.post(WEBHOOK_PATH, params)
    second = mesh.post(WEBHOOK_PATH, params)
    assert (first.status_code, second.status_code) == (200, 200)
    assert "<Response" in first.text and first.headers["content-type"].startswith("text/xml")
    mesh.wait_sent(who, 1)
    time.sleep(1.5)  # long enough for a second reply to show up if one were coming
    assert len(mesh.sent(who)) == 1


def test_forged_signature_gets_403_and_no_reply(mesh: Mesh) -> None:
    who = customer()
    params = mesh.message_params(who, "menu")
    response = mesh.post(WEBHOOK_PATH, params, signature="bm90IGEgc2lnbmF0dXJl")
    assert response.status_code == 403
    missing = mesh.http.post(mesh.url("ingress") + WEBHOOK_PATH, data=params)
    assert missing.status_code == 403
    time.sleep(1.5)
    assert mesh.sent(who) == []
    with psycopg.connect(mesh.database_url) as conn:
        assert conn.execute(
            "SELECT count(*) FROM inbox WHERE message_sid = %s", (params["MessageSid"],)
        ).fetchone() == (0,)


def test_orders_killed_before_ack_processes_once_after_restart(mesh: Mesh) -> None:
    """SIGKILL orders while it holds an entry (read, not acked): one effect, one reply."""
    who = customer()
    mesh.converse(who, ["menu"])  # the customer row now exists
    keys = Keys(mesh.key_prefix)
    r = redis.Redis.from_url(mesh.redis_url)
    with psycopg.connect(mesh.database_url) as blocker:
        # Hold the customer's row so orders blocks mid-handling, after XREADGROUP, before XACK.
        blocker.execute("SELECT 1 FROM customers WHERE address = %s FOR UPDATE", (who,))
        mesh.say(who, "2 margherita")
        mesh.wait_until(
            lambda: r.xpending(keys.inbound, ORDERS_GROUP)["pending"] >= 1, 10, "entry pending in orders"
        )
        assert mesh.kill("orders", signal.SIGKILL) == -signal.SIGKILL
        blocker.rollback()
    mesh.start("orders")
    replies = mesh.wait_sent(who, 2, timeout=30)
    time.sleep(1.5)
    replies = mesh.sent(who)
    assert len(replies) == 2, [m.get("body") for m in replies]
    assert "19.00" in (replies[1].get("body") or "")
    with psycopg.connect(mesh.database_url) as conn:
        (quantity,) = conn.execute(
            "SELECT sum(l.quantity) FROM cart_lines l JOIN customers c ON c.id = l.customer_id"
            " WHERE c.address = %s",
            (who,),
        ).fetchone() or (None,)
    assert quantity == 2
    assert r.xpending(keys.inbound, ORDERS_GROUP)["pending"] == 0
    r.close()


def test_sigterm_exits_zero(mesh: Mesh) -> None:
    """Every service drains and exits 0 on SIGTERM; then they start again for later tests."""
    for name in ("ingress", "orders", "notifier"):
        assert mesh.kill(name, signal.SIGTERM) == 0, mesh.logs()
    mesh.start("ingress", "orders", "notifier")
