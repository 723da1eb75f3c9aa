"""`python -m services.orders dead-letters ...`: the inbound stream's dead letters (libs.dead_letters)."""

from __future__ import annotations

import argparse

from libs import dead_letters
from libs.messages import Keys


def _inbound(keys: Keys) -> str:
    return keys.inbound


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `dead-letters` subcommand for `Keys.inbound`, the stream orders consumes."""
    dead_letters.register(subparsers, _inbound, service="orders", default_port=8001)
