"""The sandbox reads messages back like Twilio (list with filters and paging, fetch by sid), and
fails like Twilio when a call's outcome cannot be known (created, then 5xx or no answer)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.conftest import TWILIO_DATA
from tests.sandbox.harness import ACCOUNT_SID, AUTH_TOKEN, SandboxHandle, running_sandbox

BOT = "whatsapp:+15557650000"
CUSTOMER = "whatsapp:+15551230001"
OTHER = "whatsapp:+15551230002"
AUTH = (ACCOUNT_SID, AUTH_TOKEN)
LIST_PATH = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((TWILIO_DATA / "fixtures" / name).read_text())["body"]
    return data


@pytest.fixture
async def sandbox() -> AsyncIterator[SandboxHandle]:
    async with running_sandbox() as handle:
        yield handle


async def create(sandbox: SandboxHandle, to: str, body: str) -> httpx.Response:
    return await sandbox.http.post(
        sandbox.url + LIST_PATH, data={"From": BOT, "To": to, "Body": body}, auth=AUTH
    )


async def read(sandbox: SandboxHandle, uri: str = LIST_PATH, **params: str) -> httpx.Response:
    return await sandbox.http.get(sandbox.url + uri, params=params, auth=AUTH)


async def until_sent(sandbox: SandboxHandle, count: int) -> None:
    deadline = time.monotonic() + 5
    while True:
        page = (await read(sandbox, DateSent=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d"))).json()
        if len(page["messages"]) >= count:
            return
        assert time.monotonic() < deadline, "messages never moved to sent"
        await asyncio.sleep(0.02)


async def test_list_has_twilios_shape_newest_first_and_filters_by_to_and_from(
    sandbox: SandboxHandle,
) -> None:
    sids = [(await create(sandbox, to, f"m{n}")).json()["sid"] for n, to in enumerate([CUSTOMER, OTHER] * 3)]
    response = await read(sandbox, To=CUSTOMER, From=BOT, PageSize="20")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    page = response.json()
    shape = fixture("api-message-list-200.json")
    assert set(page) == set(shape)
    assert [m["sid"] for m in page["messages"]] == [sids[4], sids[2], sids[0]]
    assert [m["body"] for m in page["messages"]] == ["m4", "m2", "m0"]
    assert set(page["messages"][0]) == set(shape["messages"][0])
    assert page["uri"] == (
        f"{LIST_PATH}?To=whatsapp%3A%2B15551230001&From=whatsapp%3A%2B15557650000&PageSize=20&Page=0"
    )
    assert page["first_page_uri"] == page["uri"]
    assert (page["page"], page["page_size"], page["start"], page["end"]) == (0, 20, 0, 2)
    assert page["next_page_uri"] is None and page["previous_page_uri"] is None
    assert (await read(sandbox, From="whatsapp:+15550000000")).json()["messages"] == []


async def test_paging_follows_next_page_uri_to_the_end(sandbox: SandboxHandle) -> None:
    sids = [(await create(sandbox, CUSTOMER, f"m{n}")).json()["sid"] for n in range(5)]
    seen: list[str] = []
    pages = []
    uri: str | None = f"{LIST_PATH}?To=whatsapp%3A%2B15551230001&PageSize=2"
    while uri is not None:
        page = (await sandbox.http.get(sandbox.url + uri, auth=AUTH)).json()
        pages.append(page)
        seen += [m["sid"] for m in page["messages"]]
        uri = page["next_page_uri"]
    assert seen == sids[::-1]
    assert [(p["page"], p["start"], p["end"], len(p["messages"])) for p in pages] == [
        (0, 0, 1, 2),
        (1, 2, 3, 2),
        (2, 4, 4, 1),
    ]
    assert "PageToken=PA" in pages[1]["uri"] and pages[1]["previous_page_uri"] is not None
    back = (await sandbox.http.get(sandbox.url + pages[2]["previous_page_uri"], auth=AUTH)).json()
    assert [m["sid"] for m in back["messages"]] == [m["sid"] for m in pages[1]["messages"]]
    # A message created while paging does not shift the pages already handed out.
    await create(sandbox, CUSTOMER, "newer")
    again = (await sandbox.http.get(sandbox.url + pages[1]["uri"], auth=AUTH)).json()
    assert [m["sid"] for m in again["messages"]] == [m["sid"] for m in pages[1]["messages"]]


async def test_date_sent_filters_are_inclusive_and_skip_messages_not_sent_yet() -> None:
    async with running_sandbox(callback_delay_s=0.3) as sandbox:
        first = (await create(sandbox, CUSTOMER, "first")).json()
        await until_sent(sandbox, 1)
        second = (await create(sandbox, CUSTOMER, "second")).json()  # still queued
        [queued] = [m for m in (await read(sandbox)).json()["messages"] if m["sid"] == second["sid"]]
        assert (queued["status"], queued["date_sent"]) == ("queued", None)
        fetched = (await read(sandbox, f"{LIST_PATH[:-5]}/{first['sid']}.json")).json()
        assert fetched["status"] in ("sent", "delivered", "read") and fetched["date_sent"] is not None
        sent_at = email_time(fetched["date_sent"])
        today = sent_at.strftime("%Y-%m-%d")
        iso = sent_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        later = (sent_at + dt.timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        expectations = {
            (("DateSent", today),): [first["sid"]],
            (("DateSent>", today),): [first["sid"]],
            (("DateSent<", today),): [first["sid"]],
            (("DateSent>", iso),): [first["sid"]],
            (("DateSent<", iso),): [first["sid"]],
            (("DateSent>", later),): [],
            (("DateSent>", iso), ("DateSent<", later)): [first["sid"]],
            (("DateSent<", "2001-01-01"),): [],
        }
        for filters, want in expectations.items():
            page = (await read(sandbox, **dict(filters))).json()
            assert [m["sid"] for m in page["messages"]] == want, filters
        bad = await read(sandbox, **{"DateSent>": "yesterday"})
        assert (bad.status_code, bad.json()["code"]) == (400, 20001)


def email_time(value: str) -> dt.datetime:
    import email.utils

    return email.utils.parsedate_to_datetime(value)


async def test_fetch_by_sid_and_404_and_401(sandbox: SandboxHandle) -> None:
    created = (await create(sandbox, CUSTOMER, "hello")).json()
    fetched = await read(sandbox, created["uri"])
    assert fetched.status_code == 200
    assert {k: fetched.json()[k] for k in ("sid", "to", "from", "body")} == {
        k: created[k] for k in ("sid", "to", "from", "body")
    }
    missing = await read(sandbox, f"{LIST_PATH[:-5]}/SM{'0' * 32}.json")
    assert (missing.status_code, missing.json()["code"], missing.json()["status"]) == (404, 20404, 404)
    for uri in (LIST_PATH, created["uri"]):
        denied = await sandbox.http.get(sandbox.url + uri, auth=(ACCOUNT_SID, "wrong"))
        assert (denied.status_code, denied.json()["code"]) == (401, 20003)
    reads = (await sandbox.http.get(f"{sandbox.url}/sandbox/reads")).json()
    assert [r["status"] for r in reads] == [200, 404, 401, 401]


async def test_twilio_python_reads_pages_and_fetches_from_the_sandbox(sandbox: SandboxHandle) -> None:
    from twilio.rest import Client

    sids = [(await create(sandbox, CUSTOMER, f"m{n}")).json()["sid"] for n in range(5)]
    await create(sandbox, OTHER, "not for this customer")
    await until_sent(sandbox, 6)
    since = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)

    def sdk() -> tuple[list[str], str, str]:
        client = Client(ACCOUNT_SID, AUTH_TOKEN, environment={"PATH": ""})
        client.api.base_url = sandbox.url
        listed = client.messages.list(to=CUSTOMER, from_=BOT, date_sent_after=since, page_size=2)
        one = client.messages(sids[0]).fetch()
        return [m.sid for m in listed], one.body, one.direction

    listed, body, direction = await asyncio.to_thread(sdk)
    assert listed == sids[::-1]  # three pages of two, followed through next_page_uri
    assert (body, direction) == ("m0", "outbound-api")
    reads = (await sandbox.http.get(f"{sandbox.url}/sandbox/reads")).json()
    assert reads[-4]["query"]["DateSent>"] == since.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_5xx_after_create_creates_the_message_then_answers_the_error(
    sandbox: SandboxHandle, status: int
) -> None:
    await sandbox.fault("status_5xx_after_create", status=status)
    response = await create(sandbox, CUSTOMER, "created anyway")
    assert (response.status_code, response.json()["code"]) == (status, 20000 + status)
    [message] = await sandbox.messages()
    assert message["body"] == "created anyway"
    [call] = await sandbox.calls()
    assert (call["status"], call["sid"], call["fault"]) == (status, message["sid"], "status_5xx_after_create")


async def test_drop_after_create_and_create_late(sandbox: SandboxHandle) -> None:
    await sandbox.fault("drop_after_create")
    with pytest.raises(httpx.RemoteProtocolError):
        await create(sandbox, CUSTOMER, "answer lost")
    assert [m["body"] for m in await sandbox.messages()] == ["answer lost"]

    await sandbox.fault("drop_then_create_late", delay_s=0.3)
    with pytest.raises(httpx.RemoteProtocolError):
        await create(sandbox, CUSTOMER, "created late")
    assert [m["body"] for m in await sandbox.messages()] == ["answer lost"]
    messages = await sandbox.wait_messages(2)
    assert messages[1]["body"] == "created late"
    assert (await sandbox.calls())[1]["sid"] == messages[1]["sid"]


async def test_read_faults_do_not_touch_creates(sandbox: SandboxHandle) -> None:
    response = await sandbox.http.post(
        f"{sandbox.url}/sandbox/faults", json={"mode": "status_500", "count": 1, "on": "read"}
    )
    assert response.json()["read"]["mode"] == "status_500" and response.json()["mode"] == "none"
    assert (await create(sandbox, CUSTOMER, "x")).status_code == 201
    failed = await read(sandbox)
    assert (failed.status_code, failed.json()["code"]) == (500, 20500)
    assert len((await read(sandbox)).json()["messages"]) == 1
    await sandbox.http.post(f"{sandbox.url}/sandbox/faults", json={"mode": "drop", "on": "read"})
    with pytest.raises(httpx.RemoteProtocolError):
        await read(sandbox)
    refused = await sandbox.http.post(
        f"{sandbox.url}/sandbox/faults", json={"mode": "drop_after_create", "on": "read"}
    )
    assert refused.status_code == 400


async def test_a_new_message_is_listed_after_the_lag_but_fetched_at_once() -> None:
    async with running_sandbox(list_lag_s=0.5) as sandbox:
        created = (await create(sandbox, CUSTOMER, "x")).json()
        assert (await read(sandbox)).json()["messages"] == []
        assert (await read(sandbox, created["uri"])).status_code == 200
        await asyncio.sleep(0.6)
        assert [m["sid"] for m in (await read(sandbox)).json()["messages"]] == [created["sid"]]
