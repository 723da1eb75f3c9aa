"""The PIZZA benchmark's EXR tree notation: rendering parse results, reading and comparing trees.

EXR (Arkoudas et al., arXiv 2212.00265) writes an order as
``(ORDER (PIZZAORDER (NUMBER 2 ) (SIZE LARGE ) (TOPPING HAM ) (NOT (TOPPING OLIVES ) ) ) ...)``.
The benchmark's metric is unordered exact match: two trees are equal when every node has
the same label and the same multiset of children, in any order (:func:`same_tree`).

Rendering follows the menu built by ``python -m evals.pizza menu`` (evals/pizza/menu.py): an item of
kind ``pizza`` is a PIZZAORDER, an item of kind ``drink`` a DRINKORDER whose DRINKTYPE is the
item code; option groups map to node labels by :data:`GROUP_LABELS`; option codes are written
upper case with ``_`` for ``-``; a qualified option is a COMPLEX_TOPPING; an excluded one is
wrapped in NOT. Lines of other kinds, questions and unmatched phrases are not rendered.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TypeAlias

from services.orders.menu.catalog import ChosenOption, Menu
from services.orders.understanding.parser import ParseResult

__all__ = ["GROUP_LABELS", "Tree", "canonical", "parse_exr", "render_exr", "same_tree"]

GROUP_LABELS: Mapping[str, str] = {
    "size": "SIZE",
    "drink-size": "SIZE",
    "style": "STYLE",
    "crust": "STYLE",
    "toppings": "TOPPING",
    "container": "CONTAINERTYPE",
    "volume": "VOLUME",
}
_QUANTITY = {"light": "LIGHT", "extra": "EXTRA", "double": "EXTRA", "triple": "EXTRA"}

# A node is (label, children); a leaf is a plain string.
Tree: TypeAlias = "str | tuple[str, tuple[Tree, ...]]"

_TOKEN_RE = re.compile(r"\(|\)|[^\s()]+")


class ExrError(ValueError):
    """Text that is not a well-formed EXR tree."""


def _value(group: str, option: str) -> str:
    if group == "volume" and "-" in option:
        amount, unit = option.rsplit("-", 1)
        return f"{amount} {unit.upper()}"
    return option.upper().replace("-", "_")


def _option_node(choice: ChosenOption) -> str | None:
    label = GROUP_LABELS.get(choice.group)
    if label is None:
        return None
    node = f"({label} {_value(choice.group, choice.option)} )"
    if choice.qualifier and label == "TOPPING":
        node = f"(COMPLEX_TOPPING (QUANTITY {_QUANTITY[choice.qualifier]} ) {node} )"
    return node


def render_exr(menu: Menu, result: ParseResult) -> str:
    """The EXR string of a result's lines, e.g. ``(ORDER (PIZZAORDER (NUMBER 1 ) ) )``."""
    orders = []
    for line in result.lines:
        item = menu.item(line.item)
        if item is None or item.kind == "other":
            continue
        parts = [f"(NUMBER {line.quantity} )"]
        if item.kind == "drink":
            parts.append(f"(DRINKTYPE {line.item.upper().replace('-', '_')} )")
        for choice in line.options:
            node = _option_node(choice)
            if node is not None:
                parts.append(node)
        for choice in line.excluded:
            node = _option_node(choice)
            if node is not None:
                parts.append(f"(NOT {node} )")
        label = "PIZZAORDER" if item.kind == "pizza" else "DRINKORDER"
        orders.append(f"({label} {' '.join(parts)} )")
    return f"(ORDER {' '.join(orders)} )" if orders else "(ORDER )"


def parse_exr(text: str) -> Tree:
    """Read an EXR string into nested ``(label, children)`` tuples; raises ExrError."""
    tokens: list[str] = _TOKEN_RE.findall(text)
    pos = 0

    def node() -> Tree:
        nonlocal pos
        if pos >= len(tokens):
            raise ExrError("unexpected end of tree")
        tok = tokens[pos]
        pos += 1
        if tok == ")":
            raise ExrError("unexpected ')'")
        if tok != "(":
            return tok
        if pos >= len(tokens) or tokens[pos] in "()":
            raise ExrError("a node needs a label")
        label = tokens[pos]
        pos += 1
        children: list[Tree] = []
        while True:
            if pos >= len(tokens):
                raise ExrError(f"unclosed ({label}")
            if tokens[pos] == ")":
                pos += 1
                return (label, tuple(children))
            children.append(node())

    tree: Tree = node()
    if pos != len(tokens):
        raise ExrError("text after the tree")
    return tree


def canonical(tree: Tree) -> Tree:
    """The tree with children sorted at every level, so equal trees compare equal."""
    if isinstance(tree, str):
        return tree
    label, children = tree
    return (label, tuple(sorted((canonical(c) for c in children), key=repr)))


def same_tree(a: str, b: str) -> bool:
    """Unordered exact match of two EXR strings (the benchmark's metric)."""
    return canonical(parse_exr(a)) == canonical(parse_exr(b))
