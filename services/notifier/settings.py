"""notifier's settings, read once from the environment."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from libs.connections import MAX_BLOCK_MS
from libs.errors import SettingsError
from libs.settings import CommonSettings, env_float, env_int, env_optional, env_str, env_url

_ACCOUNT_SID = re.compile(r"^AC[0-9a-fA-F]{32}$")
_WHATSAPP_ADDRESS = re.compile(r"^whatsapp:\+[1-9]\d{6,14}$")
DEFAULT_PORT = 8002
DAY_S = 86_400


@dataclass(frozen=True, slots=True)
class NotifierSettings:
    """Everything notifier reads. Times in seconds unless the name says otherwise.

    `status_callback_url` is `{PUBLIC_BASE_URL}/api/v1/whatsapp/status`, or None when
    PUBLIC_BASE_URL is unset (then Twilio posts no per-message status callbacks).
    `handler_budget_s` bounds one delivery of one reply (order wait, pacing, attempts and
    backoff); it must stay below the visibility timeout, or another replica would claim an
    entry still being handled. `reconcile_settle_s` is how long after an attempt whose outcome
    is unknown the reply is looked up at Twilio (long enough for Twilio to finish a request it
    received and list it).
    """

    common: CommonSettings
    account_sid: str
    auth_token: str
    whatsapp_from: str
    api_base_url: str
    status_callback_url: str | None
    send_rate_per_s: float
    send_burst: int
    connect_timeout_s: float
    read_timeout_s: float
    max_attempts: int
    retry_base_s: float
    retry_cap_s: float
    daily_cap_backoff_s: float
    max_retry_after_s: float
    reconcile_settle_s: float
    handler_budget_s: float
    order_wait_s: float
    order_gap_timeout_s: float
    send_state_ttl_s: int
    cursor_ttl_s: int
    visibility_timeout_ms: int
    block_ms: int
    max_deliveries: int
    consumer_concurrency: int
    shutdown_grace_s: float

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> NotifierSettings:
        """Build from `environ`; raises `SettingsError` naming the first bad variable.

        TWILIO_REGION and TWILIO_EDGE are deliberately not read: the Messages API base URL is
        TWILIO_API_BASE_URL and nothing else (twilio-python would rewrite the host from them,
        see https://www.twilio.com/docs/global-infrastructure/edge-locations).
        """
        common = CommonSettings.from_env(environ, default_port=DEFAULT_PORT)
        account_sid = env_str(environ, "TWILIO_ACCOUNT_SID")
        if not _ACCOUNT_SID.match(account_sid):
            raise SettingsError("TWILIO_ACCOUNT_SID", "expected AC followed by 32 hex digits")
        whatsapp_from = env_str(environ, "TWILIO_WHATSAPP_FROM")
        if not _WHATSAPP_ADDRESS.match(whatsapp_from):
            raise SettingsError("TWILIO_WHATSAPP_FROM", "expected whatsapp:+<E.164 number>")
        api_base_url = env_url(
            environ, "TWILIO_API_BASE_URL", "https://api.twilio.com", schemes=("https", "http")
        ).rstrip("/")
        if urlsplit(api_base_url).path not in ("", "/"):
            raise SettingsError("TWILIO_API_BASE_URL", "expected scheme://host[:port] with no path")
        if common.production and urlsplit(api_base_url).scheme != "https":
            # Basic auth carries the Auth Token: never over plain HTTP in production.
            raise SettingsError("TWILIO_API_BASE_URL", "must be an https:// URL in production")
        public = env_optional(environ, "PUBLIC_BASE_URL")
        callback = None
        if public is not None:
            env_url(environ, "PUBLIC_BASE_URL", schemes=("https", "http"))
            if common.production and urlsplit(public).scheme != "https":
                raise SettingsError("PUBLIC_BASE_URL", "must be an https:// URL in production")
            callback = public.rstrip("/") + "/api/v1/whatsapp/status"
        rate = env_float(environ, "TWILIO_SEND_RATE_PER_SECOND", 80.0, minimum=0.1, maximum=10_000.0)
        visibility_ms = env_int(environ, "STREAM_VISIBILITY_TIMEOUT_MS", 60_000, minimum=1000)
        connect_s = env_float(environ, "TWILIO_CONNECT_TIMEOUT_SECONDS", 5.0, minimum=0.1, maximum=60.0)
        read_s = env_float(environ, "TWILIO_READ_TIMEOUT_SECONDS", 15.0, minimum=0.1, maximum=120.0)
        budget_s = env_float(environ, "NOTIFIER_HANDLER_BUDGET_SECONDS", 30.0, minimum=1.0)
        if budget_s + connect_s + read_s >= visibility_ms / 1000:
            raise SettingsError(
                "NOTIFIER_HANDLER_BUDGET_SECONDS",
                "plus the Twilio connect and read timeouts must stay below "
                f"STREAM_VISIBILITY_TIMEOUT_MS ({visibility_ms} ms)",
            )
        return cls(
            common=common,
            account_sid=account_sid,
            auth_token=env_str(environ, "TWILIO_AUTH_TOKEN"),
            whatsapp_from=whatsapp_from,
            api_base_url=api_base_url,
            status_callback_url=callback,
            send_rate_per_s=rate,
            send_burst=env_int(environ, "TWILIO_SEND_BURST", max(1, int(rate)), minimum=1),
            connect_timeout_s=connect_s,
            read_timeout_s=read_s,
            max_attempts=env_int(environ, "TWILIO_MAX_ATTEMPTS", 4, minimum=1, maximum=20),
            retry_base_s=env_float(environ, "TWILIO_RETRY_BASE_SECONDS", 0.25, minimum=0.0),
            retry_cap_s=env_float(environ, "TWILIO_RETRY_CAP_SECONDS", 8.0, minimum=0.0),
            daily_cap_backoff_s=env_float(environ, "TWILIO_DAILY_CAP_BACKOFF_SECONDS", 600.0, minimum=0.1),
            max_retry_after_s=env_float(
                environ, "TWILIO_MAX_RETRY_AFTER_SECONDS", 600.0, minimum=0.0, maximum=86_400.0
            ),
            reconcile_settle_s=env_float(
                environ, "TWILIO_RECONCILE_SETTLE_SECONDS", 5.0, minimum=0.0, maximum=600.0
            ),
            handler_budget_s=budget_s,
            order_wait_s=env_float(environ, "NOTIFIER_ORDER_WAIT_SECONDS", 0.5, minimum=0.0),
            order_gap_timeout_s=env_float(
                environ, "NOTIFIER_ORDER_GAP_TIMEOUT_SECONDS", 3 * visibility_ms / 1000, minimum=1.0
            ),
            send_state_ttl_s=env_int(environ, "NOTIFIER_SEND_STATE_TTL_SECONDS", 2 * DAY_S, minimum=DAY_S),
            cursor_ttl_s=env_int(environ, "NOTIFIER_CURSOR_TTL_SECONDS", 30 * DAY_S, minimum=DAY_S),
            visibility_timeout_ms=visibility_ms,
            block_ms=env_int(environ, "STREAM_BLOCK_MS", MAX_BLOCK_MS, minimum=10, maximum=MAX_BLOCK_MS),
            max_deliveries=env_int(environ, "STREAM_MAX_DELIVERIES", 5, minimum=1, maximum=100),
            consumer_concurrency=env_int(environ, "CONSUMER_CONCURRENCY", 32, minimum=1, maximum=1000),
            # At most 20: with the HTTP drain (libs.server) it stays under Render's 30 s kill.
            shutdown_grace_s=env_float(environ, "SHUTDOWN_GRACE_SECONDS", 15.0, minimum=0.0, maximum=20.0),
        )

    @property
    def messages_url(self) -> str:
        """The Messages API endpoint of the account (https://www.twilio.com/docs/messaging/api/message-resource)."""
        return f"{self.api_base_url}/2010-04-01/Accounts/{self.account_sid}/Messages.json"
