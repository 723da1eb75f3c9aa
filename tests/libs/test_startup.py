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
