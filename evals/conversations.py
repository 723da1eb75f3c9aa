"""Multi-turn conversations on the labelled dialogues: part of ``make eval``.

Plays every dialogue of ``evals/dialogues/*.yaml`` (format in that folder's README.md) through
the real conversation (the orders service's inbound handler, in-process, on a real PostgreSQL
database made for the run and dropped after it), each as a new customer, and scores it:

- **understood**: the cart after the last turn is the labelled one (lines compared in any
  order, identical lines merged, options equal to their group's default ignored) and, when the
  dialogue names an ``answer``, one of the bot's replies to the last turn is of that kind (the
  kind each reply is tagged with: the outbox row's ``purpose`` ``reply:<kind>``);
- **wrong cart**: the cart after the last turn is not the labelled one, and the bot did not
  stop to ask instead (a reply of kind ``ask`` that left the cart as it was). That is the
  mistake a restaurant cannot afford: a cart the customer did not ask for.

Prints, per file, the share understood by category, overall, the wrong-cart rate, and each
miss. Exits 1 when a file is below :data:`TARGET` or above :data:`WRONG_CART_LIMIT`.
The database comes from ``EVAL_DATABASE_URL`` (default: the local server the tests use).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import sys
import uuid
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
import yaml
from psycopg import sql

from services.orders.menu.catalog import Menu, demo_menu_path, load_menu_file

if TYPE_CHECKING:
    from tests.orders.chat import DirectChat

TARGET = 0.95
WRONG_CART_LIMIT = 0.01
DIALOGUES_DIR = Path(__file__).resolve().parent / "dialogues"
ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
# A weekday noon in the demo store's zone: open, so checkout works.
NOON = dt.datetime(2026, 3, 4, 17, 0, tzinfo=dt.UTC)
CONCURRENCY = 8

__all__ = ["TARGET", "WRONG_CART_LIMIT", "Dialogue", "FileReport", "canonical_cart", "load_dialogues", "play"]


@dataclass(frozen=True, slots=True)
class Dialogue:
    """One labelled dialogue: the customer's turns, the cart expected after them (lines in
    the README's notation), and the kind of answer the last turn must get (or None)."""

    category: str
    turns: tuple[str, ...]
    cart: tuple[str, ...]
    answer: str | None = None
    note: str = ""


@dataclass(slots=True)
class Outcome:
    """What one dialogue did: the carts before and after its last turn, the kinds of the
    replies to the last turn, and the texts of those replies."""

    index: int
    dialogue: Dialogue
    cart: Counter[str]
    before: Counter[str]
    kinds: list[str]
    replies: list[str]
    expected: Counter[str]

    @property
    def cart_ok(self) -> bool:
        return self.cart == self.expected

    @property
    def understood(self) -> bool:
        return self.cart_ok and (self.dialogue.answer is None or self.dialogue.answer in self.kinds)

    @property
    def wrong_cart(self) -> bool:
        asked_instead = "ask" in self.kinds and self.cart == self.before
        return not self.cart_ok and not asked_instead


@dataclass(slots=True)
class FileReport:
    """The outcomes of one file of dialogues."""

    name: str
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.outcomes)

    @property
    def accuracy(self) -> float:
        return sum(o.understood for o in self.outcomes) / self.total if self.total else 0.0

    @property
    def wrong_cart_rate(self) -> float:
        return sum(o.wrong_cart for o in self.outcomes) / self.total if self.total else 0.0

    def by_category(self) -> dict[str, tuple[int, int]]:
        """category -> (understood, total)."""
        out: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for o in self.outcomes:
            out[o.dialogue.category][0] += o.understood
            out[o.dialogue.category][1] += 1
        return {k: (v[0], v[1]) for k, v in sorted(out.items())}


def load_dialogues(path: Path) -> list[Dialogue]:
    """The dialogues of one YAML file; raises ValueError on a malformed entry."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    out = []
    for i, raw in enumerate(data.get("dialogues") or []):
        turns = raw.get("turns")
        if not isinstance(turns, list) or not turns:
            raise ValueError(f"{path.name}: dialogue {i + 1} has no turns")
        out.append(
            Dialogue(
                category=str(raw["category"]),
                turns=tuple(str(t) for t in turns),
                cart=tuple(str(x) for x in raw.get("cart") or []),
                answer=str(raw["answer"]) if raw.get("answer") else None,
                note=str(raw.get("note") or ""),
            )
        )
    return out


def _labelled_line(text: str) -> tuple[str, int, tuple[str, ...]]:
    words = text.split()
    quantity, item, rest = int(words[0]), words[1], words[2:]
    return item, quantity, tuple(sorted(rest))


def canonical_cart(lines: Iterable[tuple[str, int, tuple[str, ...]]], menu: Menu) -> Counter[str]:
    """`(item, quantity, option words)` lines as a multiset of "ITEM opt -excl" keys, counted by
    quantity: identical lines merge and options equal to their group's default are dropped."""
    out: Counter[str] = Counter()
    for item, quantity, words in lines:
        kept = []
        for word in words:
            group_code, _, option = word.lstrip("-").partition("=")
            group = menu.group(group_code)
            if not word.startswith("-") and group is not None and group.default == option.partition(":")[0]:
                continue
            kept.append(word)
        out[" ".join([item, *sorted(kept)])] += quantity
    return out


def expected_cart(dialogue: Dialogue, menu: Menu) -> Counter[str]:
    """The labelled cart of `dialogue` in canonical form."""
    return canonical_cart((_labelled_line(x) for x in dialogue.cart), menu)


def _cart_words(menu: Menu, row: dict[str, Any]) -> tuple[str, int, tuple[str, ...]]:
    """A cart_lines row as (item, quantity, option words); excluded names map back to codes."""
    words = [
        f"{o['group']}={o['option']}" + (f":{o['qualifier']}" if o.get("qualifier") else "")
        for o in row["options"]
    ]
    # Excluded options are kept by name, in the customer's language ("sin Piña"): any language
    # of the store names the option.
    named: dict[str, str] = {}
    for locale in menu.store.languages:
        localized = menu.localized(locale)
        item = localized.item(row["item_code"])
        for g in localized.groups_of(item) if item is not None else []:
            for o in g.options:
                named.setdefault(o.name.lower(), f"-{g.code}={o.code}")
    for name in row["excluded"]:
        words.append(named.get(str(name).lower(), f"-?={name}"))
    return row["item_code"], int(row["quantity"]), tuple(words)


CART_LINES = (
    "SELECT l.item_code, l.quantity, l.options, l.excluded FROM cart_lines l"
    " JOIN customers c ON c.id = l.customer_id WHERE c.address = %s ORDER BY l.position"
)


async def cart_of(chat: DirectChat, menu: Menu, customer: str) -> Counter[str]:
    """The customer's cart now, in canonical form (`canonical_cart`)."""
    rows = await chat.sql(CART_LINES, customer)
    return canonical_cart((_cart_words(menu, r) for r in rows), menu)


async def play_turns(
    chat: DirectChat, menu: Menu, turns: Sequence[str], customer: str
) -> tuple[Counter[str], Counter[str], list[tuple[str, str]]]:
    """Say every turn but the last as `customer`, then the last: (the cart before the last
    turn, the cart after it, the last turn's replies as (kind, text))."""
    for turn in turns[:-1]:
        await chat.say(turn, customer=customer)
    before = await cart_of(chat, menu, customer)
    replies = await chat.replies(turns[-1], customer=customer)
    return before, await cart_of(chat, menu, customer), replies


@asynccontextmanager
async def eval_database(admin_dsn: str) -> AsyncIterator[str]:
    """A migrated database of this run's own on `admin_dsn`'s server; dropped afterwards."""
    from services.orders.storage.migrations import apply_migrations

    name = f"wa_eval_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = urlunsplit(urlsplit(admin_dsn)._replace(path=f"/{name}"))
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            apply_migrations(conn)
        yield url
    finally:
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


async def play(files: list[Path], admin_dsn: str) -> list[FileReport]:
    """Play every dialogue of `files`; one report per file."""
    from tests.orders.chat import direct_chat

    menu = load_menu_file(demo_menu_path())
    reports = [FileReport(path.stem) for path in files]
    async with eval_database(admin_dsn) as url, direct_chat(url, start=NOON) as chat:
        gate = asyncio.Semaphore(CONCURRENCY)

        async def one(report: FileReport, index: int, dialogue: Dialogue, n: int) -> None:
            async with gate:
                before, after, replies = await play_turns(
                    chat, menu, dialogue.turns, f"whatsapp:+1999{n:07d}"
                )
            report.outcomes.append(
                Outcome(
                    index,
                    dialogue,
                    after,
                    before,
                    [kind for kind, _ in replies],
                    [body for _, body in replies],
                    expected_cart(dialogue, menu),
                )
            )

        jobs = []
        n = 0
        for report, path in zip(reports, files, strict=True):
            for index, dialogue in enumerate(load_dialogues(path)):
                n += 1
                jobs.append(one(report, index, dialogue, n))
        await asyncio.gather(*jobs)
    for report in reports:
        report.outcomes.sort(key=lambda o: o.index)
    return reports


def print_table(reports: list[FileReport]) -> None:
    """Understood per category for every file side by side, then overall and wrong-cart."""
    categories = sorted({c for r in reports for c in r.by_category()})
    width = max(12, *(len(r.name) for r in reports)) + 2
    print("category".ljust(16) + "".join(r.name.rjust(width) for r in reports))
    for category in categories:
        cells = []
        for r in reports:
            ok, total = r.by_category().get(category, (0, 0))
            cells.append((f"{ok}/{total} {ok / total:.0%}" if total else "-").rjust(width))
        print(category.ljust(16) + "".join(cells))
    print("overall".ljust(16) + "".join(f"{r.accuracy:.1%} of {r.total}".rjust(width) for r in reports))
    print(
        "wrong cart".ljust(16)
        + "".join(
            f"{sum(o.wrong_cart for o in r.outcomes)} = {r.wrong_cart_rate:.1%}".rjust(width) for r in reports
        )
    )


# Written by people told only the menu and the categories and never tuned on: their misses are
# not printed unless asked for, so that reading the eval's output is not tuning on them.
HELD_OUT = frozenset({"en-heldout", "es", "pt-BR"})


def print_misses(report: FileReport, limit: int) -> None:
    """Each dialogue of `report` that was not understood (at most `limit`)."""
    misses = [o for o in report.outcomes if not o.understood]
    if not misses:
        return
    print(f"\n{report.name}: {len(misses)} not understood")
    for o in misses[:limit]:
        flag = " WRONG CART" if o.wrong_cart else ""
        print(f"- [{o.dialogue.category}]{flag} {' | '.join(o.dialogue.turns)}")
        print(f"    expected {sorted(o.expected.elements())} answer={o.dialogue.answer}")
        print(f"    got      {sorted(o.cart.elements())} kinds={o.kinds}")
        last = " / ".join(" ".join(r.split()) for r in o.replies)
        print(f"    bot: {last[:300]}")


def main(argv: list[str] | None = None) -> int:
    """Play the dialogue files (default: every file in evals/dialogues), print the table."""
    parser = argparse.ArgumentParser(prog="python -m evals.conversations")
    parser.add_argument("files", nargs="*", type=Path, help="dialogue files (default: all)")
    parser.add_argument("--show", type=int, default=1000, help="misses to print per file")
    parser.add_argument(
        "--show-held-out",
        action="store_true",
        help="also print the misses of the held-out files (by default only their scores)",
    )
    args = parser.parse_args(argv)
    files = args.files or sorted(DIALOGUES_DIR.glob("*.yaml"), key=lambda p: (p.stem != "en", p.stem))
    admin = os.environ.get("EVAL_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL") or ADMIN_DSN
    reports = asyncio.run(play(files, admin))
    for report in reports:
        if args.show_held_out or report.name not in HELD_OUT:
            print_misses(report, args.show)
    print()
    print_table(reports)
    failed = [r.name for r in reports if r.accuracy < TARGET or r.wrong_cart_rate > WRONG_CART_LIMIT]
    if failed:
        print(
            f"FAIL: below {TARGET:.0%} understood or above {WRONG_CART_LIMIT:.0%} wrong carts: "
            + ", ".join(failed)
        )
        return 1
    print(f"OK: every file at or above {TARGET:.0%} understood, at most {WRONG_CART_LIMIT:.0%} wrong carts")
    return 0


if __name__ == "__main__":
    sys.exit(main())
