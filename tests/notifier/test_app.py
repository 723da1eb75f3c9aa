"""notifier's settings, HTTP endpoints and process life: /health, /ready, /metrics, exit codes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable

import httpx
import pytest
from starlette.testclient import TestClient

from libs.errors import SettingsError
from services.notifier.app import create_app
from services.notifier.settings import NotifierSettings
from tests.conftest import ROOT, free_port
from tests.sandbox.harness import ACCOUNT_SID, AUTH_TOKEN

GOOD = {
    "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
    "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
    "TWILIO_WHATSAPP_FROM": "whatsapp:+15557650000",
}


def test_defaults() -> None:
    s = NotifierSettings.from_env(GOOD)
    assert s.common.port == 8002
    assert s.api_base_url == "https://api.twilio.com"
    assert s.messages_url == f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"
    assert s.status_callback_url is None
    assert (s.send_rate_per_s, s.send_burst) == (80.0, 80)
    assert s.send_state_ttl_s >= 24 * 3600
    assert s.daily_cap_backoff_s == 600
    assert s.handler_budget_s + s.connect_timeout_s + s.read_timeout_s < s.visibility_timeout_ms / 1000
    assert s.shutdown_grace_s < 30  # Render kills 30 s after SIGTERM


def test_status_callback_follows_public_base_url() -> None:
    s = NotifierSettings.from_env({**GOOD, "PUBLIC_BASE_URL": "https://bot.example.com/"})
    assert s.status_callback_url == "https://bot.example.com/api/v1/whatsapp/status"


@pytest.mark.parametrize(
    ("change", "name"),
    [
        ({"TWILIO_ACCOUNT_SID": ""}, "TWILIO_ACCOUNT_SID"),
        ({"TWILIO_ACCOUNT_SID": "AC123"}, "TWILIO_ACCOUNT_SID"),
        ({"TWILIO_AUTH_TOKEN": ""}, "TWILIO_AUTH_TOKEN"),
        ({"TWILIO_WHATSAPP_FROM": "+15557650000"}, "TWILIO_WHATSAPP_FROM"),
        ({"TWILIO_API_BASE_URL": "ftp://api.twilio.com"}, "TWILIO_API_BASE_URL"),
        ({"TWILIO_API_BASE_URL": "https://api.twilio.com/2010-04-01"}, "TWILIO_API_BASE_URL"),
        ({"PUBLIC_BASE_URL": "bot.example.com"}, "PUBLIC_BASE_URL"),
        ({"TWILIO_SEND_RATE_PER_SECOND": "0"}, "TWILIO_SEND_RATE_PER_SECOND"),
        ({"NOTIFIER_SEND_STATE_TTL_SECONDS": "3600"}, "NOTIFIER_SEND_STATE_TTL_SECONDS"),
        ({"NOTIFIER_HANDLER_BUDGET_SECONDS": "59"}, "NOTIFIER_HANDLER_BUDGET_SECONDS"),
        ({"SHUTDOWN_GRACE_SECONDS": "40"}, "SHUTDOWN_GRACE_SECONDS"),
    ],
)
def test_bad_settings_name_the_variable(change: dict[str, str], name: str) -> None:
    with pytest.raises(SettingsError) as caught:
        NotifierSettings.from_env({**GOOD, **change})
    assert caught.value.name == name


def test_health_ready_and_metrics(make_settings: Callable[..., NotifierSettings]) -> None:
    with TestClient(create_app(make_settings())) as client:
        assert client.get("/health").json() == {"status": "ok"}
        ready = client.get("/ready")
        assert ready.status_code == 200 and ready.json()["checks"]["redis"]["ok"]
        metrics = client.get("/metrics")
        assert metrics.status_code == 200 and "wa_twilio_sends_total" in metrics.text


def test_ready_fails_and_health_holds_without_redis(make_settings: Callable[..., NotifierSettings]) -> None:
    settings = make_settings(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
    with TestClient(create_app(settings)) as client:
        ready = client.get("/ready")
        assert ready.status_code == 503 and not ready.json()["checks"]["redis"]["ok"]
        assert client.get("/health").status_code == 200  # the consumer task backs off, alive


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TWILIO_")}
    env.update(GOOD)
    env.update(extra)
    return env


def test_bad_setting_exits_2_with_one_line() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "services.notifier"],
        cwd=ROOT,
        env=_env(TWILIO_WHATSAPP_FROM="not-an-address"),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "configuration error: TWILIO_WHATSAPP_FROM: expected whatsapp:+<E.164 number>"
    ]


def test_serves_and_exits_0_on_sigterm(redis_url: str, key_prefix: str) -> None:
    port = free_port()
    env = _env(
        PORT=str(port),
        HOST="127.0.0.1",
        REDIS_URL=redis_url,
        REDIS_KEY_PREFIX=key_prefix,
        TWILIO_REGION="ie1",
        TWILIO_EDGE="dublin",
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "services.notifier"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/ready", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, "notifier did not become ready"
            time.sleep(0.1)
        assert httpx.get(f"http://127.0.0.1:{port}/health").json() == {"status": "ok"}
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=25) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    output = proc.communicate()[0] or ""  # reads the rest and closes the pipe
    assert '"msg":"stopped"' in output
    assert AUTH_TOKEN not in output
