"""`make eval-pizza`: `python -m evals.pizza [--show N] [--threshold X] | menu DIR | parse [--menu FILE]`.

With no subcommand it scores the parser on the development split (evaluation.py) and exits 1
below `--threshold` (default 95%), 2 when the data is missing. `menu CATALOG_DIR` prints the menu file built
from the benchmark's catalogs; `parse` reads one message per stdin line and writes its EXR tree
per stdout line against `--menu` (default: the demo store).
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

from evals.pizza.evaluation import TARGET, PizzaDataMissing, evaluate, pizza_dir
from evals.pizza.exr import render_exr
from evals.pizza.menu import CatalogError, pizza_menu_yaml
from services.orders import __main__ as orders_cli


def cmd_evaluate(args: argparse.Namespace) -> int:
    """Score the development split, then its entity-swapped variants; print the misses. Exit 1
    when either share is below `--threshold`, 2 when the data is missing."""
    target: float = args.threshold
    directory = pizza_dir()
    try:
        report = evaluate(directory)
    except PizzaDataMissing as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"PIZZA dev: {report.correct}/{report.total} exact match = {report.accuracy:.1%}")
    print(
        f"parse time per message (CPU): median {statistics.median(report.times) * 1000:.3f} ms, "
        f"p99 {report.percentile(0.99) * 1000:.3f} ms"
    )
    if report.kinds:
        print("mismatches by kind:")
        for kind, count in report.kinds.most_common():
            print(f"  {kind}: {count}")
    for text, expected, got, kinds in report.mismatches[: args.show]:
        print(f"- {text}\n    expected {expected}\n    got      {got}\n    differs  {kinds}")
    swapped = evaluate(directory, swapped=True)
    print(
        f"dev orders with other toppings, styles and drinks swapped in: {swapped.correct}/"
        f"{swapped.total} = {swapped.accuracy:.1%}"
    )
    for text, expected, got, kinds in swapped.mismatches[: args.show]:
        print(f"- {text}\n    expected {expected}\n    got      {got}\n    differs  {kinds}")
    if report.accuracy < target or swapped.accuracy < target:
        print(f"FAIL: below the {target:.0%} target")
        return 1
    print(f"OK: at or above the {target:.0%} target")
    return 0


def cmd_menu(args: argparse.Namespace) -> int:
    """Print the benchmark menu as YAML; exit 2 when a catalog is missing or unreadable."""
    try:
        sys.stdout.write(pizza_menu_yaml(Path(args.catalog_dir)))
    except (OSError, CatalogError) as exc:
        print(f"cannot build the menu from {args.catalog_dir}: {exc}", file=sys.stderr)
        return 2
    return 0


def cmd_parse(args: argparse.Namespace) -> int:
    """The service's `parse` subcommand, writing EXR trees instead of JSON."""
    return orders_cli.cmd_parse(args, render=render_exr)


def main(argv: list[str] | None = None) -> int:
    """Parse `argv` and run the chosen command; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m evals.pizza", description=__doc__)
    parser.add_argument("--show", type=int, default=20, help="mismatches to print")
    parser.add_argument(
        "--threshold", type=float, default=TARGET, help="fail below this exact-match share (0..1)"
    )
    parser.set_defaults(func=cmd_evaluate)
    sub = parser.add_subparsers(dest="command")
    menu = sub.add_parser("menu", help="print a menu file built from the benchmark's catalogs")
    menu.add_argument("catalog_dir", help="directory holding the catalogs' *.txt files")
    menu.set_defaults(func=cmd_menu)
    parse = sub.add_parser("parse", help="EXR of each stdin line, one per stdout line")
    parse.add_argument("--menu", help="menu file (default: the demo store)")
    parse.set_defaults(func=cmd_parse)
    args = parser.parse_args(argv)
    status: int = args.func(args)
    return status


if __name__ == "__main__":
    raise SystemExit(main())
