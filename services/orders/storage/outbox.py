"""The `outbox` and `delivery_events` tables: replies written in the transaction that decided
them, what the relay publishes, and each reply's delivery state.

A reply is split into parts of at most 1,600 characters (Twilio's Body limit for WhatsApp,
https://www.twilio.com/docs/api/errors/21617), on paragraph, then line, then word boundaries,
numbered `(1/3)` when split, and at most `MAX_REPLY_PARTS` parts (a longer one is shortened).
Each part gets the customer's next `seq`, so the notifier can keep a customer's replies in order.
Business-initiated messages (order status updates) outside WhatsApp's 24-hour customer-service
window must use an approved template
(https://www.twilio.com/docs/api/errors/63016): `queue_notification` picks Body or ContentSid
accordingly, and records a `not_sent` row when no template is configured, never dropping it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import orjson

from services.orders.storage import customers, inbox
from services.orders.storage.pool import Conn

MAX_BODY_CHARS = 1600
WINDOW = dt.timedelta(hours=24)
# One reply is at most this many WhatsApp messages, whatever the conversation wrote: a backstop
# under its summaries (a cart or an order is summarised into one message), high enough for the
# menu of a large store, low enough that no reply floods a customer or the sender's rate.
MAX_REPLY_PARTS = 10
SHORTENED = "✂️ (This message was too long and was shortened.)"


# The rows to publish that the current unit of work wrote (`collect_written`), or None when
# nobody collects them (the relay then publishes them).
_written: ContextVar[list[dict[str, Any]] | None] = ContextVar("outbox_written", default=None)

# The columns a published row needs (`relay.reply_envelope`).
PUBLISH_COLUMNS = "id, to_address, seq, body, content_sid, content_variables"


@contextlib.contextmanager
def collect_written() -> Iterator[list[dict[str, Any]]]:
    """Collect, in this task, the rows to publish that `queue_replies`/`queue_notification`
    write: dicts of `PUBLISH_COLUMNS`, in id order per call. The caller publishes them once its
    transaction committed (and keeps only the lists of units of work that committed)."""
    rows: list[dict[str, Any]] = []
    token = _written.set(rows)
    try:
        yield rows
    finally:
        _written.reset(token)


def _collect(rows: list[dict[str, Any]]) -> None:
    target = _written.get()
    if target is not None:
        target.extend(rows)


@dataclass(frozen=True, slots=True)
class ReplyText:
    """A text reply to one customer. `purpose` tags it (reply, status:<status>, staff, throttle)."""

    body: str
    purpose: str = "reply"
    order_id: int | None = None


def _marker_width(parts: int) -> int:
    """Characters of the widest `(i/n) ` marker of `parts` parts: `(n/n) `."""
    return len(f"({parts}/{parts}) ")


def _cut(text: str, room: int) -> list[str]:
    """`text` in pieces of at most `room` characters, cut at a paragraph, line or word break
    in the second half of the room when there is one, else hard at `room`."""
    pieces: list[str] = []
    rest = text
    while len(rest) > room:
        cut = -1
        for sep in ("\n\n", "\n", " "):
            cut = rest.rfind(sep, room // 2, room)
            if cut > 0:
                break
        if cut <= 0:
            cut = room
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces


def split_body(body: str, limit: int = MAX_BODY_CHARS, *, max_parts: int | None = None) -> list[str]:
    """Split `body` into ordered parts of at most `limit` characters, marked `(i/n) ` if split.

    The room left for text depends on the marker's width, which grows with the number of parts
    (`(9/9) ` is 6 characters, `(100/120) ` is 10), so the split is redone until the widest
    marker fits: no part ever exceeds `limit` (Twilio refuses a Body over 1,600 characters with
    21617, https://www.twilio.com/docs/api/errors/21617). With `max_parts`, a body needing more
    parts is cut to `max_parts` parts, the last ending with `SHORTENED`.
    """
    body = body.strip() or "…"
    if len(body) <= limit:
        return [body]
    width = _marker_width(9)
    while True:
        pieces = _cut(body, limit - width)
        if _marker_width(len(pieces)) <= width:
            break
        width = _marker_width(len(pieces))
    if max_parts is not None and len(pieces) > max_parts:
        pieces = _shortened(pieces[:max_parts], limit - _marker_width(max_parts))
    if len(pieces) == 1:
        return pieces
    n = len(pieces)
    return [f"({i}/{n}) {p}" for i, p in enumerate(pieces, 1)]


def _shortened(pieces: list[str], room: int) -> list[str]:
    """`pieces` with the last one cut (at a line or word break when it can) to end in SHORTENED."""
    keep = max(0, room - len(SHORTENED) - 2)
    last = pieces[-1]
    head = _cut(last, keep)[0] if keep and len(last) > keep else last[:keep]
    return [*pieces[:-1], f"{head}\n\n{SHORTENED}" if head else SHORTENED]


async def queue_replies(
    conn: Conn,
    customer_id: int,
    to_address: str,
    replies: list[ReplyText],
    *,
    outcome: inbox.Outcome | None = None,
) -> int:
    """Write `replies` (split into parts) to the outbox; returns how many rows were written.

    The customer's next sequence numbers are reserved (`customers.reply_seq`) and the parts
    inserted in one statement (ids drawn in seq order); with `outcome`, the inbound message's
    `inbox` row is updated in that statement too (`inbox.set_outcome`), and the customer's
    language and its guessed flag when the turn changed them: the end of a turn is one round
    trip.
    """
    rows: list[tuple[str, ReplyText]] = [
        (part, r) for r in replies for part in split_body(r.body, max_parts=MAX_REPLY_PARTS)
    ]
    if not rows:
        if outcome is not None:
            o = outcome
            await inbox.set_outcome(conn, o.message_sid, o.customer_id, o.outcome, cart_change=o.cart_change)
            if o.language is not None:
                await customers.set_language(conn, o.customer_id, o.language)
            if o.language_guessed is not None:
                await customers.set_language_guessed(conn, o.customer_id, o.language_guessed)
        return 0
    # Data-modifying CTEs run whether or not the outer query reads them
    # (https://www.postgresql.org/docs/current/queries-with.html#QUERIES-WITH-MODIFYING).
    noted = (
        ", noted AS (UPDATE inbox SET customer_id = %(cid)s, outcome = %(outcome)s,"
        " cart_change = %(change)s WHERE message_sid = %(sid)s)"
        if outcome is not None
        else ""
    )
    cur = await conn.execute(
        "WITH seqs AS (UPDATE customers SET reply_seq = reply_seq + %(n)s,"
        " language = coalesce(%(language)s, language),"
        " state = CASE WHEN %(guessed)s::boolean IS NULL THEN state"
        " WHEN %(guessed)s::boolean THEN state || jsonb_build_object(%(guessed_key)s::text, true)"
        " ELSE state - %(guessed_key)s::text END WHERE id = %(cid)s"
        " RETURNING reply_seq - %(n)s AS last_before)"
        f"{noted}"
        " INSERT INTO outbox (customer_id, to_address, seq, body, purpose, order_id)"
        " SELECT %(cid)s, %(to)s, seqs.last_before + v.n, v.body, v.purpose, v.order_id"
        " FROM seqs, unnest(%(bodies)s::text[], %(purposes)s::text[], %(orders)s::bigint[])"
        " WITH ORDINALITY AS v(body, purpose, order_id, n)"
        f" ORDER BY v.n RETURNING {PUBLISH_COLUMNS}",
        {
            "n": len(rows),
            "cid": customer_id,
            "to": to_address,
            "bodies": [part for part, _ in rows],
            "purposes": [reply.purpose for _, reply in rows],
            "orders": [reply.order_id for _, reply in rows],
            "outcome": outcome.outcome if outcome else None,
            "change": outcome.cart_change if outcome else None,
            "sid": outcome.message_sid if outcome else None,
            "language": outcome.language if outcome else None,
            "guessed": outcome.language_guessed if outcome else None,
            "guessed_key": customers.LANGUAGE_GUESSED,
        },
    )
    written = [dict(r) for r in await cur.fetchall()]
    if len(written) != len(rows):  # no such customer: nothing was written
        raise LookupError(f"customer {customer_id} not found")
    _collect(sorted(written, key=lambda r: int(r["id"])))
    return len(rows)


async def queue_notification(
    conn: Conn,
    *,
    customer: dict[str, Any],
    body: str,
    purpose: str,
    order_id: int | None,
    template: dict[str, Any] | None,
    variables: dict[str, str],
    now: dt.datetime,
) -> str:
    """Queue a business-initiated message; returns how: `body`, `template` or `not_sent`.

    Inside the 24-hour window after the customer's last inbound message: free-form `body`.
    Outside it: the status's template (`ContentSid` + `ContentVariables` built from
    `variables` in the template's order, numbered "1", "2", ...). With no template: a
    `not_sent` row with the reason, visible to staff (with a negative `seq`: it is never
    sent, so it leaves no gap in the customer's reply order). Opted-out customers get nothing.
    """
    if customer.get("opted_out"):
        return "opted_out"
    last = customer.get("last_inbound_at")
    if last is not None and now - last < WINDOW:
        await queue_replies(conn, customer["id"], customer["address"], [ReplyText(body, purpose, order_id)])
        return "body"
    if template is None:
        # Never published, so it must not take a place in the customer's reply sequence: the
        # notifier sends seq N only after N-1, and would wait for this row forever. Its seq is
        # its own id, negated (unique, and below every real seq).
        await conn.execute(
            "WITH n AS (SELECT nextval(pg_get_serial_sequence('outbox', 'id')) AS id)"
            " INSERT INTO outbox (id, customer_id, to_address, seq, body, purpose, order_id, status,"
            " error_message) SELECT n.id, %s, %s, -n.id, %s, %s, %s, 'not_sent', %s FROM n",
            (
                customer["id"],
                customer["address"],
                body,
                purpose,
                order_id,
                "outside the 24-hour window and no template is configured for this status",
            ),
        )
        return "not_sent"
    seq = await customers.reserve_reply_seqs(conn, customer["id"], 1)
    content_variables = orjson.dumps(
        {str(i): variables.get(name, "") for i, name in enumerate(template["variables"], 1)}
    ).decode()
    cur = await conn.execute(
        "INSERT INTO outbox (customer_id, to_address, seq, content_sid, content_variables, purpose,"
        f" order_id) VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING {PUBLISH_COLUMNS}",
        (
            customer["id"],
            customer["address"],
            seq,
            template["content_sid"],
            content_variables,
            purpose,
            order_id,
        ),
    )
    _collect([dict(r) for r in await cur.fetchall()])
    return "template"


async def lock_messages(conn: Conn, message_sids: list[str]) -> None:
    """Serialise, until commit, every transaction touching the delivery state of these MessageSids.

    A send result (which names the row's MessageSid) and that message's status callbacks are
    handled concurrently (other lanes, other replicas). Under this lock whichever commits second
    sees the other's row (READ COMMITTED takes a new snapshot per statement), so the row ends at
    the highest status either way; without it each missed the other's uncommitted row. The
    locks are taken in one statement, in the order of their keys, so two transactions locking
    overlapping sets cannot deadlock.
    https://www.postgresql.org/docs/current/explicit-locking.html#ADVISORY-LOCKS
    """
    if message_sids:
        # ORDER BY before the (volatile) lock function: PostgreSQL evaluates it after the sort.
        await conn.execute(
            "SELECT pg_advisory_xact_lock(k) FROM (SELECT DISTINCT hashtextextended('delivery:' || s, 0) AS k"
            " FROM unnest(%s::text[]) AS s) AS keys ORDER BY k",
            (message_sids,),
        )


async def unpublished(conn: Conn, limit: int, *, min_age_s: float = 0.0) -> list[dict[str, Any]]:
    """Up to `limit` committed rows waiting for the relay, in id order: `id`, `to_address`,
    `seq`, and `body` or `content_sid`/`content_variables`; with `min_age_s`, only rows whose
    transaction began at least that many seconds ago."""
    cur = await conn.execute(
        f"SELECT {PUBLISH_COLUMNS} FROM outbox"
        " WHERE published_at IS NULL AND status = 'pending'"
        " AND created_at <= now() - make_interval(secs => %s) ORDER BY id LIMIT %s",
        (min_age_s, limit),
    )
    return [dict(r) for r in await cur.fetchall()]


async def unpublished_count(conn: Conn) -> int:
    """How many rows wait for the relay."""
    row = await (
        await conn.execute(
            "SELECT count(*) AS n FROM outbox WHERE published_at IS NULL AND status = 'pending'"
        )
    ).fetchone()
    return int(row["n"]) if row else 0


async def mark_published(conn: Conn, ids: list[int]) -> None:
    """Record that the rows `ids` are on the outbound stream."""
    await conn.execute("UPDATE outbox SET published_at = now() WHERE id = ANY(%s)", (ids,))


async def of_order(conn: Conn, order_id: int) -> list[dict[str, Any]]:
    """Every message sent about the order, oldest first, with its delivery state and times."""
    cur = await conn.execute(
        "SELECT id, purpose, body, content_sid, content_variables, status, twilio_sid, error_code,"
        " error_message, created_at, published_at, status_updated_at FROM outbox"
        " WHERE order_id = %s ORDER BY id",
        (order_id,),
    )
    return [dict(r) for r in await cur.fetchall()]


async def sign_staff_messages(conn: Conn, customer_id: int, after_seq: int, staff_user_id: int) -> None:
    """Record the staff member whose action queued the customer's messages after `after_seq`.

    The caller holds the customer row's lock and read `reply_seq` under it, so every row after
    it is this action's; so is a `not_sent` row (negative seq) created in this transaction
    (`now()` is the transaction's start).
    """
    await conn.execute(
        "UPDATE outbox SET staff_user_id = %s WHERE customer_id = %s"
        " AND (seq > %s OR (seq < 0 AND created_at = now()))",
        (staff_user_id, customer_id, after_seq),
    )


@dataclass(frozen=True, slots=True)
class StatusUpdate:
    """One Twilio status callback: its MessageSid, lowercase status, rank and ErrorCode."""

    message_sid: str
    status: str
    rank: int
    error_code: str | None


@dataclass(frozen=True, slots=True)
class SendResult:
    """One notifier outcome for reply `reply_id`: `sent` (with its MessageSid) or `failed`."""

    reply_id: int
    outcome: str
    message_sid: str | None
    error_code: str | None = None
    error_message: str = ""


async def record_delivery_batch(conn: Conn, results: list[SendResult], statuses: list[StatusUpdate]) -> None:
    """Apply many send results and status callbacks at once, in a handful of statements, to the
    state applying them one at a time in the given order would leave: every row ends at the
    highest status reported.

    Every MessageSid named takes its `lock_messages` lock first, all in one statement and in one
    global order (the lock key's), so two batches naming the same sids cannot deadlock. Then the
    callbacks are kept in `delivery_events`, the send results set each row's MessageSid (the
    first `sent` of a reply counts, like the `status_rank < 1` guard one at a time; the last
    `failed` wins), and each row moves up to the furthest status known for its sid. A row's
    `error_code` is that of the status it moves to, or stays.
    """
    sids = sorted({r.message_sid for r in results if r.message_sid} | {s.message_sid for s in statuses})
    await lock_messages(conn, sids)
    if statuses:
        await conn.execute(
            "INSERT INTO delivery_events (message_sid, status, status_rank, error_code)"
            " SELECT * FROM unnest(%s::text[], %s::text[], %s::int[], %s::text[])"
            " ON CONFLICT (message_sid, status) DO NOTHING",
            (
                [s.message_sid for s in statuses],
                [s.status for s in statuses],
                [s.rank for s in statuses],
                [s.error_code for s in statuses],
            ),
        )
    sent: dict[int, SendResult] = {}
    failed: dict[int, SendResult] = {}
    for r in results:
        if r.outcome == "sent":
            sent.setdefault(r.reply_id, r)
        else:
            failed[r.reply_id] = r
    if sent:
        await conn.execute(
            "UPDATE outbox o SET twilio_sid = v.sid, status = 'queued', status_rank = 1,"
            " status_updated_at = now() FROM unnest(%s::bigint[], %s::text[]) AS v(id, sid)"
            " WHERE o.id = v.id AND o.status_rank < 1",
            ([r.reply_id for r in sent.values()], [r.message_sid for r in sent.values()]),
        )
    if failed:
        await conn.execute(
            "UPDATE outbox o SET status = 'failed', status_rank = 5,"
            " twilio_sid = COALESCE(v.sid, o.twilio_sid), error_code = v.code, error_message = v.msg,"
            " status_updated_at = now()"
            " FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::text[]) AS v(id, sid, code, msg)"
            " WHERE o.id = v.id",
            (
                [r.reply_id for r in failed.values()],
                [r.message_sid for r in failed.values()],
                [r.error_code for r in failed.values()],
                [r.error_message[:500] for r in failed.values()],
            ),
        )
    if sids:
        # The furthest status known for each sid (callbacks of this batch and earlier ones);
        # among equal ranks the earliest recorded, as one at a time would have kept it.
        await conn.execute(
            """
            UPDATE outbox o SET status = e.status, status_rank = e.status_rank,
                error_code = COALESCE(e.error_code, o.error_code), status_updated_at = now()
            FROM (SELECT DISTINCT ON (message_sid) message_sid, status, status_rank, error_code
                  FROM delivery_events WHERE message_sid = ANY(%s)
                  ORDER BY message_sid, status_rank DESC, id) e
            WHERE o.twilio_sid = e.message_sid AND o.status_rank < e.status_rank
            """,
            (sids,),
        )
