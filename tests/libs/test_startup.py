"""Start-up waits for dependencies: bounded attempts, each logged, never a crash."""

from __future__ import annotations

import logging

import pytest

from libs.health import wait_until_ready


async def test_waits_until_every_check_passes(caplog: pytest.LogCaptureFixture) -> None:
    calls = 0

    async def flaky() -> str:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise ConnectionError("refused")
        return "ok"

    async def fine() -> str:
        return "ok"

    with caplog.at_level(logging.INFO, logger="libs.health"):
        assert await wait_until_ready({"redis": flaky, "postgresql": fine}, service="t") is True
    assert calls == 3
    waits = [r for r in caplog.records if r.getMessage() == "waiting for dependencies"]
    assert len(waits) == 2
    assert "redis" in waits[0].problems  # type: ignore[attr-defined]
    assert "postgresql" not in waits[0].problems  # type: ignore[attr-defined]


async def test_gives_up_after_the_bound_and_reports_it(caplog: pytest.LogCaptureFixture) -> None:
    async def down() -> str:
        raise ConnectionError("refused")

    with caplog.at_level(logging.INFO, logger="libs.health"):
        assert await wait_until_ready({"redis": down}, service="t", attempts=3) is False
    messages = [r.getMessage() for r in caplog.records]
    assert messages.count("waiting for dependencies") == 2
    assert messages[-1] == "dependencies still unreachable; starting anyway, not ready"


async def test_gives_up_with_one_plain_line_a_newcomer_can_act_on(capsys: pytest.CaptureFixture[str]) -> None:
    async def down() -> str:
        raise TypeError("unexpected keyword argument 'socket_keepalive'")

    async def fine() -> str:
        return "ok"

    assert await wait_until_ready({"redis": down, "postgresql": fine}, service="orders", attempts=2) is False
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert lines == [
        "orders: cannot reach redis (check REDIS_URL): TypeError: unexpected keyword argument "
        "'socket_keepalive'; /ready answers 503 and orders keeps retrying"
    ]


async def test_a_consumer_stopped_during_the_start_up_wait_never_reads(redis_client: object) -> None:
    import asyncio

    from libs.streams import StreamConsumer

    async def never_ready() -> bool:
        await asyncio.sleep(60)
        return False

    async def handler(entry: object, envelope: object) -> None:
        raise AssertionError("nothing may be handled")

    consumer = StreamConsumer(
        redis=redis_client,  # type: ignore[arg-type]
        stream="unused:stream",
        group="g",
        consumer="c",
        handler=handler,  # type: ignore[arg-type]
        dead_letter_stream="unused:stream:dead",
    )
    task = asyncio.create_task(consumer.run_after(never_ready))
    await asyncio.sleep(0.1)
    consumer.stop()
    await asyncio.wait_for(task, 2)  # returns promptly, without waiting out the start-up wait
    assert not consumer.healthy
