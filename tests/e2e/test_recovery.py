"""kill -9 of orders and notifier in the middle of a burst, with production's timeouts: every
reply arrives, once, within 15 s of the restart (not after the 60 s visibility timeout)."""

from __future__ import annotations

import signal
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.conftest import migrated_database, redis_namespace
from tests.e2e.harness import WEBHOOK_PATH, Mesh, sign

CUSTOMERS = [f"whatsapp:+1555777{i:04d}" for i in range(10)]
SCRIPT = ["1 coke", "1 coke", "cart", "1 coke", "cart"]
WITHIN_S = 15.0


@pytest.fixture
def mesh(pg_template: str, redis_url: str, tmp_path: Path) -> Iterator[Mesh]:
    """The mesh with production's stream timeouts (60 s visibility, 6 s consumer leases) and
    reconciliation settle delay (5 s); only the harness' faster orders reclaim is undone."""
    with migrated_database(pg_template) as db, redis_namespace(redis_url) as prefix:
        production = {"orders": {"STREAM_VISIBILITY_TIMEOUT_MS": "60000"}}
        with Mesh(db, redis_url, prefix, tmp_path, service_env=production) as m:
            m.run_cli("load-menu", "--demo")
            m.start()
            yield m


def burst(mesh: Mesh, accepted: list[str]) -> None:
    """Each customer's five messages, one round after another, as fast as ingress takes them;
    a webhook that gets no 200 is posted again, as Twilio does."""
    url = mesh.url("ingress") + WEBHOOK_PATH
    with httpx.Client(timeout=10) as http:
        for line in SCRIPT:
            for who in CUSTOMERS:
                params = mesh.message_params(who, line)
                headers = {"X-Twilio-Signature": sign(url, params)}
                while True:
                    try:
                        if http.post(url, data=params, headers=headers).status_code == 200:
                            break
                    except httpx.HTTPError:
                        pass
                    time.sleep(0.1)
                accepted.append(params["MessageSid"])
                time.sleep(0.02)


def replies(mesh: Mesh) -> dict[str, list[str]]:
    """What orders decided to send each customer, in order."""
    with psycopg.connect(mesh.database_url) as conn:
        rows = conn.execute(
            "SELECT to_address, body FROM outbox WHERE to_address = ANY(%s) AND status <> 'not_sent'"
            " ORDER BY to_address, seq",
            (CUSTOMERS,),
        ).fetchall()
    decided: dict[str, list[str]] = {who: [] for who in CUSTOMERS}
    for who, body in rows:
        decided[who].append(body)
    return decided


def handled(mesh: Mesh, sids: list[str]) -> int:
    with psycopg.connect(mesh.database_url) as conn:
        row = conn.execute("SELECT count(*) FROM inbox WHERE message_sid = ANY(%s)", (sids,)).fetchone()
    return int(row[0]) if row else 0


def delivered(mesh: Mesh) -> dict[str, list[str]]:
    got: dict[str, list[str]] = {who: [] for who in CUSTOMERS}
    for message in mesh.sent():
        if message["to"] in got:
            got[message["to"]].append(message.get("body") or "")
    return got


def test_every_reply_arrives_once_within_15_s_of_restarting_after_kill_9(mesh: Mesh) -> None:
    # Twilio answers slowly for a while, so notifier has calls inside Twilio when it dies.
    mesh.http.post(mesh.url("sandbox") + "/sandbox/faults", json={"mode": "slow", "count": 4, "delay_s": 3})
    accepted: list[str] = []
    poster = threading.Thread(target=burst, args=(mesh, accepted))
    poster.start()
    mesh.wait_until(lambda: len(accepted) >= 20, 30, "twenty webhooks accepted")

    def in_twilio() -> bool:
        calls = mesh.http.get(mesh.url("sandbox") + "/sandbox/calls").json()
        return any(c.get("fault") == "slow" and c.get("status") is None for c in calls)

    mesh.wait_until(in_twilio, 20, "a reply inside Twilio")
    assert mesh.kill("orders", signal.SIGKILL) == -signal.SIGKILL
    assert mesh.kill("notifier", signal.SIGKILL) == -signal.SIGKILL
    restarted = time.monotonic()
    mesh.start("orders", "notifier")
    poster.join(60)
    assert len(accepted) == len(CUSTOMERS) * len(SCRIPT)

    def all_replied() -> bool:
        if handled(mesh, accepted) < len(accepted):
            return False
        decided, got = replies(mesh), delivered(mesh)
        return all(len(got[who]) >= len(decided[who]) for who in CUSTOMERS)

    mesh.wait_until(all_replied, max(0.1, restarted + WITHIN_S - time.monotonic()), "every reply")
    time.sleep(2.0)  # a reply sent twice would show up by now
    decided, got = replies(mesh), delivered(mesh)
    for who in CUSTOMERS:
        assert Counter(got[who]) == Counter(decided[who]), who  # none lost, none twice
    assert handled(mesh, accepted) == len(accepted)
