"""Running the Twilio sandbox in the test's event loop, on a free port, with a small client."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import uvicorn

from sandbox.app import create_app
from sandbox.settings import DEV_ACCOUNT_SID, DEV_AUTH_TOKEN, SandboxSettings
from tests.conftest import free_port

ACCOUNT_SID = DEV_ACCOUNT_SID
AUTH_TOKEN = DEV_AUTH_TOKEN


@dataclass
class SandboxHandle:
    """A running sandbox: its base URL and a client for its control API."""

    url: str
    http: httpx.AsyncClient

    async def messages(self, to: str | None = None, after: int = 0) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"after": after}
        if to is not None:
            params["to"] = to
        response = await self.http.get(f"{self.url}/sandbox/messages", params=params)
        response.raise_for_status()
        result: list[dict[str, Any]] = response.json()
        return result

    async def calls(self) -> list[dict[str, Any]]:
        response = await self.http.get(f"{self.url}/sandbox/calls")
        result: list[dict[str, Any]] = response.json()
        return result

    async def reads(self) -> list[dict[str, Any]]:
        """Every list and fetch call the sandbox answered."""
        response = await self.http.get(f"{self.url}/sandbox/reads")
        result: list[dict[str, Any]] = response.json()
        return result

    async def fault(self, mode: str, count: int = 1, **extra: Any) -> None:
        """Arm a fault for the next `count` create calls (`on="read"`: list and fetch calls)."""
        response = await self.http.post(
            f"{self.url}/sandbox/faults", json={"mode": mode, "count": count, **extra}
        )
        response.raise_for_status()

    async def wait_messages(
        self, n: int, *, to: str | None = None, within_s: float = 10.0
    ) -> list[dict[str, Any]]:
        """Poll until at least `n` messages (for `to`) arrived; fails after `within_s` seconds."""
        deadline = time.monotonic() + within_s
        while True:
            found = await self.messages(to)
            if len(found) >= n or time.monotonic() > deadline:
                assert len(found) >= n, f"expected {n} messages, got {len(found)}: {found}"
                return found
            await asyncio.sleep(0.05)


@asynccontextmanager
async def serving(app: Any, port: int | None = None) -> AsyncIterator[str]:
    """Serve an ASGI app with uvicorn on 127.0.0.1 in this event loop; yields its base URL."""
    port = port or free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="on"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    deadline = time.monotonic() + 10
    while True:
        if server.started:
            break
        assert not task.done(), "server failed to start"
        assert time.monotonic() < deadline, "server did not start"
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@asynccontextmanager
async def running_sandbox(**overrides: Any) -> AsyncIterator[SandboxHandle]:
    """Start the sandbox app under uvicorn on a free port; stop it on exit."""
    port = free_port()
    options: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": port,
        "log_level": "INFO",
        "account_sid": ACCOUNT_SID,
        "auth_token": AUTH_TOKEN,
        "callback_delay_s": 0.02,
        "callback_attempts": 2,
    }
    options.update(overrides)
    async with (
        serving(create_app(SandboxSettings(**options)), port) as url,
        httpx.AsyncClient(timeout=10) as http,
    ):
        yield SandboxHandle(url, http)
