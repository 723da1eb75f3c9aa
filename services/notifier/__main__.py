"""`python -m services.notifier`: read settings, then serve until SIGTERM."""

from __future__ import annotations

from libs.server import load_settings, serve
from services.notifier.app import create_app
from services.notifier.settings import NotifierSettings


def main() -> None:
    """Start the service; a bad setting prints one line naming it and exits 2."""
    settings: NotifierSettings = load_settings(NotifierSettings.from_env)
    serve(create_app(settings), settings.common, "notifier")


if __name__ == "__main__":
    main()
