"""Staff accounts as the owner manages them: list, add, disable, enable, reset a password.

Passwords are argon2id hashes made by `auth.hash_password` (off the event loop). Disabling an
account or resetting its password ends every session it has at once, on every replica (the
sessions are rows; `auth.load_session` also refuses a disabled account). The owner cannot
disable their own account, so there is always someone who can sign in and manage the others.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Final

import psycopg

from services.orders.settings import MIN_ADMIN_PASSWORD_LENGTH
from services.orders.storage.pool import Conn
from services.orders.web.dashboard import auth

MIN_PASSWORD_LENGTH: Final = MIN_ADMIN_PASSWORD_LENGTH
MAX_PASSWORD_LENGTH: Final = 1024
MAX_NAME_CHARS: Final = 60
MAX_EMAIL_CHARS: Final = 254
# Enough to refuse a typo ("maria@", "maria.example.com"); the address is only a sign-in name.
_EMAIL: Final = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class AccountError(ValueError):
    """A change the owner asked for that cannot be made; `str()` says why, for the page."""


@dataclass(frozen=True, slots=True)
class Account:
    """One staff account as the staff page lists it."""

    id: int
    email: str
    name: str
    role: str
    disabled: bool
    last_login_at: dt.datetime | None


async def list_accounts(conn: Conn) -> list[Account]:
    """Every account, enabled ones first, then by name."""
    rows = await (
        await conn.execute(
            "SELECT id, email, name, role, disabled, last_login_at FROM staff_users"
            " ORDER BY disabled, role <> 'owner', lower(name), id"
        )
    ).fetchall()
    return [Account(**row) for row in rows]


def check_password(password: str) -> None:
    """Raise `AccountError` unless the password has MIN_PASSWORD_LENGTH to MAX_PASSWORD_LENGTH characters."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"A password needs at least {MIN_PASSWORD_LENGTH} characters.")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AccountError("That password is too long.")


async def add_account(conn: Conn, *, name: str, email: str, password: str) -> int:
    """Add a staff account (role `staff`); returns its id.

    Raises `AccountError` for a missing or too long name, an email that is not one, a short
    password, or an email another account already has (in any case).
    """
    name, email = " ".join(name.split()), email.strip()
    if not name or len(name) > MAX_NAME_CHARS:
        raise AccountError(f"Give a name of 1 to {MAX_NAME_CHARS} characters; the history shows it.")
    if len(email) > MAX_EMAIL_CHARS or not _EMAIL.match(email):
        raise AccountError("That email address does not look right.")
    check_password(password)
    try:
        async with conn.transaction():  # a savepoint: a taken email leaves the transaction usable
            return await auth.create_user(conn, email, password, name, auth.STAFF)
    except psycopg.errors.UniqueViolation:
        raise AccountError(f"An account with {email} already exists.") from None


async def set_disabled(conn: Conn, owner: auth.Staff, user_id: int, disabled: bool) -> None:
    """Disable (ending its sessions) or enable an account. Raises `AccountError` for an
    unknown account or for the owner's own."""
    if user_id == owner.user_id:
        raise AccountError("You cannot disable your own account.")
    cur = await conn.execute("UPDATE staff_users SET disabled = %s WHERE id = %s", (disabled, user_id))
    if cur.rowcount == 0:
        raise AccountError("No such account.")
    if disabled:
        await auth.revoke_all_sessions(conn, user_id)


async def reset_password(conn: Conn, user_id: int, password: str, *, keep_session: str = "") -> None:
    """Give an account a new password and end its sessions but `keep_session` (the hash of the
    owner's own session, when they reset their own password). Raises `AccountError` for a
    short password or an unknown account."""
    check_password(password)
    password_hash = await auth.hash_password(password)
    cur = await conn.execute(
        "UPDATE staff_users SET password_hash = %s WHERE id = %s", (password_hash, user_id)
    )
    if cur.rowcount == 0:
        raise AccountError("No such account.")
    await conn.execute(
        "DELETE FROM staff_sessions WHERE user_id = %s AND id_hash <> %s", (user_id, keep_session)
    )
