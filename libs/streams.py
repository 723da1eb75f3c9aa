"""The one Redis Streams client of the mesh: consumer groups, acks, leases, reclaim, dead letters.

Services never spell XREADGROUP themselves; they build a `StreamConsumer` with a handler and
run it. The semantics it holds (https://redis.io/docs/latest/develop/data-types/streams/):

- The group is created idempotently with `XGROUP CREATE ... 0 MKSTREAM` (BUSYGROUP ignored),
  starting at the stream's beginning so entries written before the group existed are not lost.
  A group that vanished (NOGROUP: Redis restarted empty) is created again at once, with one
  warning: the epoch record beside the stream (`epoch_key`) tells lost data from a first start.
- Entries are read with `XREADGROUP ... BLOCK` (shorter than the socket timeout) while fewer
  than `max_in_hand` are in hand, and each goes to its key's lane (a customer): one lane runs
  its entries in stream order, one at a time; lanes run concurrently, `concurrency` entries at
  once. Reading never waits for a long lane, so one key's backlog does not delay the others.
  An entry is acked (batched `XACK`) only after its handler returned.
- Every consumer holds a lease, `lease_key(stream, group, consumer)`, a key with a
  `lease_ttl_ms` TTL renewed every third of it while the process runs; the same beat resets
  the idle time of the entries in hand (`XCLAIM ... JUSTID`, which counts no delivery,
  https://redis.io/docs/latest/commands/xclaim/). Every second, each consumer looks for
  consumers with pending entries and no lease (dead: killed, or stopped), and claims their
  entries (`XCLAIM`, min-idle half the lease, so two claimers cannot both take one). A dead
  consumer's entries are thus handled again within about `lease_ttl_ms` + 1 s, never while
  its owner lives. After its own Redis connection failed, a consumer takes nothing over for a
  whole lease: every lease may have run out while nobody could reach Redis to renew it. A
  stopping consumer marks what it had not started idle and deletes its lease once its lanes
  are done, so what it leaves is taken at once. `XAUTOCLAIM` after `visibility_timeout_ms`
  idle stays as the net for entries nobody holds (a handler failure left them) and consumers
  without a lease; past
  `max_deliveries` an entry is moved to the dead-letter stream with the error and the
  original id, then acked. Both XAUTOCLAIM reply shapes are read (Redis 6.2 returns deleted
  entries with no fields; 7+ lists their ids in a third element).
- `EnvelopeError`/`PermanentError` dead-letter at once. `RetryLater` keeps the entry in its
  lane and hands it to the handler again after its delay. `DependencyUnavailable` pauses
  reading with jittered backoff and keeps the lane's entries in hand: they are retried from
  memory, not re-read, because every `XREADGROUP ... 0` and `XCLAIM` adds one to an entry's
  delivery count and an outage must never turn healthy entries into dead letters.
- Trimming uses `XTRIM MINID` at the oldest entry any group still needs (its oldest pending
  entry, or the first one not yet delivered), so an unacked entry is never trimmed.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import os
import random
import socket
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import redis.asyncio as aioredis
from redis.exceptions import RedisError, ResponseError

from libs import metrics
from libs.connections import MAX_BLOCK_MS
from libs.errors import DependencyUnavailable, EnvelopeError, PermanentError, RetryableError, RetryLater
from libs.logs import mask, request_id
from libs.messages import ENTRY_FIELD, Envelope
from libs.retry import backoff_delay, retry_forever, sleep_unless

log = logging.getLogger("libs.streams")


def consumer_name(service: str) -> str:
    """A consumer name unique to this process: service, host, pid and 6 random hex digits.

    Replicas and the old and new processes of a deploy overlap, so the pid alone is not enough.
    """
    return f"{service}-{socket.gethostname()}-{os.getpid()}-{random.getrandbits(24):06x}"


def lease_key(stream: str, group: str, consumer: str) -> str:
    """The key whose existence says `consumer` of `group` on `stream` is alive (see module doc)."""
    return f"{stream}:lease:{group}:{consumer}"


def epoch_key(stream: str) -> str:
    """The hash recording when Redis' data for `stream` began (`id`, `since` in Unix seconds)."""
    return f"{stream}:epoch"


# Creates the epoch record when missing (a first start, or Redis lost its data).
# KEYS[1] epoch hash. ARGV[1] a new id. Returns {id, since_s, created 0|1}.
EPOCH_FN: Final = """
local function state_epoch(key, new_id)
  local id = redis.call('HGET', key, 'id')
  if id then
    return {id, tonumber(redis.call('HGET', key, 'since') or '0'), 0}
  end
  local now = tonumber(redis.call('TIME')[1])
  redis.call('HSET', key, 'id', new_id, 'since', now)
  return {new_id, now, 1}
end
"""
_EPOCH: Final = EPOCH_FN + "\nreturn state_epoch(KEYS[1], ARGV[1])\n"

# KEYS[1] lease. ARGV: token, ttl ms. Returns 'ok', or 'lost' when it had expired (it is taken again).
_RENEW: Final = """
local holder = redis.call('GET', KEYS[1])
redis.call('SET', KEYS[1], ARGV[1], 'PX', tonumber(ARGV[2]))
if holder == ARGV[1] then return 'ok' end
return 'lost'
"""
# KEYS[1] lease. ARGV[1] token. Deletes the lease only if it is still this holder's.
_RELEASE: Final = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class StateEpoch:
    """The epoch record of one stream's Redis data; `check()` says when Redis lost it.

    A Redis restarted without its data (a replaced Key Value instance) loses streams, groups,
    send states and cursors at once; the epoch record vanishes with them. The first process to
    look after that creates a new one, and every process that had seen the old one learns it.
    """

    def __init__(self, redis: aioredis.Redis, key: str) -> None:
        self.key = key
        self._script = redis.register_script(_EPOCH)
        self.id: str | None = None

    async def check(self) -> bool:
        """Read (or create) the record; True when it differs from the one this process saw."""
        epoch_id, _since, _created = await self._script(keys=[self.key], args=[os.urandom(8).hex()])
        epoch_id = _id(epoch_id)
        lost = self.id is not None and epoch_id != self.id
        self.id = epoch_id
        return lost


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

    async def read(
        self, *, count: int, block_ms: int | None, pending: bool = False, after: str = "0"
    ) -> list[Entry]:
        """XREADGROUP: new entries (`>`), or this consumer's own pending ones after id `after`."""
        reply: Any = await self.redis.xreadgroup(
            self.group,
            self.consumer,
            {self.stream: after if pending else ">"},
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

    async def claim_from(self, owner: str, *, min_idle_ms: int, count: int) -> list[Entry]:
        """XCLAIM up to `count` of `owner`'s pending entries idle at least `min_idle_ms`.

        Entries deleted from the stream meanwhile are acked (Redis 6.2 keeps them pending and
        answers them without fields; 7+ drops them from the PEL itself).
        """
        rows: Any = await self.redis.xpending_range(
            self.stream, self.group, min="-", max="+", count=count, consumername=owner
        )
        ids = [_id(r["message_id"]) for r in rows]
        if not ids:
            return []
        claim: list[Any] = list(ids)
        reply: Any = await self.redis.xclaim(self.stream, self.group, self.consumer, min_idle_ms, claim)
        entries: list[Entry] = []
        gone: list[str] = []
        for item in reply or ():
            if item is None:
                continue
            entry_id, fields = item
            if fields:
                entries.append(Entry(_id(entry_id), dict(fields)))
            else:
                gone.append(_id(entry_id))
        claimed = {e.id for e in entries} | set(gone)
        if len(claimed) < len(ids):  # 6.2 may answer a deleted entry with a nil: ask the PEL
            for entry_id in await self._vanished_pending():
                if entry_id in ids:
                    gone.append(entry_id)
        if gone:
            await self.ack(gone)
        return entries

    async def hand_over(self, *, idle_ms: int, count: int = 10_000) -> int:
        """Mark this consumer's pending entries idle for `idle_ms` (XCLAIM ... IDLE JUSTID, no
        delivery counted), so other consumers may claim them at once; returns how many."""
        rows: Any = await self.redis.xpending_range(
            self.stream, self.group, min="-", max="+", count=count, consumername=self.consumer
        )
        ids: list[Any] = [_id(r["message_id"]) for r in rows]
        if ids:
            await self.redis.xclaim(self.stream, self.group, self.consumer, 0, ids, idle=idle_ms, justid=True)
        return len(ids)

    async def consumers(self) -> list[tuple[str, int]]:
        """(name, pending count) of every consumer of the group (XINFO CONSUMERS)."""
        rows: Any = await self.redis.xinfo_consumers(self.stream, self.group)
        return [(_id(r["name"]), int(r["pending"])) for r in rows]

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
            count=len(ids) * 4 + 100,  # also counts this consumer's other pending entries in range
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
    RETRY = "retry"  # RetryLater: keep it in the lane, hand it over again after the delay
    HOLD = "hold"  # a dependency is down: keep the lane in hand and retry it after the pause
    LEAVE = "leave"  # the handler failed: leave it pending for a redelivery


Handler = Callable[[Entry, Envelope], Awaitable[None]]
KeyOf = Callable[[Entry, Envelope], str]
# An entry and its envelope, decoded once when read (or why it could not be).
Item = tuple[Entry, "Envelope | EnvelopeError"]
DeadLetterHook = Callable[[Entry, str], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class ConsumerConfig:
    """Tuning of one consumer. Times in milliseconds unless named `_s` (seconds).

    `visibility_timeout_ms` must exceed the slowest handler of a consumer that stopped beating
    (its entries are then presumed abandoned); entries in hand are kept ours by the beat.
    `lease_ttl_ms` bounds how long a dead consumer's entries wait for another consumer.
    `max_in_hand` bounds the entries read and not yet acked (memory, and what one process
    holds when it dies).
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
    lease_ttl_ms: int = 6_000
    takeover_interval_s: float = 1.0
    max_in_hand: int = 1024


@dataclass
class _Lane:
    """One key's entries in hand, in stream order; at most one task handles them."""

    queue: deque[Item] = field(default_factory=deque)
    task: asyncio.Task[None] | None = None
    held: bool = False


@dataclass
class StreamConsumer:
    """Runs `handler` for every entry of `stream` delivered to `group`, as `consumer`.

    Each entry's envelope is decoded once and handed to both `key_of(entry, envelope)` and
    `handler(entry, envelope)`; an entry that does not decode is dead-lettered.
    `key_of` names the lane (a customer): a lane's entries are handled in stream order,
    one at a time; lanes run concurrently, up to `config.concurrency` entries at once. `run()`
    returns after `stop()` once the entries being handled are done and acked; entries read but
    not started stay pending, and the lease is released so another consumer takes them.

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
    _unavailable_streak: int = field(default=0, init=False)
    _lanes: dict[str, _Lane] = field(default_factory=dict, init=False)
    # Every entry read and not yet acked or left, by id: the lanes' queues, in hand.
    _in_hand: dict[str, Entry] = field(default_factory=dict, init=False)
    _acks: list[str] = field(default_factory=list, init=False)
    _lost: set[str] = field(default_factory=set, init=False)
    _lease_held: bool = field(default=False, init=False)
    _next_maintenance: float = field(default=0.0, init=False)
    _next_takeover: float = field(default=0.0, init=False)
    _failed: bool = field(default=False, init=False)
    _recovered_at: float = field(default=float("-inf"), init=False)

    def __post_init__(self) -> None:
        self.group_client = StreamGroup(self.redis, self.stream, self.group, self.consumer)
        self._labels = {"stream": self.stream, "group": self.group}
        self._lease = lease_key(self.stream, self.group, self.consumer)
        self._token = os.urandom(8).hex()
        self._renew = self.redis.register_script(_RENEW)
        self._release = self.redis.register_script(_RELEASE)
        self.epoch = StateEpoch(self.redis, epoch_key(self.stream))
        self._sem = asyncio.Semaphore(self.config.concurrency)
        self._wake = asyncio.Event()  # the keeper: acks to send
        self._progress = asyncio.Event()  # the reader: room in hand again

    def stop(self) -> None:
        """Ask `run()` to finish the entries being handled and return."""
        self._stopping.set()
        self._wake.set()
        self._progress.set()

    @property
    def stopping(self) -> bool:
        """True once `stop()` was called."""
        return self._stopping.is_set()

    @property
    def in_hand(self) -> int:
        """Entries read and not yet acked or left."""
        return len(self._in_hand)

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
        keeper = asyncio.create_task(self._keep(), name=f"keeper:{self.stream}")
        try:
            while not self.stopping:
                await retry_forever(
                    self._cycle, retry_on=(RedisError, OSError), base=0.2, cap=5.0,
                    on_retry=self._read_failed, stop=self._stopping,
                )  # fmt: skip
        except asyncio.CancelledError:
            # Cancelled (a shutdown past its grace period): nothing more is acked; the lease
            # expires by itself and the entries in hand are taken over.
            self._stopping.set()
            for task in [keeper, *(lane.task for lane in self._lanes.values() if lane.task)]:
                task.cancel()
            raise
        lanes = [lane.task for lane in self._lanes.values() if lane.task is not None]
        if lanes:
            await asyncio.gather(*lanes, return_exceptions=True)
        self._wake.set()
        await keeper  # sends the last acks, then releases the lease
        log.info("consumer stopped", extra={"stream": self.stream, "consumer": self.consumer})

    async def _cycle(self) -> None:
        """One turn of `run()`: maintain and take over when due, then read while there is room."""
        if not self.healthy:
            await self.group_client.ensure_group()
            if await self.epoch.check():
                self._warn_lost_data()
            await self._renew_lease()
            if self._failed:
                # Back after Redis failed: every consumer's lease may have run out meanwhile
                # (Redis counts TTLs whoever can reach it); give the live ones a whole lease to
                # renew before treating any as dead.
                self._recovered_at = time.monotonic()
                self._failed = False
        self.healthy = True
        now = time.monotonic()
        if now >= self._next_maintenance:
            await self._maintain()
            self._next_maintenance = time.monotonic() + self.config.maintenance_interval_s
        if now >= self._next_takeover:
            await self._take_over()
            self._next_takeover = time.monotonic() + self.config.takeover_interval_s
        if await self._pause_if_needed():
            return
        room = self.config.max_in_hand - len(self._in_hand)
        if room <= 0:
            self._progress.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._progress.wait(), self.config.block_ms / 1000)
            return
        if self._retry_own:
            await self._read_own(room)
        else:
            entries = await self.group_client.read(
                count=min(self.config.batch_size, room), block_ms=self.config.block_ms
            )
            await self._dispatch(entries)

    def _read_failed(self, exc: BaseException, delay: float) -> None:
        self.healthy = False
        self._failed = True
        # Entries read before the failure stay pending for this consumer: read them again first
        # once Redis answers, rather than wait out the visibility timeout.
        self._retry_own = True
        if "NOGROUP" in str(exc) or "UNBLOCKED" in str(exc):
            # The stream or its group vanished; the epoch check that follows says why.
            log.info("stream or consumer group missing; creating it again", extra={"stream": self.stream})
            return
        log.warning(
            "stream read failed; retrying",
            extra={"stream": self.stream, "error": repr(exc), "retry_in_s": round(delay, 2)},
        )

    def _warn_lost_data(self) -> None:
        self._lease_held = False  # gone with the rest: the next renewal takes it silently
        log.warning(
            "Redis lost its data (restarted empty?): the consumer group, pending entries and the "
            "notifier's send states and customer cursors are gone; carrying on from a new start",
            extra={"stream": self.stream, "epoch": self.epoch.id},
        )

    async def _read_own(self, room: int) -> None:
        """Read this consumer's own pending entries (after a failure), skipping those in hand."""
        after = "0"
        while room > 0:
            entries = await self.group_client.read(
                count=min(self.config.batch_size, room), block_ms=None, pending=True, after=after
            )
            if not entries:
                break
            after = entries[-1].id
            fresh = [e for e in entries if e.id not in self._in_hand]
            await self._dispatch(await self._with_counts(fresh))
            room -= len(fresh)
        else:
            return  # no room for the rest yet: read them when there is
        self._retry_own = False

    async def _sleep(self, seconds: float) -> None:
        await sleep_unless(self._stopping, seconds)

    async def _pause_if_needed(self) -> bool:
        """Sleep out a dependency pause (entries in hand stay ours: the keeper beats them),
        then resume the held lanes with what is still ours. True when it paused."""
        delay = self._paused_until - time.monotonic()
        if delay > 0:
            await self._sleep(delay)
            return True
        held = [(key, lane) for key, lane in self._lanes.items() if lane.held]
        if not held:
            return False
        mine = await self.group_client.keep_own([e.id for _, lane in held for e, _ in lane.queue])
        for key, lane in held:
            for item in [i for i in lane.queue if i[0].id not in mine]:
                lane.queue.remove(item)
                self._in_hand.pop(item[0].id, None)
            lane.held = False
            self._start(key, lane)
        return False

    async def _with_counts(self, entries: list[Entry]) -> list[Entry]:
        counts = await self.group_client.delivery_counts([e.id for e in entries])
        return [Entry(e.id, e.fields, counts.get(e.id, e.deliveries)) for e in entries]

    async def _maintain(self) -> None:
        """Reclaim idle entries, refresh lag/pending gauges, trim, prune dead consumers."""
        if await self.epoch.check():
            self._warn_lost_data()
        start = "0-0"
        for _ in range(10):  # bounded: at most 10 pages per cycle
            start, claimed = await self.group_client.autoclaim(
                min_idle_ms=self.config.visibility_timeout_ms,
                count=self.config.batch_size,
                start=start,
            )
            claimed = [e for e in claimed if e.id not in self._in_hand]
            if claimed:
                metrics.STREAM_RECLAIMED.labels(**self._labels).inc(len(claimed))
                log.info("reclaimed idle entries", extra={"stream": self.stream, "count": len(claimed)})
                await self._dispatch(await self._with_counts(claimed))
            if start == "0-0" or self.stopping:
                break
        info = await self.group_client.group_info()
        if info:
            metrics.CONSUMER_PENDING.labels(**self._labels).set(int(info.get("pending") or 0))
            if info.get("lag") is not None:
                metrics.CONSUMER_LAG.labels(**self._labels).set(int(info["lag"]))
        await self.group_client.trim()
        await self.group_client.prune_consumers(idle_ms=self.config.consumer_idle_prune_ms)

    async def _take_over(self) -> None:
        """Claim the pending entries of consumers whose lease is gone (dead or stopped)."""
        if time.monotonic() - self._recovered_at < self.config.lease_ttl_ms / 1000:
            return
        others = [(name, n) for name, n in await self.group_client.consumers() if n and name != self.consumer]
        if not others:
            return
        async with self.redis.pipeline(transaction=False) as pipe:
            for name, _ in others:
                pipe.exists(lease_key(self.stream, self.group, name))
            alive = await pipe.execute()
        for (name, pending), live in zip(others, alive, strict=True):
            room = self.config.max_in_hand - len(self._in_hand)
            if live or room <= 0:
                continue
            # Half the lease: a dead owner's entries have idled that long (its beat stopped),
            # and an entry another claimer took a moment ago has not, so only one takes it.
            claimed = await self.group_client.claim_from(
                name, min_idle_ms=self.config.lease_ttl_ms // 2, count=min(room, self.config.batch_size)
            )
            if claimed:
                metrics.STREAM_RECLAIMED.labels(**self._labels).inc(len(claimed))
                log.info(
                    "took over the entries of a consumer whose lease expired",
                    extra={"stream": self.stream, "from": name, "count": len(claimed), "pending": pending},
                )
                await self._dispatch(await self._with_counts(claimed))

    # -- lanes ----------------------------------------------------------------------------

    async def _dispatch(self, entries: list[Entry]) -> None:
        """Decode entries once and put them in their lanes (dead-lettering those delivered too often)."""
        if entries:
            metrics.STREAM_CONSUMED.labels(**self._labels).inc(len(entries))
        for entry in entries:
            if entry.id in self._in_hand:
                continue
            if entry.deliveries > self.config.max_deliveries:
                await self._dead_letter(entry, "delivered too often")
                continue
            try:
                decoded: Envelope | EnvelopeError = entry.envelope()
            except EnvelopeError as exc:
                decoded = exc
            key = self._key(entry, decoded)
            lane = self._lanes.setdefault(key, _Lane())
            # In stream order, also for an older entry taken over from a dead consumer: the
            # lane's head may be waiting (RetryLater) for exactly that entry.
            position = len(lane.queue)
            while position and _parse_stream_id(lane.queue[position - 1][0].id) > _parse_stream_id(entry.id):
                position -= 1
            lane.queue.insert(position, (entry, decoded))
            self._in_hand[entry.id] = entry
            self._start(key, lane)

    def _start(self, key: str, lane: _Lane) -> None:
        if lane.task is None and not lane.held and lane.queue and not self.stopping:
            lane.task = asyncio.create_task(self._run_lane(key, lane), name=f"lane:{self.stream}")

    async def _run_lane(self, key: str, lane: _Lane) -> None:
        """Handle the lane's entries in order until it is empty, held or left."""
        cancelled = False
        try:
            while lane.queue and not self.stopping:
                item = lane.queue[0]  # read again each time: an older entry may have come in
                entry, envelope = item
                if entry.id in self._lost:  # another consumer took it over meanwhile
                    self._lost.discard(entry.id)
                    lane.queue.remove(item)
                    self._drop(entry)
                    continue
                async with self._sem:
                    outcome, delay = await self._handle_safely(entry, envelope)
                if outcome is _Outcome.ACK:
                    lane.queue.remove(item)
                    self._drop(entry)
                    self._acks.append(entry.id)
                    self._wake.set()
                    self._unavailable_streak = 0
                elif outcome is _Outcome.RETRY:
                    await self._sleep(delay)
                elif outcome is _Outcome.HOLD:
                    lane.held = True
                    self._unavailable_streak += 1
                    return
                else:  # LEAVE: the lane's later entries wait too, to keep its order
                    while lane.queue:
                        self._drop(lane.queue.popleft()[0])
                    return
        except asyncio.CancelledError:
            cancelled = True
            raise
        finally:
            lane.task = None
            if not lane.queue and not lane.held and self._lanes.get(key) is lane:
                del self._lanes[key]
            if not cancelled:
                self._start(key, lane)
            self._progress.set()

    def _drop(self, entry: Entry) -> None:
        self._in_hand.pop(entry.id, None)
        self._progress.set()

    async def _handle_safely(
        self, entry: Entry, envelope: Envelope | EnvelopeError
    ) -> tuple[_Outcome, float]:
        """`_handle`, with a Redis failure of the consumer's own (a dead letter's write) holding
        the lane like an unavailable dependency."""
        try:
            return await self._handle(entry, envelope)
        except (RedisError, OSError) as exc:
            self.healthy = False
            self._pause(DependencyUnavailable(f"redis: {type(exc).__name__}: {exc}"))
            return _Outcome.HOLD, 0.0
        except Exception:
            log.exception(
                "consumer failed around a handler", extra={"stream": self.stream, "entry_id": entry.id}
            )
            return _Outcome.LEAVE, 0.0

    def _key(self, entry: Entry, envelope: Envelope | EnvelopeError) -> str:
        # An undecodable entry gets its own lane and is dead-lettered by `_handle`.
        if self.key_of is None or isinstance(envelope, EnvelopeError):
            return entry.id
        try:
            return self.key_of(entry, envelope)
        except Exception:  # a malformed envelope fails in the handler, in a lane of its own
            return entry.id

    async def _handle(self, entry: Entry, envelope: Envelope | EnvelopeError) -> tuple[_Outcome, float]:
        """Run the handler: ACK (handled or dead-lettered), RETRY, HOLD or LEAVE."""
        started = time.perf_counter()
        token = request_id.set(entry.id)
        try:
            if isinstance(envelope, EnvelopeError):
                raise envelope
            await self.handler(entry, envelope)
            return _Outcome.ACK, 0.0
        except (EnvelopeError, PermanentError) as exc:
            await self._dead_letter(entry, f"{type(exc).__name__}: {exc}")
            return _Outcome.ACK, 0.0  # already acked with the dead letter; the lane goes on
        except RetryLater as exc:
            return _Outcome.RETRY, exc.delay_s
        except DependencyUnavailable as exc:
            self._pause(exc)
            return _Outcome.HOLD, 0.0
        except Exception as exc:
            metrics.STREAM_HANDLER_ERRORS.labels(**self._labels).inc()
            extra = {"stream": self.stream, "entry_id": entry.id, "deliveries": entry.deliveries}
            if isinstance(exc, RetryableError):  # foreseen (stopping, no menu yet): no traceback
                log.warning("entry stays pending", extra={**extra, "reason": f"{type(exc).__name__}: {exc}"})
            else:
                log.exception("handler failed; entry stays pending", extra=extra)
            if entry.deliveries >= self.config.max_deliveries:
                await self._dead_letter(entry, f"{type(exc).__name__}: {exc}")
                return _Outcome.ACK, 0.0
            return _Outcome.LEAVE, 0.0
        finally:
            request_id.reset(token)
            metrics.STREAM_HANDLE_DURATION.labels(**self._labels).observe(time.perf_counter() - started)

    def _pause(self, exc: DependencyUnavailable) -> None:
        self.healthy = False
        # Grows with consecutive holds that met the outage; full jitter spreads replicas.
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

    # -- the keeper: acks, lease, beat ------------------------------------------------------

    def _beat_s(self) -> float:
        return max(0.05, min(self.config.lease_ttl_ms, self.config.visibility_timeout_ms) / 3000)

    async def _renew_lease(self) -> None:
        renewed = await self._renew(keys=[self._lease], args=[self._token, self.config.lease_ttl_ms])
        if renewed == b"lost" and self._lease_held and await self.epoch.check():
            self._warn_lost_data()  # not a stall: Redis lost everything, the lease with it
        elif renewed == b"lost" and self._lease_held:
            log.warning(
                "this consumer's lease had expired (the process stalled, or Redis lost it): "
                "other consumers may have taken its entries",
                extra={"stream": self.stream, "consumer": self.consumer},
            )
        self._lease_held = True

    async def _keep(self) -> None:
        """Send acks as they come; every beat renew the lease and keep the entries in hand ours.

        Ends once the consumer stopped and its lanes are done: the last acks go, then the lease
        is deleted so other consumers take what is left at once.
        """
        next_beat = 0.0
        failures = 0
        while True:
            finishing = self.stopping and not any(lane.task for lane in self._lanes.values())
            try:
                if self._acks:
                    ids, self._acks = self._acks, []
                    try:
                        await self.group_client.ack(ids)
                    except BaseException:
                        self._acks = ids + self._acks
                        raise
                    metrics.STREAM_ACKED.labels(**self._labels).inc(len(ids))
                if time.monotonic() >= next_beat:
                    await self._renew_lease()
                    ids = list(self._in_hand)
                    if ids:
                        mine = await self.group_client.keep_own(ids)
                        self._lost = {i for i in self._lost | set(ids) - mine if i in self._in_hand}
                    next_beat = time.monotonic() + self._beat_s()
                failures = 0
                if finishing:
                    with contextlib.suppress(RedisError, OSError):
                        await self.group_client.hand_over(idle_ms=self.config.lease_ttl_ms)
                        await self._release(keys=[self._lease], args=[self._token])
                    return
            except (RedisError, OSError) as exc:
                failures += 1
                if finishing and failures > 3:
                    return  # Redis is gone: the lease expires by itself
                log.debug("keeper: redis failed", extra={"stream": self.stream, "error": repr(exc)})
                await asyncio.sleep(backoff_delay(failures, base=0.1, cap=1.0))
                continue
            self._wake.clear()
            if self._acks:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), max(0.01, next_beat - time.monotonic()))
