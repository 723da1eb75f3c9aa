"""Retrying with exponential backoff and full jitter: the delay of each attempt, a `Backoff` that
counts consecutive failures, and `retry_forever` for a call that must eventually succeed.

Full jitter (a uniform delay between 0 and the exponential bound) spreads the retries of many
replicas that failed at the same moment, so a recovering Redis or PostgreSQL is not hit by all
of them at once (https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


def backoff_delay(attempt: int, *, base: float = 0.1, cap: float = 5.0) -> float:
    """Full-jitter exponential backoff in seconds: uniform(0, min(cap, base * 2**attempt)).

    `attempt` counts from 0 (the first retry). Source:
    https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/
    """
    return random.uniform(0, min(cap, base * (2 ** min(attempt, 30))))


async def sleep_unless(stop: asyncio.Event | None, seconds: float) -> None:
    """Sleep `seconds`, or less when `stop` is set meanwhile."""
    if stop is None:
        await asyncio.sleep(seconds)
        return
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)


class Backoff:
    """Delays for consecutive failures of one loop: `base` doubling up to `cap` seconds, with full
    jitter. Call `reset()` after a success, `wait()` after each failure."""

    def __init__(self, *, base: float, cap: float) -> None:
        self.base = base
        self.cap = cap
        self.attempt = 0

    def reset(self) -> None:
        """The next failure is a first one again."""
        self.attempt = 0

    def next_delay(self) -> float:
        """The delay after one more failure, in seconds."""
        delay = backoff_delay(self.attempt, base=self.base, cap=self.cap)
        self.attempt += 1
        return delay

    async def wait(self, stop: asyncio.Event | None = None, delay: float | None = None) -> None:
        """Sleep `delay` (default: `next_delay()`), cut short when `stop` is set."""
        await sleep_unless(stop, self.next_delay() if delay is None else delay)


async def retry_forever(
    call: Callable[[], Awaitable[T]],
    *,
    retry_on: tuple[type[BaseException], ...],
    base: float,
    cap: float,
    on_retry: Callable[[BaseException, float], None] | None = None,
    stop: asyncio.Event | None = None,
    attempts: int | None = None,
) -> T | None:
    """Await `call()` until it returns, and return its result.

    A failure of a type in `retry_on` calls `on_retry(error, delay_s)` (for logging and health
    flags), then waits with `Backoff(base=base, cap=cap)`; any other exception propagates at
    once. Returns None when `stop` is set before a call succeeded. With `attempts`, the last of
    that many failures is raised instead of retried (no wait after it).
    """
    backoff = Backoff(base=base, cap=cap)
    while stop is None or not stop.is_set():
        try:
            return await call()
        except retry_on as exc:
            if attempts is not None and backoff.attempt + 1 >= attempts:
                raise
            delay = backoff.next_delay()
            if on_retry is not None:
                on_retry(exc, delay)
            await sleep_unless(stop, delay)
    return None
