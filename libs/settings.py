"""Reading settings from the environment: typed getters that name the variable at fault.

Each service holds one frozen dataclass built by `from_env(environ)`; tests pass a dict instead
of patching `os.environ`. Every getter raises `SettingsError(name, message)`, which a service's
`__main__` prints as one line before exiting with status 2.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from libs.errors import SettingsError

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
ENVIRONMENTS = ("development", "test", "production")
_KEY_PREFIX = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


def env_str(environ: Mapping[str, str], name: str, default: str | None = None) -> str:
    """Return the variable's value (stripped); a blank or missing value falls back to `default`.

    Raises `SettingsError` when it is missing and there is no default.
    """
    value = environ.get(name, "").strip()
    if value:
        return value
    if default is None:
        raise SettingsError(name, "is required but not set")
    return default


def env_optional(environ: Mapping[str, str], name: str) -> str | None:
    """Return the variable's value, or None when it is missing or blank."""
    value = environ.get(name, "").strip()
    return value or None


def env_int(
    environ: Mapping[str, str],
    name: str,
    default: int,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
) -> int:
    """Return an integer variable within [minimum, maximum]; raises `SettingsError` otherwise."""
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(name, f"expected an integer, got {raw!r}") from None
    if minimum is not None and value < minimum:
        raise SettingsError(name, f"must be at least {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise SettingsError(name, f"must be at most {maximum}, got {value}")
    return value


def env_float(
    environ: Mapping[str, str],
    name: str,
    default: float,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
) -> float:
    """Return a finite number variable within [minimum, maximum]; raises `SettingsError`
    otherwise ("inf", "nan" and "1e999" too: an endless wait or pause is never meant)."""
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(name, f"expected a number, got {raw!r}") from None
    if not math.isfinite(value):
        raise SettingsError(name, f"expected a finite number, got {raw!r}")
    if minimum is not None and value < minimum:
        raise SettingsError(name, f"must be at least {minimum}, got {raw}")
    if maximum is not None and value > maximum:
        raise SettingsError(name, f"must be at most {maximum}, got {raw}")
    return value


def env_bool(environ: Mapping[str, str], name: str, default: bool) -> bool:
    """Return a boolean variable: 1/true/yes/on or 0/false/no/off (any case)."""
    raw = environ.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise SettingsError(name, f"expected true or false, got {raw!r}")


def env_choice(environ: Mapping[str, str], name: str, default: str, choices: tuple[str, ...]) -> str:
    """Return a variable that must be one of `choices` (compared case-insensitively)."""
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    for choice in choices:
        if raw.lower() == choice.lower():
            return choice
    raise SettingsError(name, f"expected one of {', '.join(choices)}, got {raw!r}")


def env_url(
    environ: Mapping[str, str],
    name: str,
    default: str | None = None,
    *,
    schemes: tuple[str, ...],
) -> str:
    """Return a URL variable whose scheme is in `schemes` and that has a host or socket path."""
    value = env_str(environ, name, default)
    try:
        parts = urlsplit(value)
    except ValueError as exc:
        raise SettingsError(name, f"is not a valid URL ({exc})") from None
    if parts.scheme not in schemes:
        raise SettingsError(name, f"expected a {' or '.join(schemes)} URL, got scheme {parts.scheme!r}")
    if not parts.netloc and not parts.path:
        raise SettingsError(name, "has no host")
    return value


@dataclass(frozen=True, slots=True)
class CommonSettings:
    """What every service reads: where to listen, how to log, where Redis is.

    `key_prefix` (REDIS_KEY_PREFIX, default `wa`) namespaces every Redis key and stream, so
    several stores or test runs can share one Redis.
    """

    host: str
    port: int
    log_level: str
    environment: str
    redis_url: str
    key_prefix: str
    metrics_token: str | None

    @classmethod
    def from_env(cls, environ: Mapping[str, str], *, default_port: int) -> CommonSettings:
        """Build from the environment; raises `SettingsError` naming the first bad variable."""
        prefix = env_str(environ, "REDIS_KEY_PREFIX", "wa")
        if not _KEY_PREFIX.match(prefix):
            raise SettingsError("REDIS_KEY_PREFIX", "use 1-64 letters, digits or _.:-")
        return cls(
            host=env_str(environ, "HOST", "0.0.0.0"),
            port=env_int(environ, "PORT", default_port, minimum=1, maximum=65535),
            log_level=env_choice(environ, "LOG_LEVEL", "INFO", LOG_LEVELS),
            environment=env_choice(environ, "ENVIRONMENT", "development", ENVIRONMENTS),
            redis_url=env_url(
                environ,
                "REDIS_URL",
                "redis://127.0.0.1:6379/0",
                schemes=("redis", "rediss", "unix"),
            ),
            key_prefix=prefix,
            metrics_token=env_optional(environ, "METRICS_TOKEN"),
        )

    @property
    def production(self) -> bool:
        """True when ENVIRONMENT=production: stricter checks apply at start-up."""
        return self.environment == "production"
