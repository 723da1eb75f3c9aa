"""orders' handler for the inbound stream: messages, status callbacks and send results.

One inbound message is handled in ONE transaction: its MessageSid is recorded in `inbox`
(`ON CONFLICT DO NOTHING`: a redelivery finds the row and changes nothing), the customer row
is upserted and locked (two replicas handling one customer's messages serialize on it), the
conversation changes carts and orders, what the turn did to the cart is recorded with the message
(`inbox.cart_change`), and the replies are written to `outbox`. The consumer
acks the stream entry only after the commit; the relay publishes the outbox afterwards.

Status callbacks move an outbox row's delivery state forward only (queued < sent < delivered <
read; failed/undelivered are final), whatever order Twilio's callbacks arrive in
(https://www.twilio.com/docs/messaging/guides/track-outbound-message-status). A callback may
beat the notifier's send result (which names the row's MessageSid) to orders: it is kept in
`delivery_events` and applied when the send result arrives. The two run concurrently (other
lanes, other replicas), so both take a transaction-level advisory lock on the MessageSid first
(`storage.outbox.lock_message`): the row ends at the highest status either way.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Callable

from psycopg_pool import AsyncConnectionPool

from libs import metrics
from libs.errors import PermanentError, RetryableError
from libs.messages import INBOUND_MESSAGE, SEND_RESULT, STATUS_CALLBACK, Envelope
from libs.streams import Entry
from services.orders.conversation import Inbound, Turn, respond
from services.orders.storage import carts, customers, inbox, outbox
from services.orders.storage.pool import Conn, transaction
from services.orders.storage.stores import StoreCache

log = logging.getLogger("services.orders.inbound")

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
    """Handles one entry of the inbound stream; see the module docstring for the guarantees."""

    def __init__(
        self,
        pool: AsyncConnectionPool[Conn],
        stores: StoreCache,
        *,
        cart_ttl_s: int,
        slow_s: float,
        on_commit: Callable[[], None],
        now: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.pool = pool
        self.stores = stores
        self.cart_ttl = dt.timedelta(seconds=cart_ttl_s)
        self.slow_s = slow_s
        self.on_commit = on_commit
        self.now = now or (lambda: dt.datetime.now(dt.UTC))

    async def __call__(self, entry: Entry, envelope: Envelope) -> None:
        """Handle `entry` (its decoded `envelope`); raises `PermanentError` (dead letter) or
        retryable errors."""
        env = _without_nul(envelope)
        if env.kind == INBOUND_MESSAGE:
            await self.handle_message(env)
        elif env.kind == STATUS_CALLBACK:
            await self.handle_status(env)
        elif env.kind == SEND_RESULT:
            await self.handle_send_result(env)
        else:
            raise PermanentError(f"orders does not handle {env.kind!r} entries")

    async def handle_message(self, env: Envelope) -> None:
        """Record, converse, and queue replies for one inbound WhatsApp message."""
        inbound = Inbound.from_fields(env.fields)
        if not inbound.message_sid or not inbound.sender:
            raise PermanentError("inbound message without MessageSid or From")
        received_at = dt.datetime.fromtimestamp(env.received_at, dt.UTC)
        wrote = 0
        async with transaction(self.pool, slow_s=self.slow_s) as conn:
            store = await self.stores.current(conn)
            if store is None:
                raise RetryableError("no store is loaded yet (run load-menu)")
            if not await inbox.record(
                conn, inbound.message_sid, inbound.body, _stored_fields(env.fields), received_at
            ):
                metrics.INBOUND_MESSAGES.labels("duplicate").inc()
                return
            customer = await customers.upsert_for_message(
                conn,
                store.id,
                address=inbound.sender,
                wa_id=inbound.wa_id,
                profile_name=inbound.profile_name,
                at=received_at,
            )
            cart_before = await carts.mark(conn, customer["id"])
            turn = Turn(
                conn=conn,
                store=store,
                customer=customer,
                inbound=inbound,
                now=self.now(),
                cart_ttl=self.cart_ttl,
            )
            replies, outcome = await respond(turn)
            # Recorded with the message, so the dashboard quotes the messages that made an order.
            change = None
            if outcome == "handled":
                change = carts.cart_change(cart_before, await carts.mark(conn, customer["id"]))
            await inbox.set_outcome(conn, inbound.message_sid, customer["id"], outcome, cart_change=change)
            wrote = await outbox.queue_replies(conn, customer["id"], customer["address"], replies)
        metrics.INBOUND_MESSAGES.labels(outcome).inc()
        if wrote:
            self.on_commit()

    async def handle_status(self, env: Envelope) -> None:
        """Record a status callback; never moves a message's state backwards."""
        f = env.fields
        sid, status = f.get("MessageSid", ""), f.get("MessageStatus", "").lower()
        if not sid:
            raise PermanentError("status callback without MessageSid")
        if status not in STATUS_RANK:
            # Twilio adds statuses without notice; an unknown one moves nothing forward.
            log.warning(
                "status callback with an unknown MessageStatus ignored", extra={"status": status[:40]}
            )
            return
        rank = STATUS_RANK[status]
        error_code = f.get("ErrorCode") or None
        async with transaction(self.pool, slow_s=self.slow_s) as conn:
            await outbox.record_status(conn, sid, status, rank, error_code)
        metrics.DELIVERY_STATUS.labels(status).inc()

    async def handle_send_result(self, env: Envelope) -> None:
        """Record the notifier's outcome for one reply: its MessageSid, or the final error."""
        f = env.fields
        try:
            reply_id = int(f.get("reply_id", ""))
        except ValueError:
            raise PermanentError(f"send result with a bad reply_id {f.get('reply_id')!r}") from None
        outcome = f.get("outcome", "")
        sid = f.get("MessageSid") or None
        async with transaction(self.pool, slow_s=self.slow_s) as conn:
            if outcome == "sent":
                await outbox.record_sent(conn, reply_id, sid)
            elif outcome == "failed":
                await outbox.record_failed(
                    conn, reply_id, sid, f.get("ErrorCode") or None, f.get("ErrorMessage") or ""
                )
            else:
                raise PermanentError(f"send result with unknown outcome {outcome!r}")


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
