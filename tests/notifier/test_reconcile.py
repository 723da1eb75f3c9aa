"""Reconcile instead of guessing: a reply whose attempt may have reached Twilio is looked up in
Twilio's Messages list (the sandbox's) after the settle delay, before any other attempt."""

from __future__ import annotations

import asyncio

import pytest

from libs.messages import NOTIFIER_GROUP
from libs.streams import lease_key
from services.notifier.send_state import SendStates
from tests.notifier.conftest import BOT, Bench, pending, reconciliations, sends, wait_for
from tests.sandbox.harness import ACCOUNT_SID, AUTH_TOKEN, running_sandbox

CUSTOMER = "whatsapp:+15551230001"


def states(bench: Bench) -> SendStates:
    lease_prefix = lease_key(bench.keys.outbound, NOTIFIER_GROUP, "")
    return SendStates(bench.redis, bench.keys, ttl_s=86400, cursor_ttl_s=86400, lease_prefix=lease_prefix)


async def create_directly(bench: Bench, body: str) -> str:
    """A message created at Twilio by someone else's call (a process that then died)."""
    response = await bench.sandbox.http.post(
        f"{bench.sandbox.url}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json",
        data={"From": BOT, "To": CUSTOMER, "Body": body},
        auth=(ACCOUNT_SID, AUTH_TOKEN),
    )
    sid: str = response.json()["sid"]
    return sid


async def left_sending_by(bench: Bench, owner: str, *, started_long_ago: bool = True) -> None:
    """Record reply 4's attempt as `owner` did before it died (or while it still runs)."""
    begun = await states(bench).begin(
        "4", "their-attempt", me=owner, busy_window_s=60, settle_s=0.3, lookup_lease_s=5, to=CUSTOMER, seq=1
    )
    assert begun.verdict == "go"
    if started_long_ago:
        await bench.redis.hset(bench.keys.send_state("4"), "started_us", "0")


async def no_pending(bench: Bench) -> bool:
    return await pending(bench.redis, bench.keys) == 0


@pytest.mark.parametrize(
    ("mode", "extra", "code"),
    [
        ("status_5xx_after_create", {"status": 500}, "20500"),
        ("status_5xx_after_create", {"status": 502}, "20502"),
        ("status_5xx_after_create", {"status": 503}, "20503"),
        ("drop_after_create", {}, "no_answer"),
    ],
    ids=["500-after-create", "502-after-create", "503-after-create", "dropped-after-create"],
)
async def test_created_but_unanswered_is_found_and_settled_with_twilios_sid(
    mode: str, extra: dict[str, int], code: str, bench: Bench
) -> None:
    await bench.sandbox.fault(mode, **extra)
    ambiguous, found = sends("ambiguous", code), reconciliations("found")
    await bench.start()
    await bench.publish("1", CUSTOMER, 1, "hello")

    [result] = await bench.results()
    [message] = await bench.sandbox.messages()
    assert (result["outcome"], result["MessageSid"]) == ("sent", message["sid"])
    assert "Ambiguous" not in result
    assert len(await bench.sandbox.calls()) == 1  # never a second call: it was there
    [read] = await bench.sandbox.reads()
    assert read["query"]["To"] == CUSTOMER and read["query"]["From"] == BOT
    assert sends("ambiguous", code) - ambiguous == 1
    assert reconciliations("found") - found == 1
    state = await states(bench).get("1")
    assert (state.state, state.sid, state.attempts) == ("sent", message["sid"], 1)
    await wait_for(lambda: no_pending(bench), what="ack")


@pytest.mark.parametrize("mode", ["status_500", "drop"])
async def test_not_created_is_looked_up_then_sent_once(mode: str, bench: Bench) -> None:
    await bench.sandbox.fault(mode)
    not_found = reconciliations("not_found")
    await bench.start()
    await bench.publish("1", CUSTOMER, 1, "hello")

    [result] = await bench.results()
    [message] = await bench.sandbox.messages()
    assert (result["outcome"], result["MessageSid"]) == ("sent", message["sid"])
    first, second = await bench.sandbox.calls()
    assert first["fault"] == mode and second["status"] == 201
    [read] = await bench.sandbox.reads()
    assert first["at"] < read["at"] < second["at"]  # looked up between the two calls
    assert reconciliations("not_found") - not_found == 1


async def test_a_failing_look_up_is_retried_never_the_send(bench: Bench) -> None:
    await bench.sandbox.fault("drop_after_create")
    await bench.sandbox.fault("status_500", count=2, on="read")
    failed = reconciliations("lookup_failed")
    await bench.start(TWILIO_RETRY_BASE_SECONDS="0.05")
    await bench.publish("1", CUSTOMER, 1, "hello")

    [result] = await bench.results()
    [message] = await bench.sandbox.messages()
    assert (result["outcome"], result["MessageSid"]) == ("sent", message["sid"])
    assert len(await bench.sandbox.calls()) == 1
    assert [r["status"] for r in await bench.sandbox.reads()] == [500, 500, 200]
    assert reconciliations("lookup_failed") - failed == 2


async def test_sending_left_by_a_dead_process_is_found_not_resent(bench: Bench) -> None:
    """kill -9 after the call reached Twilio: the next notifier finds the message."""
    await left_sending_by(bench, "notifier-dead")
    sid = await create_directly(bench, "hello")
    unresolved = sends("ambiguous", "unresolved")
    await bench.start()
    await bench.publish("4", CUSTOMER, 1, "hello")

    [result] = await bench.results()
    assert (result["outcome"], result["MessageSid"]) == ("sent", sid)
    assert len(await bench.sandbox.messages()) == 1 and len(await bench.sandbox.calls()) == 1
    assert sends("ambiguous", "unresolved") - unresolved == 1


async def test_sending_left_by_a_dead_process_before_its_call_left_is_sent(bench: Bench) -> None:
    """kill -9 between recording `sending` and the call: the reply is not lost any more."""
    await left_sending_by(bench, "notifier-dead")
    await bench.start()
    await bench.publish("4", CUSTOMER, 1, "hello")

    [result] = await bench.results()
    [message] = await bench.sandbox.messages()
    assert (result["outcome"], result["MessageSid"], message["body"]) == ("sent", message["sid"], "hello")


async def test_an_attempt_of_a_live_owner_is_waited_for_not_looked_up(bench: Bench) -> None:
    """Another notifier, alive (its lease held), began an attempt a moment ago: nothing is read
    or sent while it lives; once its lease is gone, the reply is looked up, then sent."""
    await left_sending_by(bench, "notifier-alive", started_long_ago=False)
    await bench.redis.set(lease_key(bench.keys.outbound, NOTIFIER_GROUP, "notifier-alive"), "x", px=1500)
    await bench.start()
    await bench.publish("4", CUSTOMER, 1, "hello")
    await asyncio.sleep(1.0)
    assert await bench.sandbox.calls() == [] and await bench.sandbox.reads() == []

    [result] = await bench.results()
    assert result["outcome"] == "sent"
    [read] = await bench.sandbox.reads()
    [call] = await bench.sandbox.calls()
    assert read["at"] < call["at"]


async def test_another_replys_message_with_the_same_body_is_not_taken(bench: Bench) -> None:
    await bench.start()
    await bench.publish("1", CUSTOMER, 1, "✅ Added 1 x Coke.")
    await bench.results()
    await bench.sandbox.fault("drop")  # the second, same text, is not created
    await bench.publish("2", CUSTOMER, 2, "✅ Added 1 x Coke.")

    first, second = await bench.results(2)
    messages = await bench.sandbox.messages()
    assert len(messages) == 2
    assert [first["MessageSid"], second["MessageSid"]] == [m["sid"] for m in messages]


async def test_a_template_reply_is_found_by_its_customer_and_time(bench: Bench) -> None:
    await bench.sandbox.fault("status_5xx_after_create", status=503)
    await bench.start()
    await bench.publish("7", CUSTOMER, 1, ContentSid="HX" + "a" * 32, ContentVariables="{}")

    [result] = await bench.results()
    [message] = await bench.sandbox.messages()
    assert (result["outcome"], result["MessageSid"]) == ("sent", message["sid"])
    assert len(await bench.sandbox.calls()) == 1


@pytest.mark.parametrize(("created_after_s", "messages"), [(0.3, 1), (3.0, 2)], ids=["within", "after"])
async def test_what_remains_a_message_created_after_the_settle_delay_is_sent_twice(
    created_after_s: float, messages: int, bench: Bench
) -> None:
    """The limit of reconciliation, measured: Twilio answers nothing and creates the message
    `created_after_s` later; the settle delay is 1 s and the list lags 0.2 s."""
    async with running_sandbox(list_lag_s=0.2) as sandbox:
        await sandbox.fault("drop_then_create_late", delay_s=created_after_s)
        settle = {"TWILIO_RECONCILE_SETTLE_SECONDS": "1", "TWILIO_READ_TIMEOUT_SECONDS": "5"}
        await bench.start(TWILIO_API_BASE_URL=sandbox.url, **settle)
        await bench.publish("1", CUSTOMER, 1, "hello")
        [result] = await bench.results()
        assert result["outcome"] == "sent"
        await asyncio.sleep(max(0.0, created_after_s - 1.0) + 0.3)
        assert len(await sandbox.messages()) == messages
