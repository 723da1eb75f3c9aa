"""SIGKILL of each service in the middle of handling, under load.

To kill a service *mid-handling* rather than between two entries, each test first makes the
work stall where it hurts (Redis held under ingress' XADD, PostgreSQL held under orders'
transaction, Twilio slow under notifier's call), kills the process there, lets the dependency
go, and starts the service again. Nothing the dead process held may be lost or doubled.
"""

from __future__ import annotations

import signal
import threading
import time

import httpx
import redis

from libs.messages import ORDERS_GROUP, Keys
from tests.e2e.harness import WEBHOOK_PATH
from tests.faults.conftest import FaultMesh, assert_guarantee


def test_ingress_killed_while_its_enqueue_is_in_flight(fault_mesh: FaultMesh) -> None:
    fm = fault_mesh
    load = fm.load(customers=6).start()
    fm.wait_sent_at_least(load, 8)
    who = "whatsapp:+15550009902"
    params = fm.mesh.message_params(who, "cart")
    answers: list[int] = []

    def post() -> None:
        try:
            answers.append(fm.mesh.post(WEBHOOK_PATH, params).status_code)
        except httpx.HTTPError:
            answers.append(0)

    fm.redis_proxy.hold()  # the enqueue script is on its way to Redis and stays there
    try:
        poster = threading.Thread(target=post)
        poster.start()
        time.sleep(0.5)
        assert fm.mesh.kill("ingress", signal.SIGKILL) == -signal.SIGKILL
        poster.join(10)
    finally:
        fm.redis_proxy.release()  # the dead process's script may still run now
    assert answers == [0]  # Twilio got no answer, so it delivers the webhook again
    fm.mesh.start("ingress")
    assert fm.mesh.post(WEBHOOK_PATH, params).status_code == 200
    fm.mesh.wait_sent(who, 1)
    posted = load.sent_count
    fm.wait_sent_at_least(load, posted + 8)
    load.stop()
    load.join()
    assert_guarantee(fm.ledger(load))
    assert len(fm.mesh.sent(who)) == 1


def test_orders_killed_between_read_and_ack(fault_mesh: FaultMesh) -> None:
    fm = fault_mesh
    keys = Keys(fm.mesh.key_prefix)
    r = redis.Redis.from_url(fm.redis_url)
    load = fm.load(customers=6).start()
    fm.wait_sent_at_least(load, 8)
    fm.pg_proxy.hold()  # transactions stall mid-way, after XREADGROUP and before XACK
    try:
        fm.mesh.wait_until(
            lambda: r.xpending(keys.inbound, ORDERS_GROUP)["pending"] >= 1, 15, "entries held by orders"
        )
        assert fm.mesh.kill("orders", signal.SIGKILL) == -signal.SIGKILL
    finally:
        fm.pg_proxy.release()  # a COMMIT the dead process sent may still land: the inbox decides
    fm.mesh.start("orders")
    # The dead consumer's entries are reclaimed after the visibility timeout and handled once.
    fm.mesh.wait_until(
        lambda: r.xpending(keys.inbound, ORDERS_GROUP)["pending"] == 0, 30, "the dead consumer's entries"
    )
    posted = load.sent_count
    fm.wait_sent_at_least(load, posted + 8)
    load.stop()
    load.join()
    assert_guarantee(fm.ledger(load))
    r.close()


def test_notifier_killed_while_twilio_holds_its_requests(fault_mesh: FaultMesh) -> None:
    """Killed after Twilio received a request, before it answered.

    Twilio creates the message; the restarted notifier takes the dead one's entries over when
    its lease expires, finds the reply recorded `sending` by a consumer that is gone, looks it
    up after the settle delay and settles it with the message found: delivered once, never
    twice. Other customers' lanes go on meanwhile, so a call of theirs may be under way at the
    kill too: looked up as well, found or sent.
    """
    fm = fault_mesh
    sandbox = fm.mesh.url("sandbox")
    start = len(httpx.get(sandbox + "/sandbox/calls", timeout=10).json())
    load = fm.load(customers=4).start()
    fm.wait_sent_at_least(load, 6)
    fm.fault("slow", 1, delay_s=2.0)

    def in_flight() -> int:
        calls = httpx.get(sandbox + "/sandbox/calls", timeout=10).json()[start:]
        return sum(1 for c in calls if c.get("fault") == "slow" and c.get("status") is None)

    fm.mesh.wait_until(lambda: in_flight() == 1, 20, "a send inside Twilio")
    assert fm.mesh.kill("notifier", signal.SIGKILL) == -signal.SIGKILL
    fm.mesh.start("notifier")
    posted = load.sent_count
    fm.wait_sent_at_least(load, posted + 8, timeout=60)
    load.stop()
    load.join()
    ledger = fm.ledger(load)
    assert_guarantee(ledger)
    assert ledger.found >= 1 and ledger.ambiguous <= ledger.found + ledger.not_found
    assert ledger.unresolved_ambiguous == 0


def test_sigterm_under_load_stops_reading_finishes_and_exits_zero(fault_mesh: FaultMesh) -> None:
    """Each service in turn: SIGTERM while customers talk; exit 0 well inside Render's 30 s."""
    fm = fault_mesh
    load = fm.load(customers=6).start()
    fm.wait_sent_at_least(load, 8)
    for name in ("ingress", "orders", "notifier"):
        started = time.monotonic()
        assert fm.mesh.kill(name, signal.SIGTERM) == 0, fm.mesh.logs()
        assert time.monotonic() - started < 25
        fm.mesh.start(name)
        posted = load.sent_count
        fm.wait_sent_at_least(load, posted + 4)
    load.stop()
    load.join()
    assert_guarantee(fm.ledger(load))
