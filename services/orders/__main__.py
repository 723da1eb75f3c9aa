"""`python -m services.orders [migrate | load-menu (--demo | FILE) | …]`; no command runs the service."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Callable
from pathlib import Path

from libs import logs
from libs.errors import SettingsError
from libs.server import load_settings, serve
from services.orders.settings import OrdersSettings

Command = Callable[[argparse.Namespace], int]


def _database_url() -> str:
    from libs.settings import env_url

    try:
        return env_url(
            os.environ,
            "DATABASE_URL",
            "postgresql://postgres@127.0.0.1:5432/postgres",
            schemes=("postgresql", "postgres"),
        )
    except SettingsError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def cmd_serve(args: argparse.Namespace) -> int:
    """Run the orders service until SIGTERM."""
    settings: OrdersSettings = load_settings(OrdersSettings.from_env)
    from services.orders.app import create_app
    from services.orders.web.dashboard import dashboard_lifespan, dashboard_routes
    from services.orders.web.staff_api import staff_routes

    routes = [*staff_routes(settings), *dashboard_routes(settings)]
    serve(create_app(settings, routes, extensions=[dashboard_lifespan]), settings.common, "orders")
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


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface; each subcommand sets `func`."""
    parser = argparse.ArgumentParser(prog="python -m services.orders", description=__doc__)
    parser.set_defaults(func=cmd_serve)
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("serve", help="run the service (the default)").set_defaults(func=cmd_serve)
    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)
    load = sub.add_parser("load-menu", help="load a menu file into the database")
    group = load.add_mutually_exclusive_group(required=True)
    group.add_argument("--demo", action="store_true", help="load the demo pizzeria")
    group.add_argument("file", nargs="?", help="path of a YAML menu file (docs/menu-format.md)")
    load.set_defaults(func=cmd_load_menu)
    for register in _plugins():
        register(sub)
    return parser


def _plugins() -> list[Callable[[argparse._SubParsersAction[argparse.ArgumentParser]], None]]:
    """Subcommands defined next to the code they run."""
    import importlib

    found = []
    for name in ("services.orders.cli_parse", "services.orders.cli_dead_letters"):
        try:
            found.append(importlib.import_module(name).register)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
    return found


def main(argv: list[str] | None = None) -> int:
    """Parse `argv` and run the chosen command; returns the exit status."""
    args = build_parser().parse_args(argv)
    func: Command = args.func
    return func(args)


if __name__ == "__main__":
    raise SystemExit(main())
