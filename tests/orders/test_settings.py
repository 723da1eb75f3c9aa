"""orders' settings: production refuses weak or missing credentials, with one readable line."""

from __future__ import annotations

import subprocess
import sys

import pytest

from libs.errors import SettingsError
from services.orders.settings import OrdersSettings
from tests.conftest import ROOT

STRONG = "s3cr3t-" + "x" * 40
PRODUCTION = {
    "ENVIRONMENT": "production",
    "DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/postgres",
    "SESSION_SECRET": STRONG,
    "ADMIN_EMAIL": "owner@example.com",
    "ADMIN_PASSWORD": "a-long-and-unguessable-passphrase-42",
}


@pytest.mark.parametrize("token", [None, "", "short-token"])
def test_production_refuses_a_missing_or_weak_admin_token(token: str | None) -> None:
    env = dict(PRODUCTION)
    if token is not None:
        env["ADMIN_API_TOKEN"] = token
    with pytest.raises(SettingsError) as caught:
        OrdersSettings.from_env(env)
    assert caught.value.name == "ADMIN_API_TOKEN"


def test_production_accepts_a_strong_token() -> None:
    settings = OrdersSettings.from_env({**PRODUCTION, "ADMIN_API_TOKEN": STRONG})
    assert settings.admin_api_token == STRONG


def test_outside_production_no_token_means_the_api_is_closed() -> None:
    settings = OrdersSettings.from_env({"DATABASE_URL": PRODUCTION["DATABASE_URL"]})
    assert settings.admin_api_token is None


def test_the_process_stops_with_one_line_naming_the_variable() -> None:
    env = {**PRODUCTION, "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-m", "services.orders"], cwd=ROOT, env=env,
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "ADMIN_API_TOKEN" in lines[0], done.stderr
    assert "Traceback" not in done.stderr
