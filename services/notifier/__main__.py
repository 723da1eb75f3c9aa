"""`python -m services.notifier [serve | dead-letters ...]`; no command serves until SIGTERM."""

from __future__ import annotations

import argparse

from libs import dead_letters
from libs.messages import Keys
from libs.server import load_settings, serve
from services.notifier.settings import DEFAULT_PORT, NotifierSettings


def cmd_serve(args: argparse.Namespace) -> int:
    """Start the service; a bad setting prints one line naming it and exits 2."""
    from services.notifier.app import create_app

    settings: NotifierSettings = load_settings(NotifierSettings.from_env)
    serve(create_app(settings), settings.common, "notifier")
    return 0


def _outbound(keys: Keys) -> str:
    return keys.outbound


def build_parser() -> argparse.ArgumentParser:
    """The command line; each subcommand sets `func`."""
    parser = argparse.ArgumentParser(prog="python -m services.notifier", description=__doc__)
    parser.set_defaults(func=cmd_serve)
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("serve", help="run the service (the default)").set_defaults(func=cmd_serve)
    dead_letters.register(sub, _outbound, service="notifier", default_port=DEFAULT_PORT)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse `argv` and run the chosen command; returns the exit status."""
    args = build_parser().parse_args(argv)
    status: int = args.func(args)
    return status


if __name__ == "__main__":
    raise SystemExit(main())
