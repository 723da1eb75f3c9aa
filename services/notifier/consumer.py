"""Sending replies: one outbound stream entry in, one Messages API call per attempt out.

`ReplySender.handle` is the `StreamConsumer` handler for `Keys.outbound` (group
`NOTIFIER_GROUP`, one lane per reply's `To`). For each `reply` envelope it:

1. Reads the reply's send state. Already final: re-emits the `send_result`, finishes the
   customer's cursor (idempotent) and returns, so the entry is acked and nothing is re-sent.
2. Waits for the customer's turn (`services.notifier.cursor`: reply n goes once n-1 is final),
   in the handler for at most `order_wait_s`, then again after a short pause (`RetryLater`:
   the entry stays in its lane, whose head may meanwhile be an older entry taken over from a
   dead notifier); a reply whose predecessor has not shown up for the gap timeout goes anyway.
3. Takes a token from the sender's shared bucket (`services.notifier.pacing`).
4. Records `sending` (`services.notifier.send_state`), then makes ONE call.
5. Acts on what the call proves (https://www.twilio.com/docs/api/errors):
   - 201: `sent`, with the MessageSid.
   - 429 with 20429 (or no code): Twilio did not process it. Retried in the handler with
     full-jitter exponential backoff (`Retry-After` honoured when present), at most
     `max_attempts` calls and within `handler_budget_s`; past that the consumer pauses
     (`DependencyUnavailable`) and the entry is retried from memory.
   - 429 with 63038 (daily cap): every replica stops sending from this sender for
     `daily_cap_backoff_s` (the bucket's pause) and the consumer pauses.
   - 21211, 21610 and any other 4xx: `failed`, final, never retried.
   - connect failure: nothing left this process; retried like a 429.
   - any 5xx, a read timeout, a reset or a truncated answer: Twilio may have created the
     message (Twilio calls a 5xx outcome indeterminate). Counted in
     `wa_twilio_sends_total{outcome="ambiguous"}`, and NOT sent again before it is looked up:
6. Reconciliation. Before any new attempt at a reply whose earlier attempt may have reached
   Twilio (the cases above, or `sending` found after a crash), notifier waits the settle
   delay (`reconcile_settle_s` after the attempt ended: long enough for Twilio to finish a
   request it received and list it), then reads the Messages list back
   (`TwilioClient.recent`: same `To` and `From`, created since the first attempt began, minus
   `CLOCK_SKEW_S`) and looks for the reply: the same Body (a ContentSid reply: any message)
   not already claimed by another reply. Found: the reply is settled `sent` with that
   MessageSid, so its status callbacks apply. Not found: it is sent. The look-up itself
   failing is retried with backoff, never the send. Outcomes in
   `wa_twilio_reconciliations_total{outcome="found"|"not_found"|"lookup_failed"}`. What
   remains: a message Twilio creates after the settle delay is sent twice (docs/guarantees.md).
7. Every final outcome is XADDed to `Keys.inbound` as a `send_result` envelope (fields
   `reply_id`, `outcome` sent|failed, `MessageSid`, `ErrorCode`, `ErrorMessage`),
   atomically with the state and the cursor. Only a reply dead-lettered while its attempt was
   unresolved is settled `ambiguous` (reported failed with `Ambiguous=1`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass

from redis.exceptions import RedisError

from libs import metrics
from libs.errors import DependencyUnavailable, PermanentError, RetryLater
from libs.messages import REPLY, SEND_RESULT, Envelope, new_id
from libs.retry import backoff_delay
from libs.streams import Entry
from services.notifier.cursor import FIRST_GAP_S, CustomerCursor
from services.notifier.pacing import TokenBucket
from services.notifier.send_state import AMBIGUOUS, FAILED, SENDING, SENT, Begin, SendState, SendStates
from services.notifier.settings import NotifierSettings
from services.notifier.twilio_client import Accepted, Listed, LookupFailed, Rejected, TwilioClient, Unknown

log = logging.getLogger("services.notifier.consumer")

ORDER_POLL_S = 0.05
# Cursor marks older than this many gap timeouts are ignored (their reply's settling was lost).
ORDER_STALE_FACTOR = 20
SETTLE_ATTEMPTS = 4
UNSETTLED_MAX = 10_000
# Look-ups reach this far before the first attempt began: Twilio's clock (whole seconds in
# date_created) and Redis' may differ a little; a wider window costs nothing, as every
# MessageSid settled for another reply is claimed and skipped.
CLOCK_SKEW_S = 30.0
LOOKUP_RETRY_CAP_S = 30.0
BUSY_RETRY_S = 1.0


class NotYourTurn(RetryLater):
    """The reply's predecessor is not final yet, or another attempt at it may still be running:
    the entry waits in its lane and is handled again shortly."""


class ShuttingDown(RetryLater):
    """The service is stopping: the entry stays pending with nothing in flight (the stopping
    consumer hands it over to another)."""


@dataclass(frozen=True, slots=True)
class Reply:
    """A `reply` envelope's fields, checked. `seq` counts from 1 per customer."""

    reply_id: str
    to: str
    seq: int
    body: str | None
    content_sid: str | None
    content_variables: str | None

    @classmethod
    def from_envelope(cls, envelope: Envelope) -> Reply:
        """Parse; raises `PermanentError` (the entry is dead-lettered) when malformed."""
        if envelope.kind != REPLY:
            raise PermanentError(f"expected a {REPLY} envelope, got {envelope.kind!r}")
        f = envelope.fields
        reply_id, to, seq = f.get("reply_id", ""), f.get("To", ""), f.get("seq", "")
        if not reply_id or not to:
            raise PermanentError("reply needs reply_id and To")
        if not seq.isdigit() or int(seq) < 1:
            raise PermanentError(f"reply seq must be a positive integer, got {seq!r}")
        body, content_sid = f.get("Body"), f.get("ContentSid")
        if (body is None) == (content_sid is None):
            raise PermanentError("reply needs exactly one of Body or ContentSid")
        return cls(reply_id, to, int(seq), body, content_sid, f.get("ContentVariables"))


def customer_of(entry: Entry, envelope: Envelope) -> str:
    """The `StreamConsumer.key_of` of the outbound stream: the reply's `To`."""
    return envelope.fields["To"]


class ReplySender:
    """The outbound stream's handler and dead-letter hook. Call `stop()` on shutdown."""

    def __init__(
        self,
        settings: NotifierSettings,
        client: TwilioClient,
        states: SendStates,
        cursor: CustomerCursor,
        bucket: TokenBucket,
        *,
        consumer: str = "notifier",
    ) -> None:
        """`consumer` is this process's consumer name: the owner recorded with each attempt."""
        self.settings = settings
        self.client = client
        self.states = states
        self.cursor = cursor
        self.bucket = bucket
        self.consumer = consumer
        self._stopping = asyncio.Event()
        # Replies being handled in this process: a second entry of one (a relay republish)
        # waits instead of racing the first.
        self._active: set[str] = set()
        # Outcomes Twilio gave that Redis would not record: (state, force_cursor, sid, code, message).
        self._unsettled: dict[str, tuple[str, bool, str, str, str]] = {}
        # The longest one call can run: a younger unresolved attempt may still be in flight.
        # One call's worst case (connect + read timeouts), kept free at the end of the budget.
        self._call_s = settings.connect_timeout_s + settings.read_timeout_s + 0.5
        # An unresolved attempt younger than this may still be running somewhere (write and
        # read timeouts both apply to the upload, and a stalled process gets some slack).
        self._call_window_s = 2 * self._call_s
        # A look-up is this consumer's for this long after its wait: one list call, with slack.
        self._lookup_lease_s = 2 * self._call_s

    def _remember(self, reply_id: str, outcome: tuple[str, bool, str, str, str]) -> None:
        if len(self._unsettled) >= UNSETTLED_MAX:
            self._unsettled.pop(next(iter(self._unsettled)))
        self._unsettled[reply_id] = outcome

    def stop(self) -> None:
        """Cut waits and backoffs short: entries not yet sent stay pending for a redelivery."""
        self._stopping.set()

    def form(self, reply: Reply) -> dict[str, str]:
        """The Messages API form fields for `reply`.

        https://www.twilio.com/docs/messaging/api/message-resource#create-a-message-resource
        """
        form = {"From": self.settings.whatsapp_from, "To": reply.to}
        if reply.body is not None:
            form["Body"] = reply.body
        else:
            assert reply.content_sid is not None
            form["ContentSid"] = reply.content_sid
            if reply.content_variables:
                form["ContentVariables"] = reply.content_variables
        if self.settings.status_callback_url:
            form["StatusCallback"] = self.settings.status_callback_url
        return form

    async def handle(self, entry: Entry, envelope: Envelope) -> None:
        """Send one reply (`entry`, decoded as `envelope`) at most once; see the module docstring
        for each outcome.

        Returns when the entry may be acked. Raises `PermanentError` for a malformed reply,
        `DependencyUnavailable` when Redis or Twilio is unusable (the consumer pauses, honouring
        `retry_after`), `NotYourTurn`/`ShuttingDown` to keep the entry waiting in its lane.
        """
        reply = Reply.from_envelope(envelope)
        if reply.reply_id in self._active:
            raise NotYourTurn(f"reply {reply.reply_id} is being handled here already", delay_s=BUSY_RETRY_S)
        self._active.add(reply.reply_id)
        try:
            await self._handle(reply, envelope)
        except (RedisError, OSError) as exc:
            raise DependencyUnavailable(f"redis: {type(exc).__name__}: {exc}") from exc
        finally:
            self._active.discard(reply.reply_id)

    async def _handle(self, reply: Reply, envelope: Envelope) -> None:
        deadline = time.monotonic() + self.settings.handler_budget_s
        known = self._unsettled.get(reply.reply_id)
        if known is not None:
            # Twilio answered on an earlier delivery but Redis refused the record: settle
            # with that answer rather than look it up.
            state_name, force, sid, code, message = known
            await self._settle(
                reply, envelope, state_name, force, sid=sid, error_code=code, error_message=message
            )
            return
        # The happy path in one script: seen, its turn, a token, `sending` recorded.
        attempt_id = new_id()
        prepared = await self.states.prepare(
            reply.reply_id, attempt_id, customer=reply.to, seq=reply.seq, me=self.consumer, bucket=self.bucket
        )
        if prepared.verdict == "final":
            await self._reemit(reply, envelope, prepared.state)
            return
        force_cursor = False
        begun: str | None = None
        pace_first = True
        if prepared.verdict == "unsafe":
            # An earlier attempt that may have reached Twilio goes straight to begin(), which
            # names it busy or to be reconciled; no token is spent on a call that may not be made.
            pace_first = False
        elif prepared.verdict == "turn":
            force_cursor = await self._wait_turn(reply, prepared.age_s, deadline)
        elif prepared.verdict == "paced":
            # The token is reserved; `sending` is recorded after the wait, when the call starts.
            if not await self._sleep(prepared.wait_s):
                raise ShuttingDown("stopping while pacing")
            pace_first = False
        elif prepared.verdict == "go":
            begun = attempt_id
        await self._send(
            reply, envelope, deadline, force_cursor=force_cursor, pace_first=pace_first, begun=begun
        )

    async def on_dead_letter(self, entry: Entry, error: str) -> None:
        """Settle a dead-lettered reply: finish its cursor and tell orders it failed.

        A reply whose last attempt may have reached Twilio is settled `ambiguous`. Otherwise
        the send state is left as it is, so replaying the dead letter sends the reply then (it
        is past the cursor, so it does not wait).
        """
        try:
            envelope = entry.envelope()
            reply = Reply.from_envelope(envelope)
        except Exception:
            log.warning("dead letter is not a reply; nothing to settle", extra={"entry_id": entry.id})
            return
        state = await self.states.get(reply.reply_id)
        if state.final:
            await self.cursor.finish(reply.to, reply.seq)
            return
        if state.state == SENDING and not state.safe:
            await self._settle_ambiguous(reply, envelope, f"dead-lettered: {error}", False)
            return
        result = self._result(reply, envelope, FAILED, error_message=f"dead-lettered: {error}")
        await self.states.settle(
            reply.reply_id, customer=reply.to, seq=reply.seq, envelope=result, state=None
        )

    async def _wait_turn(self, reply: Reply, age_s: float, deadline: float) -> bool:
        """Return once `reply` may go; True when it goes past a predecessor never seen.

        `age_s` is how long ago any notifier first saw this reply, so redeliveries add up
        towards the gap timeout; the timeout only runs while no reply before this one is on
        its way (cursor rule 4), and is `FIRST_GAP_S` for a customer with no position (rule 5).
        """
        stale_s = self.settings.order_gap_timeout_s * ORDER_STALE_FACTOR
        first_seen = time.monotonic() - age_s
        until = min(time.monotonic() + self.settings.order_wait_s, deadline - self._call_s)
        while True:
            turn = await self.cursor.turn(reply.to, reply.seq, stale_s=stale_s)
            if turn.ready(reply.seq):
                return False
            gap = (
                self.settings.order_gap_timeout_s
                if turn.known
                else min(FIRST_GAP_S, self.settings.order_gap_timeout_s)
            )
            if turn.seen_before == 0 and time.monotonic() >= first_seen + gap:
                # Expected for a customer with no position (rule 5); a gap after a known one is not.
                log.log(
                    logging.WARNING if turn.known else logging.INFO,
                    "predecessor never seen; sending out of turn",
                    extra={"reply_id": reply.reply_id, "seq": reply.seq, "cursor": turn.position},
                )
                return True
            if time.monotonic() >= until:
                raise NotYourTurn(
                    f"reply {reply.reply_id} (seq {reply.seq}) waits for seq {reply.seq - 1}",
                    delay_s=ORDER_POLL_S,
                )
            if not await self._sleep(min(ORDER_POLL_S, max(0.0, until - time.monotonic()))):
                raise ShuttingDown("stopping while waiting for the customer's turn")

    async def _send(
        self,
        reply: Reply,
        envelope: Envelope,
        deadline: float,
        *,
        force_cursor: bool,
        pace_first: bool,
        begun: str | None = None,
    ) -> None:
        """Call Twilio until the reply is settled; `begun` is an attempt already recorded
        `sending` (its token taken) by `SendStates.prepare`, to be made first."""
        form = self.form(reply)
        failures = 0
        pace = pace_first
        ours = False  # whether the unresolved attempt a reconciliation meets was made here
        while True:
            if begun is not None:
                attempt_id, begun, pace = begun, None, True
                begin = Begin("go", SENDING, 0.0)
            else:
                if pace:
                    await self._take_token(deadline)
                pace = True
                attempt_id = new_id()
                begin = await self.states.begin(
                    reply.reply_id,
                    attempt_id,
                    me=self.consumer,
                    busy_window_s=self._call_window_s,
                    settle_s=self.settings.reconcile_settle_s,
                    lookup_lease_s=self._lookup_lease_s,
                    to=reply.to,
                    seq=reply.seq,
                )
            if begin.verdict == "final":
                await self._reemit(reply, envelope, await self.states.get(reply.reply_id))
                return
            if begin.verdict == "busy":
                raise NotYourTurn(
                    f"another attempt at reply {reply.reply_id} may still be running",
                    delay_s=min(max(begin.wait_s, 0.05), BUSY_RETRY_S),
                )
            if begin.verdict == "reconcile":
                if not ours:  # left by a process that died, or by an earlier delivery
                    metrics.TWILIO_SENDS.labels("ambiguous", "unresolved").inc()
                if await self._reconcile(reply, envelope, begin, force_cursor):
                    return
                ours = False
                continue
            started = time.perf_counter()
            outcome = await self.client.send(form)
            metrics.TWILIO_SEND_DURATION.observe(time.perf_counter() - started)
            if isinstance(outcome, Accepted):
                metrics.TWILIO_SENDS.labels("sent", "").inc()
                await self._settle(reply, envelope, SENT, force_cursor, sid=outcome.sid)
                return
            indeterminate = isinstance(outcome, Rejected) and outcome.http_status >= 500
            if isinstance(outcome, Unknown) or indeterminate:
                # Twilio may have created it: look it up before any other attempt.
                code = outcome.error_code if isinstance(outcome, Rejected) else "no_answer"
                error = outcome.message if isinstance(outcome, Rejected) else outcome.error
                metrics.TWILIO_SENDS.labels("ambiguous", code).inc()
                log.warning(
                    "Twilio may have created this reply; looking it up before any other attempt",
                    extra={"reply_id": reply.reply_id, "seq": reply.seq, "error": f"{code}: {error}"},
                )
                await self.states.mark_unknown(reply.reply_id, attempt_id, f"{code}: {error}")
                ours, pace = True, False
                continue
            if isinstance(outcome, Rejected) and not outcome.retryable and not outcome.daily_cap:
                metrics.TWILIO_SENDS.labels("failed", outcome.error_code).inc()
                await self._settle(
                    reply,
                    envelope,
                    FAILED,
                    force_cursor,
                    error_code=outcome.error_code,
                    error_message=outcome.message,
                )
                return
            # Refused (429) or never delivered: nothing was sent, so another call cannot duplicate.
            code = outcome.error_code if isinstance(outcome, Rejected) else "connect"
            error = outcome.message if isinstance(outcome, Rejected) else outcome.error
            await self.states.mark_safe(reply.reply_id, attempt_id, f"{code}: {error}")
            metrics.TWILIO_SENDS.labels("retry", code).inc()
            failures += 1
            if isinstance(outcome, Rejected) and outcome.daily_cap:
                left = await self.bucket.pause(self.settings.daily_cap_backoff_s)
                log.error(
                    "Twilio daily message cap reached; pausing sends",
                    extra={"error_code": code, "pause_s": round(left, 1), "reply_id": reply.reply_id},
                )
                raise DependencyUnavailable(f"Twilio {code}: {error}", retry_after=left)
            retry_after = outcome.retry_after if isinstance(outcome, Rejected) else None
            if retry_after is not None:
                # A Retry-After of years (or "inf") from a proxy or a bad date would stop every send.
                retry_after = min(retry_after, self.settings.max_retry_after_s)
            await self._back_off(reply, failures, retry_after, deadline, f"{code}: {error}")

    async def _reconcile(self, reply: Reply, envelope: Envelope, begin: Begin, force_cursor: bool) -> bool:
        """Look the reply up at Twilio after the settle delay; True when found (and settled).

        The look-up is retried with backoff for as long as it fails (the entry stays in hand,
        its lane waiting; other customers' lanes go on); the reply is never sent meanwhile.
        """
        if begin.wait_s > 0 and not await self._sleep(begin.wait_s):
            raise ShuttingDown("stopping before looking a reply up")
        failures = 0
        while True:
            try:
                found = await self.client.recent(
                    to=reply.to, from_=self.settings.whatsapp_from, since=begin.since_s - CLOCK_SKEW_S
                )
                break
            except LookupFailed as exc:
                metrics.TWILIO_RECONCILIATIONS.labels("lookup_failed").inc()
                failures += 1
                delay = backoff_delay(
                    failures, base=max(self.settings.retry_base_s, 0.1), cap=LOOKUP_RETRY_CAP_S
                )
                log.warning(
                    "looking a reply up at Twilio failed; retrying the look-up, not the send",
                    extra={
                        "reply_id": reply.reply_id,
                        "error": str(exc)[:300],
                        "retry_in_s": round(delay, 2),
                    },
                )
                if not await self.states.hold_lookup(
                    reply.reply_id, me=self.consumer, lease_s=delay + self._lookup_lease_s
                ):
                    raise NotYourTurn("another notifier took the look-up over", delay_s=BUSY_RETRY_S) from exc
                if not await self._sleep(delay):
                    raise ShuttingDown("stopping while a look-up is retried") from exc
        match = await self._match(reply, found)
        if match is not None:
            metrics.TWILIO_RECONCILIATIONS.labels("found").inc()
            log.info(
                "found at Twilio: settled as sent, not sent again",
                extra={"reply_id": reply.reply_id, "seq": reply.seq, "message_sid": match.sid},
            )
            await self._settle(reply, envelope, SENT, force_cursor, sid=match.sid, found=True)
            return True
        if not await self.states.absent(
            reply.reply_id, me=self.consumer, note="looked up at Twilio after the settle delay: not there"
        ):
            raise NotYourTurn("another notifier took the look-up over", delay_s=BUSY_RETRY_S)
        metrics.TWILIO_RECONCILIATIONS.labels("not_found").inc()
        log.warning(
            "not at Twilio after the settle delay; sending it",
            extra={"reply_id": reply.reply_id, "seq": reply.seq, "candidates": len(found)},
        )
        return False

    async def _match(self, reply: Reply, found: list[Listed]) -> Listed | None:
        """The earliest listed message that is this reply: outbound, same To and From, same Body
        (for a ContentSid reply, whose rendered text is not known here: any), and not a
        MessageSid another reply was settled with."""
        candidates = [
            m
            for m in found
            if m.direction.startswith("outbound")
            and m.to == reply.to
            and m.from_ == self.settings.whatsapp_from
            and (reply.body is None or m.body == reply.body)
        ]
        claims = await self.states.claims([m.sid for m in candidates])
        free = [m for m in candidates if claims.get(m.sid, reply.reply_id) == reply.reply_id]
        return min(free, key=lambda m: m.created_at) if free else None

    async def _back_off(
        self, reply: Reply, failures: int, retry_after: float | None, deadline: float, error: str
    ) -> None:
        """Sleep before the next call, or leave the entry pending when out of attempts or time."""
        delay = (
            retry_after
            if retry_after is not None
            else backoff_delay(failures - 1, base=self.settings.retry_base_s, cap=self.settings.retry_cap_s)
        )
        out_of_time = time.monotonic() + delay + self._call_s > deadline
        if failures >= self.settings.max_attempts or out_of_time:
            pause = max(delay, self.settings.retry_cap_s) if retry_after is None else retry_after
            log.warning(
                "Twilio kept refusing; leaving the reply pending",
                extra={"reply_id": reply.reply_id, "error": error, "attempts": failures},
            )
            raise DependencyUnavailable(f"Twilio: {error}", retry_after=pause)
        log.info(
            "Twilio refused; retrying",
            extra={"reply_id": reply.reply_id, "error": error, "retry_in_s": round(delay, 3)},
        )
        if not await self._sleep(delay):
            raise ShuttingDown("stopping during a retry backoff")

    async def _take_token(self, deadline: float) -> None:
        while True:
            grant = await self.bucket.take()
            if grant.paused:
                raise DependencyUnavailable("sender paused (daily cap)", retry_after=grant.wait_s)
            if grant.granted:
                if grant.wait_s > 0 and not await self._sleep(grant.wait_s):
                    raise ShuttingDown("stopping while pacing")
                return
            if time.monotonic() + grant.wait_s + self._call_s > deadline:
                raise DependencyUnavailable("send rate saturated", retry_after=grant.wait_s)
            if not await self._sleep(grant.wait_s):
                raise ShuttingDown("stopping while pacing")

    async def _sleep(self, seconds: float) -> bool:
        """Sleep `seconds`; False when `stop()` cut it short."""
        if self._stopping.is_set():
            return False
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=max(0.0, seconds))
        return not self._stopping.is_set()

    def _result(
        self,
        reply: Reply,
        envelope: Envelope,
        outcome: str,
        *,
        sid: str = "",
        error_code: str = "",
        error_message: str = "",
        ambiguous: bool = False,
    ) -> bytes:
        fields = {
            "reply_id": reply.reply_id,
            "outcome": SENT if outcome == SENT else FAILED,
            "MessageSid": sid,
            "ErrorCode": error_code,
            "ErrorMessage": error_message,
        }
        if ambiguous:
            fields["Ambiguous"] = "1"
        return Envelope(kind=SEND_RESULT, fields=fields, request_id=envelope.request_id).encode()

    async def _settle(
        self,
        reply: Reply,
        envelope: Envelope,
        state: str,
        force_cursor: bool,
        *,
        sid: str = "",
        error_code: str = "",
        error_message: str = "",
        found: bool = False,
    ) -> None:
        result = self._result(
            reply,
            envelope,
            state,
            sid=sid,
            error_code=error_code,
            error_message=error_message,
            ambiguous=state == AMBIGUOUS,
        )
        # Twilio has answered: losing this write to a Redis blip would turn a known outcome
        # into the ambiguous window on redelivery, so it is retried a few times, and then
        # remembered in this process for the entry's next delivery.
        for attempt in range(SETTLE_ATTEMPTS):
            try:
                recorded, emitted = await self.states.settle(
                    reply.reply_id,
                    customer=reply.to,
                    seq=reply.seq,
                    envelope=result,
                    state=state,
                    sid=sid,
                    error_code=error_code,
                    error_message=error_message,
                    force_cursor=force_cursor,
                    found=found,
                )
                break
            except (RedisError, OSError):
                if attempt + 1 == SETTLE_ATTEMPTS:
                    self._remember(reply.reply_id, (state, force_cursor, sid, error_code, error_message))
                    raise
                await asyncio.sleep(backoff_delay(attempt, base=0.2, cap=2.0))
        self._unsettled.pop(reply.reply_id, None)
        log.info(
            "reply settled",
            extra={
                "reply_id": reply.reply_id,
                "seq": reply.seq,
                "outcome": recorded,
                "message_sid": sid,
                "error_code": error_code,
                "emitted": emitted,
            },
        )

    async def _settle_ambiguous(
        self, reply: Reply, envelope: Envelope, error: str, force_cursor: bool
    ) -> None:
        """A dead-lettered reply whose last attempt may have reached Twilio: it is not sent again
        and not looked up any more; reported failed with `Ambiguous=1` for staff to see."""
        metrics.TWILIO_RECONCILIATIONS.labels("unresolved").inc()
        log.error(
            "reply dead-lettered while Twilio may have created it; not sent again",
            extra={"reply_id": reply.reply_id, "seq": reply.seq, "error": error},
        )
        await self._settle(
            reply,
            envelope,
            AMBIGUOUS,
            force_cursor,
            error_message=f"ambiguous: {error}; Twilio may have accepted it, so it was not sent again",
        )

    async def _reemit(self, reply: Reply, envelope: Envelope, state: SendState) -> None:
        """The reply is final already: report it again (orders records it idempotently)."""
        result = self._result(
            reply,
            envelope,
            state.state,
            sid=state.sid,
            error_code=state.error_code,
            error_message=state.error_message,
            ambiguous=state.state == AMBIGUOUS,
        )
        await self.states.settle(
            reply.reply_id, customer=reply.to, seq=reply.seq, envelope=result, state=None
        )
        log.info(
            "reply already settled; not sent again", extra={"reply_id": reply.reply_id, "state": state.state}
        )
