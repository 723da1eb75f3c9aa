"""The owner's staff page: list accounts, add one, disable or enable one, reset a password.

Plain forms (POST, then a redirect back to the page with a sentence saying what happened), so
they work without JavaScript. Only the owner (`staff_users.role = 'owner'`) may open them;
anyone else gets a 403 page. The changes themselves are in accounts.py.
"""

from __future__ import annotations

from typing import Any, Final
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from services.orders.menu import hours
from services.orders.web.dashboard import accounts, auth
from services.orders.web.dashboard.web import PageError, form, page, path_id, staff_only, store_of, tx

PATH: Final = "/dashboard/staff"
# What a redirect may say back on the page (by key, so a link cannot put words on it).
MESSAGES: Final = {
    "added": "Account added. Tell them their email and password; they can sign in now.",
    "disabled": "Account disabled and signed out on every device.",
    "enabled": "Account enabled.",
    "password": "Password changed; that account was signed out on its other devices.",
}


def _owner(who: auth.Staff) -> None:
    if not who.is_owner:
        raise PageError(403, "Only the owner manages staff accounts.")


def _user_id(request: Request) -> int:
    return path_id(request, "user", max_digits=18, missing="No such account.")


async def _render(request: Request, status: int = 200, **context: Any) -> Response:
    async with tx(request) as conn:
        store = await store_of(request, conn)
        listed = await accounts.list_accounts(conn)
    done = MESSAGES.get(request.query_params.get("done", ""))
    context.setdefault("message", done or "")
    context.setdefault("message_kind", "ok")
    context.setdefault("typed", {"name": "", "email": ""})
    response = await page(
        request,
        "staff.html",
        page="staff",
        accounts=listed,
        zone=hours.store_zone(store.menu.store),
        min_password=accounts.MIN_PASSWORD_LENGTH,
        **context,
    )
    response.status_code = status
    return response


def _back(done: str) -> Response:
    return RedirectResponse(f"{PATH}?{urlencode({'done': done})}", status_code=303)


@staff_only
async def staff_page(request: Request, who: auth.Staff) -> Response:
    """GET /dashboard/staff: the accounts, and a form to add one (owner only)."""
    _owner(who)
    return await _render(request)


@staff_only
async def add_staff(request: Request, who: auth.Staff) -> Response:
    """POST /dashboard/staff `name`, `email`, `password`: add a staff account (owner only).
    A refusal shows the page again with the reason and what was typed (not the password)."""
    _owner(who)
    fields = await form(request)
    try:
        async with tx(request) as conn:
            await accounts.add_account(
                conn,
                name=fields.get("name", ""),
                email=fields.get("email", ""),
                password=fields.get("password", ""),
            )
    except accounts.AccountError as exc:
        kept = {"name": fields.get("name", ""), "email": fields.get("email", "")}
        return await _render(request, 400, message=str(exc), message_kind="error", typed=kept)
    return _back("added")


async def _change(request: Request, who: auth.Staff, action: str) -> Response:
    _owner(who)
    user_id = _user_id(request)
    try:
        async with tx(request) as conn:
            if action == "password":
                password = (await form(request)).get("password", "")
                await accounts.reset_password(conn, user_id, password, keep_session=who.session_hash)
            else:
                await accounts.set_disabled(conn, who, user_id, action == "disabled")
    except accounts.AccountError as exc:
        return await _render(request, 400, message=str(exc), message_kind="error")
    return _back(action)


@staff_only
async def disable_staff(request: Request, who: auth.Staff) -> Response:
    """POST /dashboard/staff/{user}/disable: disable an account and sign it out everywhere."""
    return await _change(request, who, "disabled")


@staff_only
async def enable_staff(request: Request, who: auth.Staff) -> Response:
    """POST /dashboard/staff/{user}/enable: let a disabled account sign in again."""
    return await _change(request, who, "enabled")


@staff_only
async def reset_staff_password(request: Request, who: auth.Staff) -> Response:
    """POST /dashboard/staff/{user}/password `password`: set a new password, end its other sessions."""
    return await _change(request, who, "password")
