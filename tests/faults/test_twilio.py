"""Twilio answering 429, 500, slowly, or dropping the connection after taking the request.

Refusals (429, 500) prove nothing was sent, so notifier retries them and each reply arrives once.
A slow answer past the read timeout and a dropped connection prove nothing either way: the
message may exist. notifier records those `ambiguous` and never sends them again, so they
arrive once (the sandbox did create them) and are counted as the named window.
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
    assert ledger.webhooks_accepted == 36 and ledger.replies_delivered == 36 and ledger.window == 0
    assert len(calls(fault_mesh)) - before == 36  # exactly one Messages API call per reply


@pytest.mark.parametrize(
    ("mode", "extra"),
    [
        ("status_429", {"retry_after": 0.2}),
        ("status_500", {}),
        ("slow", {"delay_s": 1.0}),  # slower than usual, faster than the read timeout (3 s)
    ],
    ids=["429", "500", "slow"],
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
    assert ledger.replies_delivered == 12 and ledger.window == 0
    faulted = [c for c in calls(fm)[before:] if c.get("fault") == mode]
    assert len(faulted) == 3 and len(calls(fm)) - before == 12 + (3 if mode != "slow" else 0)


@pytest.mark.parametrize(
    ("mode", "extra"),
    [("drop_after_receive", {}), ("slow", {"delay_s": 4.0})],  # 4 s > the 3 s read timeout
    ids=["dropped-connection", "slower-than-read-timeout"],
)
def test_unknown_outcomes_are_never_resent_and_counted(
    fault_mesh: FaultMesh, mode: str, extra: dict[str, float]
) -> None:
    fm = fault_mesh
    before = len(calls(fm))
    fm.fault(mode, 3, **extra)
    load = fm.load(customers=4, messages_each=3).start()
    load.join(90)
    ledger = fm.ledger(load)
    assert fm.fault_left() == 0
    assert_guarantee(ledger)
    # The window: three sends whose outcome notifier never learned; Twilio had created all three,
    # and none was sent a second time.
    assert (ledger.window, ledger.window_delivered, ledger.window_lost) == (3, 3, 0)
    assert ledger.replies_delivered == 12
    assert len(calls(fm)) - before == 12
