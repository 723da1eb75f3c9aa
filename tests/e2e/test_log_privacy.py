"""Logs never show phone numbers, names, addresses, tokens or auth headers (captured from real processes)."""

from __future__ import annotations

import re
import time

from tests.conftest import AUTH_TOKEN
from tests.e2e.harness import ADMIN_TOKEN, WEBHOOK_PATH, Mesh

NUMBER = "+15559876543"
CUSTOMER = f"whatsapp:{NUMBER}"
NAME = "Zebulon Quixote"
ADDRESS = "742 Evergreen Terrace"


def test_logs_mask_customer_data_and_never_print_secrets(mesh: Mesh) -> None:
    mesh.converse(CUSTOMER, ["menu", "2 margherita", f"deliver to {ADDRESS}"], timeout=20)
    mesh.say(CUSTOMER, "hello", ProfileName=NAME)
    mesh.wait_sent(CUSTOMER, 4, timeout=20)
    forged = mesh.message_params(CUSTOMER, f"my address is {ADDRESS}")
    assert mesh.post(WEBHOOK_PATH, forged, signature="Zm9yZ2Vk").status_code == 403
    mesh.admin("GET", "/api/v1/orders")
    mesh.http.get(mesh.url("orders") + "/api/v1/orders", headers={"Authorization": "Bearer wrong-token"})
    time.sleep(1.0)  # let the last lines reach the files
    text = "\n".join(p.read_text(errors="replace") for p in mesh.log_dir.glob("*.log"))
    assert text.count('"level"') > 20, "the services logged almost nothing; the scan would prove nothing"
    leaks = {
        "phone number": NUMBER.lstrip("+"),
        "profile name": NAME,
        "address": ADDRESS,
        "twilio auth token": AUTH_TOKEN,
        "admin token": ADMIN_TOKEN,
    }
    found = {what: needle for what, needle in leaks.items() if needle in text}
    assert not found, f"logs leak {sorted(found)}"
    assert not re.search(r"(?i)authorization\"?\s*[:=]\s*\"?(basic|bearer)\s+\S", text)
    assert not re.search(r"(?i)x-twilio-signature\"?\s*[:=]\s*\"?[A-Za-z0-9+/=]{20,}", text)
