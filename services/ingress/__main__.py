"""`python -m services.ingress`: read settings, then serve the webhook app with uvicorn."""

from __future__ import annotations

from libs.server import load_settings, serve
from services.ingress.app import create_app
from services.ingress.settings import IngressSettings

# Past this many open connections uvicorn answers 503 at once instead of queueing work.
LIMIT_CONCURRENCY = 2048


def main() -> None:
    """Start ingress on HOST:PORT (default 8000); a bad setting prints one line and exits 2."""
    settings: IngressSettings = load_settings(IngressSettings.from_env)
    serve(create_app(settings), settings.common, "ingress", limit_concurrency=LIMIT_CONCURRENCY)


if __name__ == "__main__":
    main()
