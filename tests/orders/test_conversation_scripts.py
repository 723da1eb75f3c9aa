"""Every conversation script (tests/data/conversations) played in-process against a real
PostgreSQL; tests/e2e/test_conversation_scripts.py plays the same files through the real
processes."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from tests.orders.chat import DirectChat, direct_chat
from tests.orders.scripts import Script, all_scripts, run_script

SCRIPTS = [s for s in all_scripts() if "direct" in s.modes]


class DirectRunner:
    """The script runner over `DirectChat`."""

    def __init__(self, chat: DirectChat) -> None:
        self.chat = chat

    async def message(self, customer: str, fields: dict[str, str], *, silent: bool) -> list[str]:
        extra = dict(fields)
        body = extra.pop("Body", "")
        profile = extra.pop("ProfileName", None)
        return await self.chat.say(body, customer=customer, profile=profile, **extra)

    async def staff(
        self, method: str, path: str, body: Any, customer: str, *, wait_messages: bool
    ) -> tuple[int, str, list[str]]:
        status, data, sent = await self.chat.staff(method, path, body, customer=customer)
        return status, orjson.dumps(data).decode(), sent

    async def sql(self, statement: str, *params: Any) -> None:
        await self.chat.sql(statement, *params)


def test_there_are_at_least_40_scripts() -> None:
    assert len(all_scripts()) >= 40


@pytest.mark.parametrize("script", SCRIPTS, ids=[s.name for s in SCRIPTS])
async def test_script(script: Script, database_url: str) -> None:
    async with direct_chat(database_url, menu_file=script.store_file, start=script.now) as chat:
        await run_script(script, DirectRunner(chat))
