"""`make chat`'s program against the real mesh: piped lines in, the bot's replies printed."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from tests.conftest import AUTH_TOKEN, ROOT
from tests.e2e.harness import ACCOUNT_SID, STORE_NUMBER, Mesh


def test_piped_chat_talks_to_the_bot(mesh: Mesh) -> None:
    customer = f"whatsapp:+1555{time.time_ns() % 10**7:07d}"
    env = {
        "PATH": os.environ.get("PATH", ""),
        "INGRESS_URL": mesh.url("ingress"),
        "SANDBOX_URL": mesh.url("sandbox"),
        "PUBLIC_BASE_URL": mesh.url("ingress"),
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_WHATSAPP_FROM": STORE_NUMBER,
        "CHAT_FROM": customer,
        "CHAT_REPLY_WAIT_SECONDS": "10",
    }
    done = subprocess.run(
        [sys.executable, "-m", "sandbox.chat"],
        input="menu\n2 margherita\ncart\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=90,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert out.startswith("you> menu\nbot> ")
    menu, add, cart = (part for part in out.split("you> ")[1:])
    assert "Margherita" in menu and "9.50" in menu
    assert "19.00" in add and "19.00" in cart
    # Every reply went out with a StatusCallback; the sandbox posted sent, delivered and read
    # to ingress, signed, and ingress took them.
    messages = mesh.wait_until(
        lambda: [m for m in mesh.sent(customer) if m["callbacks"] == ["sent", "delivered", "read"]] or None,
        15,
        "status callbacks",
    )
    assert messages[0]["status_callback"] == mesh.url("ingress") + "/api/v1/whatsapp/status"
