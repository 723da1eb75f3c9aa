"""Every conversation script played end to end: signed webhooks into ingress, the real orders
and notifier processes, replies read from the Twilio sandbox, staff calls on the real API.

One mesh per store file, started when the first script of that store runs. Scripts that need
a fixed clock (`now:`) or a flag only ingress can set (`modes: [direct]`) run in-process only
(tests/orders/test_conversation_scripts.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.conftest import migrated_database, redis_namespace
from tests.e2e.harness import Mesh
from tests.orders.scripts import Script, all_scripts, run_script

SCRIPTS = [s for s in all_scripts() if "e2e" in s.modes and s.now is None]
# How long to wait for a reply, for more parts of it, and for a silence to count as silence.
REPLY_TIMEOUT_S = 15.0
SETTLE_S = 0.4
SILENCE_S = 1.5


def render(message: dict[str, Any]) -> str:
    """A sandbox message as the customer sees it (templates as in tests/orders/chat.py)."""
    if message.get("content_sid"):
        return f"[template {message['content_sid']} {message.get('content_variables')}]"
    return str(message.get("body") or "")


class MeshRunner:
    """The script runner over real processes (blocking calls run in a thread)."""

    def __init__(self, mesh: Mesh) -> None:
        self.mesh = mesh

    def _new_messages(self, customer: str, before: int, *, wait: bool, silent: bool = False) -> list[str]:
        if silent:
            time.sleep(SILENCE_S)
        elif wait:
            self.mesh.wait_sent(customer, before + 1, REPLY_TIMEOUT_S)
            time.sleep(SETTLE_S)  # a reply may come in several parts
        else:
            time.sleep(SETTLE_S)
        return [render(m) for m in self.mesh.sent(customer)[before:]]

    def _message(self, customer: str, fields: dict[str, str], silent: bool) -> list[str]:
        before = len(self.mesh.sent(customer))
        extra = dict(fields)
        body = extra.pop("Body", "")
        extra.setdefault("ProfileName", "")
        self.mesh.say(customer, body, **extra)
        return self._new_messages(customer, before, wait=not silent, silent=silent)

    async def message(self, customer: str, fields: dict[str, str], *, silent: bool) -> list[str]:
        return await asyncio.to_thread(self._message, customer, fields, silent)

    def _staff(
        self, method: str, path: str, body: Any, customer: str, wait: bool
    ) -> tuple[int, str, list[str]]:
        before = len(self.mesh.sent(customer))
        kwargs = {"json": body} if body is not None else {}
        response = self.mesh.admin(method, path, **kwargs)
        return response.status_code, response.text, self._new_messages(customer, before, wait=wait)

    async def staff(
        self, method: str, path: str, body: Any, customer: str, *, wait_messages: bool
    ) -> tuple[int, str, list[str]]:
        return await asyncio.to_thread(self._staff, method, path, body, customer, wait_messages)

    async def sql(self, statement: str, *params: Any) -> None:
        async with await psycopg.AsyncConnection.connect(self.mesh.database_url, autocommit=True) as conn:
            await conn.execute(statement, params or None)


@pytest.fixture(scope="module")
def meshes(pg_template: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """`get(script)`: the running mesh for the script's store, started on first use."""
    with contextlib.ExitStack() as stack:
        started: dict[str, Mesh] = {}

        def get(script: Script) -> Mesh:
            if script.store not in started:
                db = stack.enter_context(migrated_database(pg_template))
                prefix = stack.enter_context(redis_namespace(redis_url))
                log_dir = Path(tmp_path_factory.mktemp(f"scripts-{script.store.replace('.', '-')}"))
                # Scripts type faster than people: lift the per-customer limit so none is throttled.
                mesh = stack.enter_context(
                    Mesh(db, redis_url, prefix, log_dir, extra_env={"CUSTOMER_MESSAGE_LIMIT": "10000"})
                )
                if script.store_file is None:
                    mesh.run_cli("load-menu", "--demo")
                else:
                    mesh.run_cli("load-menu", str(script.store_file))
                mesh.start()
                started[script.store] = mesh
            return started[script.store]

        yield get


@pytest.mark.parametrize("script", SCRIPTS, ids=[s.name for s in SCRIPTS])
async def test_script_end_to_end(script: Script, meshes: Any) -> None:
    mesh = meshes(script)
    await run_script(script, MeshRunner(mesh))
