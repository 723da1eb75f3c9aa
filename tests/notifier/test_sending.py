"""notifier against the sandbox: what is posted, what is retried, what is never sent twice."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
import redis.asyncio as aioredis

from libs.messages import Keys
from services.notifier.app import Runtime
from services.notifier.send_state import SendStates
from services.notifier.settings import NotifierSettings
from tests.notifier.conftest import BOT, pending, publish_reply, results_for, send_results, sends, wait_for
from tests.sandbox.harness import SandboxHandle

CUSTOMER = "whatsapp:+15551230001"
Start = Callable[[NotifierSettings], Awaitable[Runtime]]


async def test_reply_is_posted_with_auth_and_fields_and_acked(
    sandbox: SandboxHandle,
    make_settings: Callable[..., NotifierSettings],
    start_notifier: Start,
    redis_client: aioredis.Redis,
    keys: Keys,
) -> None:
    settings = make_settings(PUBLIC_BASE_URL="https://bot.example.com/")
    await start_notifier(settings)
    await publish_reply(redis_client, keys, "101", CUSTOMER, 1, "Menu: Margherita 9.50")

    [message] = await sandbox.wait_messages(1)
    assert message["to"] == CUSTOMER
    assert message["from"] == BOT
    assert message["body"] == "Menu: Margherita 9.50"
    assert message["status_callback"] == "https://bot.example.com/api/v1/whatsapp/status"
    assert message["sid"].startswith("SM") and len(message["sid"]) == 34

    [result] = await results_for(redis_client, keys)
    assert result == {
        "reply_id": "101",
        "outcome": "sent",
        "MessageSid": message["sid"],
        "ErrorCode": "",
        "ErrorMessage": "",
    }
    await wait_for(lambda: _zero(pending(redis_client, keys)), what="ack")
    state = await SendStates(redis_client, keys, ttl_s=86400, cursor_ttl_s=86400).get("101")
    assert (state.state, state.sid, state.attempts) == ("sent", message["sid"], 1)
    assert await redis_client.ttl(keys.send_state("101")) >= 86400
    assert len(await sandbox.calls()) == 1


async def _zero(value: Awaitable[int]) -> bool:
    return await value == 0


async def test_template_reply_sends_content_sid_and_variables(
    sandbox: SandboxHandle,
    make_settings: Callable[..., NotifierSettings],
    start_notifier: Start,
    redis_client: aioredis.Redis,
    keys: Keys,
) -> None:
    await start_notifier(make_settings())
    await publish_reply(
        redis_client, keys, "7", CUSTOMER, 1, ContentSid="HX" + "a" * 32, ContentVariables='{"1":"42"}'
    )
    [message] = await sandbox.wait_messages(1)
    assert (message["content_sid"], message["content_variables"], message["body"]) == (
        "HX" + "a" * 32,
        '{"1":"42"}',
        None,
    )
    assert message["status_callback"] is None  # no PUBLIC_BASE_URL, no StatusCallback


async def test_429_is_retried_then_sent_once(
    sandbox: SandboxHandle,
    make_settings: Callable[..., NotifierSettings],
    start_notifier: Start,
    redis_client: aioredis.Redis,
    keys: Keys,
) -> None:
    await sandbox.fault("status_429", count=2)
    retries_before = sends("retry", "20429")
    await start_notifier(make_settings())
    await publish_reply(redis_client, keys, "1", CUSTOMER, 1, "hello")

    [result] = await results_for(redis_client, keys)
    assert result["outcome"] == "sent"
    calls = await sandbox.calls()
    assert [c["status"] for c in calls] == [429, 429, 201]
    assert len(await sandbox.messages()) == 1
    assert sends("retry", "20429") - retries_before == 2
    assert await sandbox.reads() == []  # a 429 proves nothing was created: no look-up


async def test_retry_after_is_honoured(
    sandbox: SandboxHandle,
    make_settings: Callable[..., NotifierSettings],
    start_notifier: Start,
    redis_client: aioredis.Redis,
    keys: Keys,
) -> None:
    await sandbox.fault("status_429", count=1, retry_after=1)
    await start_notifier(make_settings())
    await publish_reply(redis_client, keys, "1", CUSTOMER, 1, "hello")

    await results_for(redis_client, keys)
    first, second = await sandbox.calls()
    assert first["status"] == 429 and second["status"] == 201
    # The backoff alone would be under 0.02 s here; Retry-After asked for 1 s.
    assert second["at"] - first["at"] >= 0.95


@pytest.mark.parametrize("asked", [1e9, "inf"])
async def test_a_retry_after_of_years_is_capped_not_obeyed(
    sandbox: SandboxHandle,
    make_settings: Callable[..., NotifierSettings],
    start_notifier: Start,
    redis_client: aioredis.Redis,
    keys: Keys,
    asked: float | str,
) -> None:
    # A 429 whose Retry-After says "a billion seconds" (or "inf") must not stop every send.
    await sandbox.fault("status_429", count=1, retry_after=asked)
    await start_notifier(make_settings(TWILIO_MAX_RETRY_AFTER_SECONDS="1"))
    await publish_reply(redis_client, keys, "1", CUSTOMER, 1, "hello")

    [result] = await results_for(redis_client, keys)
    assert result["outcome"] == "sent"
    first, second = await sandbox.calls()
    assert first["status"] == 429 and second["status"] == 201
    assert 0.95 <= second["at"] - first["at"] < 5


async def test_21211_is_final_not_retried_and_recorded(
    sandbox: SandboxHandle,
    make_settings: Callable[..., NotifierSettings],
    start_notifier: Start,
    redis_client: aioredis.Redis,
    keys: Keys,
) -> None:
    await sandbox.fault("code_21211", count=5)
    await start_notifier(make_settings())
    await publish_reply(redis_client, keys, "9", "whatsapp:+1555000123", 1, "hello")

    [result] = await results_for(redis_client, keys)
    assert result["outcome"] == "failed"
    assert result["ErrorCode"] == "21211"
    assert "not a valid phone number" in result["ErrorMessage"]
    await wait_for(lambda: _zero(pending(redis_client, keys)), what="ack")
    assert len(await sandbox.calls()) == 1
    assert await sandbox.messages() == []
    state = await SendStates(redis_client, keys, ttl_s=86400, cursor_ttl_s=86400).get("9")
    assert (state.state, state.error_code) == ("failed", "21211")


async def test_daily_cap_63038_backs_off_for_long_then_sends(
    sandbox: SandboxHandle,
    make_settings: Callable[..., NotifierSettings],
    start_notifier: Start,
    redis_client: aioredis.Redis,
    keys: Keys,
) -> None:
    await sandbox.fault("code_63038", count=1)
    await start_notifier(make_settings(TWILIO_DAILY_CAP_BACKOFF_SECONDS="1.5"))
    await publish_reply(redis_client, keys, "1", CUSTOMER, 1, "hello")

    async def paused() -> bool:
        return await redis_client.hexists(keys.token_bucket(BOT), "paused_until")

    await wait_for(paused, what="the sender's pause")
    [result] = await results_for(redis_client, keys)
    assert result["outcome"] == "sent"
    calls = await sandbox.calls()
    # One refused call, then nothing until the pause ended: no spinning against the cap.
    assert [c["code"] for c in calls] == [63038, None]
    assert calls[1]["at"] - calls[0]["at"] >= 1.4
    assert len(await sandbox.messages()) == 1


async def test_redelivered_sent_reply_sends_nothing_and_reports_again(
    sandbox: SandboxHandle,
    make_settings: Callable[..., NotifierSettings],
    start_notifier: Start,
    redis_client: aioredis.Redis,
    keys: Keys,
) -> None:
    await start_notifier(make_settings())
    await publish_reply(redis_client, keys, "5", CUSTOMER, 1, "hello")
    [first] = await results_for(redis_client, keys)
    # The relay publishes the same outbox row again (it crashed before marking it published).
    await publish_reply(redis_client, keys, "5", CUSTOMER, 1, "hello")

    first, second = await results_for(redis_client, keys, 2)
    assert first == second
    assert len(await sandbox.calls()) == 1
    await wait_for(lambda: _zero(pending(redis_client, keys)), what="ack")


async def test_connect_failure_is_retried_because_nothing_was_sent(
    sandbox: SandboxHandle,
    make_settings: Callable[..., NotifierSettings],
    start_notifier: Start,
    redis_client: aioredis.Redis,
    keys: Keys,
) -> None:
    from tests.conftest import free_port

    settings = make_settings(TWILIO_API_BASE_URL=f"http://127.0.0.1:{free_port()}", TWILIO_MAX_ATTEMPTS="2")
    runtime = await start_notifier(settings)
    await publish_reply(redis_client, keys, "8", CUSTOMER, 1, "hello")
    states = SendStates(redis_client, keys, ttl_s=86400, cursor_ttl_s=86400)

    async def refused_twice() -> bool:
        # Read between two attempts: during one, `safe` is 0 until the refusal is recorded.
        state = await states.get("8")
        return state.attempts >= 2 and state.safe

    await wait_for(refused_twice, what="two refused connections")
    state = await states.get("8")
    assert state.state == "sending"  # provably not sent (safe): a later try is allowed
    assert await send_results(redis_client, keys) == []
    assert not runtime.task or not runtime.task.done()


async def test_twilio_region_and_edge_do_not_change_where_replies_go(
    monkeypatch: pytest.MonkeyPatch,
    sandbox: SandboxHandle,
    make_settings: Callable[..., NotifierSettings],
    start_notifier: Start,
    redis_client: aioredis.Redis,
    keys: Keys,
) -> None:
    monkeypatch.setenv("TWILIO_REGION", "ie1")
    monkeypatch.setenv("TWILIO_EDGE", "dublin")
    settings = make_settings(TWILIO_REGION="ie1", TWILIO_EDGE="dublin")
    assert settings.messages_url == f"{sandbox.url}/2010-04-01/Accounts/{settings.account_sid}/Messages.json"
    default = make_settings(TWILIO_API_BASE_URL="", TWILIO_REGION="au1", TWILIO_EDGE="sydney")
    assert default.messages_url.startswith("https://api.twilio.com/2010-04-01/Accounts/")
    await start_notifier(settings)
    await publish_reply(redis_client, keys, "1", CUSTOMER, 1, "hello")
    await sandbox.wait_messages(1)


async def test_stop_finishes_the_call_in_flight_and_acks_it(
    sandbox: SandboxHandle,
    make_settings: Callable[..., NotifierSettings],
    redis_client: aioredis.Redis,
    keys: Keys,
) -> None:
    await sandbox.fault("slow", count=1, delay_s=1.0)
    runtime = Runtime.build(make_settings())
    runtime.start()
    try:
        await publish_reply(redis_client, keys, "1", CUSTOMER, 1, "in flight")

        async def call_started() -> bool:
            return len(await sandbox.calls()) == 1

        await wait_for(call_started, what="the call")
    finally:
        await runtime.stop()  # what SIGTERM does, through the lifespan
    assert [m["body"] for m in await sandbox.messages()] == ["in flight"]
    [result] = await send_results(redis_client, keys)
    assert result["outcome"] == "sent"
    assert await pending(redis_client, keys) == 0
