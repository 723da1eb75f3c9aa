"""`/health`, `/ready` and `/metrics`, the same on every service.

- `GET /health`: liveness. Touches no dependency; 503 when a background task the service
  needs (its consumer, its relay) has died, so the platform restarts it.
- `GET /ready`: readiness. JSON `{"status": "ok"|"unavailable", "checks": {name: {"ok": bool,
  "detail": str}}}`; 503 while any check fails. Each check is bounded by `CHECK_TIMEOUT_S`.
- `GET /metrics`: Prometheus text format; with METRICS_TOKEN set, only for
  `Authorization: Bearer <METRICS_TOKEN>` (401 otherwise).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import random
import sys
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from libs import metrics

CHECK_TIMEOUT_S = 2.0
log = logging.getLogger("libs.health")

ReadinessCheck = Callable[[], Awaitable[str]]
LivenessCheck = Callable[[], str | None]


@dataclass
class Probes:
    """What a service reports about itself.

    `readiness`: name -> async check that returns a short detail and raises when the
    dependency is not usable. `liveness`: name -> sync check that returns None when fine, or
    a reason the process must be restarted.
    """

    readiness: dict[str, ReadinessCheck] = field(default_factory=dict)
    liveness: dict[str, LivenessCheck] = field(default_factory=dict)


def task_liveness(get_task: Callable[[], asyncio.Task[None] | None]) -> LivenessCheck:
    """A liveness check that fails once the task returned by `get_task()` has ended."""

    def check() -> str | None:
        task = get_task()
        if task is None:
            return None
        if task.done():
            exc = None if task.cancelled() else task.exception()
            return f"task ended: {exc!r}" if exc else "task ended"
        return None

    return check


async def _run_check(check: ReadinessCheck) -> tuple[bool, str]:
    try:
        return True, await asyncio.wait_for(check(), CHECK_TIMEOUT_S)
    except TimeoutError:
        return False, f"timed out after {CHECK_TIMEOUT_S:g}s"
    except Exception as exc:
        return False, f"{type(exc).__name__}: {exc}"[:300]


STARTUP_ATTEMPTS = 6
# The setting that points a service at each dependency, named in the start-up failure line.
_SETTING_OF = {"redis": "REDIS_URL", "postgresql": "DATABASE_URL"}


async def wait_until_ready(
    checks: Mapping[str, ReadinessCheck], *, service: str, attempts: int = STARTUP_ATTEMPTS
) -> bool:
    """Run the readiness `checks` at start-up until all pass, at most `attempts` times.

    Attempts are spaced exponentially (0.25 s doubling to 8 s, plus jitter: about 16 s in all)
    and each is logged. Returns False, after an error line, when a dependency is still down:
    the service then starts anyway (one plain line per dependency on stderr names it, its
    setting and the error), `/ready` says 503 and its background tasks keep retrying,
    so a late database or Redis never makes the process crash-loop.
    """
    for attempt in range(1, attempts + 1):
        results = await asyncio.gather(*(_run_check(c) for c in checks.values()))
        problems = {name: detail for name, (ok, detail) in zip(checks, results, strict=True) if not ok}
        if not problems:
            log.info("dependencies reachable", extra={"service": service, "attempt": attempt})
            return True
        if attempt == attempts:
            break
        delay = min(8.0, 0.25 * 2 ** (attempt - 1)) + random.uniform(0, 0.25)
        log.warning(
            "waiting for dependencies",
            extra={"attempt": attempt, "problems": problems, "retry_in_s": round(delay, 2)},
        )
        await asyncio.sleep(delay)
    log.error("dependencies still unreachable; starting anyway, not ready", extra={"service": service})
    # JSON logs are for machines; whoever runs `make run` needs one sentence they can act on.
    for name, detail in problems.items():
        setting = _SETTING_OF.get(name)
        where = f" (check {setting})" if setting else ""
        print(
            f"{service}: cannot reach {name}{where}: {detail}; "
            f"/ready answers 503 and {service} keeps retrying",
            file=sys.stderr,
            flush=True,
        )
    return False


def _json(body: Mapping[str, object], status: int) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


def routes(get_probes: Callable[[Request], Probes], metrics_token: str | None) -> list[Route]:
    """Starlette routes for the three endpoints; `get_probes` finds the probes of the app."""

    async def health(request: Request) -> Response:
        failures = {
            name: reason
            for name, check in get_probes(request).liveness.items()
            if (reason := check()) is not None
        }
        if failures:
            return _json({"status": "failing", "failures": failures}, 503)
        return _json({"status": "ok"}, 200)

    async def ready(request: Request) -> Response:
        probes = get_probes(request).readiness
        results = await asyncio.gather(*(_run_check(c) for c in probes.values()))
        checks = {
            name: {"ok": ok, "detail": detail} for name, (ok, detail) in zip(probes, results, strict=True)
        }
        ok = all(ok for ok, _ in results)
        return _json({"status": "ok" if ok else "unavailable", "checks": checks}, 200 if ok else 503)

    async def metrics_endpoint(request: Request) -> Response:
        if metrics_token is not None:
            given = request.headers.get("authorization", "")
            if not hmac.compare_digest(given.encode(), f"Bearer {metrics_token}".encode()):
                return Response("unauthorized\n", status_code=401, headers={"WWW-Authenticate": "Bearer"})
        body, content_type = metrics.render()
        return Response(body, media_type=content_type)

    return [
        Route("/health", health, methods=["GET"]),
        Route("/ready", ready, methods=["GET"]),
        Route("/metrics", metrics_endpoint, methods=["GET"]),
    ]
