"""Twilio answering 429, 5xx, slowly, or dropping the connection, before or after creating the message.

A 429 proves nothing was sent, so notifier retries it and each reply arrives once. A 5xx, a
slow answer past the read timeout and a dropped connection prove nothing either way: the
message may exist. notifier looks each up in Twilio's list after the settle delay: the ones
Twilio created are settled with their MessageSid and never sent again, the others are sent;
either way each reply arrives exactly once.
"""

from __future__ import annotations

import httpx
import pytest

from tests.faults.conftest import FaultMesh, assert_guarantee


def calls(fm: FaultMesh) -> list[dict[str, object]]:
    response = httpx.get(fm.mesh.url("sandbox") + "/sandbox/calls", timeout=10)
    return list(response.json())


def test_steady_load_without_faults(fault_mesh: FaultMesh) -> None:
    """The control: no fault, every webhook processed, every reply out once, one call each."""
    before = len(calls(fault_mesh))
    load = fault_mesh.load(customers=6, messages_each=6).start()
    load.join(60)
    ledger = fault_mesh.ledger(load)
    assert_guarantee(ledger)
    assert ledger.webhooks_accepted == 36 and ledger.replies_delivered == 36 and ledger.ambiguous == 0
    assert len(calls(fault_mesh)) - before == 36  # exactly one Messages API call per reply


@pytest.mark.parametrize(
    ("mode", "extra"),
    [
        ("status_429", {"retry_after": 0.2}),
        ("slow", {"delay_s": 1.0}),  # slower than usual, faster than the read timeout (3 s)
    ],
    ids=["429", "slow"],
)
def test_refused_or_slow_sends_are_retried_and_arrive_once(
    fault_mesh: FaultMesh, mode: str, extra: dict[str, float]
) -> None:
    fm = fault_mesh
    before = len(calls(fm))
    fm.fault(mode, 3, **extra)
    load = fm.load(customers=4, messages_each=3).start()
    load.join(90)
    ledger = fm.ledger(load)
    assert fm.fault_left() == 0, "the fault never fired"
    assert_guarantee(ledger)
    assert ledger.replies_delivered == 12 and ledger.ambiguous == 0
    faulted = [c for c in calls(fm)[before:] if c.get("fault") == mode]
    assert len(faulted) == 3 and len(calls(fm)) - before == 12 + (3 if mode != "slow" else 0)


@pytest.mark.parametrize(
    ("mode", "extra", "created"),
    [
        ("drop_after_create", {}, True),
        ("slow", {"delay_s": 4.0}, True),  # 4 s > the 3 s read timeout; created when it answers
        ("status_5xx_after_create", {"status": 502}, True),
        ("status_500", {}, False),
        ("drop", {}, False),
    ],
    ids=["dropped-after-create", "slower-than-read-timeout", "502-after-create", "500", "dropped"],
)
def test_unknown_outcomes_are_looked_up_and_arrive_once(
    fault_mesh: FaultMesh, mode: str, extra: dict[str, float], created: bool
) -> None:
    fm = fault_mesh
    before = len(calls(fm))
    fm.fault(mode, 3, **extra)
    load = fm.load(customers=4, messages_each=3).start()
    load.join(90)
    ledger = fm.ledger(load)
    assert fm.fault_left() == 0
    assert_guarantee(ledger)
    # Three sends whose outcome notifier could not read, each looked up: found when Twilio had
    # created it (never sent again), sent when it had not; nothing lost, nothing twice.
    assert ledger.ambiguous == 3 and ledger.unresolved_ambiguous == 0
    assert (ledger.found, ledger.not_found) == ((3, 0) if created else (0, 3))
    assert ledger.replies_delivered == 12
    assert len(calls(fm)) - before == 12 + (0 if created else 3)
