"""Customers talking to a running mesh, and the ledger that proves what came out of it.

`Load` plays concurrent WhatsApp customers against ingress the way Twilio delivers them: each
webhook is signed and posted until some ingress answers 200 (a 503 or a dropped connection
sends it again, to any replica, as Twilio's retry and fallback URL would), optionally with
racing copies of the same webhook. Each customer waits for the reply to one message before
sending the next, as people do, and runs the same order over and over:
`1 coke` (one to three times), `checkout`, `pickup`, `confirm`.

`Ledger.collect()` then compares, for exactly those customers:

- webhooks answered 200 with orders' inbox (each MessageSid once) and, through the inbox row's
  transaction time, with the replies orders decided in that same transaction;
- the replies orders decided (outbox rows) with what reached the Twilio sandbox: each once,
  in the customer's order; the replies with an attempt whose outcome notifier could not read
  (looked up at Twilio, then settled with the message found or sent) are counted apart, and
  any left unresolved at the end is a failure;
- orders placed with the confirmations that placed them and the messages announcing them.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import psycopg
import redis
from twilio.request_validator import RequestValidator

from libs.messages import Keys

WEBHOOK_PATH = "/api/v1/whatsapp/webhook"
STORE_NUMBER = "whatsapp:+15557650000"
POLL_S = 0.1


def new_sid() -> str:
    """A Twilio-shaped MessageSid."""
    return "SM" + uuid.uuid4().hex


@dataclass
class Message:
    """One customer message and what happened to its webhook."""

    customer: str
    sid: str
    body: str
    posts: int = 0
    accepted: bool = False
    statuses: list[int] = field(default_factory=list)
    replied: bool = False


# How long the open-loop stream's deliveries in hand may still retry once the load stops.
OPEN_LOOP_GRACE_S = 30.0
# Webhooks of the open-loop stream in flight at once; the rest wait their turn in `Poster`.
OPEN_LOOP_CONNECTIONS = 64


class Poster:
    """An HTTP client that never has more requests in flight than `connections`.

    httpx's pool (httpcore 1.0) does work proportional to queued requests times connections
    each time a request starts or ends, and more for idle connections beyond its keep-alive
    limit. When ingress stalls (Redis hung) and the open loop keeps posting, thousands of
    requests queued there make every step cost tenths of a second: the load's event loop
    spends itself on that bookkeeping, new webhooks leave late or never (ingress counts them as
    `header_timeout`) and the sandbox poller starves, long after ingress answers again. Here
    the excess waits on a semaphore, which costs nothing per waiter, and idle connections are
    kept up to the limit rather than closed and opened again.
    """

    def __init__(self, connections: int, timeout_s: float = 10.0) -> None:
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        self.http = httpx.AsyncClient(timeout=httpx.Timeout(timeout_s), limits=limits)
        self._slots = asyncio.Semaphore(connections)

    async def __aenter__(self) -> Poster:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.http.aclose()

    async def post(self, url: str, params: dict[str, str], headers: dict[str, str]) -> int:
        """POST the form; its status, or 0 when refused, reset or timed out (Twilio would retry)."""
        async with self._slots:
            try:
                response = await self.http.post(url, data=params, headers=headers)
                return response.status_code
            except httpx.HTTPError:
                return 0


@dataclass
class Load:
    """Concurrent customers against `ingress_urls`; `run()` until `stop()` or `messages_each` sent.

    `public_url` is the ingress URL Twilio signs (PUBLIC_BASE_URL). `duplicates` is the share of
    webhooks posted as several racing copies. Times in seconds. `rate` (messages per second)
    adds an open-loop stream on top of the conversations: message k ("menu", from a new customer)
    is due k/rate seconds after the start, whether or not earlier ones were answered.
    """

    ingress_urls: Sequence[str]
    public_url: str
    sandbox_url: str
    auth_token: str
    account_sid: str
    customers: int = 8
    messages_each: int | None = None
    duplicates: float = 0.0
    reply_timeout_s: float = 30.0
    give_up_s: float = 120.0
    think_s: tuple[float, float] = (0.0, 0.2)
    seed: int | None = None
    rate: float | None = None
    messages: list[Message] = field(default_factory=list)
    addresses: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        base = self._rng.randrange(100, 1000)
        tag = self._rng.randrange(0, 1000)
        self.addresses = [f"whatsapp:+1{base}{tag:03d}{i:04d}" for i in range(self.customers)]
        # One more customer, driven by `probe()` from outside the load (recovery times).
        self.probe_address = f"whatsapp:+1{base}{tag:03d}9999"
        self.addresses.append(self.probe_address)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._validator = RequestValidator(self.auth_token)
        self._received: Counter[str] = Counter()

    # -- running -----------------------------------------------------------------------------

    def start(self) -> Load:
        """Run in a background thread; returns self."""
        self._thread = threading.Thread(target=lambda: asyncio.run(self.run()), name="load", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Let every customer finish the message in hand, then stop."""
        self._stop.set()

    def join(self, timeout: float = 120) -> None:
        """Wait for the background run to end."""
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                raise AssertionError("the load did not stop in time")

    @property
    def sent_count(self) -> int:
        """Messages posted so far."""
        return len(self.messages)

    async def run(self) -> None:
        """Every customer's conversation, concurrently, plus one poller of the sandbox.

        The conversations, the open-loop stream and the poller each have their own `Poster`
        (their own connections), so a backlog of one never delays the others: replies are
        counted, and conversations go on, while the stream waits for connections.
        """
        async with (
            Poster(self.customers * 3 + 8) as talk,  # at most 3 racing copies per customer
            Poster(OPEN_LOOP_CONNECTIONS) as stream,
            Poster(1) as poll,
        ):
            poller = asyncio.create_task(self._poll(poll.http))
            try:
                work = [self._customer(talk, a) for a in self.addresses[: self.customers]]
                if self.rate:
                    work.append(self._open_loop(stream, self.rate))
                await asyncio.gather(*work)
            finally:
                poller.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await poller

    async def _open_loop(self, http: Poster, rate: float) -> None:
        """One "menu" from a new customer every 1/rate s until stopped; none waits for a reply."""
        tag = self._rng.randrange(0, 1000)
        started = time.monotonic()
        pending: set[asyncio.Task[None]] = set()
        k = 0
        while not self._stop.is_set():
            delay = started + k / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            # Twelve digits: never one of the conversations' eleven-digit numbers.
            message = Message(f"whatsapp:+19{tag:03d}{k:07d}", new_sid(), "menu")
            self.addresses.append(message.customer)
            self.messages.append(message)
            task = asyncio.create_task(self._deliver(http, message))
            pending.add(task)
            task.add_done_callback(pending.discard)
            k += 1
        # Deliveries still retrying get a moment, then are dropped: one that never got its 200
        # is not counted as accepted, whatever ingress did with it (the ledger allows that).
        if pending:
            _done, late = await asyncio.wait(pending, timeout=OPEN_LOOP_GRACE_S)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)

    def _script(self) -> list[str]:
        return ["1 coke"] * self._rng.randint(1, 3) + ["checkout", "pickup", "confirm"]

    async def _customer(self, http: Poster, address: str) -> None:
        sent = 0
        while not self._stop.is_set():
            for body in self._script():
                if self._stop.is_set() or (self.messages_each is not None and sent >= self.messages_each):
                    return
                before = self._received[address]
                message = Message(address, new_sid(), body)
                self.messages.append(message)
                sent += 1
                await self._deliver(http, message)
                if message.accepted:
                    message.replied = await self._wait_reply(address, before)
                low, high = self.think_s
                await asyncio.sleep(self._rng.uniform(low, high))

    def probe(self, body: str = "cart", timeout_s: float = 120.0) -> float | None:
        """From the calling thread: post `body` as the probe customer until ingress takes it,
        wait for its reply; returns the seconds it all took, or None past `timeout_s`."""
        started = time.monotonic()
        deadline = started + timeout_s
        before = self._received[self.probe_address]
        message = Message(self.probe_address, new_sid(), body)
        self.messages.append(message)
        params = self.params(message)
        headers = {
            "X-Twilio-Signature": self._validator.compute_signature(self.public_url + WEBHOOK_PATH, params)
        }
        with httpx.Client(timeout=10) as http:
            while not message.accepted and time.monotonic() < deadline:
                url = self._rng.choice(self.ingress_urls) + WEBHOOK_PATH
                try:
                    status = http.post(url, data=params, headers=headers).status_code
                except httpx.HTTPError:
                    status = 0
                message.posts += 1
                message.statuses.append(status)
                message.accepted = status == 200
                if not message.accepted:
                    time.sleep(0.2)
        while message.accepted and time.monotonic() < deadline:
            if self._received[self.probe_address] > before:
                message.replied = True
                return time.monotonic() - started
            time.sleep(POLL_S / 2)
        return None

    def params(self, message: Message) -> dict[str, str]:
        """The form fields Twilio posts for an inbound WhatsApp text."""
        return {
            "SmsMessageSid": message.sid,
            "NumMedia": "0",
            "ProfileName": "Load Customer",
            "MessageType": "text",
            "SmsSid": message.sid,
            "WaId": message.customer.removeprefix("whatsapp:+"),
            "SmsStatus": "received",
            "Body": message.body,
            "To": STORE_NUMBER,
            "NumSegments": "1",
            "ReferralNumMedia": "0",
            "MessageSid": message.sid,
            "AccountSid": self.account_sid,
            "From": message.customer,
            "ApiVersion": "2010-04-01",
        }

    async def _deliver(self, http: Poster, message: Message) -> None:
        """Post until one copy gets 200, or give up after `give_up_s` (then it never counted)."""
        params = self.params(message)
        signature = self._validator.compute_signature(self.public_url + WEBHOOK_PATH, params)
        headers = {"X-Twilio-Signature": signature}
        deadline = time.monotonic() + self.give_up_s
        attempt = 0
        while time.monotonic() < deadline:
            copies = 3 if self._rng.random() < self.duplicates else 1
            urls = [self._rng.choice(self.ingress_urls) for _ in range(copies)]
            results = await asyncio.gather(*(http.post(url + WEBHOOK_PATH, params, headers) for url in urls))
            message.posts += copies
            message.statuses.extend(results)
            if 200 in results:
                message.accepted = True
                return
            if any(s in (400, 403) for s in results):
                self.errors.append(f"{message.sid}: ingress answered {results}")
                return
            await asyncio.sleep(min(2.0, 0.1 * 2**attempt) * self._rng.uniform(0.5, 1.0))
            attempt += 1

    async def _wait_reply(self, address: str, before: int) -> bool:
        deadline = time.monotonic() + self.reply_timeout_s
        while time.monotonic() < deadline and not self._stop.is_set():
            if self._received[address] > before:
                return True
            await asyncio.sleep(POLL_S / 2)
        return self._received[address] > before

    async def _poll(self, http: httpx.AsyncClient) -> None:
        """Count the messages reaching the sandbox per customer (only `after` the last one seen)."""
        after = 0
        mine = set(self.addresses)
        while True:
            try:
                response = await http.get(self.sandbox_url + "/sandbox/messages", params={"after": after})
                for record in response.json():
                    after = max(after, int(record["index"]))
                    if record["to"] in mine:
                        self._received[record["to"]] += 1
            except (httpx.HTTPError, ValueError):
                pass  # the sandbox is never faulted; a hiccup is retried on the next poll
            await asyncio.sleep(POLL_S)


@dataclass
class Ledger:
    """What went in and what came out for one load's customers; `problems()` lists violations."""

    webhooks_posted: int = 0
    webhooks_accepted: int = 0
    webhooks_given_up: int = 0
    webhooks_unsent: int = 0
    duplicate_posts: int = 0
    processed: int = 0
    missing_inbound: list[str] = field(default_factory=list)
    unexpected_inbound: list[str] = field(default_factory=list)
    unanswered_inbound: list[str] = field(default_factory=list)
    replies_expected: int = 0
    replies_delivered: int = 0
    lost: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    unresolved: int = 0
    ambiguous: int = 0
    found: int = 0
    not_found: int = 0
    unresolved_ambiguous: int = 0
    refused: int = 0
    out_of_order: list[str] = field(default_factory=list)
    dead_lettered: int = 0
    orders: int = 0
    confirms: int = 0
    orders_unannounced: list[int] = field(default_factory=list)
    ingress_errors: list[str] = field(default_factory=list)

    @classmethod
    def collect(cls, load: Load, database_url: str, redis_url: str, key_prefix: str) -> Ledger:
        """Read the database, Redis and the sandbox for `load`'s customers (a snapshot)."""
        ledger = cls()
        ledger.ingress_errors = list(load.errors)
        accepted = {m.sid for m in load.messages if m.accepted}
        posted = {m.sid for m in load.messages}
        ledger.webhooks_posted = len(posted)
        ledger.webhooks_accepted = len(accepted)
        # Open-loop messages still waiting for a connection when the load stopped (or cut off
        # before their first answer) have no post counted: left unsent, not given up.
        ledger.webhooks_unsent = sum(1 for m in load.messages if not m.posts)
        ledger.webhooks_given_up = len(posted - accepted) - ledger.webhooks_unsent
        ledger.duplicate_posts = sum(max(0, m.posts - 1) for m in load.messages)
        ledger.confirms = sum(1 for m in load.messages if m.accepted and m.body == "confirm")
        with psycopg.connect(database_url, autocommit=True) as conn:
            rows = conn.execute(
                "SELECT i.message_sid, count(o.id) AS replies FROM inbox i"
                " JOIN customers c ON c.id = i.customer_id"
                " LEFT JOIN outbox o ON o.customer_id = i.customer_id AND o.created_at = i.processed_at"
                " WHERE c.address = ANY(%s) GROUP BY i.message_sid",
                (load.addresses,),
            ).fetchall()
            outbox = conn.execute(
                "SELECT id, to_address, seq, body, status, error_message FROM outbox"
                " WHERE to_address = ANY(%s) AND status <> 'not_sent' ORDER BY to_address, seq",
                (load.addresses,),
            ).fetchall()
            orders = conn.execute(
                "SELECT o.number, o.confirm_message_sid FROM orders o"
                " JOIN customers c ON c.id = o.customer_id"
                " WHERE c.address = ANY(%s)",
                (load.addresses,),
            ).fetchall()
        processed = {sid: replies for sid, replies in rows}
        ledger.processed = len(processed)
        ledger.missing_inbound = sorted(accepted - processed.keys())
        ledger.unexpected_inbound = sorted(processed.keys() - posted)
        ledger.unanswered_inbound = sorted(sid for sid, replies in processed.items() if replies == 0)

        keys = Keys(key_prefix)
        client = redis.Redis.from_url(redis_url)
        try:
            pipe = client.pipeline(transaction=False)
            for row in outbox:
                pipe.hgetall(keys.send_state(str(row[0])))
            states = [{k.decode(): v.decode() for k, v in raw.items()} for raw in pipe.execute()]
            for stream in (keys.inbound, keys.outbound):
                ledger.dead_lettered += int(client.xlen(keys.dead_letters(stream)))
        finally:
            client.close()

        sandbox = httpx.get(load.sandbox_url + "/sandbox/messages", timeout=30).json()
        delivered: dict[str, list[str]] = defaultdict(list)
        mine = set(load.addresses)
        for record in sandbox:
            if record["to"] in mine:
                delivered[record["to"]].append(record.get("body") or "")
        ledger.replies_delivered = sum(len(v) for v in delivered.values())

        expected: dict[str, list[str]] = defaultdict(list)
        for row, send in zip(outbox, states, strict=True):
            _id, to, _seq, body, status, _error = row
            state = send.get("state", "")
            if state not in ("sent", "failed", "ambiguous"):
                ledger.unresolved += 1  # not sent yet, or a send whose outcome is still open
            ledger.ambiguous += send.get("unknown") == "1"
            ledger.found += send.get("found") == "1"
            ledger.not_found += int(send.get("not_found") or 0)
            # Dead-lettered before its look-up, or still waiting for one.
            if state == "ambiguous" or (state == "sending" and send.get("safe") == "0"):
                ledger.unresolved_ambiguous += 1
            if state == "failed" or (status == "failed" and state != "ambiguous"):
                ledger.refused += 1  # Twilio refused it for good: recorded, not delivered
                continue
            expected[to].append(body)
        ledger.replies_expected = sum(len(v) for v in expected.values())
        for to in mine:
            want, got = Counter(expected[to]), Counter(delivered[to])
            clean = True
            for body in want.keys() | got.keys():
                short = max(0, want[body] - got[body])
                extra = max(0, got[body] - want[body])
                ledger.lost += [f"{to}: {body[:40]!r}"] * short
                ledger.duplicated += [f"{to}: {body[:40]!r}"] * extra
                clean = clean and short == 0 and extra == 0
            if clean and expected[to] != delivered[to]:
                ledger.out_of_order.append(to)

        ledger.orders = len(orders)
        bodies = [b for msgs in delivered.values() for b in msgs]
        for number, _confirm_sid in orders:
            announced = sum(1 for b in bodies if f"#{number}*" in b and "placed" in b)
            if announced != 1:
                ledger.orders_unannounced.append(int(number))
        return ledger

    def problems(self, *, strict_orders: bool = True) -> list[str]:
        """Every broken promise, one line each; empty when the guarantee held.

        `strict_orders`: orders placed must equal confirmations sent (true when each customer's
        messages are handled in the order sent, i.e. no replica died holding one of them).
        """
        found = []
        checks: list[tuple[str, Any]] = [
            ("webhooks answered 200 but never processed", self.missing_inbound),
            ("processed but never posted", self.unexpected_inbound),
            ("processed without a reply decided", self.unanswered_inbound),
            ("replies lost", self.lost),
            ("replies delivered twice", self.duplicated),
            ("customers whose replies arrived out of order", self.out_of_order),
            ("orders not announced exactly once", self.orders_unannounced),
            ("ingress rejected a genuine webhook", self.ingress_errors),
        ]
        for what, items in checks:
            if items:
                found.append(f"{what}: {len(items)}: {items[:5]}")
        if self.orders > self.confirms or (strict_orders and self.orders != self.confirms):
            found.append(f"{self.orders} orders for {self.confirms} confirmations")
        if self.dead_lettered:
            found.append(f"{self.dead_lettered} dead letters")
        if self.unresolved:
            found.append(f"{self.unresolved} replies without a final send state")
        if self.unresolved_ambiguous:
            found.append(f"{self.unresolved_ambiguous} ambiguous sends left unresolved")
        return found

    def settled(self) -> bool:
        """Nothing left in flight: every accepted webhook processed, every reply accounted for."""
        return not (self.missing_inbound or self.lost or self.unanswered_inbound or self.unresolved)

    def summary(self) -> dict[str, int]:
        """The numbers of the chaos table."""
        return {
            "webhooks accepted": self.webhooks_accepted,
            "webhooks given up (never 200)": self.webhooks_given_up,
            "webhooks left unsent when the load stopped": self.webhooks_unsent,
            "webhook re-posts (retries, racing copies)": self.duplicate_posts,
            "processed by orders": self.processed,
            "replies expected": self.replies_expected,
            "replies delivered": self.replies_delivered,
            "lost": len(self.lost),
            "duplicated": len(self.duplicated),
            "sends still unresolved at the end": self.unresolved,
            "ambiguous sends (outcome unknown, looked up)": self.ambiguous,
            "  found at Twilio: settled, not sent again": self.found,
            "  not found after the settle delay: sent": self.not_found,
            "unresolved ambiguous": self.unresolved_ambiguous,
            "refused by Twilio (final 4xx)": self.refused,
            "dead-lettered": self.dead_lettered,
            "orders placed": self.orders,
            "confirmations sent": self.confirms,
        }


def settle(
    load: Load, database_url: str, redis_url: str, key_prefix: str, *, timeout_s: float = 60.0
) -> Ledger:
    """Collect the ledger until nothing is in flight and it stopped changing, or `timeout_s` passed."""
    deadline = time.monotonic() + timeout_s
    previous: dict[str, int] | None = None
    while True:
        ledger = Ledger.collect(load, database_url, redis_url, key_prefix)
        summary = ledger.summary()
        if ledger.settled() and summary == previous:
            return ledger
        if time.monotonic() > deadline:
            return ledger
        previous = summary
        time.sleep(0.5)
