"""Stream names and the one envelope every stream entry carries.

Wiring (every name below is prefixed with REDIS_KEY_PREFIX, default `wa`):

| stream                  | producer              | consumer group | what an entry holds                   |
|-------------------------|-----------------------|----------------|---------------------------------------|
| `{p}:inbound`           | ingress, notifier     | `orders`       | message, status callback, send result |
| `{p}:outbound`          | orders (outbox relay) | `notifier`     | one reply to send through Twilio       |
| `{p}:inbound:dead`      | orders' consumer      | (none)         | inbound entries that failed too often |
| `{p}:outbound:dead`     | notifier's consumer   | (none)         | replies that failed too often         |
| `{p}:events`            | orders (event relay)  | (none: XREAD)  | `kind` + `order_id`/`customer_id`     |

`{p}:events` feeds the staff dashboard (docs/dashboard.md): plain fields, no envelope; each
orders process reads it with one XREAD loop, and browsers resume by entry id.

Envelope kinds and their `fields`:
- `inbound_message` / `status_callback`: Twilio's form fields exactly as posted.
- `reply` (orders -> notifier): `reply_id` (outbox id), `To`, `seq` (per-customer sequence,
  decimal), and either `Body` or `ContentSid` + `ContentVariables` (a JSON string).
- `send_result` (notifier -> orders): `reply_id`, `outcome` (`sent`, `failed`), and when known
  `MessageSid`, `ErrorCode`, `ErrorMessage`. `Ambiguous=1` marks a `failed` whose call may have
  reached Twilio (a timeout or dropped connection after sending): the customer may have got
  it, and it was deliberately not sent again. The same result may arrive more than once.

Beside each consumed stream, `libs.streams` keeps `{stream}:epoch` (when Redis' data for it
began: lost data is detected by its change) and `{stream}:lease:{group}:{consumer}` (one per
live consumer, a short TTL renewed while it runs: a dead consumer's entries are taken over).

Each entry has one field, `e`, holding the envelope encoded with orjson. Dead letters keep the
original `e` and add `error`, `original_id`, `stream`, `group`, `deliveries`, `failed_at`.
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Final

import orjson

from libs.errors import EnvelopeError

SCHEMA_VERSION: Final = 1
ENTRY_FIELD: Final = b"e"

# Envelope kinds.
INBOUND_MESSAGE: Final = "inbound_message"
STATUS_CALLBACK: Final = "status_callback"
REPLY: Final = "reply"
SEND_RESULT: Final = "send_result"
KINDS: Final = frozenset({INBOUND_MESSAGE, STATUS_CALLBACK, REPLY, SEND_RESULT})

ORDERS_GROUP: Final = "orders"
NOTIFIER_GROUP: Final = "notifier"


@dataclass(frozen=True, slots=True)
class Keys:
    """Every Redis key name of the mesh, derived from one prefix (arq's constants, as a type)."""

    prefix: str = "wa"

    @property
    def inbound(self) -> str:
        """Stream of inbound messages and status callbacks (ingress -> orders)."""
        return f"{self.prefix}:inbound"

    @property
    def outbound(self) -> str:
        """Stream of replies to send (orders -> notifier)."""
        return f"{self.prefix}:outbound"

    def dead_letters(self, stream: str) -> str:
        """Dead-letter stream for `stream`."""
        return f"{stream}:dead"

    def dedupe(self, token: str) -> str:
        """Dedupe key of one webhook (MessageSid, or MessageSid:MessageStatus)."""
        return f"{self.prefix}:dedupe:{token}"

    def rate(self, scope: str, subject: str) -> str:
        """Rate-limit counter key for `subject` (an address or a customer) in `scope`."""
        return f"{self.prefix}:rate:{scope}:{subject}"

    def send_state(self, reply_id: str) -> str:
        """Notifier's record of one reply's send attempt (`sending` / `sent` / `failed`)."""
        return f"{self.prefix}:send:{reply_id}"

    def message_claim(self, message_sid: str) -> str:
        """The reply id a MessageSid was settled `sent` for (a look-up never reuses it)."""
        return f"{self.prefix}:sid:{message_sid}"

    def customer_cursor(self, customer: str) -> str:
        """Sequence number of the last reply handed to Twilio for one customer."""
        return f"{self.prefix}:cursor:{customer}"

    def token_bucket(self, sender: str) -> str:
        """Outbound send-rate token bucket of one sender."""
        return f"{self.prefix}:bucket:{sender}"

    def events(self) -> str:
        """Stream of order events for live dashboards."""
        return f"{self.prefix}:events"


def _id_source() -> tuple[str, Iterator[int]]:
    return os.urandom(8).hex(), itertools.count()


# A random prefix per process (drawn again in a forked child) and a counter.
_ids = _id_source()
os.register_at_fork(after_in_child=lambda: globals().update(_ids=_id_source()))


def new_id() -> str:
    """A fresh id, unique across processes: 32 hex characters, the process' 64 random bits
    then a 64-bit counter.

    Not a secret (request ids in logs, the notifier's attempt ids): drawing 128 random bits per
    call (os.urandom, a system call) was 4% of ingress' CPU at saturation.
    """
    prefix, counter = _ids
    return f"{prefix}{next(counter):016x}"


@dataclass(frozen=True, slots=True)
class Envelope:
    """One stream entry: a schema version, ids, when it was received, and Twilio's fields.

    `fields` are Twilio's form fields as received (names such as MessageSid, From, Body, WaId,
    ProfileName, MessageStatus, ErrorCode), all strings. `received_at` is Unix time in seconds.
    `request_id` is logged by every service that touches the entry.
    """

    kind: str
    fields: dict[str, str]
    id: str = field(default_factory=new_id)
    request_id: str = field(default_factory=new_id)
    received_at: float = field(default_factory=time.time)
    version: int = SCHEMA_VERSION

    def encode(self) -> bytes:
        """Serialize with orjson; the result goes in the entry's `e` field."""
        return orjson.dumps(
            {
                "v": self.version,
                "kind": self.kind,
                "id": self.id,
                "request_id": self.request_id,
                "received_at": self.received_at,
                "fields": self.fields,
            }
        )

    @classmethod
    def decode(cls, data: bytes | str) -> Envelope:
        """Parse an encoded envelope.

        Raises `EnvelopeError` for bad JSON, an unknown schema version or kind, or a field of
        the wrong type; such an entry can never be handled and is dead-lettered.
        """
        try:
            raw: Any = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise EnvelopeError(f"not JSON: {exc}") from None
        if not isinstance(raw, dict):
            raise EnvelopeError("envelope is not an object")
        if raw.get("v") != SCHEMA_VERSION:
            raise EnvelopeError(f"unsupported envelope version {raw.get('v')!r}")
        kind, fields = raw.get("kind"), raw.get("fields")
        if kind not in KINDS:
            raise EnvelopeError(f"unknown envelope kind {kind!r}")
        if not isinstance(fields, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in fields.items()
        ):
            raise EnvelopeError("fields must map strings to strings")
        ids = (raw.get("id"), raw.get("request_id"))
        if not all(isinstance(i, str) and i for i in ids):
            raise EnvelopeError("id and request_id must be non-empty strings")
        received_at = raw.get("received_at")
        if not isinstance(received_at, int | float):
            raise EnvelopeError("received_at must be a number")
        return cls(
            kind=kind,
            fields=fields,
            id=raw["id"],
            request_id=raw["request_id"],
            received_at=float(received_at),
        )
