"""Settings checks, and `python -m services.ingress` as a real process: start, serve, SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from urllib.parse import urlencode

import httpx
import pytest

from libs.errors import SettingsError
from services.ingress.settings import IngressSettings
from tests.conftest import AUTH_TOKEN, ROOT, free_port
from tests.ingress.conftest import ACCOUNT_SID, FORM, WEBHOOK, inbound_params, sign, stream_entries

GOOD = {
    "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
    "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
    "PUBLIC_BASE_URL": "https://bot.example.com/",
}


def test_defaults() -> None:
    s = IngressSettings.from_env(GOOD)
    assert s.common.port == 8000
    assert s.public_base_url == "https://bot.example.com"
    assert s.auth_tokens == (AUTH_TOKEN,)
    assert s.dedupe_ttl_s >= 24 * 3600
    assert s.signing_key is None and not s.trust_proxy_headers


def test_secondary_token_and_signing_key() -> None:
    s = IngressSettings.from_env(
        {**GOOD, "TWILIO_AUTH_TOKEN_SECONDARY": "second", "TWILIO_WEBHOOK_SIGNING_KEY": "k"}
    )
    assert s.auth_tokens == (AUTH_TOKEN, "second") and s.signing_key == "k"


@pytest.mark.parametrize(
    ("change", "name"),
    [
        ({"TWILIO_ACCOUNT_SID": ""}, "TWILIO_ACCOUNT_SID"),
        ({"TWILIO_ACCOUNT_SID": "AC123"}, "TWILIO_ACCOUNT_SID"),
        ({"TWILIO_ACCOUNT_SID": "XXe268443e43d93dab7ebef303bbe9642f"}, "TWILIO_ACCOUNT_SID"),
        ({"TWILIO_AUTH_TOKEN": ""}, "TWILIO_AUTH_TOKEN"),
        ({"PUBLIC_BASE_URL": ""}, "PUBLIC_BASE_URL"),
        ({"PUBLIC_BASE_URL": "bot.example.com"}, "PUBLIC_BASE_URL"),
        ({"PUBLIC_BASE_URL": "https://bot.example.com/?a=1"}, "PUBLIC_BASE_URL"),
        ({"PUBLIC_BASE_URL": "https://bot.example.com:99999"}, "PUBLIC_BASE_URL"),
        ({"PUBLIC_BASE_URL": "http://bot.example.com", "ENVIRONMENT": "production"}, "PUBLIC_BASE_URL"),
        (
            {"PUBLIC_WEBHOOK_URL": "http://bot.example.com/x", "ENVIRONMENT": "production"},
            "PUBLIC_WEBHOOK_URL",
        ),
        ({"TRUST_PROXY_HEADERS": "maybe"}, "TRUST_PROXY_HEADERS"),
        ({"DEDUPE_TTL_SECONDS": "3600"}, "DEDUPE_TTL_SECONDS"),
        ({"MAX_BODY_BYTES": "lots"}, "MAX_BODY_BYTES"),
        ({"REDIS_TIMEOUT_SECONDS": "60"}, "REDIS_TIMEOUT_SECONDS"),
    ],
)
def test_bad_settings_name_the_variable(change: dict[str, str], name: str) -> None:
    with pytest.raises(SettingsError) as caught:
        IngressSettings.from_env({**GOOD, **change})
    assert caught.value.name == name


def test_proxy_headers_replace_the_base_url() -> None:
    s = IngressSettings.from_env({**GOOD, "PUBLIC_BASE_URL": "", "TRUST_PROXY_HEADERS": "true"})
    assert s.public_base_url is None and s.trust_proxy_headers


def test_production_accepts_https() -> None:
    assert IngressSettings.from_env({**GOOD, "ENVIRONMENT": "production"}).common.production


def _env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TWILIO_", "PUBLIC_", "REDIS_", "PORT", "HOST"))
    }
    env.update({"PYTHONPATH": str(ROOT), "LOG_LEVEL": "INFO"}, **extra)
    return env


def test_bad_setting_exits_2_with_one_line() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "services.ingress"],
        cwd=ROOT,
        env=_env(TWILIO_AUTH_TOKEN=AUTH_TOKEN, PUBLIC_BASE_URL="https://bot.example.com"),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "TWILIO_ACCOUNT_SID" in lines[0], result.stderr
    assert AUTH_TOKEN not in result.stderr


@pytest.fixture
def process(
    key_prefix: str, redis_url: str, request: pytest.FixtureRequest
) -> Iterator[tuple[subprocess.Popen[str], str]]:
    port = free_port()
    redis_for_process = getattr(request, "param", redis_url)
    env = _env(
        TWILIO_ACCOUNT_SID=ACCOUNT_SID,
        TWILIO_AUTH_TOKEN=AUTH_TOKEN,
        PUBLIC_BASE_URL="https://bot.example.com",
        REDIS_URL=redis_for_process.replace("FREE", str(free_port())),
        REDIS_KEY_PREFIX=key_prefix,
        HOST="127.0.0.1",
        PORT=str(port),
        HEADER_TIMEOUT_SECONDS="1",
        MAX_HEADER_BYTES="4096",
        MAX_BODY_BYTES="8192",
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "services.ingress"], cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    else:
        proc.kill()
        pytest.fail(f"ingress did not start: {proc.communicate()[1]}")
    yield proc, base
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def _post(base: str, sid: str) -> httpx.Response:
    params = inbound_params(sid)
    signature = sign("https://bot.example.com" + WEBHOOK, params)
    return httpx.post(
        base + WEBHOOK,
        content=urlencode(params),
        headers={"Content-Type": FORM, "X-Twilio-Signature": signature},
        timeout=10,
    )


def test_serves_and_exits_0_on_sigterm(
    process: tuple[subprocess.Popen[str], str], redis_url: str, key_prefix: str
) -> None:
    proc, base = process
    assert _post(base, "SM" + "1" * 32).status_code == 200
    assert httpx.get(base + "/ready", timeout=5).status_code == 200
    assert "wa_webhooks_total" in httpx.get(base + "/metrics", timeout=5).text
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0
    _, stderr = proc.communicate()
    assert AUTH_TOKEN not in stderr
    assert len(stream_entries(redis_url, key_prefix)) == 1


@pytest.mark.parametrize("process", ["redis://127.0.0.1:FREE/0"], indirect=True)
def test_starts_and_stays_up_without_redis(process: tuple[subprocess.Popen[str], str]) -> None:
    """No crash loop: with Redis unreachable the process serves 503s and keeps running."""
    proc, base = process
    for _ in range(3):
        assert _post(base, "SM" + "2" * 32).status_code == 503
    assert httpx.get(base + "/ready", timeout=10).status_code == 503
    assert httpx.get(base + "/health", timeout=5).status_code == 200
    assert proc.poll() is None
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0


def _connect(base: str) -> socket.socket:
    host, port = base.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=10)
    return sock


def _read_until_closed(sock: socket.socket) -> bytes:
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def test_slow_headers_are_cut_off(process: tuple[subprocess.Popen[str], str]) -> None:
    """Headers trickling in (slowloris) or never sent: closed after HEADER_TIMEOUT_SECONDS."""
    _, base = process
    idle = _connect(base)
    trickle = _connect(base)
    started = time.monotonic()
    trickle.sendall(b"POST /api/v1/whatsapp/webhook HTTP/1.1\r\nHost: x\r\n")
    time.sleep(0.5)
    trickle.sendall(b"X-A: 1\r\n")
    assert _read_until_closed(trickle) == b""
    assert _read_until_closed(idle) == b""
    assert 0.8 < time.monotonic() - started < 5
    # A normal request on a fresh connection is unaffected.
    assert httpx.get(base + "/health", timeout=5).status_code == 200


def test_oversized_headers_are_431(process: tuple[subprocess.Popen[str], str]) -> None:
    _, base = process
    sock = _connect(base)
    sock.sendall(
        b"POST /api/v1/whatsapp/webhook HTTP/1.1\r\nHost: x\r\n" + b"X-Pad: " + b"p" * 20_000 + b"\r\n"
    )
    answer = _read_until_closed(sock)
    assert answer.startswith(b"HTTP/1.1 431 ")
    # Keep-alive requests whose bodies add up past the limit are not mistaken for headers.
    params = inbound_params()
    body = urlencode(params).encode()
    signature = sign("https://bot.example.com" + WEBHOOK, params)
    with httpx.Client(base_url=base, timeout=10) as client:
        for i in range(12):
            response = client.post(
                WEBHOOK, content=body, headers={"Content-Type": FORM, "X-Twilio-Signature": signature}
            )
            assert response.status_code == 200, i
