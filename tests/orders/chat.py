"""Talking to the orders service in-process: inbound messages through the real `InboundHandler`
and the staff API through the real routes, against a real PostgreSQL, with a settable clock.

`DirectChat` is one of the two runners of the conversation scripts (tests/orders/scripts.py);
the other drives the real processes (tests/e2e). Both answer in the same shape: the texts the
customer received, templates rendered as `[template HX… {"1": "…"}]`.
"""

from __future__ import annotations

import datetime as dt
import itertools
import types
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import orjson
from psycopg_pool import AsyncConnectionPool
from starlette.applications import Starlette

from libs.messages import ENTRY_FIELD, INBOUND_MESSAGE, Envelope
from libs.streams import Entry
from services.orders.inbound import InboundHandler
from services.orders.menu.catalog import demo_menu_path
from services.orders.menu.files import read_menu_document
from services.orders.settings import OrdersSettings
from services.orders.storage.pool import Conn, make_pool
from services.orders.storage.stores import StoreCache, load_menu_into_db
from services.orders.web.staff_api import staff_routes

ADMIN_TOKEN = "test-admin-token-0123456789abcdef0123456789"
CUSTOMER = "whatsapp:+15551230001"
_SIDS = itertools.count(1)


def new_sid() -> str:
    """A unique Twilio-shaped MessageSid."""
    return f"SM{next(_SIDS):032x}"


class Clock:
    """A settable UTC clock; `advance` moves it forward."""

    def __init__(self, start: dt.datetime | None = None) -> None:
        self.now = start or dt.datetime.now(dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, delta: dt.timedelta) -> None:
        """Move the clock forward by `delta`."""
        self.now += delta


def render_outbox_row(row: dict[str, Any]) -> str:
    """What the customer sees of one outbox row: its body, or the template it was sent as."""
    if row["content_sid"]:
        return f"[template {row['content_sid']} {row['content_variables']}]"
    return str(row["body"])


async def load_store(pool: AsyncConnectionPool[Conn], menu_file: Path | None = None) -> None:
    """Load a menu file (default: the demo store) into the database."""
    path = menu_file or demo_menu_path()
    async with pool.connection() as conn, conn.transaction():
        await load_menu_into_db(conn, read_menu_document(path.read_text(encoding="utf-8")))


class DirectChat:
    """One store's orders service in-process: say things as customers, act as staff."""

    def __init__(self, pool: AsyncConnectionPool[Conn], *, clock: Clock, cart_ttl_s: int = 4 * 3600) -> None:
        self.pool = pool
        self.clock = clock
        self.stores = StoreCache(None)
        self.commits = 0
        self.handler = InboundHandler(
            pool, self.stores, cart_ttl_s=cart_ttl_s, slow_s=5.0, on_commit=self._committed, now=clock
        )
        settings = OrdersSettings.from_env(
            {"DATABASE_URL": "postgresql://unused/x", "ADMIN_API_TOKEN": ADMIN_TOKEN}
        )
        self.app = Starlette(routes=staff_routes(settings))
        relay = types.SimpleNamespace(notify=self._committed)
        self.app.state.orders = types.SimpleNamespace(
            pool=pool, stores=self.stores, relay=relay, settings=settings
        )

    def _committed(self) -> None:
        self.commits += 1

    async def _last_id(self) -> int:
        async with self.pool.connection() as conn:
            row = await (await conn.execute("SELECT COALESCE(max(id), 0) AS id FROM outbox")).fetchone()
            await conn.rollback()
        return int(row["id"]) if row else 0

    async def messages_since(self, last_id: int, customer: str | None = None) -> list[str]:
        """Messages queued for sending after outbox id `last_id` (not `not_sent` ones)."""
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT body, content_sid, content_variables, to_address FROM outbox"
                " WHERE id > %s AND status <> 'not_sent' ORDER BY id",
                (last_id,),
            )
            rows = await cur.fetchall()
            await conn.rollback()
        return [render_outbox_row(r) for r in rows if customer is None or r["to_address"] == customer]

    async def replies(
        self, text: str, *, customer: str = CUSTOMER, profile: str | None = "Alex"
    ) -> list[tuple[str, str]]:
        """Deliver one inbound message; returns its replies as (kind, text): the kind a
        conversation reply is tagged with (`purpose` `reply:<kind>`), else the purpose."""
        last = await self._last_id()
        await self.say(text, customer=customer, profile=profile)
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT purpose, body, content_sid, content_variables FROM outbox"
                " WHERE id > %s AND to_address = %s AND status <> 'not_sent' ORDER BY id",
                (last, customer),
            )
            rows = await cur.fetchall()
            await conn.rollback()
        return [(str(r["purpose"]).removeprefix("reply:"), render_outbox_row(r)) for r in rows]

    def fields(self, text: str, customer: str, profile: str | None, extra: dict[str, str]) -> dict[str, str]:
        """The webhook fields of a text message, with `extra` fields added or replaced."""
        sid = extra.pop("MessageSid", None) or new_sid()
        fields = {
            "MessageSid": sid,
            "From": customer,
            "To": "whatsapp:+15557650000",
            "Body": text,
            "NumMedia": "0",
            "MessageType": "text",
            "WaId": customer.removeprefix("whatsapp:+"),
        }
        if profile:
            fields["ProfileName"] = profile
        fields.update(extra)
        return fields

    async def say(
        self, text: str, *, customer: str = CUSTOMER, profile: str | None = "Alex", **extra: str
    ) -> list[str]:
        """Deliver one inbound message; returns the replies it produced, in order."""
        last = await self._last_id()
        env = Envelope(
            kind=INBOUND_MESSAGE,
            fields=self.fields(text, customer, profile, dict(extra)),
            received_at=self.clock().timestamp(),
        )
        await self.handler(Entry("1-0", {ENTRY_FIELD: env.encode()}), env)
        return await self.messages_since(last, customer)

    @asynccontextmanager
    async def client(self) -> AsyncIterator[httpx.AsyncClient]:
        """An HTTP client on the staff API (in-process, with the bearer token)."""
        transport = httpx.ASGITransport(app=self.app)
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        async with httpx.AsyncClient(transport=transport, base_url="http://orders", headers=headers) as c:
            yield c

    async def staff(
        self, method: str, path: str, json: Any = None, *, customer: str = CUSTOMER
    ) -> tuple[int, Any, list[str]]:
        """Call the staff API; returns (status, JSON body, messages it queued for `customer`)."""
        last = await self._last_id()
        async with self.client() as c:
            content = orjson.dumps(json) if json is not None else None
            response = await c.request(method, path, content=content)
        return response.status_code, response.json(), await self.messages_since(last, customer)

    async def sql(self, query: str, *params: Any) -> list[dict[str, Any]]:
        """Run one statement in its own transaction; returns its rows (if any)."""
        async with self.pool.connection() as conn, conn.transaction():
            cur = await conn.execute(query, params)
            return list(await cur.fetchall()) if cur.description else []


@asynccontextmanager
async def direct_chat(
    database_url: str,
    *,
    menu_file: Path | None = None,
    start: dt.datetime | None = None,
    cart_ttl_s: int = 4 * 3600,
) -> AsyncIterator[DirectChat]:
    """A `DirectChat` on a fresh pool, with `menu_file` (default: the demo store) loaded."""
    settings = OrdersSettings.from_env({"DATABASE_URL": database_url, "DB_POOL_MAX_SIZE": "8"})
    pool = make_pool(settings)
    await pool.open(wait=True, timeout=10)
    try:
        await load_store(pool, menu_file)
        yield DirectChat(pool, clock=Clock(start), cart_ttl_s=cart_ttl_s)
    finally:
        await pool.close()
