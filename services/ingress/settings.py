"""ingress' settings, read once from the environment."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from libs.connection_limits import ConnectionLimits
from libs.errors import SettingsError
from libs.settings import CommonSettings, env_bool, env_float, env_int, env_optional, env_str

DEFAULT_PORT = 8000
_ACCOUNT_SID = re.compile(r"^AC[0-9a-f]{32}$")
DEDUPE_MIN_TTL_S = 24 * 3600


def _public_url(environ: Mapping[str, str], name: str, *, production: bool, base: bool = False) -> str | None:
    """An absolute http(s) URL without query or fragment; None if unset.

    A base URL loses its trailing slash (paths are appended to it); a full endpoint URL is
    kept exactly, since Twilio signs it exactly as configured.
    """
    value = env_optional(environ, name)
    if value is None:
        return None
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError as exc:
        raise SettingsError(name, f"is not a valid URL ({exc})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SettingsError(name, "expected an absolute http:// or https:// URL")
    if parts.query or parts.fragment or "@" in parts.netloc:
        raise SettingsError(name, "must have no query string, fragment or credentials")
    if production and parts.scheme != "https":
        raise SettingsError(name, "must be an https:// URL in production")
    return value.rstrip("/") if base else value


@dataclass(frozen=True, slots=True)
class IngressSettings:
    """Everything ingress reads. Sizes in bytes, times in seconds unless the name says otherwise.

    `public_base_url` is the scheme://host[:port] Twilio requests (what the Twilio console is
    configured with); `webhook_url`/`status_url` override the full URL of one endpoint when a
    proxy maps a different public path onto it. Without a base URL, `trust_proxy_headers`
    must be on and the URL is rebuilt from X-Forwarded-Proto/-Host per request.
    `signing_key` is the SharedKey secret of Twilio's HMAC-SHA256 webhook signatures.
    `customer_limit` messages per `customer_window_s` per `From` are processed normally; the
    rest are enqueued flagged `_throttled` (see services.ingress.enqueue). `connections` holds
    the header/body deadlines, the header size limit and the connection caps
    (libs.connection_limits).
    """

    common: CommonSettings
    account_sid: str
    auth_tokens: tuple[str, ...]
    signing_key: str | None
    public_base_url: str | None
    webhook_url: str | None
    status_url: str | None
    trust_proxy_headers: bool
    dedupe_ttl_s: int
    redis_timeout_s: float
    max_body_bytes: int
    max_fields: int
    max_field_chars: int
    connections: ConnectionLimits
    bad_signature_limit: int
    bad_signature_window_s: int
    customer_limit: int
    customer_window_s: int

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> IngressSettings:
        """Build from `environ`; raises `SettingsError` naming the first bad variable."""
        common = CommonSettings.from_env(environ, default_port=DEFAULT_PORT)
        account_sid = env_str(environ, "TWILIO_ACCOUNT_SID")
        if not _ACCOUNT_SID.match(account_sid):
            raise SettingsError("TWILIO_ACCOUNT_SID", "expected AC followed by 32 lowercase hex digits")
        primary = env_str(environ, "TWILIO_AUTH_TOKEN")
        secondary = env_optional(environ, "TWILIO_AUTH_TOKEN_SECONDARY")
        trust = env_bool(environ, "TRUST_PROXY_HEADERS", False)
        prod = common.production
        base = _public_url(environ, "PUBLIC_BASE_URL", production=prod, base=True)
        if base is None and not trust:
            raise SettingsError("PUBLIC_BASE_URL", "is required unless TRUST_PROXY_HEADERS is on")
        max_body = env_int(environ, "MAX_BODY_BYTES", 64 * 1024, minimum=1024)
        return cls(
            common=common,
            account_sid=account_sid,
            auth_tokens=(primary, secondary) if secondary else (primary,),
            signing_key=env_optional(environ, "TWILIO_WEBHOOK_SIGNING_KEY"),
            public_base_url=base,
            webhook_url=_public_url(environ, "PUBLIC_WEBHOOK_URL", production=prod),
            status_url=_public_url(environ, "PUBLIC_STATUS_URL", production=prod),
            trust_proxy_headers=trust,
            dedupe_ttl_s=env_int(environ, "DEDUPE_TTL_SECONDS", 48 * 3600, minimum=DEDUPE_MIN_TTL_S),
            redis_timeout_s=env_float(environ, "REDIS_TIMEOUT_SECONDS", 2.0, minimum=0.05, maximum=10.0),
            max_body_bytes=max_body,
            max_fields=env_int(environ, "MAX_FORM_FIELDS", 128, minimum=8),
            max_field_chars=env_int(environ, "MAX_FIELD_CHARS", 8192, minimum=1600),
            connections=ConnectionLimits.from_env(
                environ, max_body_bytes=max_body, trust_proxy_headers=trust
            ),
            bad_signature_limit=env_int(environ, "BAD_SIGNATURE_LIMIT", 20, minimum=1),
            bad_signature_window_s=env_int(environ, "BAD_SIGNATURE_WINDOW_SECONDS", 60, minimum=1),
            customer_limit=env_int(environ, "CUSTOMER_MESSAGE_LIMIT", 20, minimum=1),
            customer_window_s=env_int(environ, "CUSTOMER_WINDOW_SECONDS", 60, minimum=1),
        )
