"""Command-line access to the message parser: ``parse`` and ``pizza-menu`` subcommands.

``python -m services.orders parse --menu FILE [--format json|exr]`` reads one message per
stdin line and writes one result per stdout line (JSON per docs/message-parser.md, or the
PIZZA benchmark's EXR). ``python -m services.orders pizza-menu CATALOG_DIR`` prints a menu
file built from the benchmark's catalogs (read at run time; they stay out of the repository).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from services.orders.exr import render_exr
from services.orders.menu.catalog import MenuError, demo_menu_path, load_menu_file
from services.orders.pizza_menu import CatalogError, pizza_menu_yaml
from services.orders.understanding.parser import parse_order

__all__ = ["cmd_parse", "cmd_pizza_menu", "register"]


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
        result = parse_order(menu, raw.rstrip("\n"))
        if args.format == "exr":
            out.write(render_exr(menu, result) + "\n")
        else:
            out.write(json.dumps(result.to_json(), ensure_ascii=False) + "\n")
        out.flush()
    return 0


def cmd_pizza_menu(args: argparse.Namespace) -> int:
    """Print the benchmark menu as YAML; exit 2 when a catalog is missing or unreadable."""
    try:
        sys.stdout.write(pizza_menu_yaml(Path(args.catalog_dir)))
    except OSError as exc:
        print(f"cannot read catalogs in {args.catalog_dir}: {exc}", file=sys.stderr)
        return 2
    except CatalogError as exc:
        print(f"bad catalog line: {exc}", file=sys.stderr)
        return 2
    return 0


def register(subparsers: Any) -> None:
    """Add ``parse`` and ``pizza-menu`` to an argparse subparsers object; each sets ``func``."""
    parse = subparsers.add_parser("parse", help="parse messages from stdin, one result per line on stdout")
    parse.add_argument("--menu", help="menu file (default: the demo store)")
    parse.add_argument("--format", choices=("json", "exr"), default="json")
    parse.set_defaults(func=cmd_parse)
    pizza = subparsers.add_parser(
        "pizza-menu", help="print a menu file built from the PIZZA benchmark catalogs"
    )
    pizza.add_argument("catalog_dir", help="directory holding the catalogs' *.txt files")
    pizza.set_defaults(func=cmd_pizza_menu)
