"""`python -m sandbox.chat`: talk to the running bot as a WhatsApp customer, from a terminal.

Each line typed is posted to ingress's `/api/v1/whatsapp/webhook` the way Twilio posts an
inbound WhatsApp message (https://www.twilio.com/docs/messaging/guides/webhook-request):
form-encoded, every usual field (a fresh `SM…` MessageSid, AccountSid, From, To, Body,
NumMedia, NumSegments, ProfileName, WaId, SmsStatus, ApiVersion, MessageType,
ChannelMetadata), signed with `X-Twilio-Signature` over PUBLIC_BASE_URL + the path
(https://www.twilio.com/docs/usage/webhooks/webhooks-security). Replies the sandbox receives
for this customer are printed as they arrive.

Commands: `/location LAT LON [ADDRESS]` shares a location pin, `/button PAYLOAD` taps a
quick-reply button, `/help`, `/quit`. With stdin not a terminal (piped), each line is sent
after the replies to the previous one have settled, and the chat waits a little for the last
replies before exiting (status 1 when a message was refused or a server was unreachable).

Settings (environment, defaults as `make run` uses): INGRESS_URL (else
http://127.0.0.1:$INGRESS_PORT, port 8000), SANDBOX_URL (else http://127.0.0.1:$SANDBOX_PORT,
port 8010), PUBLIC_BASE_URL (default: the ingress URL), TWILIO_ACCOUNT_SID,
TWILIO_AUTH_TOKEN, TWILIO_WHATSAPP_FROM (the bot's address), CHAT_FROM (the customer,
default whatsapp:+15551230001), CHAT_PROFILE_NAME, CHAT_REPLY_WAIT_SECONDS (default 3).
CHAT_LANGUAGE (`es`, `pt-BR`; `make chat LANG=es`) plays a customer from Mexico or Brazil: their
own number and WhatsApp profile name, nothing else; the bot still finds the language in what
is typed (docs/languages.md).
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TextIO

import httpx
import orjson
from twilio.request_validator import RequestValidator

from libs.errors import SettingsError
from libs.server import load_settings
from libs.settings import env_float, env_str, env_url
from sandbox.settings import DEV_ACCOUNT_SID, DEV_AUTH_TOKEN, DEV_WHATSAPP_FROM

WEBHOOK_PATH = "/api/v1/whatsapp/webhook"
POLL_S = 0.25
QUIET_S = 0.8
HELP = (
    "Type a message and press Enter. Commands:\n"
    "  /location LAT LON [ADDRESS]   share a location pin\n"
    "  /button PAYLOAD               tap a quick-reply button\n"
    "  /help                         this text\n"
    "  /quit                         leave (Ctrl-D works too)"
)
_COORDINATE = re.compile(r"^-?\d{1,3}(\.\d+)?$")
# CHAT_LANGUAGE -> the customer played: (From address, WhatsApp ProfileName).
PROFILES: Mapping[str, tuple[str, str]] = {
    "en": ("whatsapp:+15551230001", "Alex Example"),
    "es": ("whatsapp:+5215512300001", "Lucía Ejemplo"),
    "pt-br": ("whatsapp:+5511912300001", "João Exemplo"),
    "pt": ("whatsapp:+5511912300001", "João Exemplo"),
}


@dataclass(frozen=True, slots=True)
class ChatSettings:
    """Where ingress and the sandbox are, who the customer is, and how to sign."""

    ingress_url: str
    sandbox_url: str
    public_base_url: str
    account_sid: str
    auth_token: str
    bot: str
    customer: str
    profile_name: str
    reply_wait_s: float

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> ChatSettings:
        """Build from `environ`; raises `SettingsError` naming a bad variable."""
        ingress_port = environ.get("INGRESS_PORT", "").strip() or "8000"
        sandbox_port = environ.get("SANDBOX_PORT", "").strip() or "8010"
        ingress = env_url(
            environ, "INGRESS_URL", f"http://127.0.0.1:{ingress_port}", schemes=("http", "https")
        ).rstrip("/")
        language = environ.get("CHAT_LANGUAGE", "").strip().lower().replace("_", "-") or "en"
        if language not in PROFILES:
            raise SettingsError("CHAT_LANGUAGE", f"expected one of en, es, pt-BR, got {language!r}")
        default_from, default_name = PROFILES[language]
        customer = env_str(environ, "CHAT_FROM", default_from)
        if not customer.startswith("whatsapp:"):
            raise SettingsError("CHAT_FROM", "expected a whatsapp: address")
        return cls(
            ingress_url=ingress,
            sandbox_url=env_url(
                environ, "SANDBOX_URL", f"http://127.0.0.1:{sandbox_port}", schemes=("http", "https")
            ).rstrip("/"),
            public_base_url=env_url(environ, "PUBLIC_BASE_URL", ingress, schemes=("http", "https")).rstrip(
                "/"
            ),
            account_sid=env_str(environ, "TWILIO_ACCOUNT_SID", DEV_ACCOUNT_SID),
            auth_token=env_str(environ, "TWILIO_AUTH_TOKEN", DEV_AUTH_TOKEN),
            bot=env_str(environ, "TWILIO_WHATSAPP_FROM", DEV_WHATSAPP_FROM),
            customer=customer,
            profile_name=env_str(environ, "CHAT_PROFILE_NAME", default_name),
            reply_wait_s=env_float(environ, "CHAT_REPLY_WAIT_SECONDS", 3.0, minimum=0.0),
        )


def inbound_params(settings: ChatSettings, body: str, **extra: str) -> dict[str, str]:
    """The form fields Twilio posts for one inbound WhatsApp message (see fixtures inbound-*)."""
    sid = "SM" + secrets.token_hex(16)
    wa_id = "".join(ch for ch in settings.customer if ch.isdigit())
    context = {"ProfileName": settings.profile_name, "WaId": wa_id}
    if "ButtonText" in extra:
        context["ButtonText"] = extra["ButtonText"]
    params = {
        "SmsMessageSid": sid,
        "NumMedia": "0",
        "ProfileName": settings.profile_name,
        "MessageType": "text",
        "SmsSid": sid,
        "WaId": wa_id,
        "SmsStatus": "received",
        "Body": body,
        "To": settings.bot,
        "NumSegments": "1",
        "ReferralNumMedia": "0",
        "MessageSid": sid,
        "AccountSid": settings.account_sid,
        "ChannelMetadata": orjson.dumps({"type": "whatsapp", "data": {"context": context}}).decode(),
        "From": settings.customer,
        "ApiVersion": "2010-04-01",
    }
    params.update(extra)
    return params


def parse_line(settings: ChatSettings, line: str) -> dict[str, str] | str:
    """The webhook params for a typed line, or a command word (`help`, `quit`) or an error text."""
    text = line.rstrip("\r\n")
    if not text.startswith("/"):
        return inbound_params(settings, text)
    command, _, rest = text[1:].partition(" ")
    rest = rest.strip()
    if command == "location":
        parts = rest.split(maxsplit=2)
        if len(parts) < 2 or not (_COORDINATE.match(parts[0]) and _COORDINATE.match(parts[1])):
            return "usage: /location LAT LON [ADDRESS]"
        extra = {"MessageType": "location", "Latitude": parts[0], "Longitude": parts[1]}
        if len(parts) == 3:
            extra["Address"] = parts[2]
        return inbound_params(settings, "", **extra)
    if command == "button":
        if not rest:
            return "usage: /button PAYLOAD"
        extra = {"MessageType": "interactive", "ButtonPayload": rest, "ButtonText": rest}
        extra["Forwarded"] = extra["FrequentlyForwarded"] = "false"
        return inbound_params(settings, rest, **extra)
    if command in ("help", "quit"):
        return command
    return f"unknown command /{command}; /help lists them"


def render(message: Mapping[str, Any]) -> str:
    """A reply as the terminal shows it: `bot> ` and the body, continuation lines indented."""
    if message.get("body"):
        text = str(message["body"])
    else:
        text = f"[template {message.get('content_sid')}] {message.get('content_variables') or ''}".rstrip()
    return "bot> " + text.replace("\n", "\n     ")


class Chat:
    """One customer's conversation: post webhooks to ingress, read replies from the sandbox."""

    def __init__(self, settings: ChatSettings, http: httpx.AsyncClient, out: TextIO) -> None:
        self.settings = settings
        self.http = http
        self.out = out
        self.after = 0
        self.validator = RequestValidator(settings.auth_token)

    async def start(self) -> None:
        """Skip replies that reached the sandbox before this chat began."""
        self.after = max((m["index"] for m in await self._messages(after=0)), default=0)

    async def resync(self) -> None:
        """After losing the sandbox: a restarted sandbox numbers its messages from 1 again."""
        latest = max((m["index"] for m in await self._messages(after=0)), default=0)
        if latest < self.after:
            self.after = 0

    async def _messages(self, *, after: int) -> list[dict[str, Any]]:
        response = await self.http.get(
            f"{self.settings.sandbox_url}/sandbox/messages",
            params={"to": self.settings.customer, "after": after},
        )
        response.raise_for_status()
        found: list[dict[str, Any]] = response.json()
        return found

    async def print_new_replies(self) -> int:
        """Print replies that arrived since the last call; returns how many."""
        found = await self._messages(after=self.after)
        for message in found:
            self.out.write(render(message) + "\n")
            self.after = max(self.after, int(message["index"]))
        self.out.flush()
        return len(found)

    async def post(self, params: Mapping[str, str]) -> bool:
        """Post one signed webhook; False (with a note on stderr) when ingress did not take it."""
        signed_url = self.settings.public_base_url + WEBHOOK_PATH
        headers = {
            "X-Twilio-Signature": self.validator.compute_signature(signed_url, dict(params)),
            "User-Agent": "TwilioProxy/1.1",
            "I-Twilio-Idempotency-Token": secrets.token_hex(16),
        }
        try:
            response = await self.http.post(
                self.settings.ingress_url + WEBHOOK_PATH, data=params, headers=headers
            )
        except httpx.HTTPError as exc:
            print(f"! ingress is not reachable at {self.settings.ingress_url} ({exc})", file=sys.stderr)
            return False
        if response.status_code != 200:
            hint = (
                " (do TWILIO_AUTH_TOKEN and PUBLIC_BASE_URL match ingress?)"
                if response.status_code == 403
                else ""
            )
            print(f"! ingress answered {response.status_code}{hint}", file=sys.stderr)
            return False
        return True

    async def settle(self, *, wait_s: float) -> None:
        """Print replies until none came for `QUIET_S` after the last one, or `wait_s` without any."""
        loop = asyncio.get_running_loop()
        started = last = loop.time()
        seen = False
        while True:
            if await self.print_new_replies():
                seen, last = True, loop.time()
            now = loop.time()
            if (seen and now - last >= QUIET_S) or (not seen and now - started >= wait_s):
                return
            await asyncio.sleep(POLL_S)


def _line_reader(stream: TextIO) -> asyncio.Queue[str]:
    """Lines of `stream` ("" at the end) read by a daemon thread.

    A daemon thread rather than the loop's executor: on Ctrl-C the process must not wait for a
    `readline()` that only returns when the user presses Enter.
    """
    loop = asyncio.get_running_loop()
    lines: asyncio.Queue[str] = asyncio.Queue()

    def pump() -> None:
        while True:
            line = stream.readline()
            loop.call_soon_threadsafe(lines.put_nowait, line)
            if not line:
                return

    threading.Thread(target=pump, name="chat-stdin", daemon=True).start()
    return lines


async def run(settings: ChatSettings, stdin: TextIO, out: TextIO) -> int:
    """The chat loop; returns the exit status (0, or 1 when something was refused/unreachable)."""
    interactive = stdin.isatty()
    status = 0
    async with httpx.AsyncClient(timeout=10, trust_env=False) as http:
        chat = Chat(settings, http, out)
        try:
            await chat.start()
        except httpx.HTTPError as exc:
            where = settings.sandbox_url
            print(
                f"! the sandbox is not reachable at {where} ({exc}); start the mesh: make run",
                file=sys.stderr,
            )
            return 1
        poller: asyncio.Task[None] | None = None
        if interactive:
            out.write(f"Chatting as {settings.customer} with {settings.bot}.\n{HELP}\n")
            out.flush()
            poller = asyncio.create_task(_poll_forever(chat))
        lines = _line_reader(stdin)
        try:
            while True:
                line = await lines.get()
                if not line:
                    break
                parsed = parse_line(settings, line)
                if parsed == "quit":
                    break
                if isinstance(parsed, str):
                    out.write((HELP if parsed == "help" else parsed) + "\n")
                    out.flush()
                    continue
                if not interactive:
                    out.write("you> " + line.rstrip("\r\n") + "\n")
                if not await chat.post(parsed):
                    status = 1
                    continue
                if not interactive:
                    await chat.settle(wait_s=settings.reply_wait_s)
        finally:
            if poller is not None:
                poller.cancel()
        if not interactive:
            await chat.settle(wait_s=min(settings.reply_wait_s, QUIET_S))
    return status


async def _poll_forever(chat: Chat) -> None:
    lost = False
    while True:
        try:
            if lost:
                await chat.resync()
                print("! the sandbox is back", file=sys.stderr)
                lost = False
            await chat.print_new_replies()
        except httpx.HTTPError as exc:
            if not lost:
                print(f"! lost the sandbox ({exc}); retrying", file=sys.stderr)
            lost = True
            await asyncio.sleep(2)
        await asyncio.sleep(POLL_S)


def main() -> None:
    """Entry point of `python -m sandbox.chat`."""
    settings: ChatSettings = load_settings(ChatSettings.from_env)
    try:
        status = asyncio.run(run(settings, sys.stdin, sys.stdout))
    except KeyboardInterrupt:
        status = 0
    raise SystemExit(status)


if __name__ == "__main__":
    main()
