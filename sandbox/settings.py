"""The sandbox's settings, read from the environment with development defaults.

The defaults are the fake account of the shared Twilio fixtures, so the sandbox, the chat and
the services agree without configuration; `make run` passes the same variables to all of them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from libs.settings import LOG_LEVELS, env_choice, env_float, env_int, env_str

DEV_ACCOUNT_SID = "ACe268443e43d93dab7ebef303bbe9642f"
DEV_AUTH_TOKEN = "9f2c1e7a5b3d4c6e8f0a1b2c3d4e5f60"  # noqa: S105 - the fixtures' published fake token
DEV_WHATSAPP_FROM = "whatsapp:+15557650000"
DEFAULT_PORT = 8010


@dataclass(frozen=True, slots=True)
class SandboxSettings:
    """Where the sandbox listens, the account it accepts, and how it posts status callbacks.

    `callback_delay_s` is the pause before each status step (sent, delivered, read) and its
    callback; `callback_attempts` bounds the tries of each callback. `list_lag_s` is how long a
    new message stays out of the Messages list (Twilio's list is eventually consistent).
    """

    host: str
    port: int
    log_level: str
    account_sid: str
    auth_token: str
    callback_delay_s: float
    callback_attempts: int
    list_lag_s: float = 0.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> SandboxSettings:
        """Build from `environ`: SANDBOX_PORT (else PORT, else 8010), SANDBOX_HOST, TWILIO_*."""
        port_var = "SANDBOX_PORT" if environ.get("SANDBOX_PORT", "").strip() else "PORT"
        return cls(
            host=env_str(environ, "SANDBOX_HOST", "127.0.0.1"),
            port=env_int(environ, port_var, DEFAULT_PORT, minimum=1, maximum=65535),
            log_level=env_choice(environ, "LOG_LEVEL", "INFO", LOG_LEVELS),
            account_sid=env_str(environ, "TWILIO_ACCOUNT_SID", DEV_ACCOUNT_SID),
            auth_token=env_str(environ, "TWILIO_AUTH_TOKEN", DEV_AUTH_TOKEN),
            callback_delay_s=env_float(environ, "SANDBOX_CALLBACK_DELAY_SECONDS", 0.2, minimum=0.0),
            callback_attempts=env_int(environ, "SANDBOX_CALLBACK_ATTEMPTS", 3, minimum=1, maximum=10),
            list_lag_s=env_float(environ, "SANDBOX_LIST_LAG_SECONDS", 0.0, minimum=0.0),
        )
