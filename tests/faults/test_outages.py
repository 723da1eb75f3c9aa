"""Redis and PostgreSQL cut, down, or hung under load: 503s meanwhile, recovery by itself, and
every accepted webhook handled once with every reply sent once."""

from __future__ import annotations

import time

import redis

from libs.messages import ORDERS_GROUP, Keys
from tests.e2e.harness import WEBHOOK_PATH
from tests.faults.conftest import FaultMesh, assert_guarantee


def test_redis_connections_cut_then_refused_then_restored(fault_mesh: FaultMesh) -> None:
    fm = fault_mesh
    load = fm.load(customers=6).start()
    fm.wait_sent_at_least(load, 8)
    cut = fm.redis_proxy.cut()  # every service loses its connections at once
    assert cut >= 3
    time.sleep(0.5)
    fm.redis_proxy.down()  # and now Redis is gone
    fm.mesh.wait_until(lambda: fm.ready("ingress") == 503, 10, "ingress /ready 503")
    fm.mesh.wait_until(lambda: fm.ready("orders") == 503, 10, "orders /ready 503")
    fm.mesh.wait_until(lambda: fm.ready("notifier") == 503, 10, "notifier /ready 503")
    # A webhook now gets 503 (Twilio then tries the fallback URL, or again later) ...
    who = "whatsapp:+15550009901"
    params = fm.mesh.message_params(who, "cart")
    assert fm.mesh.post(WEBHOOK_PATH, params).status_code == 503
    posted = load.sent_count
    time.sleep(2)
    fm.redis_proxy.up()
    for name in ("ingress", "orders", "notifier"):
        fm.mesh.wait_ready(name, timeout=20)
    # ... and once Redis is back, the same webhook is taken and answered once.
    assert fm.mesh.post(WEBHOOK_PATH, params).status_code == 200
    fm.mesh.wait_sent(who, 1)
    fm.wait_sent_at_least(load, posted + 8)
    load.stop()
    load.join()
    assert_guarantee(fm.ledger(load))
    assert len(fm.mesh.sent(who)) == 1
    assert all(p.poll() is None for p in fm.mesh.procs.values()), "a service crashed"


def test_redis_hung_then_released(fault_mesh: FaultMesh) -> None:
    """Redis accepts but stops answering (a hung server): timeouts, 503s, no crash, recovery."""
    fm = fault_mesh
    load = fm.load(customers=6).start()
    fm.wait_sent_at_least(load, 8)
    fm.redis_proxy.hold()
    try:
        started = time.monotonic()
        fm.mesh.wait_until(lambda: fm.ready("ingress") == 503, 10, "ingress /ready 503")
        assert time.monotonic() - started < 5  # bounded by the Redis timeout, not by TCP's
        time.sleep(2)
    finally:
        fm.redis_proxy.release()
    for name in ("ingress", "orders", "notifier"):
        fm.mesh.wait_ready(name, timeout=20)
    posted = load.sent_count
    fm.wait_sent_at_least(load, posted + 8)
    load.stop()
    load.join()
    assert_guarantee(fm.ledger(load))
    assert all(p.poll() is None for p in fm.mesh.procs.values()), "a service crashed"


def test_postgres_down_entries_wait_in_the_stream_then_resume(fault_mesh: FaultMesh) -> None:
    fm = fault_mesh
    keys = Keys(fm.mesh.key_prefix)
    r = redis.Redis.from_url(fm.redis_url)
    load = fm.load(customers=6).start()
    fm.wait_sent_at_least(load, 8)
    fm.pg_proxy.down()
    try:
        fm.mesh.wait_until(lambda: fm.ready("orders") == 503, 10, "orders /ready 503")
        assert fm.ready("ingress") == 200  # webhooks are still taken
        # New webhooks are accepted while orders cannot handle them: they wait in the stream.
        fm.mesh.wait_until(
            lambda: _waiting(r, keys) >= 3,
            15,
            "entries waiting in the inbound stream while PostgreSQL is down",
        )
        time.sleep(3)  # longer than the pool timeout and several consumer pauses
    finally:
        fm.pg_proxy.up()
    fm.mesh.wait_ready("orders", timeout=20)
    fm.mesh.wait_until(lambda: _waiting(r, keys) == 0, 30, "the stream drained")
    posted = load.sent_count
    fm.wait_sent_at_least(load, posted + 8)
    load.stop()
    load.join()
    assert_guarantee(fm.ledger(load))  # includes: nothing dead-lettered
    r.close()


def test_postgres_connections_cut_and_server_hung(fault_mesh: FaultMesh) -> None:
    """Connections reset mid-transaction, then a hung server: /ready 503, then recovery."""
    fm = fault_mesh
    load = fm.load(customers=6).start()
    fm.wait_sent_at_least(load, 8)
    for _ in range(3):
        fm.pg_proxy.cut()  # COMMITs in flight may or may not have landed: the inbox decides
        time.sleep(0.3)
    fm.pg_proxy.hold()
    try:
        fm.mesh.wait_until(lambda: fm.ready("orders") == 503, 10, "orders /ready 503 while hung")
        time.sleep(2)
    finally:
        fm.pg_proxy.release()
    fm.mesh.wait_ready("orders", timeout=30)
    posted = load.sent_count
    fm.wait_sent_at_least(load, posted + 8, timeout=40)
    load.stop()
    load.join()
    assert_guarantee(fm.ledger(load))


def _waiting(r: redis.Redis, keys: Keys) -> int:
    """Inbound entries not yet acked by orders: pending plus never delivered (lag)."""
    for row in r.xinfo_groups(keys.inbound):
        if row["name"].decode() == ORDERS_GROUP:
            return int(row["pending"]) + int(row.get("lag") or 0)
    return 0
