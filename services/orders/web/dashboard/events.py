"""Live updates: `staff_events` rows -> the `{p}:events` stream -> every open browser.

```
transaction (any writer) --trigger--> staff_events --EventRelay, after commit--> {p}:events
{p}:events --EventHub: ONE XREAD loop per process--> render once --> queue per browser --> SSE
```

- **EventRelay** moves committed `staff_events` rows to the stream in id order and deletes
  them, one replica at a time (`pg_try_advisory_xact_lock`). It wakes on PostgreSQL's
  NOTIFY, which is delivered only when the writing transaction commits, and polls every second
  in case a notification was missed while reconnecting. A crash between XADD and DELETE
  republishes rows: every event means "show the current state of X", so a repeat is harmless.
- **EventHub** reads the stream with one blocking XREAD per process, renders each event once
  (a ticket's HTML) and hands it to every subscriber's bounded queue. A browser too slow to
  keep up is dropped; it reconnects and resumes.
- **Resume**: an SSE event's id is its stream entry id. `follow(hub, last_id)` subscribes
  first, replays the entries after `last_id` with XRANGE, then passes on live events newer than
  the last one replayed, so a reconnecting browser (`Last-Event-ID`) sees no gap and no event
  out of order. When the entries it missed were trimmed away (or are too many to replay), it
  gets one `reset` event and reloads the whole board instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Final

import orjson
import psycopg
import redis.asyncio as aioredis
from psycopg_pool import AsyncConnectionPool
from redis.asyncio.client import Pipeline
from redis.exceptions import RedisError

from libs.connections import MAX_BLOCK_MS
from libs.messages import Keys
from libs.retry import Backoff, retry_forever
from services.orders.storage import staff_events
from services.orders.storage.pool import Conn
from services.orders.storage.relay import BATCH, Relay

log = logging.getLogger("services.orders.web.dashboard.events")

RELAY_LOCK: Final = 0x7761_6576_6E74  # "waevnt"
STREAM_MAXLEN: Final = 10_000  # approximate (MAXLEN ~): hours of a busy kitchen
MAX_REPLAY: Final = 2_000  # beyond this a browser reloads the board rather than catch up
SUBSCRIBER_QUEUE: Final = 1_000
KINDS: Final = frozenset({"order", "conversation", "message", "menu"})

StreamId = tuple[int, int]


# Each part of a stream id is a 64-bit unsigned number (https://redis.io/docs/latest/develop/data-types/streams/#entry-ids).
MAX_ID_PART: Final = 2**64 - 1


def parse_id(value: str | bytes | None) -> StreamId | None:
    """A stream entry id (`1712345678901-0`) as a comparable pair, or None when it is not one
    Redis would take: ASCII digits only (`int()` also reads other scripts' digits), each part
    within 64 bits."""
    if value is None:
        return None
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
    ms, sep, seq = text.strip().partition("-")
    if not sep or not (ms + seq).isascii() or not ms.isdigit() or not seq.isdigit():
        return None
    if len(ms) > 20 or len(seq) > 20 or int(ms) > MAX_ID_PART or int(seq) > MAX_ID_PART:
        return None
    return int(ms), int(seq)


@dataclass(frozen=True, slots=True)
class StreamEvent:
    """One entry of the events stream: what changed (`kind`) and which order/customer."""

    id: str
    kind: str
    order_id: int | None
    customer_id: int | None

    @classmethod
    def from_entry(cls, entry_id: bytes | str, fields: dict[bytes, bytes]) -> StreamEvent:
        """Decode an XREAD/XRANGE entry; unknown or missing fields read as None."""

        def number(name: bytes) -> int | None:
            raw = fields.get(name, b"")
            return int(raw) if raw.isdigit() else None

        eid = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
        return cls(eid, fields.get(b"kind", b"").decode(), number(b"order_id"), number(b"customer_id"))


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One server-sent event ready for every browser: id (stream id), event name, JSON data."""

    id: str
    event: str
    data: dict[str, Any]

    def encoded(self) -> str:
        """The `data:` payload."""
        return orjson.dumps(self.data).decode()


Render = Callable[[StreamEvent], Awaitable[Outgoing]]


class EventRelay(Relay):
    """Background task moving committed `staff_events` rows to the events stream; a LISTEN
    connection of its own wakes it as soon as a trigger's NOTIFY is committed."""

    name = "event relay"
    lock_key = RELAY_LOCK

    def __init__(
        self,
        pool: AsyncConnectionPool[Conn],
        redis: aioredis.Redis,
        keys: Keys,
        *,
        database_url: str,
        slow_s: float,
    ) -> None:
        super().__init__(pool, redis, keys, slow_s=slow_s)
        self.database_url = database_url

    async def run(self) -> None:
        """Publish until stopped, woken by NOTIFY as well as by `notify()` and the poll."""
        listener = asyncio.create_task(self._listen(), name="staff-events-listen")
        try:
            await super().run()
        finally:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener

    async def _listen(self) -> None:
        """LISTEN on a connection of its own (a pooled one would be handed to others)."""
        backoff = Backoff(base=0.5, cap=10.0)
        while not self._stopping.is_set():
            try:
                async with await psycopg.AsyncConnection.connect(
                    self.database_url, autocommit=True, connect_timeout=3, application_name="orders-events"
                ) as conn:
                    await conn.execute(f"LISTEN {staff_events.CHANNEL}")
                    backoff.reset()
                    self._wake.set()  # rows committed while nobody listened
                    while not self._stopping.is_set():
                        async for _ in conn.notifies(timeout=30):
                            self._wake.set()
            except (psycopg.Error, OSError) as exc:
                log.warning("event listener lost its connection", extra={"error": str(exc)})
                await backoff.wait(self._stopping)

    async def fetch(self, conn: Conn) -> list[dict[str, Any]]:
        """The oldest committed events."""
        return await staff_events.oldest(conn, BATCH)

    def add(self, pipe: Pipeline, row: dict[str, Any]) -> None:
        """The event as stream fields `kind`, `order_id`, `customer_id` (capped stream)."""
        fields: dict[Any, Any] = {"kind": row["kind"]}
        if row["order_id"] is not None:
            fields["order_id"] = str(row["order_id"])
        if row["customer_id"] is not None:
            fields["customer_id"] = str(row["customer_id"])
        pipe.xadd(self.keys.events(), fields, maxlen=STREAM_MAXLEN, approximate=True)

    async def settle(self, conn: Conn, rows: list[dict[str, Any]]) -> None:
        """Delete the published events."""
        await staff_events.delete(conn, [r["id"] for r in rows])


@dataclass(eq=False)
class Subscriber:
    """One browser's queue. `dropped` is set when it fell too far behind."""

    queue: asyncio.Queue[Outgoing] = field(default_factory=lambda: asyncio.Queue(SUBSCRIBER_QUEUE))
    dropped: asyncio.Event = field(default_factory=asyncio.Event)


class EventHub:
    """One XREAD reader per process, fanning rendered events out to every subscriber."""

    def __init__(self, redis: aioredis.Redis, keys: Keys, render: Render) -> None:
        self.redis = redis
        self.stream = keys.events()
        self.render = render
        self.subscribers: set[Subscriber] = set()
        self.reads = 0  # XREAD calls made; lets tests see that one reader serves every browser
        self._stopping = asyncio.Event()

    def subscribe(self) -> Subscriber:
        """A new queue receiving every event read from now on."""
        sub = Subscriber()
        self.subscribers.add(sub)
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        """Stop delivering to `sub`."""
        self.subscribers.discard(sub)

    def stop(self) -> None:
        """Return from `run()` within one blocking read."""
        self._stopping.set()

    def broadcast(self, out: Outgoing) -> None:
        """Hand `out` to every subscriber; one whose queue is full is dropped (it resumes later)."""
        for sub in list(self.subscribers):
            try:
                sub.queue.put_nowait(out)
            except asyncio.QueueFull:
                sub.dropped.set()
                self.subscribers.discard(sub)

    async def latest_id(self) -> str:
        """The newest entry id (`0-0` for an empty stream): where a freshly rendered page starts."""
        newest: Any = await self.redis.xrevrange(self.stream, "+", "-", count=1)
        if not newest:
            return "0-0"
        eid = newest[0][0]
        return eid.decode() if isinstance(eid, bytes) else str(eid)

    async def run(self) -> None:
        """Read and fan out until stopped; a Redis outage is retried from the last id read."""
        last: str | None = None

        async def read() -> Any:
            nonlocal last
            if last is None:
                last = await self.latest_id()
            self.reads += 1
            return await self.redis.xread({self.stream: last}, count=100, block=MAX_BLOCK_MS)

        def failed(exc: BaseException, delay: float) -> None:
            log.warning("event hub cannot read the stream; retrying", extra={"error": str(exc)})

        while not self._stopping.is_set():
            response: Any = await retry_forever(
                read, retry_on=(RedisError, OSError), base=0.2, cap=5.0, on_retry=failed, stop=self._stopping
            )
            for _stream, entries in response or []:
                for entry_id, fields in entries:
                    event = StreamEvent.from_entry(entry_id, fields)
                    last = event.id
                    if event.kind in KINDS:
                        self.broadcast(await self.render(event))

    async def entries_after(self, after: str) -> list[StreamEvent] | None:
        """Every entry newer than `after`, oldest first; None (the browser reloads the board)
        when some were trimmed, when they are too many, or when `after` is no position in
        this stream: malformed, or newer than its newest entry (a browser resuming after it
        would skip every event until the stream caught up)."""
        start = parse_id(after)
        if start is None:
            return None
        if start != (0, 0):
            newest = parse_id(await self.latest_id())
            if newest is None or newest < start:
                return None
        first: Any = await self.redis.xrange(self.stream, "-", "+", count=1)
        if first and start != (0, 0):
            oldest = parse_id(first[0][0])
            if oldest is not None and oldest > start:
                return None  # `after` itself was trimmed away, and maybe more after it
        events: list[StreamEvent] = []
        cursor = f"{start[0]}-{start[1]}"
        while True:
            batch: Any = await self.redis.xrange(self.stream, f"({cursor}", "+", count=500)
            if not batch:
                return events
            events.extend(StreamEvent.from_entry(eid, fields) for eid, fields in batch)
            if len(events) > MAX_REPLAY:
                return None
            cursor = events[-1].id


async def follow(
    hub: EventHub, last_id: str | None, *, max_s: float | None = None
) -> AsyncIterator[Outgoing]:
    """The events one browser should see, resuming after `last_id` when given (see module doc).

    Ends when the browser fell behind (its queue overflowed), after `max_s` seconds, or when
    Redis cannot be read to replay what it missed: each time the browser reconnects with the
    last id it saw and resumes, its session checked again.
    """
    loop = asyncio.get_running_loop()
    deadline = None if max_s is None else loop.time() + max_s
    sub = hub.subscribe()
    try:
        sent: StreamId | None = None
        if last_id is not None:
            try:
                missed = await hub.entries_after(last_id)
                latest = await hub.latest_id() if missed is None else ""
            except RedisError as exc:
                # Nothing to replay from: end here; the browser reconnects and resumes from
                # the same id once Redis answers again.
                log.warning(
                    "cannot replay the live stream; the browser will retry", extra={"error": str(exc)}
                )
                return
            if missed is None:
                yield Outgoing(latest, "reset", {})
                sent = parse_id(latest)
            else:
                sent = parse_id(last_id)
                # A ticket shows its current state, so only the last event of each order is rendered.
                last_of_order = {e.order_id: e.id for e in missed if e.kind == "order"}
                for event in missed:
                    if event.kind not in KINDS:
                        continue
                    if event.kind == "order" and last_of_order.get(event.order_id) != event.id:
                        yield Outgoing(event.id, "skip", {})
                    else:
                        yield await hub.render(event)
                    sent = parse_id(event.id)
        while True:
            getter = asyncio.ensure_future(sub.queue.get())
            dropped = asyncio.ensure_future(sub.dropped.wait())
            timeout = None if deadline is None else max(0.0, deadline - loop.time())
            done, _ = await asyncio.wait(
                {getter, dropped}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
            if getter not in done:
                getter.cancel()
                dropped.cancel()
                return
            dropped.cancel()
            out = getter.result()
            position = parse_id(out.id)
            if sent is not None and position is not None and position <= sent:
                continue  # already replayed
            sent = position
            yield out
    finally:
        hub.unsubscribe(sub)
