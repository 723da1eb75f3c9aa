"""ingress test helpers: settings, signing, raw ASGI calls with the real lifespan, stream reads."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
import redis
from twilio.request_validator import RequestValidator

from libs.messages import Envelope, Keys
from services.ingress.app import IngressApp, create_app
from services.ingress.forms import Params
from services.ingress.settings import IngressSettings
from tests.conftest import AUTH_TOKEN, ROOT, free_port

ACCOUNT_SID = "ACe268443e43d93dab7ebef303bbe9642f"  # the fixtures' account
BASE_URL = "https://ingress.example.com"
WEBHOOK = "/api/v1/whatsapp/webhook"
STATUS = "/api/v1/whatsapp/status"
FORM = "application/x-www-form-urlencoded"
TWILIO = ROOT / "tests" / "data" / "twilio"


def twilio_json(*parts: str) -> Any:
    """A JSON file under tests/data/twilio; fails (never skips) when it is missing."""
    path = TWILIO.joinpath(*parts)
    if not path.is_file():
        pytest.fail(f"{path} is missing: the Twilio vectors and fixtures are required")
    return json.loads(path.read_text())


def fixture_paths() -> list[Path]:
    """Every webhook fixture (inbound-*, status-*); fails when the folder is missing."""
    folder = TWILIO / "fixtures"
    if not folder.is_dir():
        pytest.fail(f"{folder} is missing: the Twilio fixtures are required")
    return sorted(p for p in folder.glob("*.json") if p.name.startswith(("inbound-", "status-")))


def make_settings(key_prefix: str, redis_url: str, **env: str) -> IngressSettings:
    """Settings for tests: the fixtures' account and token, PUBLIC_BASE_URL, a test prefix."""
    environ = {
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "PUBLIC_BASE_URL": BASE_URL,
        "REDIS_URL": redis_url,
        "REDIS_KEY_PREFIX": key_prefix,
        "ENVIRONMENT": "test",
    }
    environ.update(env)
    return IngressSettings.from_env(environ)


def to_params(params: Mapping[str, str] | Sequence[tuple[str, str]]) -> Params:
    """A mapping or list of pairs as `Params` (repeated names keep every value)."""
    return Params.from_pairs(params.items() if isinstance(params, Mapping) else params)


def sign(
    url: str,
    params: Mapping[str, str] | Sequence[tuple[str, str]],
    token: str = AUTH_TOKEN,
    algorithm: str | None = None,
) -> str:
    """Twilio's signature of `url` + `params` with `token`."""
    signature: str = RequestValidator(token).compute_signature(url, to_params(params), algorithm)
    return signature


def inbound_params(
    sid: str = "SM" + "0" * 32, body: str = "hi", sender: str = "whatsapp:+15551230001", **extra: str
) -> dict[str, str]:
    """A plausible inbound WhatsApp message's fields."""
    params = {
        "SmsMessageSid": sid,
        "NumMedia": "0",
        "ProfileName": "Alex Example",
        "SmsSid": sid,
        "WaId": "15551230001",
        "SmsStatus": "received",
        "Body": body,
        "To": "whatsapp:+15557650000",
        "NumSegments": "1",
        "MessageSid": sid,
        "AccountSid": ACCOUNT_SID,
        "From": sender,
        "ApiVersion": "2010-04-01",
    }
    params.update(extra)
    return params


def status_params(sid: str = "SM" + "1" * 32, status: str = "delivered", **extra: str) -> dict[str, str]:
    """A plausible status callback's fields."""
    params = {
        "SmsSid": sid,
        "SmsStatus": status,
        "MessageStatus": status,
        "To": "whatsapp:+15551230001",
        "MessageSid": sid,
        "AccountSid": ACCOUNT_SID,
        "From": "whatsapp:+15557650000",
        "ApiVersion": "2010-04-01",
    }
    params.update(extra)
    return params


@dataclass
class Answer:
    """An HTTP answer from a raw ASGI call."""

    status: int
    headers: dict[str, str]
    body: bytes


@contextlib.asynccontextmanager
async def running(app: IngressApp) -> AsyncIterator[IngressApp]:
    """Run the app's real lifespan around the block (startup, then shutdown)."""
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}, "state": {}}
    task = asyncio.create_task(app(scope, inbox.get, outbox.put))
    await inbox.put({"type": "lifespan.startup"})
    started = await asyncio.wait_for(outbox.get(), 10)
    assert started["type"] == "lifespan.startup.complete", started
    try:
        yield app
    finally:
        await inbox.put({"type": "lifespan.shutdown"})
        stopped = await asyncio.wait_for(outbox.get(), 10)
        assert stopped["type"] == "lifespan.shutdown.complete", stopped
        await task


async def call(
    app: IngressApp,
    path: str,
    *,
    body: bytes = b"",
    headers: Sequence[tuple[str, str]] = (),
    query: bytes = b"",
    method: str = "POST",
    client: tuple[str, int] = ("198.51.100.7", 40000),
    chunks: Sequence[bytes] | None = None,
) -> Answer:
    """One request through the ASGI app as uvicorn would pass it (raw query string kept)."""
    pieces = list(chunks) if chunks is not None else [body]
    messages = [
        {"type": "http.request", "body": piece, "more_body": i < len(pieces) - 1}
        for i, piece in enumerate(pieces)
    ]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop(0)
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "root_path": "",
        "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers],
        "client": client,
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    await app(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    payload = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return Answer(start["status"], {k.decode(): v.decode() for k, v in start["headers"]}, payload)


async def post_form(
    app: IngressApp,
    path: str,
    params: Mapping[str, str] | Sequence[tuple[str, str]],
    *,
    url: str | None = None,
    token: str = AUTH_TOKEN,
    signature: str | None = None,
    headers: Sequence[tuple[str, str]] = (),
    query: bytes = b"",
) -> Answer:
    """POST `params` form-encoded and signed for `url` (default: BASE_URL + path + query)."""
    if url is None:
        url = BASE_URL + path + ("?" + query.decode() if query else "")
    if signature is None:
        signature = sign(url, params, token)
    body = urlencode(list(params.items()) if isinstance(params, Mapping) else list(params)).encode()
    return await call(
        app,
        path,
        body=body,
        query=query,
        headers=[("Content-Type", FORM), ("X-Twilio-Signature", signature), *headers],
    )


def stream_entries(redis_url: str, key_prefix: str) -> list[Envelope]:
    """Every envelope in the test's inbound stream, oldest first."""
    client = redis.Redis.from_url(redis_url)
    try:
        return [Envelope.decode(fields[b"e"]) for _, fields in client.xrange(Keys(key_prefix).inbound)]
    finally:
        client.close()


@pytest.fixture
def entries(redis_url: str, key_prefix: str) -> Callable[[], list[Envelope]]:
    """A function returning the test stream's envelopes."""
    return lambda: stream_entries(redis_url, key_prefix)


@pytest.fixture
def settings(key_prefix: str, redis_url: str) -> IngressSettings:
    """Default test settings."""
    return make_settings(key_prefix, redis_url)


@pytest.fixture
async def app(settings: IngressSettings) -> AsyncIterator[IngressApp]:
    """The app with its lifespan running."""
    async with running(create_app(settings)) as started:
        yield started


def process_env(**extra: str) -> dict[str, str]:
    """This process' environment without any service setting, plus `extra`."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TWILIO_", "PUBLIC_", "REDIS_", "PORT", "HOST", "MAX_", "BODY_", "HEADER_"))
    }
    env.update({"PYTHONPATH": str(ROOT), "LOG_LEVEL": "INFO"}, **extra)
    return env


@dataclass
class IngressProcess:
    """`python -m services.ingress` running on `base` (http://127.0.0.1:PORT), stderr in `log`."""

    proc: subprocess.Popen[bytes]
    base: str
    log: Path

    def log_text(self) -> str:
        """Everything the process wrote to stderr so far."""
        return self.log.read_text(errors="replace")

    def stop(self) -> int:
        """SIGTERM, then the exit status (the log is complete afterwards)."""
        self.proc.terminate()
        return self.proc.wait(timeout=30)


@contextlib.contextmanager
def ingress_process(folder: Path, **env: str) -> Iterator[IngressProcess]:
    """Run ingress as a real process with the fixtures' account and token and `env`; wait for /health."""
    port = free_port()
    settings = {
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "PUBLIC_BASE_URL": "https://bot.example.com",
        "HOST": "127.0.0.1",
        "PORT": str(port),
        **env,
    }
    log = folder / f"ingress-{port}.log"
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "services.ingress"], cwd=ROOT, env=process_env(**settings), stderr=sink
        )
    running = IngressProcess(proc, f"http://127.0.0.1:{port}", log)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if httpx.get(running.base + "/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            pytest.fail(f"ingress did not start: {running.log_text()}")
        yield running
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
