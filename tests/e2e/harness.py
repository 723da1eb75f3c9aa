"""Starts the mesh as real processes and talks to it as Twilio and a customer would.

`Mesh` runs `python -m services.ingress|orders|notifier` and `python -m sandbox` (the local
Twilio stand-in) on free ports with one database and one Redis key prefix, posts signed
webhooks to ingress, and reads what the sandbox received. Each process logs to its own file
under the test's temporary folder; a failed wait prints the tail of every log.

A name with a suffix, `orders-2`, is another replica of `orders`: same module and settings,
its own port and log. `service_env` adds variables to one service (by base name, then by
exact name), e.g. to point it at a fault proxy instead of Redis or PostgreSQL.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from twilio.request_validator import RequestValidator

from tests.conftest import AUTH_TOKEN, ROOT, free_port

ACCOUNT_SID = "ACe268443e43d93dab7ebef303bbe9642f"
STORE_NUMBER = "whatsapp:+15557650000"
WEBHOOK_PATH = "/api/v1/whatsapp/webhook"
STATUS_PATH = "/api/v1/whatsapp/status"
ADMIN_TOKEN = "test-admin-token-0123456789abcdef0123456789"
SERVICES = ("sandbox", "ingress", "orders", "notifier")


def _die_with_parent() -> None:
    """In the child before exec: get SIGKILL when the test process dies, so no service outlives it."""
    import ctypes

    pr_set_pdeathsig = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)


def new_sid(prefix: str = "SM") -> str:
    """A fresh Twilio-shaped SID: prefix + 32 hex digits."""
    return prefix + uuid.uuid4().hex


def sign(url: str, params: dict[str, str], token: str = AUTH_TOKEN) -> str:
    """X-Twilio-Signature for a form POST of `params` to `url` (Twilio's algorithm)."""
    return str(RequestValidator(token).compute_signature(url, params))


@dataclass
class Mesh:
    """The four processes of one test run; use as a context manager."""

    database_url: str
    redis_url: str
    key_prefix: str
    log_dir: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    service_env: dict[str, dict[str, str]] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)
    # A command a service is started under (by name), e.g. a profiler: `[py-spy, record, ..., --]`.
    launcher: dict[str, list[str]] = field(default_factory=dict)
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for name in SERVICES:
            self.ports.setdefault(name, free_port())
        self.http = httpx.Client(timeout=10)

    # -- processes -------------------------------------------------------------------------

    def url(self, name: str) -> str:
        """Base URL of a service, e.g. http://127.0.0.1:PORT."""
        return f"http://127.0.0.1:{self.ports[name]}"

    @staticmethod
    def base(name: str) -> str:
        """The service a process name runs: `orders-2` -> `orders`."""
        return name.split("-", 1)[0]

    def env(self, name: str) -> dict[str, str]:
        """The environment a service process gets."""
        self.ports.setdefault(name, free_port())
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "PYTEST"))}
        env.update(
            {
                "PORT": str(self.ports[name]),
                "HOST": "127.0.0.1",
                "LOG_LEVEL": "INFO",
                "ENVIRONMENT": "test",
                "REDIS_URL": self.redis_url,
                "REDIS_KEY_PREFIX": self.key_prefix,
                "DATABASE_URL": self.database_url,
                "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
                "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
                "TWILIO_WHATSAPP_FROM": STORE_NUMBER,
                "TWILIO_API_BASE_URL": self.url("sandbox"),
                "PUBLIC_BASE_URL": self.url("ingress"),
                "ADMIN_API_TOKEN": ADMIN_TOKEN,
                "PYTHONUNBUFFERED": "1",
            }
        )
        if self.base(name) == "orders":
            env["STREAM_VISIBILITY_TIMEOUT_MS"] = "3000"  # reclaim quickly after a crash
        env.update(self.extra_env)
        env.update(self.service_env.get(self.base(name), {}))
        if name != self.base(name):
            env.update(self.service_env.get(name, {}))
        return env

    def run_cli(self, *args: str) -> str:
        """Run `python -m services.orders ARGS` against this mesh's database; returns stdout."""
        done = subprocess.run(
            [sys.executable, "-m", "services.orders", *args],
            cwd=ROOT,
            env=self.env("orders"),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if done.returncode != 0:
            raise AssertionError(f"orders {' '.join(args)} failed: {done.stderr}")
        return done.stdout

    def start(self, *names: str, wait: bool = True) -> None:
        """Start the named services (all when none named) and wait until each is ready."""
        for name in names or SERVICES:
            base = self.base(name)
            module = "sandbox" if base == "sandbox" else f"services.{base}"
            with (self.log_dir / f"{name}.log").open("ab") as log:  # the child keeps its own copy
                self.procs[name] = subprocess.Popen(
                    [*self.launcher.get(name, []), sys.executable, "-m", module],
                    cwd=ROOT,
                    env=self.env(name),
                    stdout=log,
                    stderr=log,
                    preexec_fn=_die_with_parent,
                )
        if wait:
            for name in names or SERVICES:
                self.wait_ready(name)

    def wait_ready(self, name: str, timeout: float = 20) -> None:
        """Poll the service's /ready (the sandbox's /sandbox/messages) until it answers 200."""
        path = "/sandbox/messages" if self.base(name) == "sandbox" else "/ready"
        self.wait_until(lambda: self._ok(self.url(name) + path), timeout, f"{name} ready")

    def _ok(self, url: str) -> bool:
        try:
            return self.http.get(url, timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def kill(self, name: str, sig: int = signal.SIGKILL) -> int:
        """Send `sig` to a service and wait for it to exit; returns its exit status."""
        proc = self.procs.pop(name)
        proc.send_signal(sig)
        return proc.wait(timeout=30)

    def stop(self) -> dict[str, int]:
        """SIGTERM every service; returns their exit statuses."""
        statuses = {}
        for name in list(self.procs):
            statuses[name] = self.kill(name, signal.SIGTERM)
        self.http.close()
        return statuses

    def __enter__(self) -> Mesh:
        return self

    def __exit__(self, *exc: object) -> None:
        for proc in self.procs.values():
            proc.kill()
            proc.wait(timeout=10)
        self.procs.clear()
        self.http.close()

    def logs(self) -> str:
        """The last 40 lines of every service's log."""
        out = []
        for path in sorted(self.log_dir.glob("*.log")):
            lines = path.read_text(errors="replace").splitlines()[-40:]
            out.append(f"--- {path.name}\n" + "\n".join(lines))
        return "\n".join(out)

    def wait_until(self, predicate: Callable[[], Any], timeout: float, what: str) -> Any:
        """Poll `predicate` every 50 ms until it returns a truthy value; fail with the logs."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(0.05)
        raise AssertionError(f"timed out after {timeout}s waiting for {what}\n{self.logs()}")

    # -- Twilio's side ---------------------------------------------------------------------

    def message_params(self, customer: str, body: str, **extra: str) -> dict[str, str]:
        """The form fields of an inbound WhatsApp text, as Twilio posts them."""
        sid = extra.pop("MessageSid", None) or new_sid()
        wa_id = customer.removeprefix("whatsapp:+")
        params = {
            "SmsMessageSid": sid,
            "NumMedia": "0",
            "ProfileName": extra.pop("ProfileName", "Alex Example"),
            "MessageType": "text",
            "SmsSid": sid,
            "WaId": wa_id,
            "SmsStatus": "received",
            "Body": body,
            "To": STORE_NUMBER,
            "NumSegments": "1",
            "ReferralNumMedia": "0",
            "MessageSid": sid,
            "AccountSid": ACCOUNT_SID,
            "From": customer,
            "ApiVersion": "2010-04-01",
        }
        params.update(extra)
        return params

    def post(self, path: str, params: dict[str, str], *, signature: str | None = None) -> httpx.Response:
        """POST `params` form-encoded to ingress, signed unless `signature` is given."""
        url = self.url("ingress") + path
        sig = signature if signature is not None else sign(url, params)
        return self.http.post(url, data=params, headers={"X-Twilio-Signature": sig})

    def say(self, customer: str, body: str, **extra: str) -> httpx.Response:
        """Post a signed inbound message from `customer`; asserts ingress answered 200."""
        response = self.post(WEBHOOK_PATH, self.message_params(customer, body, **extra))
        assert response.status_code == 200, (response.status_code, response.text)
        return response

    # -- what reached "Twilio" -------------------------------------------------------------

    def sent(self, to: str | None = None) -> list[dict[str, Any]]:
        """Messages the sandbox accepted (to `to` when given), in arrival order."""
        params = {"to": to} if to else {}
        response = self.http.get(self.url("sandbox") + "/sandbox/messages", params=params)
        response.raise_for_status()
        data = response.json()
        return list(data["messages"] if isinstance(data, dict) else data)

    def wait_sent(self, to: str, count: int, timeout: float = 15) -> list[dict[str, Any]]:
        """Wait until at least `count` messages reached the sandbox for `to`; returns them all."""

        def enough() -> list[dict[str, Any]] | None:
            msgs = self.sent(to)
            return msgs if len(msgs) >= count else None

        return list(self.wait_until(enough, timeout, f"{count} message(s) to {to}"))

    def converse(self, customer: str, lines: Iterable[str], timeout: float = 15) -> list[str]:
        """Say each line and wait for at least one new reply to each; returns the reply bodies."""
        replies: list[str] = []
        for line in lines:
            before = len(self.sent(customer))
            self.say(customer, line)
            self.wait_sent(customer, before + 1, timeout)
            time.sleep(0.2)  # a turn may have more than one part
            replies.append("\n".join(m.get("body") or "" for m in self.sent(customer)[before:]))
        return replies

    def admin(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """Call the staff API on orders with the admin bearer token."""
        headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        return self.http.request(method, self.url("orders") + path, headers=headers, **kwargs)
