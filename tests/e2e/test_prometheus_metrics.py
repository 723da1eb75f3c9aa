"""`promtool check metrics` on the live /metrics of the three running services.

One conversation turn goes through first (inbound webhook, orders, outbox relay, notifier,
the sandbox's status callbacks back into ingress), so the labelled series exist and the
check sees what production exposes, not an empty registry.
"""

from __future__ import annotations

import re
import time

from tests.deploy.promtool import promtool
from tests.e2e.harness import Mesh

# Per service: series that one message through the mesh must have produced.
EXPECTED = {
    "ingress": (
        'wa_webhooks_total{kind="message",outcome="accepted"}',
        'wa_webhooks_total{kind="status",outcome="accepted"}',
        'wa_http_requests_total{method="POST",route="/api/v1/whatsapp/webhook",status="200"}',
        'wa_http_request_duration_seconds_bucket{le="0.005",route="/api/v1/whatsapp/webhook",status="200"}',
        'wa_http_request_duration_seconds_count{route="/ready",status="200"}',
        "process_resident_memory_bytes",
    ),
    "orders": (
        'wa_stream_entries_consumed_total{group="orders",stream="',
        'wa_stream_entries_acked_total{group="orders",stream="',
        'wa_stream_consumer_lag{group="orders",stream="',
        'wa_stream_pending_entries{group="orders",stream="',
        'wa_inbound_messages_total{outcome="handled"}',
        "wa_outbox_backlog ",
        "wa_db_pool_connections ",
        "wa_db_pool_connections_in_use ",
        "wa_db_pool_requests_waiting ",
        "process_resident_memory_bytes",
    ),
    "notifier": (
        'wa_stream_entries_acked_total{group="notifier",stream="',
        'wa_stream_consumer_lag{group="notifier",stream="',
        'wa_twilio_sends_total{error_code="",outcome="sent"}',
        "wa_twilio_send_duration_seconds_count",
        "process_resident_memory_bytes",
    ),
}


def _scrape(mesh: Mesh, name: str) -> str:
    response = mesh.http.get(mesh.url(name) + "/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    return response.text


def _missing(mesh: Mesh) -> dict[str, list[str]]:
    """Expected series not yet exposed, per service (empty once all are there)."""
    missing = {}
    for name, series in EXPECTED.items():
        text = _scrape(mesh, name)
        absent = [s for s in series if s not in text]
        if absent:
            missing[name] = absent
    return missing


def test_live_metrics_pass_promtool(mesh: Mesh) -> None:
    who = f"whatsapp:+1555{time.time_ns() % 10**7:07d}"
    mesh.converse(who, ["menu"])
    # The lag/pending gauges are refreshed by the consumers' maintenance (every 5 s) and the
    # status callbacks arrive after the sandbox's delay, so poll instead of sleeping.
    deadline = time.monotonic() + 20
    while (missing := _missing(mesh)) and time.monotonic() < deadline:
        time.sleep(0.25)
    assert not missing, f"series not exposed: {missing}\n{mesh.logs()}"
    for name in EXPECTED:
        text = _scrape(mesh, name)
        done = promtool("check", "metrics", stdin=text.encode())
        assert done.returncode == 0 and not done.stdout.strip(), (name, done.stdout + done.stderr)
        # One registry per process: each family is declared exactly once.
        declared = re.findall(r"^# TYPE (\S+) ", text, flags=re.MULTILINE)
        assert len(declared) == len(set(declared)), name
