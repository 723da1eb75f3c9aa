"""`python -m sandbox`: serve the local Twilio stand-in until Ctrl-C / SIGTERM."""

from __future__ import annotations

import uvicorn

from libs import logs
from libs.server import load_settings
from sandbox.app import create_app
from sandbox.settings import SandboxSettings


def main() -> None:
    """Start the sandbox; a bad setting prints one line naming it and exits 2."""
    settings: SandboxSettings = load_settings(SandboxSettings.from_env)
    logs.configure("sandbox", settings.log_level)
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=5,
    )


if __name__ == "__main__":
    main()
