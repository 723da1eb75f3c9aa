"""What the dashboard refuses, over plain HTTP against the real orders process: no session, no
CSRF token, another site's Origin, a forged or revoked cookie, too many sign-in attempts; and the
staff JSON API keeps answering its bearer token only."""

from __future__ import annotations

import re
import signal
import time

import httpx

from tests.dashboard.conftest import STAFF_EMAIL, staff_client
from tests.e2e.harness import Mesh

CHANGES = [
    ("/dashboard/orders/1001/transitions", {"to": "confirmed"}),
    ("/dashboard/items/tiramisu/availability", {"available": "false"}),
    ("/dashboard/store/accepting", {"accepting": "false"}),
    ("/dashboard/conversations/1/reply", {"body": "hello"}),
    ("/dashboard/conversations/1/release", {}),
    ("/logout", {}),
]


def test_unauthenticated_requests_are_refused(mesh: Mesh) -> None:
    with httpx.Client(base_url=mesh.url("orders"), timeout=10) as anonymous:
        for path in ("/dashboard", "/dashboard/menu", "/dashboard/orders/1001", "/dashboard/events"):
            response = anonymous.get(path)
            assert response.status_code == 303 and response.headers["location"].startswith("/login"), path
        assert anonymous.get("/dashboard/board", headers={"HX-Request": "true"}).status_code == 401
        for path, data in CHANGES:
            assert anonymous.post(path, data=data).status_code == 401, path
        assert anonymous.get("/api/v1/orders").status_code == 401  # the JSON API wants its bearer token
    with httpx.Client(base_url=mesh.url("orders"), cookies={"wa_session": "forged.value.sig"}) as forged:
        assert forged.get("/dashboard").status_code == 303
    assert mesh.admin("GET", "/api/v1/orders").status_code == 200


def test_state_changes_without_the_csrf_token_or_from_another_site_are_refused(mesh: Mesh) -> None:
    client, csrf = staff_client(mesh)
    try:
        for path, data in CHANGES:
            assert client.post(path, data=data).status_code == 403, path
            assert client.post(path, data={**data, "csrf_token": "wrong"}).status_code == 403, path
            other_site = client.post(
                path, data=data, headers={"X-CSRF-Token": csrf, "Origin": "https://evil.example"}
            )
            assert other_site.status_code == 403, path
        assert client.get("/dashboard/menu").text.count("Mark ") >= 7  # nothing was sold out
        ok = client.post(
            "/dashboard/items/water/availability",
            data={"available": "false"},
            headers={"X-CSRF-Token": csrf, "Origin": mesh.url("orders")},
        )
        assert ok.status_code == 303
        assert "Put Water back on sale" in client.get("/dashboard/menu").text
        client.post("/dashboard/items/water/availability", data={"available": "true", "csrf_token": csrf})
    finally:
        client.close()


def test_sign_in_needs_the_form_token_and_sign_out_revokes_the_cookie(mesh: Mesh) -> None:
    with httpx.Client(base_url=mesh.url("orders"), timeout=10) as c:
        no_token = c.post("/login", data={"email": STAFF_EMAIL, "password": "correct-horse-battery-staple"})
        assert no_token.status_code == 403
    client, csrf = staff_client(mesh)
    try:
        cookie = client.cookies["wa_session"]
        with httpx.Client(base_url=mesh.url("orders"), cookies={"wa_session": cookie}) as same_cookie:
            assert same_cookie.get("/dashboard").status_code == 200
            signed_out = client.post("/logout", data={"csrf_token": csrf})
            assert signed_out.status_code == 303 and signed_out.headers["location"] == "/login"
            # The cookie's signature is still good, but its session row is gone.
            assert same_cookie.get("/dashboard").status_code == 303
    finally:
        client.close()


def test_sign_in_attempts_are_rate_limited_per_address_and_email(mesh: Mesh) -> None:
    email = f"guess-{time.time_ns()}@example.com"
    with httpx.Client(base_url=mesh.url("orders"), timeout=10) as c:
        statuses = []
        for _ in range(7):
            token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/login").text)
            assert token
            response = c.post(
                "/login", data={"email": email, "password": "nope", "csrf_token": token.group(1)}
            )
            statuses.append(response.status_code)
        assert statuses[:5] == [401] * 5 and statuses[5:] == [429, 429]
        assert "Too many sign-in attempts" in response.text


def test_the_event_stream_resumes_from_last_event_id_over_http(mesh: Mesh) -> None:
    client, csrf = staff_client(mesh)
    headers = {"X-CSRF-Token": csrf}
    try:
        # Where a freshly rendered queue page starts its stream.
        start = re.search(r'data-last-event-id="([^"]*)"', client.get("/dashboard").text)
        assert start
        for available in ("false", "true", "false", "true"):
            client.post("/dashboard/items/coke/availability", data={"available": available}, headers=headers)

        def read(extra: dict[str, str | bytes], count: int) -> list[tuple[str, str]]:
            got: list[tuple[str, str]] = []
            with client.stream("GET", "/dashboard/events", headers=extra, timeout=10) as stream:
                event = eid = ""
                for line in stream.iter_lines():
                    if line.startswith("event: "):
                        event = line[7:]
                    elif line.startswith("id: "):
                        eid = line[4:]
                    elif line == "" and eid:
                        got.append((eid, event))
                        eid = ""
                        if len(got) == count:
                            return got
            return got

        first = read({"Last-Event-ID": start.group(1)}, 4)
        assert [e for _, e in first] == ["menu"] * 4
        ids = [i for i, _ in first]
        resumed = read({"Last-Event-ID": ids[1]}, 2)
        assert [i for i, _ in resumed] == ids[2:]
        # An id that is no position of this stream (other digits, past 64 bits, from the future)
        # resets the board rather than breaking the stream or silencing it.
        for garbage in ("\u0661\u0662-\u0660".encode(), f"{2**64}-0", "99999999999999-0"):
            assert [e for _, e in read({"Last-Event-ID": garbage}, 1)] == ["reset"], garbage
    finally:
        client.close()


def test_sigterm_with_a_browser_listening_still_exits_0_promptly(mesh: Mesh) -> None:
    """An open event stream must not hold the process past its graceful shutdown (runs last)."""
    client, _ = staff_client(mesh)
    try:
        with client.stream("GET", "/dashboard/events", timeout=10) as stream:
            assert stream.status_code == 200
            started = time.monotonic()
            assert mesh.kill("orders", signal.SIGTERM) == 0
            assert time.monotonic() - started < 10
    finally:
        client.close()
        mesh.start("orders")


def test_an_oversized_sign_in_form_is_413_not_500(mesh: Mesh) -> None:
    with httpx.Client(base_url=mesh.url("orders"), timeout=10) as anonymous:
        body = b"email=" + b"a" * 200_000 + b"&password=x"
        response = anonymous.post(
            "/login", content=body, headers={"content-type": "application/x-www-form-urlencoded"}
        )
        assert response.status_code == 413
        assert "too large" in response.text
        assert anonymous.get(mesh.url("orders") + "/health").status_code == 200


def test_the_handoff_badge_is_a_count_and_profile_names_are_escaped(mesh: Mesh) -> None:
    who = f"whatsapp:+1555{time.time_ns() % 10**7:07d}"
    name = "<img src=x onerror=alert(1)>Eve"
    for line in ("1 coke", "checkout", "pickup", "confirm", "agent"):
        before = len(mesh.sent(who))
        mesh.say(who, line, ProfileName=name)
        mesh.wait_sent(who, before + 1)
    client, _csrf = staff_client(mesh)
    try:
        (order,) = mesh.admin("GET", "/api/v1/orders?limit=1").json()["orders"]
        # On every page, the order page and the menu too (it used to vanish there).
        pages = ["/dashboard", "/dashboard/handoff", "/dashboard/menu", "/dashboard/today"]
        pages += ["/dashboard/handoff/badge", f"/dashboard/orders/{order['number']}"]
        for path in pages:
            page = client.get(path).text
            badge = re.search(r'<span id="handoff-badge"[^>]*>([^<]*)</span>', page)
            assert badge and badge.group(1).isdigit() and int(badge.group(1)) >= 1, (path, badge)
            assert " hidden" not in badge.group(0), path
            if path != "/dashboard/handoff/badge":
                # Every page resumes the live stream from where it was rendered, so a handoff
                # right after the page loads still reaches it (it used to start from "now").
                assert re.search(r'data-last-event-id="\d+-\d+"', page), path
        handoff = client.get("/dashboard/handoff").text
        assert "<img src=x" not in handoff and "&lt;img src=x" in handoff
    finally:
        client.close()


def test_nul_characters_in_staff_text_are_400_and_change_nothing(mesh: Mesh) -> None:
    """PostgreSQL text cannot hold NUL: a cancel reason, a reply, a sign-in email or a path with
    one is refused with a clear 400 before it reaches the database, never a 500."""
    who = f"whatsapp:+1555{time.time_ns() % 10**7:07d}"
    placed = mesh.converse(who, ["1 margherita", "checkout", "pickup", "confirm"])[-1]
    found = re.search(r"#(\d{4,})", placed)
    assert found, placed
    number = int(found.group(1))
    client, csrf = staff_client(mesh)
    headers = {"X-CSRF-Token": csrf}
    try:
        cancel = client.post(
            f"/dashboard/orders/{number}/transitions",
            data={"to": "cancelled", "reason": "out of\x00 dough"},
            headers=headers,
        )
        assert cancel.status_code == 400 and "NUL" in cancel.text, cancel.text
        assert mesh.admin("GET", f"/api/v1/orders/{number}").json()["status"] == "placed"
        customer_id = re.search(
            r"/dashboard/conversations/(\d+)", client.get(f"/dashboard/orders/{number}").text
        )
        assert customer_id
        before = len(mesh.sent(who))
        reply = client.post(
            f"/dashboard/conversations/{customer_id.group(1)}/reply", data={"body": "hi\x00"}, headers=headers
        )
        assert reply.status_code == 400 and "NUL" in reply.text, reply.text
        for path in ("/dashboard/conversations/%00", "/dashboard/orders/%00", "/dashboard/menu?x=%00"):
            assert client.get(path).status_code == 400, path
        item = client.post("/dashboard/items/%00/availability", data={"available": "false"}, headers=headers)
        assert item.status_code == 400
        time.sleep(0.5)
        assert len(mesh.sent(who)) == before
    finally:
        client.close()
    with httpx.Client(base_url=mesh.url("orders"), timeout=10) as anonymous:
        form = anonymous.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert token
        login = anonymous.post(
            "/login", data={"email": "kitchen\x00@example.com", "password": "x", "csrf_token": token.group(1)}
        )
        assert login.status_code == 400 and "NUL" in login.text
