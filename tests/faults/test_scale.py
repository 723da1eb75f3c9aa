"""Two replicas of every service: work shared, no entry handled twice, duplicates racing, a
replica killed while the other carries on."""

from __future__ import annotations

import signal
import time

import httpx
import redis

from libs.messages import Keys
from tests.faults.conftest import FaultMesh, assert_guarantee


def test_replicas_share_the_work_and_racing_duplicates_are_taken_once(scaled_mesh: FaultMesh) -> None:
    fm = scaled_mesh
    keys = Keys(fm.mesh.key_prefix)
    sandbox = fm.mesh.url("sandbox")
    calls_before = len(httpx.get(sandbox + "/sandbox/calls", timeout=10).json())
    # Half the webhooks arrive as three copies at once, spread over both ingress replicas.
    load = fm.load(customers=8, messages_each=8, duplicates=0.5).start()
    load.join(120)
    ledger = fm.ledger(load)
    assert_guarantee(ledger)
    assert ledger.webhooks_accepted == 64 and ledger.duplicate_posts >= 40
    assert all(set(m.statuses) == {200} for m in load.messages)  # every copy answered 200

    for service, stream in (("orders", keys.inbound), ("notifier", keys.outbound)):
        acked = {
            name: fm.metric(name, "wa_stream_entries_acked_total", stream=stream)
            for name in (service, f"{service}-2")
        }
        assert all(n > 0 for n in acked.values()), f"a {service} replica did no work: {acked}"
    # No entry handled twice: orders never met a MessageSid it had handled, and notifier made
    # exactly one Messages API call per reply.
    for name in ("orders", "orders-2"):
        assert fm.metric(name, "wa_inbound_messages_total", outcome="duplicate") == 0
    calls = len(httpx.get(sandbox + "/sandbox/calls", timeout=10).json()) - calls_before
    assert calls == ledger.replies_delivered == 64

    # Both streams stay bounded: the consumers trim (XTRIM MINID) below what their group still
    # needs, so once everything is acked the streams empty out; the dedupe keys expire (>= 24 h).
    r = redis.Redis.from_url(fm.redis_url)
    fm.mesh.wait_until(
        lambda: r.xlen(keys.inbound) <= 5 and r.xlen(keys.outbound) <= 5, 20, "both streams trimmed"
    )
    dedupe_ttl = r.ttl(keys.dedupe(load.messages[0].sid))
    assert 24 * 3600 <= dedupe_ttl <= 48 * 3600
    r.close()


def test_a_replica_killed_mid_load_leaves_its_work_to_the_other(scaled_mesh: FaultMesh) -> None:
    fm = scaled_mesh
    load = fm.load(customers=8).start()
    fm.wait_sent_at_least(load, 16)
    assert fm.mesh.kill("orders-2", signal.SIGKILL) == -signal.SIGKILL
    assert fm.mesh.kill("notifier-2", signal.SIGKILL) == -signal.SIGKILL
    posted = load.sent_count
    fm.wait_sent_at_least(load, posted + 12, timeout=60)  # the survivors carry the load
    fm.mesh.start("orders-2", "notifier-2")
    time.sleep(1)
    load.stop()
    load.join()
    assert_guarantee(fm.ledger(load))
