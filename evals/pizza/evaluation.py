"""The parser on the PIZZA benchmark's development split: ``make eval-pizza`` (``python -m evals.pizza``).

Reads ``$PIZZA_DIR/PIZZA_dev.json`` and ``$PIZZA_DIR/catalogs`` (default ``../shared/pizza``
next to the repository; the data is CC-BY-NC-4.0 and never copied into it), builds the menu
from the catalogs, parses every order, renders EXR and compares it with the reference by
unordered exact match. Prints accuracy, mismatches grouped by kind, and the median and p99
parse time per message (CPU time of the parsing thread); then the same score on the
development orders with their entities swapped for others from the catalogs (a check of
generality: see ``variants``). Exits 1 when either is below ``--threshold`` (default
:data:`TARGET`), 2 when the data is missing (with where to get it).
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from evals.pizza.exr import Tree, canonical, parse_exr, render_exr
from evals.pizza.menu import build_pizza_menu
from evals.pizza.variants import variants
from services.orders.menu.catalog import Menu, load_menu
from services.orders.understanding.parser import parse_order

__all__ = ["TARGET", "PizzaReport", "evaluate", "mismatch_kinds", "pizza_dir"]

TARGET = 0.95
PIZZA_SOURCE = "https://github.com/amazon-science/pizza-semantic-parsing-dataset"
_REPO = Path(__file__).resolve().parents[2]


class PizzaDataMissing(FileNotFoundError):
    """The benchmark files are not where PIZZA_DIR points."""


def pizza_dir(environ: dict[str, str] | None = None) -> Path:
    """``$PIZZA_DIR``, else ``../shared/pizza`` relative to the repository root."""
    env = os.environ if environ is None else environ
    return Path(env.get("PIZZA_DIR") or _REPO.parent / "shared" / "pizza")


@dataclass(slots=True)
class PizzaReport:
    """Outcome of one run; times are seconds per message."""

    total: int = 0
    correct: int = 0
    times: list[float] = field(default_factory=list)
    kinds: Counter[str] = field(default_factory=Counter)
    mismatches: list[tuple[str, str, str, tuple[str, ...]]] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0

    def percentile(self, q: float) -> float:
        """The q-quantile (0..1) of the parse times, nearest rank."""
        ordered = sorted(self.times)
        if not ordered:
            return 0.0
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _children(tree: Tree) -> list[Tree]:
    return [] if isinstance(tree, str) else list(tree[1])


def _label(tree: Tree) -> str:
    if isinstance(tree, str):
        return tree
    if tree[0] == "NOT":
        inner = _children(tree)
        return f"NOT {_label(inner[0])}" if inner else "NOT"
    return tree[0]


def mismatch_kinds(expected: str, got: str) -> tuple[str, ...]:
    """What differs between two EXR strings: "order count", or the labels of the children
    that differ inside orders paired by their overlap (e.g. "TOPPING", "NOT TOPPING")."""
    want = [canonical(o) for o in _children(parse_exr(expected))]
    have = [canonical(o) for o in _children(parse_exr(got))]
    for order in list(want):
        if order in have:
            want.remove(order)
            have.remove(order)
    if len(want) != len(have):
        return ("order count",)
    kinds: set[str] = set()
    for order in want:
        best = max(have, key=lambda h: len(set(_children(h)) & set(_children(order))))
        have.remove(best)
        if _label(order) != _label(best):
            kinds.add("order kind")
            continue
        a, b = Counter(_children(order)), Counter(_children(best))
        for child in (a - b) + (b - a):
            kinds.add(_label(child))
    return tuple(sorted(kinds))


def load_dev(directory: Path) -> list[tuple[str, str]]:
    """``(message, EXR)`` pairs of the development split; raises PizzaDataMissing."""
    path = directory / "PIZZA_dev.json"
    if not path.is_file() or not (directory / "catalogs").is_dir():
        raise PizzaDataMissing(
            f"PIZZA benchmark data not found in {directory} (expected PIZZA_dev.json and "
            "catalogs/*.txt). It is the development split and entity catalogs of the public PIZZA "
            f"dataset ({PIZZA_SOURCE}, CC BY-NC 4.0, so never copied into this repository); "
            "put them in one directory and set PIZZA_DIR to it"
        )
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            rows.append((str(row["dev.SRC"]), str(row["dev.EXR"])))
    return rows


def benchmark_menu(directory: Path) -> Menu:
    """The menu built from ``directory/catalogs``."""
    return load_menu(build_pizza_menu(directory / "catalogs"))


VARIANT_SEEDS = (1, 2, 3)


def evaluate(directory: Path, *, swapped: bool = False) -> PizzaReport:
    """Parse and score every development order; raises PizzaDataMissing.

    With `swapped`, score the entity-swapped variants of the development orders instead
    (`variants`, three seeds): other toppings, styles and drinks in the same sentences.
    """
    rows = load_dev(directory)
    if swapped:
        rows = [pair for seed in VARIANT_SEEDS for pair in variants(directory, seed=seed)]
    menu = benchmark_menu(directory)
    parse_order(menu, "warm up")  # the menu index is built once, outside the timings
    report = PizzaReport()
    for text, expected in rows:
        # CPU time of this thread: the cost on one core, not the wait for one when the
        # machine is busy with other processes
        start = time.thread_time()
        result = parse_order(menu, text)
        report.times.append(time.thread_time() - start)
        got = render_exr(menu, result)
        report.total += 1
        if canonical(parse_exr(got)) == canonical(parse_exr(expected)):
            report.correct += 1
            continue
        kinds = mismatch_kinds(expected, got)
        report.kinds.update(kinds)
        report.mismatches.append((text, expected, got, kinds))
    return report
