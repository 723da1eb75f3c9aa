"""The outbox relay: publishes committed outbox rows to the outbound stream, in order.

One relay publishes at a time across all replicas (`pg_try_advisory_xact_lock`), taking rows
in id order, so the stream holds a customer's replies in the order orders wrote them. The XADDs
go out in one pipeline, then the rows are marked published in the same transaction that held
the lock. A crash between the two republishes those rows; the notifier recognises a reply it
already sent by `reply_id` and sends nothing twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any, Final

import redis.asyncio as aioredis
from psycopg_pool import AsyncConnectionPool
from redis.asyncio.client import Pipeline
from redis.exceptions import RedisError

from libs import metrics
from libs.errors import DependencyUnavailable
from libs.messages import ENTRY_FIELD, REPLY, Envelope, Keys
from libs.retry import retry_forever
from services.orders.storage import outbox
from services.orders.storage.pool import Conn, transaction

log = logging.getLogger("services.orders.storage.relay")

RELAY_LOCK: Final = 0x7761_7265_6C61  # "warela"
BATCH: Final = 500
POLL_S: Final = 1.0
# The inbound consumer publishes its own rows right after its commit (`publish_replies`); a
# relay woken by its poll rather than by `notify()` leaves rows younger than this to it, so the
# two seldom publish one row twice (a batch's commit and publish take milliseconds). Rows a
# crash left unpublished go out within this plus `POLL_S`, under the notifier's 2 s wait for a
# new customer's missing predecessor (`services/notifier/cursor.py`, rule 5), so they still
# reach Twilio in order.
POLL_GRACE_S: Final = 0.5


def reply_envelope(row: dict[str, Any]) -> Envelope:
    """An outbox row (`outbox.PUBLISH_COLUMNS`) as a `reply` envelope: `reply_id`, `To`, `seq`,
    and Body or ContentSid/ContentVariables."""
    fields = {"reply_id": str(row["id"]), "To": row["to_address"], "seq": str(row["seq"])}
    if row["body"] is not None:
        fields["Body"] = row["body"]
    else:
        fields["ContentSid"] = row["content_sid"]
        fields["ContentVariables"] = row["content_variables"] or "{}"
    return Envelope(kind=REPLY, fields=fields, id=f"reply-{row['id']}")


async def publish_replies(redis: aioredis.Redis, keys: Keys, rows: list[dict[str, Any]], conn: Conn) -> None:
    """Publish committed outbox `rows` (in the order given) at once and mark them published on
    `conn`, the connection that committed them (out of its transaction): the inbound
    consumer's own path, right after the commit that wrote them. A crash or a failure before
    the mark leaves them to the relay, which publishes them again; the notifier recognises a
    reply it already has by `reply_id`. Raises what Redis or PostgreSQL raise."""
    if not rows:
        return
    async with redis.pipeline(transaction=False) as pipe:
        for row in rows:
            pipe.xadd(keys.outbound, {ENTRY_FIELD: reply_envelope(row).encode()})
        await pipe.execute()
    await outbox.mark_published(conn, [int(r["id"]) for r in rows])


class Relay:
    """A background task that moves committed rows to a Redis stream (the transactional outbox).

    `publish_once()` takes this relay's advisory lock in one transaction, `fetch`es up to `BATCH`
    rows, XADDs each one's `fields` to its stream in one pipeline, then `settle`s them (marks
    or deletes the rows) in the same transaction; subclasses supply those three hooks. `run()`
    publishes again at once while batches come back full, else waits for `notify()` or
    `POLL_S`; an outage of PostgreSQL or Redis is retried with full-jitter backoff, and nothing
    committed is lost meanwhile because the rows stay until published. `healthy` is False
    during an outage.
    """

    name = "relay"
    lock_key = 0

    def __init__(
        self, pool: AsyncConnectionPool[Conn], redis: aioredis.Redis, keys: Keys, *, slow_s: float
    ) -> None:
        self.pool = pool
        self.redis = redis
        self.keys = keys
        self.slow_s = slow_s
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self.healthy = True
        # Whether the current round was asked for (`notify()`, or the first round) rather than
        # a poll: a subclass may leave the young rows of a poll to their writer.
        self.notified = True

    def notify(self) -> None:
        """Tell the relay that rows were committed; it publishes them promptly."""
        self._wake.set()

    def stop(self) -> None:
        """Finish the batch in hand and return from `run()`."""
        self._stopping.set()
        self._wake.set()

    @property
    def stopping(self) -> bool:
        """True once `stop()` was called."""
        return self._stopping.is_set()

    async def fetch(self, conn: Conn) -> list[dict[str, Any]]:
        """Up to `BATCH` rows to publish, in the order they must reach the stream."""
        raise NotImplementedError

    def add(self, pipe: Pipeline, row: dict[str, Any]) -> None:
        """Queue the XADD of one fetched row on `pipe`."""
        raise NotImplementedError

    async def settle(self, conn: Conn, rows: list[dict[str, Any]]) -> None:
        """Record that `rows` are on the stream (same transaction as the fetch)."""
        raise NotImplementedError

    async def publish_once(self) -> int:
        """Publish up to `BATCH` rows; returns how many were published (0: none, or another
        replica's relay holds the lock)."""
        async with transaction(self.pool, slow_s=self.slow_s) as conn:
            if not await self.take_lock(conn):
                return 0
            rows = await self.fetch(conn)
            if not rows:
                return 0
            async with self.redis.pipeline(transaction=False) as pipe:
                for row in rows:
                    self.add(pipe, row)
                await pipe.execute()
            await self.settle(conn, rows)
            return len(rows)

    async def take_lock(self, conn: Conn) -> bool:
        """Try this relay's transaction-level advisory lock (`lock_key`); False when another
        replica's relay holds it, so one publishes at a time and keeps the rows' order."""
        got = await (
            await conn.execute("SELECT pg_try_advisory_xact_lock(%s) AS ok", (self.lock_key,))
        ).fetchone()
        return bool(got and got["ok"])

    async def run(self) -> None:
        """Publish until stopped; outages of Redis or PostgreSQL are retried with backoff."""
        while not self._stopping.is_set():
            published = await retry_forever(
                self.publish_once, retry_on=(DependencyUnavailable, RedisError, OSError), base=0.2, cap=5.0,
                on_retry=self._failed, stop=self._stopping,
            )  # fmt: skip
            self.healthy = True
            if published == BATCH:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), POLL_S)
            self.notified = self._wake.is_set()
            self._wake.clear()

    def _failed(self, exc: BaseException, delay: float) -> None:
        self.healthy = False
        log.warning(f"{self.name} failed; retrying", extra={"error": str(exc), "retry_in_s": round(delay, 2)})


class OutboxRelay(Relay):
    """Publishes pending outbox rows to the outbound stream as `reply` envelopes, one replica
    at a time: the rows of writers that `notify()` it (the staff API, the dashboard), and, as
    the fallback, rows the inbound consumer did not publish itself (a crash, a Redis failure;
    on a poll only rows older than `POLL_GRACE_S`)."""

    name = "outbox relay"
    lock_key = RELAY_LOCK

    async def fetch(self, conn: Conn) -> list[dict[str, Any]]:
        """The oldest pending rows; sets the backlog gauge."""
        rows = await outbox.unpublished(conn, BATCH, min_age_s=0.0 if self.notified else POLL_GRACE_S)
        # A batch short of BATCH took every pending row: only a full one needs counting.
        left = await outbox.unpublished_count(conn) - len(rows) if len(rows) == BATCH else 0
        metrics.OUTBOX_BACKLOG.set(left)
        return rows

    def add(self, pipe: Pipeline, row: dict[str, Any]) -> None:
        """The row as a `reply` envelope (`reply_envelope`)."""
        pipe.xadd(self.keys.outbound, {ENTRY_FIELD: reply_envelope(row).encode()})

    async def settle(self, conn: Conn, rows: list[dict[str, Any]]) -> None:
        """Mark the rows published."""
        await outbox.mark_published(conn, [r["id"] for r in rows])
