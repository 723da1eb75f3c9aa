"""`python -m sandbox.chat` piped: signed webhooks as Twilio posts them, replies printed."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import parse_qsl

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from twilio.request_validator import RequestValidator

from sandbox.chat import ChatSettings, parse_line
from tests.conftest import ROOT, free_port
from tests.sandbox.harness import ACCOUNT_SID, AUTH_TOKEN, running_sandbox, serving

BOT = "whatsapp:+15557650000"
PUBLIC = "https://bot.example.com"
USUAL_FIELDS = {
    "MessageSid", "SmsSid", "SmsMessageSid", "AccountSid", "From", "To", "Body", "NumMedia",
    "NumSegments", "ProfileName", "WaId", "SmsStatus", "ApiVersion", "MessageType", "ChannelMetadata",
}  # fmt: skip


@asynccontextmanager
async def echo_ingress(sandbox_url: str) -> AsyncIterator[tuple[str, list[dict[str, str]]]]:
    """A stand-in ingress: checks the signature like ingress does, answers through the sandbox."""
    received: list[dict[str, str]] = []
    validator = RequestValidator(AUTH_TOKEN)

    async def webhook(request: Request) -> Response:
        params = dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))
        signature = request.headers.get("x-twilio-signature", "")
        if not validator.validate(PUBLIC + "/api/v1/whatsapp/webhook", params, signature):
            return Response(status_code=403)
        received.append(params)
        if params.get("MessageType") == "location":
            answer = f"pin at {params['Latitude']},{params['Longitude']} ({params.get('Address', '-')})"
        elif params.get("ButtonPayload"):
            answer = f"button {params['ButtonPayload']}"
        else:
            answer = f"echo: {params['Body']}\nsecond line"
        async with httpx.AsyncClient() as http:
            for text in (answer, "done"):
                await http.post(
                    f"{sandbox_url}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json",
                    data={"From": BOT, "To": params["From"], "Body": text},
                    auth=(ACCOUNT_SID, AUTH_TOKEN),
                )
        return Response("<Response/>", media_type="text/xml")

    app = Starlette(routes=[Route("/api/v1/whatsapp/webhook", webhook, methods=["POST"])])
    async with serving(app) as url:
        yield url, received


async def run_chat(stdin: str, **env: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "sandbox.chat",
        cwd=ROOT,
        env={"PATH": os.environ.get("PATH", ""), "CHAT_REPLY_WAIT_SECONDS": "3", **env},
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(stdin.encode()), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_piped_chat_posts_signed_webhooks_and_prints_replies() -> None:
    async with running_sandbox() as sandbox, echo_ingress(sandbox.url) as (ingress, received):
        # Replies to another customer are not shown.
        await sandbox.http.post(
            f"{sandbox.url}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json",
            data={"From": BOT, "To": "whatsapp:+15550000000", "Body": "not for you"},
            auth=(ACCOUNT_SID, AUTH_TOKEN),
        )
        status, out, err = await run_chat(
            "menu\n/location 37.7749 -122.4194 1 Example Plaza\n/button confirm_42\n/nope\n",
            INGRESS_URL=ingress,
            SANDBOX_URL=sandbox.url,
            PUBLIC_BASE_URL=PUBLIC,
            TWILIO_ACCOUNT_SID=ACCOUNT_SID,
            TWILIO_AUTH_TOKEN=AUTH_TOKEN,
            TWILIO_WHATSAPP_FROM=BOT,
            CHAT_FROM="whatsapp:+15551239876",
        )
    assert status == 0, err
    assert out.splitlines() == [
        "you> menu",
        "bot> echo: menu",
        "     second line",
        "bot> done",
        "you> /location 37.7749 -122.4194 1 Example Plaza",
        "bot> pin at 37.7749,-122.4194 (1 Example Plaza)",
        "bot> done",
        "you> /button confirm_42",
        "bot> button confirm_42",
        "bot> done",
        "unknown command /nope; /help lists them",
    ]
    text, location, button = received
    assert set(text) >= USUAL_FIELDS
    assert (text["From"], text["To"], text["Body"], text["WaId"]) == (
        "whatsapp:+15551239876",
        BOT,
        "menu",
        "15551239876",
    )
    assert (text["NumMedia"], text["NumSegments"], text["SmsStatus"], text["MessageType"]) == (
        "0",
        "1",
        "received",
        "text",
    )
    assert text["MessageSid"].startswith("SM") and len(text["MessageSid"]) == 34
    assert len({p["MessageSid"] for p in received}) == 3  # fresh each time
    assert (location["Body"], location["MessageType"], location["Address"]) == (
        "",
        "location",
        "1 Example Plaza",
    )
    assert (button["ButtonPayload"], button["ButtonText"], button["Body"]) == (
        "confirm_42",
        "confirm_42",
        "confirm_42",
    )


async def test_refused_webhook_is_reported_and_exits_1() -> None:
    async with running_sandbox() as sandbox, echo_ingress(sandbox.url) as (ingress, received):
        status, _out, err = await run_chat(
            "hello\n",
            INGRESS_URL=ingress,
            SANDBOX_URL=sandbox.url,
            PUBLIC_BASE_URL=PUBLIC,
            TWILIO_AUTH_TOKEN="not-the-token",
            CHAT_REPLY_WAIT_SECONDS="0.2",
        )
    assert status == 1
    assert "403" in err and "PUBLIC_BASE_URL" in err
    assert received == []


async def test_unreachable_sandbox_is_one_readable_line() -> None:
    status, _out, err = await run_chat("hello\n", SANDBOX_URL=f"http://127.0.0.1:{free_port()}")
    assert status == 1
    assert "sandbox is not reachable" in err and "make run" in err
    assert "Traceback" not in err


def test_defaults_match_make_run() -> None:
    settings = ChatSettings.from_env({})
    assert settings.ingress_url == settings.public_base_url == "http://127.0.0.1:8000"
    assert settings.sandbox_url == "http://127.0.0.1:8010"
    ported = ChatSettings.from_env({"INGRESS_PORT": "9000", "SANDBOX_PORT": "9010"})
    assert (ported.ingress_url, ported.sandbox_url) == ("http://127.0.0.1:9000", "http://127.0.0.1:9010")


def test_commands_parse() -> None:
    settings = ChatSettings.from_env({})
    assert parse_line(settings, "/location north south\n") == "usage: /location LAT LON [ADDRESS]"
    assert parse_line(settings, "/button\n") == "usage: /button PAYLOAD"
    assert parse_line(settings, "/quit\n") == "quit"
    pin: Any = parse_line(settings, "/location 1.5 -2\n")
    assert (pin["Latitude"], pin["Longitude"], "Address" in pin) == ("1.5", "-2", False)
    blank: Any = parse_line(settings, "\n")
    assert blank["Body"] == ""  # an empty message is still a message, and is signed with Body=""
