"""Staff API limits: oversized bodies and NUL bytes get a clear 4xx and change nothing."""

from __future__ import annotations

import psycopg
from starlette.testclient import TestClient

from services.orders.app import create_app
from services.orders.web.staff_api import MAX_BODY_BYTES
from tests.orders.chat import ADMIN_TOKEN
from tests.orders.test_staff_api import app_settings

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def test_oversized_body_is_413_and_changes_nothing(
    database_url: str, redis_url: str, key_prefix: str
) -> None:
    settings = app_settings(database_url, redis_url, key_prefix, ADMIN_TOKEN)
    with TestClient(create_app(settings)) as client:
        big = b'{"available": false, "pad": "' + b"x" * (MAX_BODY_BYTES + 1) + b'"}'
        response = client.patch(
            "/api/v1/items/margherita", content=big, headers={**AUTH, "content-type": "application/json"}
        )
        assert response.status_code == 413
        assert "larger than" in response.json()["error"]

        def chunks():  # no content-length: the limit holds while streaming too
            yield b'{"available": false, "pad": "'
            for _ in range(40):
                yield b"x" * 1024
            yield b'"}'

        streamed = client.patch("/api/v1/items/margherita", content=chunks(), headers=AUTH)
        assert streamed.status_code == 413
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT count(*) FROM items WHERE NOT available").fetchone() == (0,)


def test_nul_byte_in_path_is_400_not_500(database_url: str, redis_url: str, key_prefix: str) -> None:
    settings = app_settings(database_url, redis_url, key_prefix, ADMIN_TOKEN)
    with TestClient(create_app(settings)) as client:
        for method, path in [
            ("POST", "/api/v1/conversations/%00/handoff"),
            ("DELETE", "/api/v1/conversations/%00/handoff"),
            ("PATCH", "/api/v1/items/%00"),
            ("GET", "/api/v1/orders/%00"),
        ]:
            response = client.request(method, path, headers=AUTH, json={"available": False})
            assert response.status_code == 400, (method, path, response.text)
            assert response.json()["error"] == "the path contains a NUL byte"


def test_a_limit_outside_1_to_the_maximum_is_400(database_url: str, redis_url: str, key_prefix: str) -> None:
    settings = app_settings(database_url, redis_url, key_prefix, ADMIN_TOKEN)
    with TestClient(create_app(settings)) as client:
        for limit in (str(10**12), "-1", "0", "1" * 5000, "1e3", "\u0661\u0660", "", " 5", "5.0"):
            response = client.get("/api/v1/orders", params={"limit": limit}, headers=AUTH)
            assert response.status_code == 400, (limit[:20], response.status_code)
            assert "limit must be a whole number from 1 to" in response.json()["error"]
        # Within the range the query runs (no store is loaded here, hence its 503).
        assert client.get("/api/v1/orders", params={"limit": "200"}, headers=AUTH).status_code == 503


def test_deeply_nested_json_bodies_are_400(database_url: str, redis_url: str, key_prefix: str) -> None:
    settings = app_settings(database_url, redis_url, key_prefix, ADMIN_TOKEN)
    with TestClient(create_app(settings)) as client:
        for depth in (9, 600, 1000, 1100, 2000):
            for body in (
                b'{"available": false, "x": ' + b"[" * depth + b"]" * depth + b"}",
                b'{"to": "confirmed", "reason": ' + b'{"a": ' * depth + b"1" + b"}" * depth + b"}",
            ):
                for method, path in (
                    ("PATCH", "/api/v1/items/margherita"),
                    ("POST", "/api/v1/orders/1001/transitions"),
                ):
                    response = client.request(
                        method, path, content=body, headers={**AUTH, "content-type": "application/json"}
                    )
                    assert response.status_code == 400, (depth, path, response.status_code)
                    assert "nested" in response.json()["error"]
    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT count(*) FROM items WHERE NOT available").fetchone() == (0,)
