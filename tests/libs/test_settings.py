"""The typed environment getters: what they refuse, with the variable's name."""

from __future__ import annotations

import pytest

from libs.errors import SettingsError
from libs.settings import env_float, env_int
from services.notifier.settings import NotifierSettings
from services.orders.settings import OrdersSettings


@pytest.mark.parametrize("raw", ["inf", "-inf", "Infinity", "1e999", "nan", "NaN"])
def test_a_number_of_seconds_must_be_finite(raw: str) -> None:
    with pytest.raises(SettingsError) as caught:
        env_float({"WAIT_SECONDS": raw}, "WAIT_SECONDS", 1.0, minimum=0.0)
    assert caught.value.name == "WAIT_SECONDS"
    assert "a finite number" in str(caught.value)


@pytest.mark.parametrize(
    ("settings", "name"),
    [
        (OrdersSettings, "DB_POOL_TIMEOUT_SECONDS"),
        (NotifierSettings, "TWILIO_DAILY_CAP_BACKOFF_SECONDS"),
        (NotifierSettings, "TWILIO_RETRY_CAP_SECONDS"),
    ],
)
def test_an_endless_wait_is_refused_at_start(settings: type, name: str) -> None:
    env = {
        "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
        "TWILIO_AUTH_TOKEN": "x" * 32,
        "TWILIO_WHATSAPP_FROM": "whatsapp:+15557650000",
        name: "inf",
    }
    with pytest.raises(SettingsError) as caught:
        settings.from_env(env)
    assert caught.value.name == name


def test_integers_stay_as_they_were() -> None:
    assert env_int({"N": " 12 "}, "N", 1) == 12
    with pytest.raises(SettingsError):
        env_int({"N": "1" * 5000}, "N", 1)
