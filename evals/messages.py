"""Conversation understanding on the labelled messages: ``make eval``.

Parses every message of ``tests/data/conversation_eval.yaml`` (English) and of its Spanish and
Portuguese (Brazil) siblings ``conversation_eval.es.yaml`` and ``conversation_eval.pt-BR.yaml``
against the demo store, in the menu of the file's language (``language:``), and compares the
cart it produces with the labelled one (notation in the English file's header). Prints the
share understood per language and each miss; exits 1 when a language is below :data:`TARGET`.
These are the developers' own sets; the held-out dialogues are in evals/dialogues.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from services.orders.menu.catalog import ChosenOption, Menu, demo_menu_path, load_menu_file
from services.orders.understanding.parser import ParseResult, parse_order

__all__ = ["TARGET", "EvalReport", "cart_of", "default_cases_path", "evaluate", "expected_cart"]

TARGET = 0.95
_REPO = Path(__file__).resolve().parents[1]


def default_cases_path() -> Path:
    """The labelled English set shipped with the tests."""
    return _REPO / "tests" / "data" / "conversation_eval.yaml"


def language_cases_paths() -> list[Path]:
    """Every labelled set: English, then each other language's (`conversation_eval.<lang>.yaml`)."""
    return [default_cases_path(), *sorted((_REPO / "tests" / "data").glob("conversation_eval.*.yaml"))]


def _option(text: str) -> ChosenOption:
    group, _, rest = text.partition("=")
    option, _, qualifier = rest.partition(":")
    return ChosenOption(group, option, qualifier or None)


def _canon_options(options: Any) -> tuple[str, ...]:
    return tuple(
        sorted(f"{o.group}={o.option}" + (f":{o.qualifier}" if o.qualifier else "") for o in options)
    )


def expected_cart(lines: list[str]) -> Counter[str]:
    """The labelled cart as a multiset of canonical line strings."""
    out: Counter[str] = Counter()
    for raw in lines:
        text = raw.strip()
        if text.startswith(("?", "!")):
            kind, rest = text[0], text[1:]
            out[kind + "|".join(sorted(rest.split("|"))) if kind == "?" else kind + rest] += 1
            continue
        words = text.split()
        head: list[str]
        if words[0] == "*":
            head, words = ["*"], words[1:]
        else:
            head, words = [words[0], words[1]], words[2:]
        options, excluded, unknown, notes = [], [], [], []
        rest_words: list[str] = []
        # notes may have spaces: everything after a '#' up to the next marker is one note
        for word in words:
            if (
                rest_words
                and rest_words[-1].startswith("#")
                and not word.startswith(("#", "~", "-"))
                and "=" not in word
            ):
                rest_words[-1] += f" {word}"
            else:
                rest_words.append(word)
        for word in rest_words:
            if word.startswith("#"):
                notes.append(word[1:])
            elif word.startswith("~"):
                unknown.append(word[1:])
            elif word.startswith("-"):
                excluded.append(_option(word[1:]))
            else:
                options.append(_option(word))
        out[_line_key(head, options, excluded, unknown, notes)] += 1
    return out


def _line_key(
    head: list[str],
    options: Any,
    excluded: Any,
    unknown: list[str],
    notes: list[str],
) -> str:
    return " ".join(
        [
            *head,
            *_canon_options(options),
            *(f"-{x}" for x in _canon_options(excluded)),
            *sorted(f"~{u}" for u in unknown),
            *sorted(f"#{n}" for n in notes),
        ]
    )


def cart_of(result: ParseResult, labelled: Counter[str]) -> Counter[str]:
    """The parsed cart in the same notation. Questions are compared by "at least these
    candidates" and notes/unknown options only where the label mentions any, so the
    notation stays short."""
    wants_detail = any("#" in k or "~" in k for k in labelled)
    out: Counter[str] = Counter()
    for line in result.lines:
        unknown = [("-" if u.excluded else "") + u.phrase for u in line.unknown_options]
        notes = list(line.notes) if wants_detail else []
        out[
            _line_key(
                [str(line.quantity), line.item],
                line.options,
                line.excluded,
                unknown if wants_detail or unknown else [],
                notes,
            )
        ] += 1
    for amb in result.ambiguous:
        candidates = set(amb.candidates)
        match = next(
            (k for k in labelled if k.startswith("?") and set(k[1:].split("|")) <= candidates),
            None,
        )
        out[match or "?" + "|".join(sorted(candidates))] += 1
    for miss in result.unmatched:
        out["!" + miss.phrase] += 1
    mods = result.modifiers
    if mods is not None and (mods.options or mods.excluded):
        out[_line_key(["*"], mods.options, mods.excluded, [], [])] += 1
    return out


@dataclass(slots=True)
class EvalReport:
    """How many labelled messages produced exactly the labelled cart."""

    total: int = 0
    correct: int = 0
    misses: list[tuple[str, list[str], list[str]]] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0


def load_cases(path: Path) -> list[tuple[str, list[str]]]:
    """``(message, labelled cart lines)`` from the YAML file."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [(str(c["say"]), [str(x) for x in c.get("cart") or []]) for c in data["cases"]]


def language_of(path: Path) -> str:
    """The language a labelled file is written in (its `language:`, English when absent)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return str(data.get("language") or "en")


def evaluate(path: Path | None = None, menu: Menu | None = None) -> EvalReport:
    """Score every labelled message against the demo menu (or ``menu``), in the menu of the
    file's language."""
    path = path or default_cases_path()
    menu = (menu or load_menu_file(demo_menu_path())).localized(language_of(path))
    report = EvalReport()
    for text, cart in load_cases(path):
        labelled = expected_cart(cart)
        got = cart_of(parse_order(menu, text), labelled)
        report.total += 1
        if got == labelled:
            report.correct += 1
        else:
            report.misses.append((text, sorted(labelled.elements()), sorted(got.elements())))
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.messages")
    parser.add_argument("--cases", type=Path, default=None, help="labelled YAML file")
    args = parser.parse_args(argv)
    failed = False
    for path in [args.cases] if args.cases else language_cases_paths():
        report = evaluate(path)
        name = language_of(path)
        print(
            f"conversation eval [{name}]: {report.correct}/{report.total} understood = {report.accuracy:.1%}"
        )
        for text, want, got in report.misses:
            print(f"- {text!r}\n    expected {want}\n    got      {got}")
        failed = failed or report.accuracy < TARGET
    if failed:
        print(f"FAIL: below the {TARGET:.0%} target")
        return 1
    print(f"OK: at or above the {TARGET:.0%} target")
    return 0


if __name__ == "__main__":
    sys.exit(main())
