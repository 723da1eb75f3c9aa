"""The sandbox speaks the Messages API like Twilio: auth, validation, the 201 shape, faults, callbacks."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from twilio.request_validator import RequestValidator

from tests.conftest import TWILIO_DATA, free_port
from tests.sandbox.harness import ACCOUNT_SID, AUTH_TOKEN, SandboxHandle, running_sandbox, serving

BOT = "whatsapp:+15557650000"
CUSTOMER = "whatsapp:+15551230001"


@pytest.fixture
async def sandbox() -> AsyncIterator[SandboxHandle]:
    async with running_sandbox() as handle:
        yield handle


def api(sandbox: SandboxHandle, sid: str = ACCOUNT_SID) -> str:
    return f"{sandbox.url}/2010-04-01/Accounts/{sid}/Messages.json"


async def create(
    sandbox: SandboxHandle, form: dict[str, str], auth: tuple[str, str] | None = None
) -> httpx.Response:
    return await sandbox.http.post(api(sandbox), data=form, auth=auth or (ACCOUNT_SID, AUTH_TOKEN))


async def test_created_message_has_twilios_shape(sandbox: SandboxHandle) -> None:
    response = await create(sandbox, {"From": BOT, "To": CUSTOMER, "Body": "Pizza 9.50 🍕"})
    assert response.status_code == 201
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    fixture = json.loads((TWILIO_DATA / "fixtures/api-message-created-201.json").read_text())["body"]
    assert set(body) == set(fixture)
    assert body["sid"].startswith("SM") and len(body["sid"]) == 34
    int(body["sid"][2:], 16)
    assert (body["to"], body["from"], body["body"], body["status"]) == (
        CUSTOMER,
        BOT,
        "Pizza 9.50 🍕",
        "queued",
    )
    assert body["direction"] == "outbound-api" and body["num_segments"] == "1"
    assert body["date_created"].endswith("+0000")
    assert body["uri"] == f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{body['sid']}.json"

    second = (await create(sandbox, {"From": BOT, "To": CUSTOMER, "Body": "again"})).json()
    assert second["sid"] != body["sid"]
    [first, later] = await sandbox.messages()
    assert (first["index"], first["sid"], first["body"]) == (1, body["sid"], "Pizza 9.50 🍕")
    assert later["index"] == 2 and later["received_at"] >= first["received_at"]


@pytest.mark.parametrize(
    "auth, sid",
    [
        ((ACCOUNT_SID, "wrong"), ACCOUNT_SID),
        (("AC" + "1" * 32, AUTH_TOKEN), ACCOUNT_SID),
        (None, "AC" + "2" * 32),
    ],
)
async def test_wrong_credentials_get_401_20003(
    sandbox: SandboxHandle, auth: tuple[str, str] | None, sid: str
) -> None:
    response = await sandbox.http.post(
        api(sandbox, sid),
        data={"From": BOT, "To": CUSTOMER, "Body": "x"},
        auth=auth or (ACCOUNT_SID, AUTH_TOKEN),
    )
    assert response.status_code == 401
    assert response.json()["code"] == 20003
    assert "WWW-Authenticate" in response.headers
    assert await sandbox.messages() == []


@pytest.mark.parametrize(
    "form, code",
    [
        ({"From": BOT, "Body": "x"}, 21604),
        ({"From": BOT, "To": CUSTOMER}, 21602),
        ({"From": BOT, "To": CUSTOMER, "Body": ""}, 21602),
        ({"To": CUSTOMER, "Body": "x"}, 21603),
        ({"From": BOT, "To": CUSTOMER, "Body": "x" * 1601}, 21617),
    ],
)
async def test_invalid_requests_get_400_with_twilios_code(
    sandbox: SandboxHandle, form: dict[str, str], code: int
) -> None:
    response = await create(sandbox, form)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == code and body["status"] == 400
    assert body["more_info"] == f"https://www.twilio.com/docs/errors/{code}"
    assert await sandbox.messages() == []


async def test_content_sid_is_accepted_without_body(sandbox: SandboxHandle) -> None:
    form = {"From": BOT, "To": CUSTOMER, "ContentSid": "HX" + "0" * 32, "ContentVariables": '{"1":"x"}'}
    assert (await create(sandbox, form)).status_code == 201
    [message] = await sandbox.messages()
    assert (message["content_sid"], message["content_variables"], message["body"]) == (
        "HX" + "0" * 32,
        '{"1":"x"}',
        None,
    )


async def test_faults_apply_to_the_next_n_calls(sandbox: SandboxHandle) -> None:
    form = {"From": BOT, "To": CUSTOMER, "Body": "x"}
    await sandbox.fault("status_429", count=2, retry_after=3)
    first, second, third = [await create(sandbox, form) for _ in range(3)]
    assert (first.status_code, first.json()["code"], first.headers["retry-after"]) == (429, 20429, "3")
    assert second.status_code == 429 and third.status_code == 201
    assert (await sandbox.http.get(f"{sandbox.url}/sandbox/faults")).json()["mode"] == "none"

    for mode, status, code in [
        ("status_500", 500, 20500),
        ("code_63038", 429, 63038),
        ("code_21211", 400, 21211),
    ]:
        await sandbox.fault(mode)
        response = await create(sandbox, form)
        assert (response.status_code, response.json()["code"]) == (status, code)
        assert "retry-after" not in response.headers
    assert len(await sandbox.messages()) == 1
    calls = await sandbox.calls()
    assert [c["status"] for c in calls] == [429, 429, 201, 500, 429, 400]

    await sandbox.fault("status_500", count=5)
    await sandbox.fault("none")
    assert (await create(sandbox, form)).status_code == 201


async def test_slow_answers_late(sandbox: SandboxHandle) -> None:
    await sandbox.fault("slow", delay_s=0.5)
    started = time.monotonic()
    response = await create(sandbox, {"From": BOT, "To": CUSTOMER, "Body": "x"})
    assert response.status_code == 201 and time.monotonic() - started >= 0.45


async def test_drop_after_receive_records_then_closes_without_answering(sandbox: SandboxHandle) -> None:
    await sandbox.fault("drop_after_receive")
    with pytest.raises(httpx.RemoteProtocolError):
        await create(sandbox, {"From": BOT, "To": CUSTOMER, "Body": "lost answer"})
    [message] = await sandbox.messages()
    assert message["body"] == "lost answer"
    assert (await create(sandbox, {"From": BOT, "To": CUSTOMER, "Body": "next"})).status_code == 201


async def test_bad_fault_is_refused(sandbox: SandboxHandle) -> None:
    response = await sandbox.http.post(f"{sandbox.url}/sandbox/faults", json={"mode": "explode"})
    assert response.status_code == 400


async def test_messages_filter_by_customer_and_index_and_clear(sandbox: SandboxHandle) -> None:
    for to in (CUSTOMER, "whatsapp:+15551230002", CUSTOMER):
        await create(sandbox, {"From": BOT, "To": to, "Body": to[-1]})
    assert [m["index"] for m in await sandbox.messages(CUSTOMER)] == [1, 3]
    assert [m["index"] for m in await sandbox.messages(CUSTOMER, after=1)] == [3]
    assert (await sandbox.http.delete(f"{sandbox.url}/sandbox/messages")).status_code == 204
    assert await sandbox.messages() == [] and await sandbox.calls() == []
    await create(sandbox, {"From": BOT, "To": CUSTOMER, "Body": "x"})
    assert [m["index"] for m in await sandbox.messages()] == [4]  # indexes keep growing


@asynccontextmanager
async def callback_receiver() -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
    """A StatusCallback endpoint that checks Twilio's signature and records what it got."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/api/v1/whatsapp/status"
    received: list[dict[str, Any]] = []
    validator = RequestValidator(AUTH_TOKEN)

    async def status(request: Request) -> Response:
        params = dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))
        valid = validator.validate(url, params, request.headers.get("x-twilio-signature", ""))
        received.append({"params": params, "valid": valid, "at": time.monotonic()})
        return Response(status_code=204 if valid else 403)

    app = Starlette(routes=[Route("/api/v1/whatsapp/status", status, methods=["POST"])])
    async with serving(app, port):
        yield url, received


async def test_status_callbacks_are_signed_and_in_order(sandbox: SandboxHandle) -> None:
    async with callback_receiver() as (url, received):
        response = await create(sandbox, {"From": BOT, "To": CUSTOMER, "Body": "x", "StatusCallback": url})
        sid = response.json()["sid"]
        deadline = time.monotonic() + 5
        while True:
            if len(received) >= 3 or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.02)
    assert [r["params"]["MessageStatus"] for r in received] == ["sent", "delivered", "read"]
    assert all(r["valid"] for r in received)
    sent, delivered, read = (r["params"] for r in received)
    assert sent["MessageSid"] == sent["SmsSid"] == sid and sent["StructuredMessage"] == "false"
    assert (sent["To"], sent["From"], sent["AccountSid"], sent["ChannelPrefix"]) == (
        CUSTOMER,
        BOT,
        ACCOUNT_SID,
        "whatsapp",
    )
    assert delivered["EventType"] == "DELIVERED" and read["EventType"] == "READ"
    assert sent["ChannelToAddress"].endswith("XXXX")
    [message] = await sandbox.messages()
    assert message["callbacks"] == ["sent", "delivered", "read"]


async def test_twilio_python_client_can_use_the_sandbox(sandbox: SandboxHandle) -> None:
    from twilio.rest import Client

    def send() -> Any:
        client = Client(ACCOUNT_SID, AUTH_TOKEN, environment={"PATH": ""})
        client.api.base_url = sandbox.url
        return client.messages.create(to=CUSTOMER, from_=BOT, body="from the SDK")

    message = await asyncio.to_thread(send)
    assert message.sid.startswith("SM") and message.status == "queued"
    assert message.date_created is not None  # the SDK parsed the RFC 2822 date
    assert [m["body"] for m in await sandbox.messages()] == ["from the SDK"]


def test_process_serves_and_exits_0_on_sigterm() -> None:
    import os
    import signal
    import subprocess
    import sys

    from tests.conftest import ROOT

    port = free_port()
    env = {"PATH": os.environ.get("PATH", ""), "SANDBOX_PORT": str(port), "PORT": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "sandbox"], cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, "sandbox did not start"
            time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize(
    "body",
    [
        {"mode": "slow", "delay_s": "nan"},  # asyncio.sleep(nan) never returns
        {"mode": "slow", "delay_s": "inf"},
        {"mode": "slow", "delay_s": -1},
        {"mode": "slow", "delay_s": 10_000},
        {"mode": "status_429", "retry_after": "nan"},
        {"mode": "status_429", "retry_after": -5},
        {"mode": "status_500", "count": -1},
        {"mode": "status_500", "count": 0},
        {"mode": "status_500", "count": 2.5},
        {"mode": "status_500", "count": "1" * 5000},
        {"mode": "status_500", "count": True},
        {"mode": "status_5xx_after_create", "status": 500.5},
        {"mode": ["slow"]},
        {"mode": "slow", "on": ["read"]},
    ],
)
async def test_a_fault_that_cannot_be_played_is_400_and_arms_nothing(
    sandbox: SandboxHandle, body: dict[str, Any]
) -> None:
    before = (await sandbox.http.get(f"{sandbox.url}/sandbox/faults")).json()
    response = await sandbox.http.post(f"{sandbox.url}/sandbox/faults", json=body)
    assert response.status_code == 400, (body, response.text)
    assert response.json()["error"]
    assert (await sandbox.http.get(f"{sandbox.url}/sandbox/faults")).json() == before
    started = time.monotonic()
    assert (await create(sandbox, {"From": BOT, "To": CUSTOMER, "Body": "x"})).status_code == 201
    assert time.monotonic() - started < 2
