"""Conversation scripts: readable YAML files of what a customer says and what the bot must answer,
run by a pluggable runner (in-process `DirectChat`, or the real processes in tests/e2e).

A script (tests/data/conversations/*.yaml):

```yaml
title: what it shows                 # required
store: demo                          # or a file in tests/data/stores/ (e.g. corner.yaml)
profile: Alex                        # WhatsApp ProfileName (optional; null for none)
now: 2025-01-06T12:00:00-06:00       # a fixed clock: the in-process runner only
modes: [direct, e2e]                 # where it runs (default both)
steps:
  - say: 2 large pepperoni with extra cheese
    expect: ["Added 2 x Pepperoni", "Subtotal: 32.00"]   # fragments, case-insensitive
    not: ["Sorry"]                                        # fragments that must not appear
  - send: {Latitude: "40.7", Longitude: "-74.0"}         # a message with these Twilio fields
    expect: [saved this location]
  - say: menu
    silent: true                                          # the bot must not answer
  - staff: POST /api/v1/orders/{order}/transitions       # the staff API, with the admin token
    json: {to: ready}
    status: 200                                           # expected HTTP status
    response: ['"status":"ready"']                        # fragments of the JSON answer
    expect: ["is ready"]                                  # what the customer then receives
  - age: {cart: 5h, last_inbound: 25h}                   # move the customer's timestamps back
  - db: UPDATE stores SET accepting_orders = false       # a store-side change staff would make
```

`{order}` is the number of the order placed last in the script, `{customer}` the script's
customer address URL-encoded. Each script talks as its own customer, so scripts can share one
running mesh.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

import yaml

DATA = Path(__file__).resolve().parent.parent / "data"
SCRIPTS_DIR = DATA / "conversations"
STORES_DIR = DATA / "stores"
# "Order *#1001* placed!" in English, "¡Pedido *#1001* hecho!", "Pedido *#1001* feito!"
_PLACED = re.compile(r"(?:Order|Pedido) \*#(\d+)\* (?:placed|hecho|feito)")
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
_STEP_KEYS = {"say", "send", "staff", "age", "db"}


class Runner(Protocol):
    """How scripts reach the orders service."""

    async def message(self, customer: str, fields: dict[str, str], *, silent: bool) -> list[str]:
        """Deliver one inbound message; return the customer's replies (none expected if `silent`)."""

    async def staff(
        self, method: str, path: str, body: Any, customer: str, *, wait_messages: bool
    ) -> tuple[int, str, list[str]]:
        """Call the staff API; return (status, response text, messages the customer then got)."""

    async def sql(self, statement: str, *params: Any) -> None:
        """Run one statement against the service's database."""


def parse_duration(text: str) -> dt.timedelta:
    """`5h`, `30m`, `2d`, `45s` as a timedelta; raises ValueError otherwise."""
    match = _DURATION.match(str(text).strip())
    if not match:
        raise ValueError(f"expected a duration like 5h or 30m, got {text!r}")
    return dt.timedelta(**{_UNITS[match.group(2)]: float(match.group(1))})


@dataclass
class Script:
    """One conversation script, validated."""

    path: Path
    title: str
    steps: list[dict[str, Any]]
    store: str = "demo"
    profile: str | None = "Alex"
    now: dt.datetime | None = None
    modes: tuple[str, ...] = ("direct", "e2e")
    customer: str = field(default="")

    @property
    def name(self) -> str:
        """The file name without `.yaml`."""
        return self.path.stem

    @property
    def store_file(self) -> Path | None:
        """The store's menu file, or None for the demo store."""
        return None if self.store == "demo" else STORES_DIR / self.store


def load_script(path: Path) -> Script:
    """Read and check a script file; raises ValueError naming the problem."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not isinstance(data.get("title"), str):
        raise ValueError(f"{path.name}: a script is a mapping with a title")
    steps = data.get("steps")
    if not isinstance(steps, list) or not steps:
        raise ValueError(f"{path.name}: steps must be a non-empty list")
    for i, step in enumerate(steps):
        if not isinstance(step, dict) or len(_STEP_KEYS & set(step)) != 1:
            raise ValueError(f"{path.name}: step {i + 1} needs exactly one of {sorted(_STEP_KEYS)}")
        if "say" in step and not isinstance(step["say"], str | int):
            # YAML reads a bare yes/no/on/off as a boolean: the script must quote it.
            raise ValueError(f"{path.name}: step {i + 1}: quote the text of say: {step['say']!r}")
    now = data.get("now")
    if isinstance(now, str):
        now = dt.datetime.fromisoformat(now)
    if now is not None and not isinstance(now, dt.datetime):
        raise ValueError(f"{path.name}: now must be an ISO 8601 time")
    # A stable, script-specific customer so scripts never see each other on a shared mesh.
    number = zlib.crc32(path.stem.encode()) % 10**7
    script = Script(
        path=path,
        title=data["title"],
        steps=steps,
        store=str(data.get("store", "demo")),
        profile=data.get("profile", "Alex"),
        now=now,
        modes=tuple(data.get("modes", ("direct", "e2e"))),
        customer=f"whatsapp:+1555{number:07d}",
    )
    if script.store_file is not None and not script.store_file.exists():
        raise ValueError(f"{path.name}: no store file {script.store}")
    return script


def all_scripts() -> list[Script]:
    """Every script under tests/data/conversations, by file name."""
    return [load_script(p) for p in sorted(SCRIPTS_DIR.glob("*.yaml"))]


def _fragments(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


class ScriptFailed(AssertionError):
    """A step's answer did not match; the message holds the transcript so far."""


async def run_script(script: Script, runner: Runner) -> list[str]:
    """Play `script` through `runner`; returns the transcript. Raises `ScriptFailed`."""
    transcript: list[str] = []
    order = ""
    for i, step in enumerate(script.steps, 1):
        customer = str(step.get("customer", script.customer))

        def fill(text: str, order: str = order, customer: str = customer) -> str:
            return text.replace("{order}", order).replace("{customer}", quote(customer, safe=""))

        def fail(why: str, i: int = i) -> ScriptFailed:
            shown = "\n".join(transcript[-12:])
            return ScriptFailed(f"{script.name} step {i}: {why}\n--- transcript (end) ---\n{shown}")

        expect = [fill(f) for f in _fragments(step.get("expect"))]
        refuse = [fill(f) for f in _fragments(step.get("not"))]
        silent = bool(step.get("silent"))
        if "say" in step or "send" in step:
            fields = {"Body": "" if "send" in step else str(step["say"])}
            fields.update({k: str(v) for k, v in (step.get("send") or step.get("fields") or {}).items()})
            profile = step.get("profile", script.profile)
            if profile:
                fields.setdefault("ProfileName", str(profile))
            transcript.append(f"> {fields['Body'] or json.dumps(step.get('send'))}")
            replies = await runner.message(customer, fields, silent=silent)
        elif "staff" in step:
            method, _, path = str(step["staff"]).partition(" ")
            transcript.append(f"[staff] {method} {fill(path)} {json.dumps(step.get('json'))}")
            status, text, replies = await runner.staff(
                method.upper(), fill(path.strip()), step.get("json"), customer, wait_messages=bool(expect)
            )
            transcript.append(f"[staff] -> {status} {text[:300]}")
            if "status" in step and status != int(step["status"]):
                raise fail(f"staff API answered {status}, expected {step['status']}: {text}")
            for fragment in _fragments(step.get("response")):
                if fill(fragment) not in text:
                    raise fail(f"staff API answer lacks {fragment!r}: {text}")
        elif "age" in step:
            ages = step["age"]
            for column, key in (("cart_updated_at", "cart"), ("last_inbound_at", "last_inbound")):
                if key in ages:
                    delta = parse_duration(ages[key])
                    await runner.sql(
                        f"UPDATE customers SET {column} = {column} - %s WHERE address = %s",
                        delta,
                        customer,
                    )
            transcript.append(f"[age] {ages}")
            continue
        else:
            await runner.sql(str(step["db"]))
            transcript.append(f"[db] {step['db']}")
            continue
        transcript.extend(f"< {r}" for r in replies)
        joined = "\n".join(replies)
        if silent and replies:
            raise fail(f"expected no reply, got {replies!r}")
        if not silent and not replies and "say" in step:
            raise fail("expected a reply, got none")
        for fragment in expect:
            if fragment.lower() not in joined.lower():
                raise fail(f"expected {fragment!r} in the reply")
        for fragment in refuse:
            if fragment.lower() in joined.lower():
                raise fail(f"did not expect {fragment!r} in the reply")
        placed = _PLACED.search(joined)
        if placed:
            order = placed.group(1)
    return transcript
