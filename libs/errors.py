"""The mesh's error tree, drawn once; consumers choose ack, retry or dead-letter by type.

    MeshError
    ├── SettingsError            a missing or malformed environment variable (start-up stops)
    ├── EnvelopeError            a stream entry that cannot be decoded (dead-lettered at once)
    ├── PermanentError           handling can never succeed for this entry (dead-lettered at once)
    └── RetryableError           handling failed for a reason that may pass; the entry stays pending
        ├── DependencyUnavailable   Redis, PostgreSQL or Twilio is down or too slow (the consumer pauses)
        └── RetryLater              the entry must wait (its turn, an earlier attempt): handled again soon

A consumer acks an entry only after its handler returned. `RetryLater` keeps the entry in hand
and hands it to the handler again after `delay_s`, counting no delivery; any other exception
that is not a `PermanentError`/`EnvelopeError` leaves the entry pending, so it is delivered
again after the visibility timeout (XAUTOCLAIM) and dead-lettered once it has been delivered
too often.
"""

from __future__ import annotations


class MeshError(Exception):
    """Base of every error the mesh raises on purpose."""


class SettingsError(MeshError):
    """A setting is missing or malformed; `name` is the environment variable at fault."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name
        self.message = message


class EnvelopeError(MeshError):
    """A stream entry is not a valid envelope (bad JSON, unknown version, missing field)."""


class PermanentError(MeshError):
    """Handling this entry can never succeed; it goes to the dead-letter stream."""


class RetryableError(MeshError):
    """Handling failed for a reason that may pass; the entry stays pending."""


class DependencyUnavailable(RetryableError):
    """A dependency (Redis, PostgreSQL, Twilio) is unreachable or too slow.

    `retry_after` (seconds, optional) is how long the dependency asked us to stay away (a
    `Retry-After`, a daily cap); the consumer pauses at least that long before reading again.
    """

    def __init__(self, message: str = "", *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RetryLater(RetryableError):
    """The entry cannot be handled yet but soon can (its predecessor is in flight, an earlier
    attempt may still be running): the consumer keeps it in hand, its lane waiting, and calls
    the handler again after `delay_s` seconds. Other keys' lanes are not held up."""

    def __init__(self, message: str = "", *, delay_s: float = 0.1) -> None:
        super().__init__(message)
        self.delay_s = delay_s
