"""Sign-in pieces in-process (the real app and lifespan through TestClient, real PostgreSQL and
Redis): settings checks, the first account, hashes, cookie flags, expiry and revocation."""

from __future__ import annotations

import asyncio
import datetime as dt
import re

import psycopg
import pytest
import redis.asyncio as aioredis
from starlette.testclient import TestClient

from libs.errors import SettingsError
from libs.messages import Keys
from services.orders.app import create_app
from services.orders.menu.catalog import demo_menu_path
from services.orders.menu.files import read_menu_document
from services.orders.settings import OrdersSettings
from services.orders.storage.pool import make_pool
from services.orders.storage.stores import load_menu_into_db
from services.orders.web.dashboard import auth
from services.orders.web.dashboard.web import safe_next

EMAIL, PASSWORD = "owner@example.com", "a-long-enough-password"
SECRET = "s" * 44
TOKEN = "t" * 40


def settings_for(database_url: str, key_prefix: str, **extra: str) -> OrdersSettings:
    env = {
        "DATABASE_URL": database_url,
        "REDIS_KEY_PREFIX": key_prefix,
        "ADMIN_EMAIL": EMAIL,
        "ADMIN_PASSWORD": PASSWORD,
        "SESSION_SECRET": SECRET,
        "ADMIN_API_TOKEN": TOKEN,
        **extra,
    }
    return OrdersSettings.from_env(env)


def app_for(settings: OrdersSettings) -> TestClient:
    return TestClient(create_app(settings))


def load_demo(database_url: str) -> None:
    async def load() -> None:
        async with await psycopg.AsyncConnection.connect(database_url) as conn:
            from psycopg.rows import dict_row

            conn.row_factory = dict_row  # type: ignore[assignment]
            async with conn.transaction():
                await load_menu_into_db(conn, read_menu_document(demo_menu_path().read_text()))  # type: ignore[arg-type]

    asyncio.run(load())


def sign_in(client: TestClient, password: str = PASSWORD) -> int:
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
    assert token
    response = client.post(
        "/login",
        data={"email": EMAIL.upper(), "password": password, "csrf_token": token.group(1)},
        follow_redirects=False,
    )
    return response.status_code


@pytest.mark.parametrize(
    ("env", "name"),
    [
        ({"ENVIRONMENT": "production", "ADMIN_API_TOKEN": TOKEN}, "SESSION_SECRET"),
        (
            {"ENVIRONMENT": "production", "ADMIN_API_TOKEN": TOKEN, "SESSION_SECRET": "short"},
            "SESSION_SECRET",
        ),
        (
            {"ENVIRONMENT": "production", "ADMIN_API_TOKEN": TOKEN, "SESSION_SECRET": SECRET,
             "ADMIN_EMAIL": EMAIL, "ADMIN_PASSWORD": "short"},
            "ADMIN_PASSWORD",
        ),
        ({"ADMIN_EMAIL": "not-an-email", "ADMIN_PASSWORD": PASSWORD}, "ADMIN_EMAIL"),
        ({"ADMIN_EMAIL": EMAIL}, "ADMIN_PASSWORD"),
    ],
)  # fmt: skip
def test_settings_refuse_weak_or_half_dashboard_configuration(env: dict[str, str], name: str) -> None:
    with pytest.raises(SettingsError) as caught:
        OrdersSettings.from_env(env)
    assert caught.value.name == name


def test_outside_production_a_missing_secret_is_random_per_process() -> None:
    first, second = OrdersSettings.from_env({}), OrdersSettings.from_env({})
    assert len(first.session_secret) >= 32 and first.session_secret != second.session_secret


def test_first_account_is_created_once_with_an_argon2id_hash(database_url: str, key_prefix: str) -> None:
    load_demo(database_url)
    settings = settings_for(database_url, key_prefix)

    async def twice_at_once() -> list[bool]:
        pool = make_pool(settings)
        await pool.open()
        try:
            return list(
                await asyncio.gather(
                    *(auth.ensure_first_admin(pool, EMAIL, PASSWORD, slow_s=5) for _ in range(3))
                )
            )
        finally:
            await pool.close()

    assert sorted(asyncio.run(twice_at_once())) == [False, False, True]
    with psycopg.connect(database_url) as conn:
        rows = conn.execute("SELECT email, password_hash FROM staff_users").fetchall()
    assert len(rows) == 1 and rows[0][0] == EMAIL and rows[0][1].startswith("$argon2id$")
    with app_for(settings) as client:  # a restart with the account there creates nothing more
        assert sign_in(client) == 303
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT count(*) FROM staff_users").fetchone() == (1,)


def test_production_cookies_are_secure_httponly_samesite(database_url: str, key_prefix: str) -> None:
    load_demo(database_url)
    settings = settings_for(database_url, key_prefix, ENVIRONMENT="production")
    with app_for(settings) as client:
        login = client.get("/login")
        assert "Secure" in login.headers["set-cookie"] and "SameSite=strict" in login.headers["set-cookie"]
        token = re.search(r'name="csrf_token" value="([^"]+)"', login.text)
        assert token
        client.cookies.set("wa_login_csrf", token.group(1))  # httpx keeps Secure cookies to https only
        response = client.post(
            "/login",
            data={"email": EMAIL, "password": PASSWORD, "csrf_token": token.group(1)},
            follow_redirects=False,
        )
        cookie = response.headers["set-cookie"]
        assert response.status_code == 303
        assert "wa_session=" in cookie and "HttpOnly" in cookie and "Secure" in cookie
        assert "SameSite=lax" in cookie
        assert response.headers.get("location") == "/dashboard"


def test_expired_and_revoked_sessions_sign_nobody_in(database_url: str, key_prefix: str) -> None:
    load_demo(database_url)
    settings = settings_for(database_url, key_prefix)
    with app_for(settings) as client:
        assert sign_in(client, "wrong password") == 401
        assert sign_in(client) == 303
        assert client.get("/dashboard", follow_redirects=False).status_code == 200
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute("UPDATE staff_sessions SET expires_at = now() - interval '1 second'")
        assert client.get("/dashboard", follow_redirects=False).status_code == 303

        assert sign_in(client) == 303
        first = client.cookies["wa_session"]
        client.cookies.delete("wa_session")
        assert sign_in(client) == 303  # a second device
        second = client.cookies["wa_session"]
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/logout").text)
        assert csrf and first != second
        client.post("/logout", data={"csrf_token": csrf.group(1), "everywhere": "1"})
        for cookie in (first, second):
            client.cookies.set("wa_session", cookie)
            assert client.get("/dashboard", follow_redirects=False).status_code == 303
        with psycopg.connect(database_url) as conn:
            assert conn.execute("SELECT count(*) FROM staff_sessions").fetchone() == (0,)


def test_a_tampered_cookie_is_not_a_session() -> None:
    cookies = auth.SessionCookies(SECRET)
    value = cookies.sign("abc")
    assert cookies.read(value) == "abc"
    assert cookies.read(value[:-2] + "xx") is None
    assert auth.SessionCookies("another-secret-" + "x" * 30).read(value) is None


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("/dashboard/menu", "/dashboard/menu"),
        ("https://evil.example/dashboard", "/dashboard"),
        ("//evil.example/dashboard", "/dashboard"),
        ("/dashboard\\..\\x", "/dashboard"),
        (None, "/dashboard"),
    ],
)
def test_after_sign_in_only_dashboard_paths_are_followed(given: str | None, expected: str) -> None:
    assert safe_next(given) == expected


def test_the_session_lifetime_is_one_shift() -> None:
    assert dt.timedelta(seconds=auth.SESSION_MAX_AGE_S) == dt.timedelta(hours=12)


async def test_sign_in_attempts_are_counted_in_windows_on_both_redis_versions(
    both_redis: tuple[aioredis.Redis, str],
) -> None:
    """The embedded Redis `make run` starts is 6.2: counting sign-in attempts must work there
    (EXPIRE's NX flag is Redis 7 only and made every sign-in a 503 on it)."""
    client, prefix = both_redis
    keys = Keys(prefix)
    allowed = [await auth.login_allowed(client, keys, "10.0.0.1", "Owner@example.com") for _ in range(6)]
    assert allowed == [True] * auth.LOGIN_LIMIT_PER_ACCOUNT + [False]
    counter = keys.rate("login", "10.0.0.1|owner@example.com")
    ttl = await client.ttl(counter)
    assert auth.LOGIN_WINDOW_S - 5 <= ttl <= auth.LOGIN_WINDOW_S  # set by the first attempt, kept
    await auth.forget_login_attempts(client, keys, "10.0.0.1", "owner@example.com")
    assert await auth.login_allowed(client, keys, "10.0.0.1", "owner@example.com")
    await client.delete(counter, keys.rate("login", "10.0.0.1"))
