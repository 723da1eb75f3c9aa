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
from tests.e2e.harness import Mesh, new_sid
from tests.orders.scripts import Script, all_scripts, run_script

SCRIPTS = [s for s in all_scripts() if "e2e" in s.modes and s.now is None]
# How long to wait for a reply, and for a message ingress did not pass on to count as silence.
REPLY_TIMEOUT_S = 15.0
SILENCE_S = 1.5
# Whether orders recorded a message, and whether any reply it queued for the customer still
# waits for the notifier's send result (a turn's replies are committed with its inbox row).
SETTLED_SQL = """
SELECT EXISTS (SELECT 1 FROM inbox WHERE message_sid = %(sid)s) AS recorded,
       EXISTS (SELECT 1 FROM outbox WHERE to_address = %(to)s AND status = 'pending') AS sending
"""


def render(message: dict[str, Any]) -> str:
    """A sandbox message as the customer sees it (templates as in tests/orders/chat.py)."""
    if message.get("content_sid"):
        return f"[template {message['content_sid']} {message.get('content_variables')}]"
    return str(message.get("body") or "")


class MeshRunner:
    """The script runner over real processes (blocking calls run in a thread).

    A step is over when orders has recorded the message and every reply queued for the
    customer has its send result, not after a fixed pause: the replies counted are all there
    are, and the scripts take no longer than the mesh does."""

    def __init__(self, mesh: Mesh) -> None:
        self.mesh = mesh

    def _settle(self, customer: str, before: int, *, sid: str | None, wait: bool) -> list[str]:
        deadline = time.monotonic() + REPLY_TIMEOUT_S
        silence_ends = time.monotonic() + SILENCE_S
        with psycopg.connect(self.mesh.database_url, autocommit=True) as conn:
            while True:
                row = conn.execute(SETTLED_SQL, {"sid": sid, "to": customer}).fetchone()
                recorded, sending = row if row else (False, True)
                # A message ingress answered but never passed on (none does today) is silence.
                seen = recorded or sid is None or (not wait and time.monotonic() > silence_ends)
                sent = self.mesh.sent(customer)
                if seen and not sending and (len(sent) > before or not wait):
                    return [render(m) for m in sent[before:]]
                if time.monotonic() > deadline:
                    raise AssertionError(
                        f"no settled reply to {customer} within {REPLY_TIMEOUT_S}s "
                        f"(recorded {recorded}, sending {sending}, new {len(sent) - before})\n"
                        + self.mesh.logs()
                    )
                time.sleep(0.03)

    def _message(self, customer: str, fields: dict[str, str], silent: bool) -> list[str]:
        before = len(self.mesh.sent(customer))
        extra = dict(fields)
        body = extra.pop("Body", "")
        extra.setdefault("ProfileName", "")
        sid = extra.setdefault("MessageSid", new_sid())
        self.mesh.say(customer, body, **extra)
        return self._settle(customer, before, sid=sid, wait=not silent)

    async def message(self, customer: str, fields: dict[str, str], *, silent: bool) -> list[str]:
        return await asyncio.to_thread(self._message, customer, fields, silent)

    def _staff(
        self, method: str, path: str, body: Any, customer: str, wait: bool
    ) -> tuple[int, str, list[str]]:
        before = len(self.mesh.sent(customer))
        kwargs = {"json": body} if body is not None else {}
        response = self.mesh.admin(method, path, **kwargs)
        return response.status_code, response.text, self._settle(customer, before, sid=None, wait=wait)

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
