"""Playing short dialogues in tests: the carts before and after the last turn, and its replies."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from evals.conversations import play_turns
from services.orders.menu.catalog import Menu
from tests.orders.chat import direct_chat


async def play(
    database_url: str, menu: Menu, turns: list[str], *, customer: str, start: dt.datetime | None = None
) -> tuple[Counter[str], Counter[str], list[str]]:
    """Play `turns` as `customer` on a fresh chat: (cart before the last turn, cart after it,
    the kinds of the replies to it), carts in `evals.conversations.canonical_cart` form."""
    async with direct_chat(database_url, start=start) as chat:
        before, after, replies = await play_turns(chat, menu, turns, customer)
    return before, after, [kind for kind, _ in replies]


async def play_replies(
    database_url: str, menu: Menu, turns: list[str], *, customer: str
) -> tuple[Counter[str], Counter[str], list[tuple[str, str]]]:
    """As `play`, with the last turn's replies as (kind, text)."""
    async with direct_chat(database_url) as chat:
        return await play_turns(chat, menu, turns, customer)
