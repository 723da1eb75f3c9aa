"""orders' settings, read once from the environment."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field

from libs.connection_limits import ConnectionLimits
from libs.errors import SettingsError
from libs.settings import CommonSettings, env_bool, env_float, env_int, env_optional, env_url

DEFAULT_PORT = 8001
DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
MIN_ADMIN_TOKEN_LENGTH = 32
MIN_SESSION_SECRET_LENGTH = 32
MIN_ADMIN_PASSWORD_LENGTH = 12
# The largest body the staff API and the dashboard read (their own 413s say the same).
MAX_BODY_BYTES = 16 * 1024


@dataclass(frozen=True, slots=True)
class OrdersSettings:
    """Everything orders reads. Times in seconds unless the name says otherwise.

    `admin_api_token` None disables the staff API (every call 401); in production it must be
    set and at least 32 characters. `cart_ttl_s` is how long an idle cart lives.

    Dashboard: `admin_email`/`admin_password` create the first staff account when none exists;
    `session_secret` signs session cookies (in production at least 32 characters; elsewhere a
    random one per process when unset, so sessions end with the process). `trust_proxy_headers`
    takes the client address for login rate limits (and the per-address connection cap) from
    X-Forwarded-For. `connections`: deadlines and caps of HTTP connections (libs.connection_limits).
    """

    common: CommonSettings
    database_url: str
    admin_api_token: str | None
    store_code: str | None
    cart_ttl_s: int
    pool_min_size: int
    pool_max_size: int
    pool_timeout_s: float
    pool_max_waiting: int
    statement_timeout_ms: int
    slow_query_s: float
    visibility_timeout_ms: int
    max_deliveries: int
    consumer_concurrency: int
    admin_email: str | None = None
    admin_password: str | None = None
    session_secret: str = ""
    trust_proxy_headers: bool = False
    connections: ConnectionLimits = field(
        default_factory=lambda: ConnectionLimits(max_body_bytes=MAX_BODY_BYTES)
    )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> OrdersSettings:
        """Build from `environ`; raises `SettingsError` naming the first bad variable."""
        common = CommonSettings.from_env(environ, default_port=DEFAULT_PORT)
        token = env_optional(environ, "ADMIN_API_TOKEN")
        if common.production and (token is None or len(token) < MIN_ADMIN_TOKEN_LENGTH):
            raise SettingsError(
                "ADMIN_API_TOKEN",
                f"must be set to a random string of at least {MIN_ADMIN_TOKEN_LENGTH} characters "
                "in production",
            )
        session_secret = env_optional(environ, "SESSION_SECRET")
        if common.production and (session_secret is None or len(session_secret) < MIN_SESSION_SECRET_LENGTH):
            raise SettingsError(
                "SESSION_SECRET",
                f"must be set to a random string of at least {MIN_SESSION_SECRET_LENGTH} characters "
                "in production",
            )
        admin_email = env_optional(environ, "ADMIN_EMAIL")
        if admin_email is not None and "@" not in admin_email:
            raise SettingsError("ADMIN_EMAIL", "must be an email address")
        admin_password = env_optional(environ, "ADMIN_PASSWORD")
        if (admin_email is None) != (admin_password is None):
            raise SettingsError("ADMIN_PASSWORD" if admin_email else "ADMIN_EMAIL", "set both or neither")
        if (
            common.production
            and admin_password is not None
            and len(admin_password) < MIN_ADMIN_PASSWORD_LENGTH
        ):
            raise SettingsError(
                "ADMIN_PASSWORD", f"must be at least {MIN_ADMIN_PASSWORD_LENGTH} characters in production"
            )
        pool_max = env_int(environ, "DB_POOL_MAX_SIZE", 10, minimum=1, maximum=200)
        trust = env_bool(environ, "TRUST_PROXY_HEADERS", False)
        return cls(
            common=common,
            database_url=database_url(environ),
            admin_api_token=token,
            store_code=env_optional(environ, "STORE_CODE"),
            cart_ttl_s=env_int(environ, "CART_TTL_SECONDS", 4 * 3600, minimum=60),
            pool_min_size=env_int(environ, "DB_POOL_MIN_SIZE", 2, minimum=0, maximum=pool_max),
            pool_max_size=pool_max,
            pool_timeout_s=env_float(environ, "DB_POOL_TIMEOUT_SECONDS", 5.0, minimum=0.1),
            pool_max_waiting=env_int(environ, "DB_POOL_MAX_WAITING", 100, minimum=0),
            statement_timeout_ms=env_int(environ, "DB_STATEMENT_TIMEOUT_MS", 5000, minimum=100),
            slow_query_s=env_float(environ, "DB_SLOW_QUERY_SECONDS", 0.2, minimum=0.0),
            visibility_timeout_ms=env_int(environ, "STREAM_VISIBILITY_TIMEOUT_MS", 60_000, minimum=1000),
            max_deliveries=env_int(environ, "STREAM_MAX_DELIVERIES", 5, minimum=1, maximum=100),
            consumer_concurrency=env_int(environ, "CONSUMER_CONCURRENCY", 64, minimum=1),
            admin_email=admin_email,
            admin_password=admin_password,
            session_secret=session_secret or secrets.token_urlsafe(32),
            trust_proxy_headers=trust,
            connections=ConnectionLimits.from_env(
                environ, max_body_bytes=MAX_BODY_BYTES, trust_proxy_headers=trust
            ),
        )


def database_url(environ: Mapping[str, str] = os.environ) -> str:
    """`DATABASE_URL` (a postgresql:// URL), else the local default; raises `SettingsError`.

    The one setting the database subcommands (migrate, load-menu) need, read on its own so they
    run without the service's other settings."""
    return env_url(environ, "DATABASE_URL", DEFAULT_DATABASE_URL, schemes=("postgresql", "postgres"))
