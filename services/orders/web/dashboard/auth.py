"""Staff sign-in: argon2 password hashes, server-side sessions, CSRF tokens and login rate limits.

A session is a row in `staff_sessions`. The browser holds its random id, signed with
SESSION_SECRET (itsdangerous, with the issue time, so a cookie older than `SESSION_MAX_AGE_S`
is refused even before the database is asked); the table keeps only the id's SHA-256. Deleting
the row (sign-out, "sign out everywhere", a disabled account) revokes the cookie at once, on
every replica. Each session has its own CSRF token, sent back by every state-changing request
(the `X-CSRF-Token` header that htmx adds, or a `csrf_token` form field).

Password hashing and checking run in a worker thread (`asyncio.to_thread`): argon2 is
deliberately slow and memory-hard, and must not stall the event loop that serves the queue.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from typing import Final

import redis.asyncio as aioredis
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from itsdangerous import BadSignature, URLSafeTimedSerializer
from psycopg_pool import AsyncConnectionPool
from starlette.requests import Request

from libs.messages import Keys
from services.orders.storage.pool import Conn, transaction

log = logging.getLogger("services.orders.web.dashboard")

SESSION_COOKIE: Final = "wa_session"
LOGIN_CSRF_COOKIE: Final = "wa_login_csrf"
SESSION_MAX_AGE_S: Final = 12 * 3600  # one long shift; then sign in again
# Failed or not, every attempt counts: 5 per address and email, 30 per address, per 15 minutes.
LOGIN_WINDOW_S: Final = 15 * 60
LOGIN_LIMIT_PER_ACCOUNT: Final = 5
LOGIN_LIMIT_PER_ADDRESS: Final = 30
# Two replicas creating the first account at once must create one: "wa staff".
BOOTSTRAP_LOCK: Final = 0x7761_7374_6166

_hasher = PasswordHasher()
_dummy_hash: str | None = None


async def hash_password(password: str) -> str:
    """The argon2id hash of `password` (PHC string), computed off the event loop."""
    return await asyncio.to_thread(_hasher.hash, password)


async def warm_up() -> None:
    """Compute the dummy hash now, so the first sign-in with an unknown email is not the slow one."""
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = await hash_password(secrets.token_urlsafe(16))


async def verify_password(password_hash: str | None, password: str) -> bool:
    """True when `password` matches `password_hash`, checked off the event loop.

    With no hash (unknown email) a dummy hash is checked anyway, so an answer takes as long
    for an unknown address as for a wrong password and does not reveal which emails exist.
    """
    if password_hash is None:
        await warm_up()
        assert _dummy_hash is not None
        password_hash = _dummy_hash
        password = password + "\x00"  # never matches the dummy

    def check() -> bool:
        try:
            return _hasher.verify(password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(check)


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


OWNER: Final = "owner"
STAFF: Final = "staff"


@dataclass(frozen=True, slots=True)
class Staff:
    """The signed-in person behind a request; `role` is `owner` (manages accounts) or `staff`."""

    user_id: int
    email: str
    name: str
    csrf_token: str
    session_hash: str
    role: str = STAFF

    @property
    def display_name(self) -> str:
        """Their name, or their email when the account has none."""
        return self.name or self.email

    @property
    def is_owner(self) -> bool:
        """True for the account that adds, disables and resets the others."""
        return self.role == OWNER

    @property
    def actor(self) -> str:
        """How status history records them: `staff:<name>` (their email when they have no name)."""
        return f"staff:{self.display_name}"


class SessionCookies:
    """Signs and reads the session cookie's value (the session id) with SESSION_SECRET."""

    def __init__(self, secret: str) -> None:
        self._serializer = URLSafeTimedSerializer(secret, salt="staff-session")

    def sign(self, session_id: str) -> str:
        """The cookie value for `session_id`."""
        return self._serializer.dumps(session_id)

    def read(self, value: str | None) -> str | None:
        """The session id in a cookie value, or None when unsigned, tampered with or too old."""
        if not value:
            return None
        try:
            session_id = self._serializer.loads(value, max_age=SESSION_MAX_AGE_S)
        except BadSignature:
            return None
        return session_id if isinstance(session_id, str) else None


async def find_user(conn: Conn, email: str) -> dict[str, object] | None:
    """The enabled account with this email (any case), or None."""
    row = await (
        await conn.execute(
            "SELECT id, email, name, password_hash FROM staff_users WHERE lower(email) = lower(%s)"
            " AND NOT disabled",
            (email.strip(),),
        )
    ).fetchone()
    return dict(row) if row else None


async def create_session(conn: Conn, user_id: int, address: str | None, now: dt.datetime) -> str:
    """Start a session for `user_id`; returns the new session id (for the cookie)."""
    session_id = secrets.token_urlsafe(32)
    await conn.execute(
        "INSERT INTO staff_sessions (id_hash, user_id, csrf_token, created_at, expires_at, last_seen_at,"
        " address) VALUES (%s, %s, %s, %s, %s, %s, %s)",
        (
            _digest(session_id),
            user_id,
            secrets.token_urlsafe(32),
            now,
            now + dt.timedelta(seconds=SESSION_MAX_AGE_S),
            now,
            address,
        ),
    )
    await conn.execute("UPDATE staff_users SET last_login_at = %s WHERE id = %s", (now, user_id))
    # Expired rows of anyone are useless; dropping them here keeps the table small without a job.
    await conn.execute("DELETE FROM staff_sessions WHERE expires_at < %s", (now,))
    return session_id


async def load_session(conn: Conn, session_id: str, now: dt.datetime) -> Staff | None:
    """The staff member of a live session, or None (unknown, revoked, expired, disabled)."""
    row = await (
        await conn.execute(
            "SELECT s.id_hash, s.csrf_token, u.id, u.email, u.name, u.role FROM staff_sessions s"
            " JOIN staff_users u ON u.id = s.user_id"
            " WHERE s.id_hash = %s AND s.expires_at > %s AND NOT u.disabled",
            (_digest(session_id), now),
        )
    ).fetchone()
    if row is None:
        return None
    return Staff(
        user_id=int(row["id"]),
        email=str(row["email"]),
        name=str(row["name"] or ""),
        csrf_token=str(row["csrf_token"]),
        session_hash=str(row["id_hash"]),
        role=str(row["role"]),
    )


async def revoke_session(conn: Conn, session_hash: str) -> None:
    """End one session (sign-out)."""
    await conn.execute("DELETE FROM staff_sessions WHERE id_hash = %s", (session_hash,))


async def revoke_all_sessions(conn: Conn, user_id: int) -> int:
    """End every session of a user (a lost tablet); returns how many ended."""
    cur = await conn.execute("DELETE FROM staff_sessions WHERE user_id = %s", (user_id,))
    return cur.rowcount


async def create_user(conn: Conn, email: str, password: str, name: str = "", role: str = STAFF) -> int:
    """Add a staff account; returns its id. Raises `psycopg.errors.UniqueViolation` for a taken email."""
    password_hash = await hash_password(password)
    row = await (
        await conn.execute(
            "INSERT INTO staff_users (email, name, password_hash, role) VALUES (%s, %s, %s, %s) RETURNING id",
            (email.strip(), name, password_hash, role),
        )
    ).fetchone()
    assert row is not None
    return int(row["id"])


async def ensure_first_admin(
    pool: AsyncConnectionPool[Conn], email: str, password: str, *, slow_s: float
) -> bool:
    """Create the first account (the owner) from ADMIN_EMAIL/ADMIN_PASSWORD when there is none;
    True if created.

    Hashes before taking the lock (hashing is slow and usually not needed twice), then checks
    again under a transaction-level advisory lock, so replicas starting together create one.
    """
    async with transaction(pool, slow_s=slow_s) as conn:
        row = await (await conn.execute("SELECT EXISTS (SELECT 1 FROM staff_users) AS any")).fetchone()
        if row and row["any"]:
            return False
    password_hash = await hash_password(password)
    async with transaction(pool, slow_s=slow_s) as conn:
        await conn.execute("SELECT pg_advisory_xact_lock(%s)", (BOOTSTRAP_LOCK,))
        row = await (await conn.execute("SELECT EXISTS (SELECT 1 FROM staff_users) AS any")).fetchone()
        if row and row["any"]:
            return False
        await conn.execute(
            "INSERT INTO staff_users (email, name, password_hash, role) VALUES (%s, %s, %s, %s)",
            (email.strip(), "Owner", password_hash, OWNER),
        )
    log.info("first staff account created from ADMIN_EMAIL")
    return True


def client_address(request: Request, trust_proxy_headers: bool) -> str:
    """The address a request came from: the first X-Forwarded-For hop when the proxy is trusted."""
    if trust_proxy_headers:
        forwarded = request.headers.get("x-forwarded-for", "").split(",")[0].strip()
        if forwarded:
            return forwarded
    return request.client.host if request.client else "unknown"


async def login_allowed(redis: aioredis.Redis, keys: Keys, address: str, email: str) -> bool:
    """Count one sign-in attempt; False once the address+email or the address is over its limit.

    Fixed 15-minute windows: the first attempt creates the counter with its expiry (SET NX EX),
    and INCR keeps that expiry (https://redis.io/docs/latest/commands/incr/). Not EXPIRE's NX
    flag: it needs Redis 7, and the embedded server `make run` starts is Redis 6.2.
    Raises `redis.RedisError` when Redis is down: the caller refuses the attempt (fail closed).
    """
    account = keys.rate("login", f"{address}|{email.strip().lower()}")
    whole = keys.rate("login", address)
    async with redis.pipeline(transaction=False) as pipe:
        pipe.set(account, 0, ex=LOGIN_WINDOW_S, nx=True)
        pipe.incr(account)
        pipe.set(whole, 0, ex=LOGIN_WINDOW_S, nx=True)
        pipe.incr(whole)
        _, per_account, _, per_address = await pipe.execute()
    return int(per_account) <= LOGIN_LIMIT_PER_ACCOUNT and int(per_address) <= LOGIN_LIMIT_PER_ADDRESS


async def forget_login_attempts(redis: aioredis.Redis, keys: Keys, address: str, email: str) -> None:
    """After a successful sign-in, the account's count starts again (a typo is not held against it)."""
    await redis.delete(keys.rate("login", f"{address}|{email.strip().lower()}"))


def tokens_match(given: str | None, expected: str | None) -> bool:
    """Constant-time comparison of two CSRF tokens; False when either is missing."""
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())
