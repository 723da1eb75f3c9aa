"""`python -m services.ingress [serve | dead-letters ...]`: read settings, then serve the webhook app."""

from __future__ import annotations

import argparse

from libs import dead_letters
from libs.server import load_settings, serve
from services.ingress.settings import DEFAULT_PORT, IngressSettings


def cmd_serve(args: argparse.Namespace) -> int:
    """Start ingress on HOST:PORT (default 8000); a bad setting prints one line and exits 2.

    Connections are bounded by `settings.connections` (libs.connection_limits): header and
    body deadlines, header size, connection caps in total and per client address.
    """
    from services.ingress.app import create_app

    settings: IngressSettings = load_settings(IngressSettings.from_env)
    serve(create_app(settings), settings.common, "ingress", limits=settings.connections)
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The command line. `dead-letters` exists so every service answers the same command;
    ingress consumes no stream, so it has none and says where to look instead."""
    parser = argparse.ArgumentParser(prog="python -m services.ingress", description=__doc__)
    parser.set_defaults(func=cmd_serve)
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("serve", help="run the service (the default)").set_defaults(func=cmd_serve)
    dead_letters.register(
        sub,
        None,
        service="ingress",
        default_port=DEFAULT_PORT,
        none_reason="it consumes no stream. Entries it enqueued that could not be handled are "
        "the inbound stream's dead letters: python -m services.orders dead-letters list",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse `argv` and run the chosen command; returns the exit status."""
    args = build_parser().parse_args(argv)
    status: int = args.func(args)
    return status


if __name__ == "__main__":
    raise SystemExit(main())
