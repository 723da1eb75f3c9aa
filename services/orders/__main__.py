"""`python -m services.orders [serve | migrate | load-menu | parse | dead-letters]`; no command serves.

| command | what |
|---|---|
| `serve` | run the service until SIGTERM (the default) |
| `migrate` | apply pending database migrations (safe from two replicas at once) |
| `load-menu --demo` / `load-menu FILE` | load the demo store / a menu file (docs/menu-format.md) |
| `parse [--menu FILE]` | one JSON parse result per stdin line (docs/message-parser.md) |
| `dead-letters list\\|replay\\|drop` | the inbound stream's dead letters (libs/dead_letters.py) |
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from libs import dead_letters, logs
from libs.errors import SettingsError
from libs.messages import Keys
from libs.server import load_settings, serve
from services.orders.settings import DEFAULT_PORT, OrdersSettings, database_url

if TYPE_CHECKING:
    from services.orders.menu.catalog import Menu
    from services.orders.understanding.parser import ParseResult

Command = Callable[[argparse.Namespace], int]


def _database_url() -> str:
    try:
        return database_url(os.environ)
    except SettingsError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def cmd_serve(args: argparse.Namespace) -> int:
    """Run the orders service until SIGTERM, its connections bounded like ingress' (header and
    body deadlines, caps in total and per client address: libs.connection_limits)."""
    from services.orders.app import create_app

    settings: OrdersSettings = load_settings(OrdersSettings.from_env)
    serve(create_app(settings), settings.common, "orders", limits=settings.connections)
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    """Apply pending migrations (safe to run from two replicas at once)."""
    import psycopg

    from services.orders.storage.migrations import apply_migrations

    logs.configure("orders", os.environ.get("LOG_LEVEL", "INFO").upper())
    with psycopg.connect(_database_url(), autocommit=True, connect_timeout=10) as conn:
        applied = apply_migrations(conn)
    print(f"migrations applied: {', '.join(applied) if applied else 'none (up to date)'}")
    return 0


def cmd_load_menu(args: argparse.Namespace) -> int:
    """Load a menu file (or the demo store) into the database."""
    from psycopg import AsyncConnection
    from psycopg.rows import dict_row

    from services.orders.menu.catalog import MenuError, demo_menu_path
    from services.orders.menu.files import read_menu_document
    from services.orders.storage.stores import load_menu_into_db

    path = demo_menu_path() if args.demo else Path(args.file)
    try:
        document = read_menu_document(path.read_text(encoding="utf-8"))
    except OSError as exc:
        print(f"cannot read {path}: {exc.strerror}", file=sys.stderr)
        return 2
    except MenuError as exc:
        print(f"invalid menu {path.name}: {exc}", file=sys.stderr)
        return 2

    async def load() -> tuple[int, int]:
        async with await AsyncConnection.connect(_database_url(), row_factory=dict_row) as conn:
            async with conn.transaction():
                store_id, menu = await load_menu_into_db(conn, document)
            return store_id, sum(1 for _ in menu.items())

    try:
        store_id, count = asyncio.run(load())
    except MenuError as exc:
        print(f"invalid menu {path.name}: {exc}", file=sys.stderr)
        return 2
    print(f"menu loaded: store {store_id} with {count} items from {path.name}")
    return 0


def _json_line(menu: Menu, result: ParseResult) -> str:
    return json.dumps(result.to_json(), ensure_ascii=False)


def cmd_parse(args: argparse.Namespace, render: Callable[[Menu, ParseResult], str] = _json_line) -> int:
    """Parse stdin line by line, one `render`ed result per stdout line (default: JSON, docs/
    message-parser.md); exit 2 when the `--menu` file (default: the demo store) cannot be used.
    `python -m evals.pizza parse` renders the PIZZA benchmark's EXR with it."""
    from services.orders.menu.catalog import MenuError, demo_menu_path, load_menu_file
    from services.orders.understanding.parser import parse_order

    path = Path(args.menu) if args.menu else demo_menu_path()
    try:
        menu = load_menu_file(path)
    except (OSError, MenuError) as exc:
        print(f"cannot use the menu {path}: {exc}", file=sys.stderr)
        return 2
    for raw in sys.stdin:
        sys.stdout.write(render(menu, parse_order(menu, raw.rstrip("\n"))) + "\n")
        sys.stdout.flush()
    return 0


def _inbound(keys: Keys) -> str:
    return keys.inbound


def build_parser() -> argparse.ArgumentParser:
    """The command line: one subcommand per row of the table in the module docstring."""
    parser = argparse.ArgumentParser(
        prog="python -m services.orders", description=__doc__.split("\n\n")[0] if __doc__ else None
    )
    parser.set_defaults(func=cmd_serve)
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("serve", help="run the service (the default)").set_defaults(func=cmd_serve)
    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)
    load = sub.add_parser("load-menu", help="load a menu file into the database")
    group = load.add_mutually_exclusive_group(required=True)
    group.add_argument("--demo", action="store_true", help="load the demo pizzeria")
    group.add_argument("file", nargs="?", help="path of a YAML menu file (docs/menu-format.md)")
    load.set_defaults(func=cmd_load_menu)
    parse = sub.add_parser("parse", help="parse messages from stdin, one JSON result per line on stdout")
    parse.add_argument("--menu", help="menu file (default: the demo store)")
    parse.set_defaults(func=cmd_parse)
    dead_letters.register(sub, _inbound, service="orders", default_port=DEFAULT_PORT)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse `argv` and run the chosen command; returns the exit status."""
    args = build_parser().parse_args(argv)
    func: Command = args.func
    return func(args)


if __name__ == "__main__":
    raise SystemExit(main())
