"""Command-line access to the message parser: the ``parse`` subcommand.

``python -m services.orders parse [--menu FILE]`` reads one message per stdin line and writes
one JSON result per stdout line (docs/message-parser.md). The PIZZA benchmark's EXR output and
its menu builder live outside the service: ``python -m evals.pizza parse|menu``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from services.orders.menu.catalog import MenuError, demo_menu_path, load_menu_file
from services.orders.understanding.parser import parse_order

__all__ = ["cmd_parse", "register"]


def cmd_parse(args: argparse.Namespace) -> int:
    """Parse stdin line by line; exit 2 when the menu file cannot be used."""
    path = Path(args.menu) if args.menu else demo_menu_path()
    try:
        menu = load_menu_file(path)
    except OSError as exc:
        print(f"cannot read {path}: {exc.strerror}", file=sys.stderr)
        return 2
    except MenuError as exc:
        print(f"invalid menu {path.name}: {exc}", file=sys.stderr)
        return 2
    out = sys.stdout
    for raw in sys.stdin:
        out.write(json.dumps(parse_order(menu, raw.rstrip("\n")).to_json(), ensure_ascii=False) + "\n")
        out.flush()
    return 0


def register(subparsers: Any) -> None:
    """Add ``parse`` to an argparse subparsers object; it sets ``func``."""
    parse = subparsers.add_parser("parse", help="parse messages from stdin, one result per line on stdout")
    parse.add_argument("--menu", help="menu file (default: the demo store)")
    parse.set_defaults(func=cmd_parse)
