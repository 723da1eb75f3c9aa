"""Settings checks, and `python -m services.ingress` as a real process: start, serve, SIGTERM."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest

from libs.errors import SettingsError
from services.ingress.settings import IngressSettings
from tests.conftest import AUTH_TOKEN, ROOT, free_port
from tests.ingress.conftest import (
    ACCOUNT_SID,
    FORM,
    WEBHOOK,
    IngressProcess,
    inbound_params,
    ingress_process,
    process_env,
    sign,
    stream_entries,
)

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


def test_bad_setting_exits_2_with_one_line() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "services.ingress"],
        cwd=ROOT,
        env=process_env(TWILIO_AUTH_TOKEN=AUTH_TOKEN, PUBLIC_BASE_URL="https://bot.example.com"),
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
    key_prefix: str, redis_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[IngressProcess]:
    redis_for_process = getattr(request, "param", redis_url)
    with ingress_process(
        tmp_path,
        REDIS_URL=redis_for_process.replace("FREE", str(free_port())),
        REDIS_KEY_PREFIX=key_prefix,
        HEADER_TIMEOUT_SECONDS="1",
        MAX_HEADER_BYTES="4096",
        MAX_BODY_BYTES="8192",
    ) as running_process:
        yield running_process


def _post(base: str, sid: str) -> httpx.Response:
    params = inbound_params(sid)
    signature = sign("https://bot.example.com" + WEBHOOK, params)
    return httpx.post(
        base + WEBHOOK,
        content=urlencode(params),
        headers={"Content-Type": FORM, "X-Twilio-Signature": signature},
        timeout=10,
    )


def test_serves_and_exits_0_on_sigterm(process: IngressProcess, redis_url: str, key_prefix: str) -> None:
    proc, base = process.proc, process.base
    assert _post(base, "SM" + "1" * 32).status_code == 200
    assert httpx.get(base + "/ready", timeout=5).status_code == 200
    assert "wa_webhooks_total" in httpx.get(base + "/metrics", timeout=5).text
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0
    stderr = process.log_text()
    assert AUTH_TOKEN not in stderr
    assert len(stream_entries(redis_url, key_prefix)) == 1


@pytest.mark.parametrize("process", ["redis://127.0.0.1:FREE/0"], indirect=True)
def test_starts_and_stays_up_without_redis(process: IngressProcess) -> None:
    """No crash loop: with Redis unreachable the process serves 503s and keeps running."""
    proc, base = process.proc, process.base
    for _ in range(3):
        assert _post(base, "SM" + "2" * 32).status_code == 503
    assert httpx.get(base + "/ready", timeout=10).status_code == 503
    assert httpx.get(base + "/health", timeout=5).status_code == 200
    assert proc.poll() is None
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0
