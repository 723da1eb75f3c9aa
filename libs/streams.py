"""The one Redis Streams client of the mesh: consumer groups, acks, reclaim, dead letters, trim.

Services never spell XREADGROUP themselves; they build a `StreamConsumer` with a handler and
run it. The semantics it holds (https://redis.io/docs/latest/develop/data-types/streams/):

- The group is created idempotently with `XGROUP CREATE ... 0 MKSTREAM` (BUSYGROUP ignored),
  starting at the stream's beginning so entries written before the group existed are not lost.
- Entries are read with `XREADGROUP ... BLOCK` (shorter than the socket timeout) and acked with
  one `XACK` per batch, only after every handler in the batch returned.
- On start, the consumer first drains its own pending entries (`XREADGROUP ... 0`).
- A handler failure leaves the entry pending. After `visibility_timeout_ms` idle, some consumer
  claims it with `XAUTOCLAIM` (both reply shapes: Redis 6.2 returns deleted entries with no
  fields; 7+ lists their ids in a third element) and handles it again; past `max_deliveries`
  it is moved to the dead-letter stream with the error and the original id, then acked.
- `EnvelopeError`/`PermanentError` dead-letter at once. `DependencyUnavailable` pauses reading
  with jittered backoff and keeps the entries in hand: they are retried from memory, not
  re-read, because every `XREADGROUP ... 0` and `XAUTOCLAIM` adds one to an entry's delivery
  count and an outage must never turn healthy entries into dead letters. While held, their
  idle time is reset with `XCLAIM ... JUSTID` (which does not count a delivery,
  https://redis.io/docs/latest/commands/xclaim/), so no other consumer reclaims them.
- Trimming uses `XTRIM MINID` at the oldest entry any group still needs (its oldest pending
  entry, or the first one not yet delivered), so an unacked entry is never trimmed.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import os
import random
import socket
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError, ResponseError

from libs import metrics
from libs.connections import MAX_BLOCK_MS
from libs.errors import DependencyUnavailable, EnvelopeError, PermanentError
from libs.logs import mask, request_id
from libs.messages import ENTRY_FIELD, Envelope
from libs.retry import backoff_delay, retry_forever, sleep_unless

log = logging.getLogger("libs.streams")


def consumer_name(service: str) -> str:
    """A consumer name unique to this process: service, host, pid and 6 random hex digits.

    Replicas and the old and new processes of a deploy overlap, so the pid alone is not enough.
    """
    return f"{service}-{socket.gethostname()}-{os.getpid()}-{random.getrandbits(24):06x}"


@dataclass(frozen=True, slots=True)
class Entry:
    """One stream entry as delivered: its id, raw fields, and how often it was delivered."""

    id: str
    fields: dict[bytes, bytes]
    deliveries: int = 1

    def envelope(self) -> Envelope:
        """Decode the entry's envelope; raises `EnvelopeError` when it is missing or invalid."""
        data = self.fields.get(ENTRY_FIELD)
        if data is None:
            raise EnvelopeError(f"entry {self.id} has no {ENTRY_FIELD.decode()!r} field")
        return Envelope.decode(data)


def _id(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def parse_autoclaim(reply: Sequence[Any]) -> tuple[str, list[Entry], list[str], bool]:
    """Normalise an XAUTOCLAIM reply as parsed by redis-py.

    Returns (next_start, entries, deleted ids, some_deleted_unnamed). Redis 7+ and Valkey
    reply `[next, [[id, fields], ...], [deleted ids]]` and drop deleted entries from the PEL.
    Redis 6.2 has no third element: a deleted entry appears as a nil (or an id with no
    fields) and stays pending, claimed by us, so the caller must find and ack it.
    https://redis.io/docs/latest/commands/xautoclaim/
    """
    next_start = _id(reply[0])
    entries: list[Entry] = []
    deleted: list[str] = [_id(d) for d in reply[2]] if len(reply) > 2 and reply[2] else []
    unnamed = False
    for item in reply[1] or ():
        entry_id, fields = (item[0], item[1]) if item is not None else (None, None)
        if entry_id is None:
            unnamed = True
        elif not fields:
            deleted.append(_id(entry_id))
        else:
            entries.append(Entry(_id(entry_id), dict(fields)))
    return next_start, entries, deleted, unnamed


def _parse_stream_id(entry_id: str) -> tuple[int, int]:
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)


def _next_id(entry_id: str) -> str:
    ms, seq = _parse_stream_id(entry_id)
    return f"{ms}-{seq + 1}"


class StreamGroup:
    """Commands on one stream as seen by one consumer of one group."""

    def __init__(self, redis: aioredis.Redis, stream: str, group: str, consumer: str) -> None:
        self.redis = redis
        self.stream = stream
        self.group = group
        self.consumer = consumer

    async def ensure_group(self) -> None:
        """Create the group (and the stream) if missing; idempotent across replicas."""
        try:
            await self.redis.xgroup_create(self.stream, self.group, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def read(self, *, count: int, block_ms: int | None, pending: bool = False) -> list[Entry]:
        """XREADGROUP: new entries (`>`), or this consumer's own pending ones (`0`)."""
        reply: Any = await self.redis.xreadgroup(
            self.group,
            self.consumer,
            {self.stream: "0" if pending else ">"},
            count=count,
            block=None if pending else block_ms,
        )
        entries: list[Entry] = []
        for _stream, items in reply or ():
            for entry_id, fields in items:
                if fields:  # an own pending entry that was deleted meanwhile has no fields
                    entries.append(Entry(_id(entry_id), dict(fields)))
                elif pending:
                    await self.ack([_id(entry_id)])
        return entries

    async def autoclaim(self, *, min_idle_ms: int, count: int, start: str = "0-0") -> tuple[str, list[Entry]]:
        """XAUTOCLAIM idle entries to this consumer; acks entries deleted from the stream."""
        reply: Any = await self.redis.execute_command(  # type: ignore[no-untyped-call]
            "XAUTOCLAIM",
            self.stream,
            self.group,
            self.consumer,
            min_idle_ms,
            start,
            "COUNT",
            count,
        )
        next_start, entries, deleted, unnamed = parse_autoclaim(reply)
        if unnamed:
            deleted += await self._vanished_pending()
        if deleted:
            await self.ack(deleted)  # 6.2 keeps deleted ids pending; acking clears them
        return next_start, entries

    async def _vanished_pending(self, count: int = 1000) -> list[str]:
        """Ids pending for this consumer whose entries no longer exist in the stream."""
        rows: Any = await self.redis.xpending_range(
            self.stream, self.group, min="-", max="+", count=count, consumername=self.consumer
        )
        gone = []
        for row in rows:
            entry_id = _id(row["message_id"])
            if not await self.redis.xrange(self.stream, min=entry_id, max=entry_id):
                gone.append(entry_id)
        return gone

    async def delivery_counts(self, ids: Sequence[str]) -> dict[str, int]:
        """Times each pending entry in `ids` was delivered (XPENDING, extended form)."""
        if not ids:
            return {}
        rows: Any = await self.redis.xpending_range(
            self.stream,
            self.group,
            min=min(ids, key=_parse_stream_id),
            max=max(ids, key=_parse_stream_id),
            count=max(len(ids), 1) * 4,
        )
        wanted = set(ids)
        return {
            _id(r["message_id"]): int(r["times_delivered"]) for r in rows if _id(r["message_id"]) in wanted
        }

    async def keep_own(self, ids: Sequence[str]) -> set[str]:
        """Of `ids`, those still pending for this consumer, with their idle time reset to 0.

        XPENDING (filtered by consumer) finds which are still ours: another consumer may have
        claimed one after the visibility timeout, and then it is theirs to handle. XCLAIM with
        min-idle 0 and JUSTID then resets their idle time without counting a delivery.
        """
        if not ids:
            return set()
        rows: Any = await self.redis.xpending_range(
            self.stream,
            self.group,
            min=min(ids, key=_parse_stream_id),
            max=max(ids, key=_parse_stream_id),
            count=max(len(ids), 1) * 4,
            consumername=self.consumer,
        )
        wanted = set(ids)
        mine: list[Any] = [_id(r["message_id"]) for r in rows if _id(r["message_id"]) in wanted]
        if mine:
            await self.redis.xclaim(self.stream, self.group, self.consumer, 0, mine, justid=True)
        return set(mine)

    async def ack(self, ids: Iterable[str]) -> None:
        """XACK the given ids."""
        ids = list(ids)
        if ids:
            await self.redis.xack(self.stream, self.group, *ids)

    async def dead_letter(self, entry: Entry, error: str, dead_stream: str) -> None:
        """Copy `entry` to `dead_stream` with the error and original id, then XACK it, atomically."""
        fields: dict[Any, Any] = dict(entry.fields)
        fields.update(
            {
                "error": mask(error)[:2000],  # exception texts may quote a customer
                "original_id": entry.id,
                "stream": self.stream,
                "group": self.group,
                "deliveries": str(entry.deliveries),
                "failed_at": f"{time.time():.3f}",
            }
        )
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.xadd(dead_stream, fields, maxlen=100_000, approximate=True)
            pipe.xack(self.stream, self.group, entry.id)
            await pipe.execute()

    async def group_info(self) -> dict[str, Any] | None:
        """This group's XINFO GROUPS row (name, consumers, pending, last-delivered-id, lag)."""
        for row in await self.redis.xinfo_groups(self.stream):
            if _id(row["name"]) == self.group:
                return dict(row)
        return None

    async def trim(self) -> int:
        """XTRIM MINID at the oldest entry any group still needs; returns entries removed."""
        groups = await self.redis.xinfo_groups(self.stream)
        if not groups:
            return 0
        floor: tuple[int, int] | None = None
        for row in groups:
            name = _id(row["name"])
            keep = _next_id(_id(row["last-delivered-id"]))
            if int(row["pending"]):
                summary = await self.redis.xpending(self.stream, name)
                if summary and summary.get("min"):
                    keep = _id(summary["min"])
            candidate = _parse_stream_id(keep)
            floor = candidate if floor is None or candidate < floor else floor
        if floor is None:
            return 0
        return int(await self.redis.xtrim(self.stream, minid=f"{floor[0]}-{floor[1]}", approximate=False))

    async def prune_consumers(self, *, idle_ms: int) -> list[str]:
        """Delete consumers idle over `idle_ms` with nothing pending (deleting discards pending)."""
        removed: list[str] = []
        for row in await self.redis.xinfo_consumers(self.stream, self.group):
            name = _id(row["name"])
            if name != self.consumer and int(row["pending"]) == 0 and int(row["idle"]) > idle_ms:
                await self.redis.xgroup_delconsumer(self.stream, self.group, name)
                removed.append(name)
        return removed


class _Outcome(enum.Enum):
    """What `StreamConsumer._handle` made of one entry."""

    ACK = "ack"  # handled, or dead-lettered: ack it
    HOLD = "hold"  # a dependency is down: keep it in hand and retry it after the pause
    LEAVE = "leave"  # the handler failed: leave it pending for a redelivery


Handler = Callable[[Entry, Envelope], Awaitable[None]]
KeyOf = Callable[[Entry, Envelope], str]
DeadLetterHook = Callable[[Entry, str], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class ConsumerConfig:
    """Tuning of one consumer. Times in milliseconds unless named `_s` (seconds).

    `visibility_timeout_ms` must exceed the slowest handler: an entry idle that long is
    presumed abandoned and handled again by whichever consumer claims it.
    """

    batch_size: int = 64
    block_ms: int = MAX_BLOCK_MS
    visibility_timeout_ms: int = 60_000
    max_deliveries: int = 5
    concurrency: int = 32
    maintenance_interval_s: float = 5.0
    consumer_idle_prune_ms: int = 3_600_000
    # Bound of one dependency pause (unless the dependency asked for longer, `retry_after`).
    pause_cap_s: float = 5.0


@dataclass
class StreamConsumer:
    """Runs `handler` for every entry of `stream` delivered to `group`, as `consumer`.

    Each entry's envelope is decoded once and handed to both `key_of(entry, envelope)` and
    `handler(entry, envelope)`; an entry that does not decode is dead-lettered.
    `key_of` names the serialisation key (a customer): entries of one key in a batch
    are handled in order, one at a time; different keys run concurrently up to
    `config.concurrency`. `run()` returns after `stop()` once in-flight entries are acked.

    `on_dead_letter(entry, error)`, when given, runs after an entry was dead-lettered and acked,
    so a service can settle what the entry held up (a customer's reply order, for one); its
    failures are logged, never raised.
    """

    redis: aioredis.Redis
    stream: str
    group: str
    consumer: str
    handler: Handler
    dead_letter_stream: str
    config: ConsumerConfig = field(default_factory=ConsumerConfig)
    key_of: KeyOf | None = None
    on_dead_letter: DeadLetterHook | None = None
    healthy: bool = field(default=False, init=False)
    _stopping: asyncio.Event = field(default_factory=asyncio.Event, init=False)
    _retry_own: bool = field(default=True, init=False)
    _paused_until: float = field(default=0.0, init=False)
    # Entries a DependencyUnavailable left in hand, in stream order; retried from memory.
    _held: list[Entry] = field(default_factory=list, init=False)
    # Ids handled but not acked because the XACK itself failed; acked first on recovery.
    _unacked: list[str] = field(default_factory=list, init=False)
    _unavailable_streak: int = field(default=0, init=False)
    _next_maintenance: float = field(default=0.0, init=False)

    def __post_init__(self) -> None:
        self.group_client = StreamGroup(self.redis, self.stream, self.group, self.consumer)
        self._labels = {"stream": self.stream, "group": self.group}

    def stop(self) -> None:
        """Ask `run()` to finish the batch in hand and return."""
        self._stopping.set()

    @property
    def stopping(self) -> bool:
        """True once `stop()` was called."""
        return self._stopping.is_set()

    async def run_after(self, ready: Callable[[], Awaitable[object]]) -> None:
        """Await `ready()` (the service's bounded start-up wait for its dependencies), then
        `run()`; a `stop()` meanwhile ends both at once. The HTTP server is already answering,
        so `/ready` reports the truth during the wait."""
        waiting = asyncio.ensure_future(ready())
        stopped = asyncio.ensure_future(self._stopping.wait())
        try:
            await asyncio.wait({waiting, stopped}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (waiting, stopped):
                task.cancel()
        if not self.stopping:
            await self.run()

    async def run(self) -> None:
        """Consume until stopped, surviving Redis outages with jittered backoff."""
        while not self.stopping:
            await retry_forever(
                self._cycle, retry_on=(RedisError, OSError), base=0.2, cap=5.0,
                on_retry=self._read_failed, stop=self._stopping,
            )  # fmt: skip
        log.info("consumer stopped", extra={"stream": self.stream, "consumer": self.consumer})

    async def _cycle(self) -> None:
        """One turn of `run()`: settle earlier acks, maintain when due, read a batch, handle it."""
        if not self.healthy:
            await self.group_client.ensure_group()
        self.healthy = True
        if self._unacked:
            await self.group_client.ack(self._unacked)
            self._unacked = []
        if time.monotonic() >= self._next_maintenance:
            await self._maintain()
            self._next_maintenance = time.monotonic() + self.config.maintenance_interval_s
        if self._held:
            entries = await self._resume_held()
        elif self._retry_own:
            entries = await self.group_client.read(count=self.config.batch_size, block_ms=None, pending=True)
            self._retry_own = bool(entries)
            entries = await self._with_counts(entries)
        else:
            entries = await self.group_client.read(
                count=self.config.batch_size, block_ms=self.config.block_ms
            )
        if entries:
            await self._process(entries)
            await self._pause_if_needed()

    def _read_failed(self, exc: BaseException, delay: float) -> None:
        self.healthy = False
        # Entries read before the failure stay pending for this consumer: read them again first
        # once Redis answers, rather than wait out the visibility timeout.
        self._retry_own = True
        log.warning(
            "stream read failed; retrying",
            extra={"stream": self.stream, "error": repr(exc), "retry_in_s": round(delay, 2)},
        )

    async def _sleep(self, seconds: float) -> None:
        await sleep_unless(self._stopping, seconds)

    async def _pause_if_needed(self) -> None:
        """Sleep out a dependency pause, keeping held entries ours meanwhile.

        The pause can outlast the visibility timeout (a Twilio daily cap pauses for minutes),
        so the held entries' idle time is reset every third of it; otherwise another consumer
        would claim them, counting a delivery each time, until they were dead-lettered.
        """
        heartbeat = max(0.05, self.config.visibility_timeout_ms / 1000 / 3)
        while not self.stopping:
            delay = self._paused_until - time.monotonic()
            if delay <= 0:
                return
            await self._sleep(min(delay, heartbeat))
            if self._held and not self.stopping:
                mine = await self.group_client.keep_own([e.id for e in self._held])
                self._held = [e for e in self._held if e.id in mine]

    async def _resume_held(self) -> list[Entry]:
        """The held entries still pending for this consumer, idle time reset, counts unchanged."""
        held = self._held
        mine = await self.group_client.keep_own([e.id for e in held])
        self._held = []
        return [e for e in held if e.id in mine]

    async def _with_counts(self, entries: list[Entry]) -> list[Entry]:
        counts = await self.group_client.delivery_counts([e.id for e in entries])
        return [Entry(e.id, e.fields, counts.get(e.id, e.deliveries)) for e in entries]

    async def _maintain(self) -> None:
        """Reclaim idle entries, refresh lag/pending gauges, trim, prune dead consumers."""
        start = "0-0"
        for _ in range(10):  # bounded: at most 10 pages per cycle
            start, claimed = await self.group_client.autoclaim(
                min_idle_ms=self.config.visibility_timeout_ms,
                count=self.config.batch_size,
                start=start,
            )
            if claimed:
                metrics.STREAM_RECLAIMED.labels(**self._labels).inc(len(claimed))
                log.info("reclaimed idle entries", extra={"stream": self.stream, "count": len(claimed)})
                await self._process(await self._with_counts(claimed))
            if start == "0-0" or self.stopping:
                break
        info = await self.group_client.group_info()
        if info:
            metrics.CONSUMER_PENDING.labels(**self._labels).set(int(info.get("pending") or 0))
            if info.get("lag") is not None:
                metrics.CONSUMER_LAG.labels(**self._labels).set(int(info["lag"]))
        await self.group_client.trim()
        await self.group_client.prune_consumers(idle_ms=self.config.consumer_idle_prune_ms)

    async def _process(self, entries: list[Entry]) -> None:
        """Handle a batch lane by lane, ack what may be acked, hold what waits for a dependency.

        Every lane runs to its end before anything is raised (`return_exceptions`): a lane left
        running after `gather` raised would still be handling entries that the next read hands
        out again.
        """
        metrics.STREAM_CONSUMED.labels(**self._labels).inc(len(entries))
        done: list[str] = []
        held: list[Entry] = []
        lanes: OrderedDict[str, list[tuple[Entry, Envelope | EnvelopeError]]] = OrderedDict()
        for entry in entries:
            if entry.deliveries > self.config.max_deliveries:
                await self._dead_letter(entry, "delivered too often")
                continue
            # Decoded once, here: the lane key and the handler get the same envelope.
            try:
                decoded: Envelope | EnvelopeError = entry.envelope()
            except EnvelopeError as exc:
                decoded = exc
            lanes.setdefault(self._key(entry, decoded), []).append((entry, decoded))
        sem = asyncio.Semaphore(self.config.concurrency)

        async def lane(items: list[tuple[Entry, Envelope | EnvelopeError]]) -> None:
            async with sem:
                for index, (item, envelope) in enumerate(items):
                    outcome = await self._handle(item, envelope)
                    if outcome is _Outcome.ACK:
                        done.append(item.id)
                        continue
                    if outcome is _Outcome.HOLD:
                        held.extend(e for e, _ in items[index:])  # the lane resumes where it stopped
                    break  # keep the lane's order: later entries wait for a redelivery

        results = await asyncio.gather(*(lane(items) for items in lanes.values()), return_exceptions=True)
        self._held = sorted(held, key=lambda e: _parse_stream_id(e.id))
        if held:
            self._unavailable_streak += 1
        else:
            self._unavailable_streak = 0
        try:
            await self.group_client.ack(done)
        except (RedisError, OSError):
            self._unacked = done
            raise
        metrics.STREAM_ACKED.labels(**self._labels).inc(len(done))
        for result in results:
            if isinstance(result, BaseException):
                raise result

    def _key(self, entry: Entry, envelope: Envelope | EnvelopeError) -> str:
        # An undecodable entry gets its own lane and is dead-lettered by `_handle`.
        if self.key_of is None or isinstance(envelope, EnvelopeError):
            return entry.id
        try:
            return self.key_of(entry, envelope)
        except Exception:  # a malformed envelope fails in the handler, in a lane of its own
            return entry.id

    async def _handle(self, entry: Entry, envelope: Envelope | EnvelopeError) -> _Outcome:
        """Run the handler: ACK (handled or dead-lettered), HOLD (a dependency is down) or LEAVE."""
        started = time.perf_counter()
        token = request_id.set(entry.id)
        try:
            if isinstance(envelope, EnvelopeError):
                raise envelope
            await self.handler(entry, envelope)
            return _Outcome.ACK
        except (EnvelopeError, PermanentError) as exc:
            await self._dead_letter(entry, f"{type(exc).__name__}: {exc}")
            return _Outcome.ACK  # already acked with the dead letter; the lane goes on
        except DependencyUnavailable as exc:
            self._pause(exc)
            return _Outcome.HOLD
        except Exception as exc:
            metrics.STREAM_HANDLER_ERRORS.labels(**self._labels).inc()
            log.exception(
                "handler failed; entry stays pending",
                extra={"stream": self.stream, "entry_id": entry.id, "deliveries": entry.deliveries},
            )
            if entry.deliveries >= self.config.max_deliveries:
                await self._dead_letter(entry, f"{type(exc).__name__}: {exc}")
                return _Outcome.ACK
            return _Outcome.LEAVE
        finally:
            request_id.reset(token)
            metrics.STREAM_HANDLE_DURATION.labels(**self._labels).observe(time.perf_counter() - started)

    def _pause(self, exc: DependencyUnavailable) -> None:
        self.healthy = False
        # Grows with consecutive batches that met the outage; full jitter spreads replicas.
        delay = max(
            0.2 + backoff_delay(self._unavailable_streak + 2, base=0.2, cap=self.config.pause_cap_s),
            exc.retry_after or 0.0,
        )
        self._paused_until = max(self._paused_until, time.monotonic() + delay)
        metrics.STREAM_HANDLER_ERRORS.labels(**self._labels).inc()
        log.warning(
            "dependency unavailable; pausing",
            extra={"stream": self.stream, "error": str(exc), "pause_s": round(delay, 2)},
        )

    async def _dead_letter(self, entry: Entry, error: str) -> None:
        await self.group_client.dead_letter(entry, error, self.dead_letter_stream)
        metrics.STREAM_DEAD_LETTERED.labels(**self._labels).inc()
        log.error(
            "entry dead-lettered",
            extra={
                "stream": self.stream,
                "entry_id": entry.id,
                "error": error,
                "deliveries": entry.deliveries,
            },
        )
        if self.on_dead_letter is not None:
            try:
                await self.on_dead_letter(entry, error)
            except Exception:
                log.exception("dead-letter hook failed", extra={"stream": self.stream, "entry_id": entry.id})
