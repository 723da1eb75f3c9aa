"""`python -m sandbox`: serve the local Twilio stand-in until Ctrl-C / SIGTERM, then exit 0."""

from __future__ import annotations

from libs.server import load_settings, serve
from libs.settings import CommonSettings
from sandbox.app import create_app
from sandbox.settings import SandboxSettings


def main() -> None:
    """Start the sandbox; a bad setting prints one line naming it and exits 2."""
    settings: SandboxSettings = load_settings(SandboxSettings.from_env)
    # The sandbox uses no Redis; CommonSettings only carries where to listen and how to log.
    common = CommonSettings(
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        environment="development",
        redis_url="",
        key_prefix="sandbox",
        metrics_token=None,
    )
    serve(create_app(settings), common, "sandbox", timeout_graceful_shutdown=5)


if __name__ == "__main__":
    main()
