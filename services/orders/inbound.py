"""orders' handler for the inbound stream: messages, status callbacks and send results.

Entries are handled in batches, ONE transaction per batch (group commit: the entries the
consumer's lanes hand over while no batch is being written). Inside it, each inbound message
runs in a SAVEPOINT of its own: its MessageSid is recorded in `inbox` (`ON CONFLICT DO
NOTHING`: a redelivery finds the row and changes nothing), the customer row is upserted and
locked (two replicas handling one customer's messages serialize on it), the conversation
changes carts and orders, what the turn did to the cart is recorded with the message
(`inbox.cart_change`), and the replies are written to `outbox`. A message that fails is rolled
back to its savepoint alone and gets its own error (dead letter, retry, or pending), while the
others commit. The consumer acks an entry only after the commit; right after it, the batch's
replies are published to the outbound stream by this process (`relay.publish_replies`), and
the outbox relay stays as the fallback for rows a crash or a Redis failure left unpublished.
One customer's messages never share a batch through the consumer (a lane hands over its next
entry only once the previous one returned); handed in one batch directly, they run in order.

Status callbacks move an outbox row's delivery state forward only (queued < sent < delivered <
read; failed/undelivered are final), whatever order Twilio's callbacks arrive in
(https://www.twilio.com/docs/messaging/guides/track-outbound-message-status). A callback may
beat the notifier's send result (which names the row's MessageSid) to orders: it is kept in
`delivery_events` and applied when the send result arrives. The two run concurrently (other
lanes, other replicas), so both take a transaction-level advisory lock on the MessageSid first
(`storage.outbox.lock_messages`): the row ends at the highest status either way. A batch's
send results and callbacks are applied together, in a few set-based statements
(`outbox.record_delivery_batch`), taking their locks in one global order.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import functools
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import psycopg
from psycopg.pq import PipelineStatus, TransactionStatus
from psycopg_pool import AsyncConnectionPool

from libs import metrics
from libs.errors import DependencyUnavailable, PermanentError, RetryableError, RetryLater
from libs.messages import INBOUND_MESSAGE, SEND_RESULT, STATUS_CALLBACK, Envelope
from libs.streams import Entry
from services.orders.conversation import Inbound, Turn, respond
from services.orders.storage import carts, inbox, outbox
from services.orders.storage.pool import TRANSACTION_TIMEOUT_S, UNAVAILABLE, Conn, sweep_if_broken
from services.orders.storage.stores import StoreCache, StoreRow

log = logging.getLogger("services.orders.inbound")

T = TypeVar("T")
# Publishes committed outbox rows on the connection that committed them (`relay.publish_replies`
# bound to Redis and the keys).
Publish = Callable[[list[dict[str, Any]], Conn], Awaitable[None]]

STATUS_RANK = {
    "accepted": 1,
    "queued": 1,
    "sending": 1,
    "sent": 2,
    "delivered": 3,
    "read": 4,
    "undelivered": 5,
    "failed": 5,
    "canceled": 5,
}


def customer_key(entry: Entry, env: Envelope) -> str:
    """Serialization key of an entry: the customer (`From`/`To`) or the reply id."""
    f = env.fields
    if env.kind == INBOUND_MESSAGE:
        return f.get("From", entry.id)
    return f.get("reply_id") or f.get("MessageSid") or entry.id


class InboundHandler:
    """Handles the entries of the inbound stream in batches; see the module docstring.

    The consumer calls it once per entry (`__call__`), from each customer's lane. The calls
    that arrive while no batch is being written are gathered and handled together by
    `handle_batch`, in one transaction (group commit); each call returns, or raises its own
    entry's error, once that transaction committed (or failed), so the consumer acks an entry
    only after the commit that recorded it. A lane hands over its next entry only after the
    previous one returned: a customer's messages stay in order, and no two batches written at
    the same time hold messages of one customer. Up to `max_writers` batches are written at
    once, each on its own connection: one writer alone left orders waiting on PostgreSQL's
    round trips while entries queued (measured: 100 msg/s sustained with one writer, where
    one transaction per entry had reached 150).
    """

    def __init__(
        self,
        pool: AsyncConnectionPool[Conn],
        stores: StoreCache,
        *,
        cart_ttl_s: int,
        slow_s: float,
        on_commit: Callable[[], None],
        now: Callable[[], dt.datetime] | None = None,
        publish: Publish | None = None,
        max_batch: int = 64,
        max_writers: int = 4,
    ) -> None:
        self.pool = pool
        self.stores = stores
        self.cart_ttl = dt.timedelta(seconds=cart_ttl_s)
        self.slow_s = slow_s
        self.on_commit = on_commit
        self.now = now or (lambda: dt.datetime.now(dt.UTC))
        self.publish = publish
        self.max_batch = max_batch
        self.max_writers = max_writers
        self._waiting: list[tuple[Entry, Envelope, asyncio.Future[None]]] = []
        self._writers: set[asyncio.Task[None]] = set()

    async def __call__(self, entry: Entry, envelope: Envelope) -> None:
        """Handle `entry` (its decoded `envelope`) in the next batch; returns once it committed.
        Raises `PermanentError` (dead letter), `RetryLater` (a deadlock victim: again at once),
        `DependencyUnavailable`, or whatever else its own handling raised (stays pending)."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append((entry, envelope, done))
        if len(self._writers) < self.max_writers:
            writer = asyncio.create_task(self._write_batches(), name="inbound-batches")
            self._writers.add(writer)
            writer.add_done_callback(self._writers.discard)
        await asyncio.shield(done)  # a cancelled caller must not cancel the others' batch

    async def _write_batches(self) -> None:
        """Write the waiting entries, `max_batch` at a time, until none wait."""
        batch: list[tuple[Entry, Envelope, asyncio.Future[None]]] = []
        try:
            while self._waiting:
                # One turn of the loop: lanes started by the same read hand their entries over.
                await asyncio.sleep(0)
                batch, self._waiting = self._waiting[: self.max_batch], self._waiting[self.max_batch :]
                try:
                    errors: list[Exception | None] = await self.handle_batch(
                        [(e, env) for e, env, _ in batch]
                    )
                except Exception as exc:  # a bug of the batch itself: every entry stays pending
                    log.exception("inbound batch failed")
                    errors = [exc] * len(batch)
                for (_, _, done), error in zip(batch, errors, strict=True):
                    if done.done():
                        continue
                    if error is None:
                        done.set_result(None)
                    else:
                        done.set_exception(error)
                batch = []
        finally:
            for _, _, done in batch:  # only when cancelled (loop teardown)
                done.cancel()
            task = asyncio.current_task()
            if task is not None and task.cancelling():  # the other writers go too
                for _, _, done in self._waiting:
                    done.cancel()
                self._waiting = []

    async def handle_batch(self, items: list[tuple[Entry, Envelope]]) -> list[Exception | None]:
        """Handle `items` in one transaction; returns, per item, None (committed) or its error.

        Send results and status callbacks are applied together first (`outbox.record_delivery_batch`),
        then the messages one by one, sorted by customer (`From`; stable, so one customer's
        messages keep their stream order) so that batches lock customers in one global order.
        Each unit runs in a SAVEPOINT: one that fails is rolled back alone and gets its error
        (a deadlock victim `RetryLater`, a lock or statement timeout `DependencyUnavailable`);
        the rest commit. When the transaction itself fails (the connection lost, the commit
        refused) every item gets that error. After the commit, the replies written are
        published (`publish`), else the relay is told.
        """
        errors: list[Exception | None] = [None] * len(items)
        messages: list[int] = []
        delivery: list[tuple[int, outbox.SendResult | outbox.StatusUpdate | None]] = []
        envelopes = [_without_nul(envelope) for _, envelope in items]
        for i, env in enumerate(envelopes):
            try:
                if env.kind == INBOUND_MESSAGE:
                    messages.append(i)
                elif env.kind == STATUS_CALLBACK:
                    delivery.append((i, _status_update(env)))
                elif env.kind == SEND_RESULT:
                    delivery.append((i, _send_result(env)))
                else:
                    raise PermanentError(f"orders does not handle {env.kind!r} entries")
            except PermanentError as exc:
                errors[i] = exc
        messages.sort(key=lambda i: envelopes[i].fields.get("From", ""))
        parsed = errors
        started = time.perf_counter()
        try:
            for isolate in (False, True):
                errors = list(parsed)
                try:
                    outcomes, statuses = await self._transact(envelopes, messages, delivery, errors, isolate)
                except _Isolate:
                    continue  # rolled back; again, each message in a savepoint of its own
                except Exception as exc:
                    return [_batch_error(exc) for _ in items]
                break
        finally:
            elapsed = time.perf_counter() - started
            if elapsed > self.slow_s:
                log.warning(
                    "slow transaction", extra={"duration_s": round(elapsed, 3), "entries": len(items)}
                )
        for outcome in outcomes:
            metrics.INBOUND_MESSAGES.labels(outcome).inc()
        for status in statuses:
            metrics.DELIVERY_STATUS.labels(status).inc()
        return errors

    async def _transact(
        self,
        envelopes: list[Envelope],
        messages: list[int],
        delivery: list[tuple[int, outbox.SendResult | outbox.StatusUpdate | None]],
        errors: list[Exception | None],
        isolate: bool,
    ) -> tuple[list[str], list[str]]:
        """One attempt at the batch's transaction; returns the outcomes and statuses to count.

        Without `isolate`, the messages run straight in the transaction (two round trips fewer
        each than a SAVEPOINT and its RELEASE): the first that fails raises `_Isolate`, which
        rolls everything back so the batch runs again with `isolate`, each message in a
        savepoint of its own. Errors of the transaction itself are raised; after the commit,
        they are logged only (the replies are the relay's then).
        """
        written: list[dict[str, Any]] = []
        outcomes: list[str] = []
        statuses: list[str] = []
        committed = False
        try:
            async with (
                asyncio.timeout(TRANSACTION_TIMEOUT_S),
                self.pool.connection() as conn,
                _pipelined(conn, not isolate) as pipeline,
            ):
                async with conn.transaction():
                    if delivery:
                        statuses = await self._apply_delivery(conn, delivery, errors)
                    if messages:
                        store = await self._store(conn, messages, errors)
                        for i in messages:
                            if errors[i] is not None:
                                continue
                            work = functools.partial(self._message, conn, store, envelopes[i], isolate)
                            with outbox.collect_written() as rows:
                                if isolate:
                                    outcome = await self._in_savepoint(conn, i, errors, work)
                                else:
                                    outcome = await self._straight(conn, work)
                            if outcome is not None:
                                written.extend(rows)
                                outcomes.append(outcome)
                        if pipeline is not None:
                            # A statement whose result nobody read fails only here: its
                            # message is then found by the isolated run, not by the commit.
                            await self._straight(conn, pipeline.sync)
                committed = True
                if written:
                    await self._publish(written, conn)
        except _Isolate:
            raise
        except Exception as exc:
            sweep_if_broken(self.pool, exc)
            if not committed:
                raise
            log.warning("failed after the commit", extra={"error": f"{type(exc).__name__}: {exc}"})
        return outcomes, statuses

    async def _straight(self, conn: Conn, work: Callable[[], Awaitable[T]]) -> T:
        """Run `work()` in the batch's transaction itself; a failure that leaves the connection
        usable raises `_Isolate` (the batch is run again with savepoints), any other is raised."""
        try:
            return await work()
        except Exception as exc:
            # An aborted pipeline reports its transaction ACTIVE until it is synced.
            if conn.closed or (
                conn.info.transaction_status not in (TransactionStatus.INTRANS, TransactionStatus.INERROR)
                and conn.pgconn.pipeline_status != PipelineStatus.ABORTED
            ):
                raise
            raise _Isolate from exc

    async def _publish(self, rows: list[dict[str, Any]], conn: Conn) -> None:
        """Publish committed rows now; on any failure leave them to the relay."""
        if self.publish is None:
            self.on_commit()
            return
        try:
            await self.publish(rows, conn)
        except Exception as exc:
            log.warning("replies left to the outbox relay", extra={"error": f"{type(exc).__name__}: {exc}"})
            self.on_commit()

    async def _store(self, conn: Conn, messages: list[int], errors: list[Exception | None]) -> StoreRow:
        """The store, read once for the batch; when none is loaded yet every message gets a
        `RetryableError`, in `errors`."""
        store = await self.stores.current(conn)
        if store is None:
            for i in messages:
                errors[i] = RetryableError("no store is loaded yet (run load-menu)")
        return store  # type: ignore[return-value]  # unused when None: every message has its error

    async def _in_savepoint(
        self, conn: Conn, i: int, errors: list[Exception | None], work: Callable[[], Awaitable[T]]
    ) -> T | None:
        """Run `work()` in a SAVEPOINT; on failure record item `i`'s error and return None. A
        failure that leaves the transaction unusable (the connection lost) is raised."""
        try:
            async with conn.transaction():
                return await work()
        except Exception as exc:
            if conn.closed or conn.info.transaction_status != TransactionStatus.INTRANS:
                raise
            errors[i] = _item_error(exc)
            return None

    async def _apply_delivery(
        self,
        conn: Conn,
        delivery: list[tuple[int, outbox.SendResult | outbox.StatusUpdate | None]],
        errors: list[Exception | None],
    ) -> list[str]:
        """Apply the batch's send results and callbacks in one savepoint; if that fails, each
        in its own, so one bad entry fails alone. Returns the statuses applied (for metrics)."""
        live = [(i, d) for i, d in delivery if errors[i] is None and d is not None]
        results = [d for _, d in live if isinstance(d, outbox.SendResult)]
        updates = [d for _, d in live if isinstance(d, outbox.StatusUpdate)]
        if not live:
            return []
        try:
            async with conn.transaction():
                await outbox.record_delivery_batch(conn, results, updates)
            return [u.status for u in updates]
        except Exception:
            if conn.closed or conn.info.transaction_status != TransactionStatus.INTRANS:
                raise
            log.warning("a batch of delivery states failed; applying them one by one", exc_info=True)
        applied: list[str] = []
        for i, d in live:
            one_results = [d] if isinstance(d, outbox.SendResult) else []
            one_updates = [d] if isinstance(d, outbox.StatusUpdate) else []
            if await self._in_savepoint(
                conn, i, errors,
                functools.partial(_applied, conn, one_results, one_updates),
            ) and isinstance(d, outbox.StatusUpdate):  # fmt: skip
                applied.append(d.status)
        return applied

    async def _message(self, conn: Conn, store: StoreRow, env: Envelope, isolated: bool) -> str:
        """Record, converse, and queue replies for one inbound WhatsApp message; returns the
        outcome counted (`duplicate` for a redelivery, which changes nothing). Only an
        `isolated` message (in a savepoint of its own) has its conversation's failures caught
        and answered with an apology; otherwise they are raised (`Turn.guarded`)."""
        inbound = Inbound.from_fields(env.fields)
        if not inbound.message_sid or not inbound.sender:
            raise PermanentError("inbound message without MessageSid or From")
        received_at = dt.datetime.fromtimestamp(env.received_at, dt.UTC)
        customer = await inbox.record(
            conn,
            inbound.message_sid,
            inbound.body,
            _stored_fields(env.fields),
            received_at,
            store_id=store.id,
            address=inbound.sender,
            wa_id=inbound.wa_id,
            profile_name=inbound.profile_name,
        )
        if customer is None:
            return "duplicate"
        turn = Turn(
            conn=conn,
            store=store,
            customer=customer,
            inbound=inbound,
            now=self.now(),
            cart_ttl=self.cart_ttl,
            guarded=isolated,
        )
        with carts.watch(customer["id"]) as cart:
            replies, outcome = await respond(turn)
        # Recorded with the message, so the dashboard quotes the messages that made an order.
        change = await cart.change(conn) if outcome == "handled" else None
        await outbox.queue_replies(
            conn,
            customer["id"],
            customer["address"],
            replies,
            outcome=inbox.Outcome(
                inbound.message_sid,
                customer["id"],
                outcome,
                change,
                language=customer["language"] if turn.language_changed else None,
                language_guessed=turn.language_guessed,
            ),
        )
        return outcome


@contextlib.asynccontextmanager
async def _pipelined(conn: Conn, on: bool) -> AsyncIterator[psycopg.AsyncPipeline | None]:
    """The batch's straight run in pipeline mode (None when not `on`): a statement whose result
    is not read (an UPDATE, BEGIN) is sent without waiting for its answer, so a message costs
    only the round trips whose results it reads
    (https://www.psycopg.org/psycopg3/docs/advanced/pipeline.html). Its errors surface at the
    next read or sync instead of at the statement, which the isolated run then pins down."""
    if not on:
        yield None
        return
    async with conn.pipeline() as pipeline:
        yield pipeline


class _Isolate(Exception):
    """A message failed inside a batch run without savepoints: run the batch again with them."""


async def _applied(conn: Conn, results: list[outbox.SendResult], updates: list[outbox.StatusUpdate]) -> bool:
    await outbox.record_delivery_batch(conn, results, updates)
    return True


def _batch_error(exc: Exception) -> Exception:
    """What a failure of the whole batch transaction means for each of its entries."""
    if isinstance(exc, UNAVAILABLE):
        return DependencyUnavailable(f"database unavailable: {type(exc).__name__}: {exc}")
    if isinstance(exc, TimeoutError):
        return DependencyUnavailable(f"database did not answer within {TRANSACTION_TIMEOUT_S:g}s")
    return exc


def _item_error(exc: Exception) -> Exception:
    """What one entry's failure inside a batch means to the consumer."""
    if isinstance(exc, psycopg.errors.DeadlockDetected | psycopg.errors.SerializationFailure):
        # A deadlock (or serialization) victim: its savepoint is gone, its locks with it; try
        # it again at once rather than wait for a redelivery.
        return RetryLater(f"{type(exc).__name__}: {exc}", delay_s=0.05)
    if isinstance(exc, UNAVAILABLE):
        return DependencyUnavailable(f"database unavailable: {type(exc).__name__}: {exc}")
    return exc


def _status_update(env: Envelope) -> outbox.StatusUpdate | None:
    """A status callback's update; None for a status Twilio added that we do not know (it moves
    nothing). Raises `PermanentError` without a MessageSid."""
    f = env.fields
    sid, status = f.get("MessageSid", ""), f.get("MessageStatus", "").lower()
    if not sid:
        raise PermanentError("status callback without MessageSid")
    if status not in STATUS_RANK:
        # Twilio adds statuses without notice; an unknown one moves nothing forward.
        log.warning("status callback with an unknown MessageStatus ignored", extra={"status": status[:40]})
        return None
    return outbox.StatusUpdate(sid, status, STATUS_RANK[status], f.get("ErrorCode") or None)


def _send_result(env: Envelope) -> outbox.SendResult:
    """The notifier's outcome for one reply: its MessageSid, or the final error. Raises
    `PermanentError` for a bad `reply_id` or an unknown outcome."""
    f = env.fields
    try:
        reply_id = int(f.get("reply_id", ""))
    except ValueError:
        raise PermanentError(f"send result with a bad reply_id {f.get('reply_id')!r}") from None
    outcome = f.get("outcome", "")
    if outcome not in ("sent", "failed"):
        raise PermanentError(f"send result with unknown outcome {outcome!r}")
    return outbox.SendResult(
        reply_id,
        outcome,
        f.get("MessageSid") or None,
        f.get("ErrorCode") or None,
        f.get("ErrorMessage") or "",
    )


def _without_nul(env: Envelope) -> Envelope:
    """The envelope with NUL characters removed: PostgreSQL text and jsonb cannot store them,
    and a signed webhook may carry `%00` in any value."""
    if not any("\x00" in k or "\x00" in v for k, v in env.fields.items()):
        return env
    clean = {k.replace("\x00", ""): v.replace("\x00", "") for k, v in env.fields.items()}
    return dataclasses.replace(env, fields=clean)


_KEEP_FIELDS = (
    "MessageSid", "From", "To", "Body", "ProfileName", "WaId", "NumMedia", "MessageType",
    "ButtonPayload", "ButtonText", "ListId", "ListTitle", "Latitude", "Longitude", "Address",
    "Label", "_throttled",
)  # fmt: skip


def _stored_fields(fields: dict[str, str]) -> dict[str, str]:
    """The Twilio fields worth keeping with the inbox row (not the whole webhook)."""
    return {k: fields[k] for k in _KEEP_FIELDS if k in fields}
