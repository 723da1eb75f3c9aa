"""Dead letters: list, replay and drop the entries a consumer gave up on, and the CLI for it.

A consumer moves an entry to `Keys.dead_letters(stream)` (`{stream}:dead`) after too many
deliveries or a permanent error (`libs.streams`); the dead letter keeps the original fields
(`e`) and adds `error`, `original_id`, `stream`, `group`, `deliveries`, `failed_at`.

    python -m services.<name> dead-letters list [--limit N] [--json]
    python -m services.<name> dead-letters replay ID | replay --all
    python -m services.<name> dead-letters drop ID

`replay` appends the original fields to the stream as a NEW entry (a new id; consumers see it
as new work and handle it from the start, with a fresh delivery count) and deletes the dead
letter, in one Lua script: the entry is in exactly one of the two streams at any time, so a
replay run twice, or by two operators at once, replays once. Handlers are idempotent
(orders' inbox, notifier's send state), so replaying an entry that had partly taken effect is
safe. Redis runs a script alone (https://redis.io/docs/latest/develop/interact/programmability/eval-intro/);
both keys share the `{prefix}` so they also sit in one slot when the prefix is hash-tagged.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import os
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

import orjson
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from libs.connections import redis_client
from libs.errors import EnvelopeError, SettingsError
from libs.messages import ENTRY_FIELD, Envelope, Keys
from libs.settings import CommonSettings

# Fields the consumer adds when it dead-letters an entry (`StreamGroup.dead_letter`).
META_FIELDS: Final = frozenset({"error", "original_id", "stream", "group", "deliveries", "failed_at"})
PAGE: Final = 100
# 9999-12-31T23:59:59Z in Unix seconds: the latest failure time a line can print.
_LATEST_TIME: Final = 253_402_300_799.0

# KEYS[1] dead-letter stream, KEYS[2] stream. ARGV[1] dead-letter id, ARGV[2..] meta field names.
# Returns the new entry id, or false when there is no such dead letter.
_REPLAY: Final = """
local found = redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1])
if #found == 0 then
  return false
end
local meta = {}
for i = 2, #ARGV do
  meta[ARGV[i]] = true
end
local fields = {}
local raw = found[1][2]
for i = 1, #raw, 2 do
  if not meta[raw[i]] then
    table.insert(fields, raw[i])
    table.insert(fields, raw[i + 1])
  end
end
if #fields == 0 then
  return redis.error_reply('dead letter ' .. ARGV[1] .. ' holds no original fields')
end
local id = redis.call('XADD', KEYS[2], '*', unpack(fields))
redis.call('XDEL', KEYS[1], ARGV[1])
return id
"""


def _text(value: bytes | str | None) -> str:
    if value is None:
        return ""
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """One dead letter as listed: its id in the dead-letter stream and what the consumer recorded.

    `failed_at` is Unix time in seconds (0 when unreadable: not a number, nan, inf, or past
    year 9999); `kind`/`envelope_id` come from the original envelope
    ('' when it could not be decoded, which is often why it is here).
    """

    id: str
    original_id: str
    error: str
    deliveries: int
    failed_at: float
    kind: str
    envelope_id: str

    @classmethod
    def from_entry(cls, entry_id: bytes | str, fields: Mapping[bytes, bytes]) -> DeadLetter:
        """Read a dead-letter entry's fields."""
        get = {_text(k): _text(v) for k, v in fields.items()}
        kind = envelope_id = ""
        with contextlib.suppress(EnvelopeError):  # an undecodable envelope is listed all the same
            envelope = Envelope.decode(fields.get(ENTRY_FIELD, b""))
            kind, envelope_id = envelope.kind, envelope.id
        try:
            failed_at = float(get.get("failed_at") or 0)
        except ValueError:
            failed_at = 0.0
        if not 0.0 <= failed_at <= _LATEST_TIME:  # nan, inf or out of any calendar: unknown
            failed_at = 0.0
        return cls(
            id=_text(entry_id),
            original_id=get.get("original_id", ""),
            error=get.get("error", ""),
            deliveries=int(get["deliveries"]) if get.get("deliveries", "").isdigit() else 0,
            failed_at=failed_at,
            kind=kind,
            envelope_id=envelope_id,
        )

    def line(self) -> str:
        """One human-readable line (the error last: it is the longest part)."""
        when = dt.datetime.fromtimestamp(self.failed_at, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return (
            f"{self.id}  original={self.original_id}  kind={self.kind or '?'}  "
            f"deliveries={self.deliveries}  failed_at={when}  error={self.error}"
        )


class DeadLetters:
    """The dead letters of one stream. Every method raises `RedisError` when Redis fails."""

    def __init__(self, redis: aioredis.Redis, stream: str, dead_stream: str) -> None:
        self.redis = redis
        self.stream = stream
        self.dead_stream = dead_stream
        self._replay = redis.register_script(_REPLAY)

    async def oldest(self, limit: int = PAGE) -> list[DeadLetter]:
        """The oldest `limit` dead letters, oldest first."""
        rows: Any = await self.redis.xrange(self.dead_stream, count=limit)
        return [DeadLetter.from_entry(entry_id, fields) for entry_id, fields in rows]

    async def count(self) -> int:
        """How many dead letters there are (XLEN)."""
        return int(await self.redis.xlen(self.dead_stream))

    async def replay(self, dead_id: str) -> str | None:
        """Re-append dead letter `dead_id` to the stream and delete it, atomically.

        Returns the new entry's id, or None when no such dead letter exists (already replayed
        or dropped).
        """
        new_id = await self._replay(
            keys=[self.dead_stream, self.stream], args=[dead_id, *sorted(META_FIELDS)]
        )
        return _text(new_id) if new_id else None

    async def replay_all(self) -> list[tuple[str, str]]:
        """Replay every dead letter present when called, oldest first; returns (dead id, new id)."""
        done: list[tuple[str, str]] = []
        start = "-"
        while True:
            rows: Any = await self.redis.xrange(self.dead_stream, min=start, count=PAGE)
            if not rows:
                return done
            for entry_id, _fields in rows:
                dead_id = _text(entry_id)
                new_id = await self.replay(dead_id)
                if new_id is not None:
                    done.append((dead_id, new_id))
            start = "(" + _text(rows[-1][0])

    async def drop(self, dead_id: str) -> bool:
        """Delete dead letter `dead_id` for good; False when there was none."""
        return bool(await self.redis.xdel(self.dead_stream, dead_id))


StreamOf = Callable[[Keys], str]


def register(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
    stream_of: StreamOf | None,
    *,
    service: str,
    default_port: int,
    none_reason: str = "",
) -> None:
    """Add `dead-letters list|replay ID|replay --all|drop ID` to a service's command line.

    `stream_of(keys)` names the stream whose dead letters the service owns (the one its
    consumer reads). A service that consumes no stream passes None and a `none_reason`; its
    command then says so and exits 2, so every service answers the same command.
    """
    parser = subparsers.add_parser(
        "dead-letters",
        help="inspect, replay or drop dead letters",
        description=__doc__.split("\n\n")[0] if __doc__ else None,
    )
    sub = parser.add_subparsers(dest="dead_letters_command", required=True, metavar="list|replay|drop")
    listing = sub.add_parser("list", help="list dead letters, oldest first")
    listing.add_argument(
        "--limit",
        type=_limit,
        default=PAGE,
        help=f"at most this many, 1 to {MAX_LIMIT} (default %(default)s)",
    )
    listing.add_argument("--json", action="store_true", help="one JSON object per line")
    replay = sub.add_parser("replay", help="put a dead letter back on its stream (or all of them)")
    which = replay.add_mutually_exclusive_group(required=True)
    which.add_argument("id", nargs="?", type=_entry_id, help="the dead letter's id, as listed")
    which.add_argument("--all", action="store_true", help="replay every dead letter")
    drop = sub.add_parser("drop", help="delete a dead letter for good")
    drop.add_argument("id", type=_entry_id, help="the dead letter's id, as listed")

    def run(args: argparse.Namespace) -> int:
        if stream_of is None:
            print(f"{service} has no dead letters: {none_reason}", file=sys.stderr)
            return 2
        try:
            common = CommonSettings.from_env(os.environ, default_port=default_port)
        except SettingsError as exc:
            print(f"configuration error: {exc}", file=sys.stderr)
            return 2
        try:
            return asyncio.run(_run(args, common, stream_of))
        except RedisError as exc:
            print(f"redis error: {type(exc).__name__}: {exc}", file=sys.stderr)
            return 1

    parser.set_defaults(func=run)


# ASCII digits only (`\d` alone also matches other scripts' digits, which Redis refuses), and
# each part a 64-bit unsigned number (https://redis.io/docs/latest/develop/data-types/streams/#entry-ids).
_ENTRY_ID = re.compile(r"(\d{1,20})-(\d{1,20})", re.ASCII)
_MAX_ID_PART = 2**64 - 1
MAX_LIMIT: Final = 10_000


def _entry_id(value: str) -> str:
    """A stream entry id as `list` prints it (`1700000000000-0`); argparse reports anything else."""
    found = _ENTRY_ID.fullmatch(value)
    if not found or any(int(part) > _MAX_ID_PART for part in found.groups()):
        raise argparse.ArgumentTypeError(f"{value!r} is not a stream entry id like 1700000000000-0")
    return value


def _limit(value: str) -> int:
    """`list --limit`: a whole number from 1 to `MAX_LIMIT`; argparse reports anything else."""
    if (
        not (value.isascii() and value.isdigit())
        or len(value) > len(str(MAX_LIMIT))
        or not 1 <= int(value) <= MAX_LIMIT
    ):
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number from 1 to {MAX_LIMIT}")
    return int(value)


async def _run(args: argparse.Namespace, common: CommonSettings, stream_of: StreamOf) -> int:
    keys = Keys(common.key_prefix)
    stream = stream_of(keys)
    client = redis_client(common.redis_url, max_connections=2)
    try:
        letters = DeadLetters(client, stream, keys.dead_letters(stream))
        command = args.dead_letters_command
        if command == "list":
            found = await letters.oldest(args.limit)
            for letter in found:
                if args.json:
                    print(orjson.dumps(letter).decode())
                else:
                    print(letter.line())
            total = await letters.count()
            print(f"{len(found)} of {total} dead letter(s) in {letters.dead_stream}", file=sys.stderr)
            return 0
        if command == "replay" and args.all:
            replayed = await letters.replay_all()
            for dead_id, replayed_as in replayed:
                print(f"replayed {dead_id} as {replayed_as}")
            print(f"{len(replayed)} dead letter(s) replayed to {stream}", file=sys.stderr)
            return 0
        if command == "replay":
            new_id = await letters.replay(args.id)
            if new_id is None:
                print(f"no dead letter {args.id} in {letters.dead_stream}", file=sys.stderr)
                return 1
            print(f"replayed {args.id} as {new_id}")
            return 0
        if await letters.drop(args.id):
            print(f"dropped {args.id}")
            return 0
        print(f"no dead letter {args.id} in {letters.dead_stream}", file=sys.stderr)
        return 1
    finally:
        await client.aclose()
