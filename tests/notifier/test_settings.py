"""notifier's settings: in production the Auth Token never travels over plain HTTP."""

from __future__ import annotations

import pytest

from libs.errors import SettingsError
from services.notifier.settings import NotifierSettings

BASE = {
    "TWILIO_ACCOUNT_SID": "ACe268443e43d93dab7ebef303bbe9642f",
    "TWILIO_AUTH_TOKEN": "9f2c1e7a5b3d4c6e8f0a1b2c3d4e5f60",
    "TWILIO_WHATSAPP_FROM": "whatsapp:+15557650000",
}


@pytest.mark.parametrize(
    ("name", "value"),
    [("TWILIO_API_BASE_URL", "http://api.twilio.com"), ("PUBLIC_BASE_URL", "http://bot.example.com")],
)
def test_production_refuses_plain_http(name: str, value: str) -> None:
    with pytest.raises(SettingsError) as caught:
        NotifierSettings.from_env({**BASE, "ENVIRONMENT": "production", name: value})
    assert caught.value.name == name


def test_production_defaults_to_twilio_over_https() -> None:
    settings = NotifierSettings.from_env(
        {**BASE, "ENVIRONMENT": "production", "PUBLIC_BASE_URL": "https://bot.example.com"}
    )
    assert settings.api_base_url == "https://api.twilio.com"
    assert settings.status_callback_url == "https://bot.example.com/api/v1/whatsapp/status"


def test_development_may_use_the_local_sandbox() -> None:
    settings = NotifierSettings.from_env({**BASE, "TWILIO_API_BASE_URL": "http://127.0.0.1:8010"})
    assert settings.api_base_url == "http://127.0.0.1:8010"
