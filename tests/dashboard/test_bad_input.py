"""Bad input and bad moments for the dashboard, in-process (the real app and lifespan through
TestClient, real PostgreSQL and Redis): a database that cannot be reached during sign-in, ids
written in other scripts' digits, and live streams resumed from ids that are no stream ids.
Each gets a clear answer and changes nothing."""

from __future__ import annotations

import re

import psycopg
import pytest
from starlette.testclient import TestClient

from services.orders.web.dashboard import auth
from tests.conftest import free_port
from tests.dashboard.test_auth import EMAIL, PASSWORD, SECRET, app_for, load_demo, settings_for, sign_in


def _login_token(client: TestClient) -> str:
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
    assert token
    return token.group(1)


def test_sign_in_while_the_database_is_down_is_a_clear_503(key_prefix: str) -> None:
    # Nothing listens on this port: every connection the pool makes is refused.
    unreachable = f"postgresql://postgres@127.0.0.1:{free_port()}/nowhere"
    settings = settings_for(unreachable, key_prefix, DB_POOL_TIMEOUT_SECONDS="0.5")
    with app_for(settings) as client:
        token = _login_token(client)
        response = client.post(
            "/login", data={"email": EMAIL, "password": PASSWORD, "csrf_token": token}, follow_redirects=False
        )
        assert response.status_code == 503, response.text[:300]
        assert "database is unavailable" in response.text
        assert "Traceback" not in response.text and "wa_session" not in response.headers.get("set-cookie", "")
        # A browser that still holds a (validly signed) session cookie opens the sign-in page.
        client.cookies.set(auth.SESSION_COOKIE, auth.SessionCookies(SECRET).sign("some-session"))
        page = client.get("/login", follow_redirects=False)
        assert page.status_code == 503, page.text[:300]
        assert "database is unavailable" in page.text


def _signed_in(database_url: str, key_prefix: str) -> TestClient:
    load_demo(database_url)
    client = app_for(settings_for(database_url, key_prefix))
    client.__enter__()
    assert sign_in(client) == 303
    return client


# Arabic-Indic, fullwidth, Persian and Devanagari 1001 (int() reads them all), and a superscript 2.
OTHER_DIGITS = [
    "\u0661\u0660\u0660\u0661",
    "\uff11\uff10\uff10\uff11",
    "\u06f1\u06f0\u06f0\u06f1",
    "\u0967\u0966\u0966\u0967",
    "\u00b2",
]


@pytest.mark.parametrize("digits", OTHER_DIGITS)
def test_ids_in_other_digits_are_404_not_ids(database_url: str, key_prefix: str, digits: str) -> None:
    client = _signed_in(database_url, key_prefix)
    try:
        csrf = re.search(r'"X-CSRF-Token": "([^"]+)"', client.get("/dashboard").text)
        assert csrf
        headers = {"X-CSRF-Token": csrf.group(1)}
        for path in (
            f"/dashboard/orders/{digits}",
            f"/dashboard/orders/{digits}/card",
            f"/dashboard/orders/{digits}/ticket",
            f"/dashboard/orders/{digits}/live",
            f"/dashboard/conversations/{digits}",
            f"/dashboard/conversations/{digits}/live",
        ):
            response = client.get(path, follow_redirects=False)
            assert response.status_code == 404, (path, response.status_code)
        for path, data in (
            (f"/dashboard/orders/{digits}/transitions", {"to": "confirmed"}),
            (f"/dashboard/conversations/{digits}/handoff", {}),
            (f"/dashboard/conversations/{digits}/release", {}),
            (f"/dashboard/conversations/{digits}/reply", {"body": "hello"}),
            (f"/dashboard/staff/{digits}/disable", {}),
            (f"/dashboard/staff/{digits}/enable", {}),
            (f"/dashboard/staff/{digits}/password", {"password": "another-long-password"}),
        ):
            response = client.post(path, data=data, headers=headers, follow_redirects=False)
            assert response.status_code == 404, (path, response.status_code)
    finally:
        client.__exit__(None, None, None)
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT count(*) FROM staff_users WHERE disabled").fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM outbox").fetchone() == (0,)


def test_the_board_while_redis_is_unreachable_is_a_clear_503(database_url: str, key_prefix: str) -> None:
    from libs.connections import redis_client

    client = _signed_in(database_url, key_prefix)
    try:
        hub = client.app.state.dashboard.hub  # type: ignore[attr-defined]
        working = hub.redis
        hub.redis = redis_client(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
        try:
            for path, headers in (("/dashboard/board", {"HX-Request": "true"}), ("/dashboard", {})):
                response = client.get(path, headers=headers, follow_redirects=False)
                assert response.status_code == 503, (path, response.status_code, response.text[:200])
                assert "Redis" in response.text and "Traceback" not in response.text
        finally:
            hub.redis = working
        assert client.get("/dashboard/board", headers={"HX-Request": "true"}).status_code == 200
    finally:
        client.__exit__(None, None, None)


def test_after_a_plain_form_change_only_a_dashboard_page_is_followed(
    database_url: str, key_prefix: str
) -> None:
    from tests.dashboard.rush import seed_rush

    client = _signed_in(database_url, key_prefix)
    try:
        first, second = seed_rush(database_url).numbers[:2]  # two new orders
        csrf = re.search(r'"X-CSRF-Token": "([^"]+)"', client.get("/dashboard").text)
        assert csrf
        for number, referer, back in (
            (first, "https://evil.example/dashboard/phish", "/dashboard"),
            (
                second,
                "http://testserver/dashboard/orders/1?conversation=all",
                "/dashboard/orders/1?conversation=all",
            ),
        ):
            response = client.post(
                f"/dashboard/orders/{number}/transitions",
                data={"to": "confirmed", "csrf_token": csrf.group(1)},
                headers={"Referer": referer},
                follow_redirects=False,
            )
            assert response.status_code == 303 and response.headers["location"] == back, response.headers
    finally:
        client.__exit__(None, None, None)
