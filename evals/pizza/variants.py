"""Development orders with their entities swapped: a check that the parser generalises.

The development split is what the parser was tuned on, so its score says little about orders
with other toppings and drinks. Each variant here takes one development order and replaces
every topping, style and drink type it names with another entry of the benchmark's own
catalogs (a different value, not already in that order, in one of its catalog spellings),
rewriting the message from the word-aligned TOP tree and the meaning in EXR alike. The
variants are generated at run time from the data (never stored: CC-BY-NC-4.0) with a fixed
seed, so the figure is reproducible.
"""

from __future__ import annotations

import json
import random
import re
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

from evals.pizza.menu import read_catalog

# TOP label -> (catalog file, EXR label); only entities whose value a swap can change.
SWAPPABLE = {
    "TOPPING": ("topping.txt", "TOPPING"),
    "STYLE": ("style.txt", "STYLE"),
    "DRINKTYPE": ("drinks.txt", "DRINKTYPE"),
}
_TOKEN = re.compile(r"\(|\)|[^\s()]+")


def _surfaces(catalogs: Path) -> tuple[dict[str, dict[str, str]], dict[str, dict[str, list[str]]]]:
    """Per label: surface form -> value, and value -> its surface forms."""
    to_value: dict[str, dict[str, str]] = {}
    to_forms: dict[str, dict[str, list[str]]] = {}
    for label, (file_name, _exr) in SWAPPABLE.items():
        forms: dict[str, list[str]] = defaultdict(list)
        values: dict[str, str] = {}
        for surface, _kind, value in read_catalog(catalogs / file_name):
            values[surface.lower()] = value
            forms[value].append(surface)
        to_value[label], to_forms[label] = values, dict(forms)
    return to_value, to_forms


def _spans(top: str) -> list[tuple[str | None, str]]:
    """The TOP tree's words in order, each with the innermost swappable label over it (or None)."""
    out: list[tuple[str | None, str]] = []
    stack: list[str] = []
    expect_label = False
    for part in _TOKEN.findall(top):
        if part == "(":
            expect_label = True
        elif part == ")":
            if stack:
                stack.pop()
        elif expect_label:
            stack.append(part)
            expect_label = False
        else:
            label = next((s for s in reversed(stack) if s in SWAPPABLE), None)
            out.append((label, part))
    return out


def variants(directory: Path, *, seed: int = 7) -> Iterator[tuple[str, str]]:
    """(message, EXR) pairs: every development order with its swappable entities replaced."""
    to_value, to_forms = _surfaces(directory / "catalogs")
    rng = random.Random(seed)
    for line in (directory / "PIZZA_dev.json").read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        words = _spans(row["dev.TOP"])
        exr: str = row["dev.EXR"]
        # Group consecutive words under one label into a mention.
        mentions: list[tuple[str | None, str]] = []
        for label, word in words:
            if label and mentions and mentions[-1][0] == label:
                mentions[-1] = (label, f"{mentions[-1][1]} {word}")
            else:
                mentions.append((label, word))
        used: dict[str, set[str]] = defaultdict(set)
        for label, text in mentions:
            if label:
                used[label].add(to_value[label].get(text.lower(), ""))
        chosen: dict[tuple[str, str], tuple[str, str]] = {}
        out_words: list[str] = []
        ok = True
        for label, text in mentions:
            if not label:
                out_words.append(text)
                continue
            old = to_value[label].get(text.lower())
            if old is None:
                ok = False
                break
            if (label, old) not in chosen:
                pool = sorted(v for v in to_forms[label] if v not in used[label])
                if not pool:
                    ok = False
                    break
                new = rng.choice(pool)
                used[label].add(new)
                chosen[(label, old)] = (new, rng.choice(sorted(to_forms[label][new])))
            _new_value, new_surface = chosen[(label, old)]
            out_words.append(new_surface)
        if not ok:
            continue
        for (label, old), (new, _surface) in chosen.items():
            exr_label = SWAPPABLE[label][1]
            exr = exr.replace(f"({exr_label} {old} )", f"({exr_label} {new} )")
        yield " ".join(out_words), exr
