"""The bench's own arithmetic and request building, so its figures can be trusted."""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qsl

from twilio.request_validator import RequestValidator

from bench import targets
from bench.endtoend import Sample, backlog_slope, percentile
from bench.loadgen import _read_response, raw_request
from bench.saturation import WrkRun
from bench.webhooks import AUTH_TOKEN, inbound
from services.ingress.forms import parse_form
from services.ingress.signatures import SignatureVerifier

URL = "http://127.0.0.1:8000/api/v1/whatsapp/webhook"


def test_webhooks_are_signed_as_twilio_signs_them() -> None:
    hook = inbound(URL, 7, "42", text="2 margherita & a coke")
    params = dict(parse_qsl(hook.body.decode(), keep_blank_values=True))
    assert params["From"] == hook.customer == "whatsapp:+1555420000007"
    assert params["Body"] == "2 margherita & a coke"
    assert RequestValidator(AUTH_TOKEN).validate(URL, params, hook.signature)
    # ...and ingress' own parser and verifier accept exactly these bytes.
    parsed = parse_form(hook.body, max_fields=128, max_field_chars=8192)
    assert SignatureVerifier((AUTH_TOKEN,), None).verify(URL, parsed, hook.signature, None)


def test_customers_and_sids_never_repeat() -> None:
    hooks = [inbound(URL, i, run) for run in ("10", "11") for i in range(50)]
    assert len({h.customer for h in hooks}) == 100
    sids = {dict(parse_qsl(h.body.decode()))["MessageSid"] for h in hooks}
    assert len(sids) == 100


def test_raw_request_and_response_parsing() -> None:
    hook = inbound(URL, 1, "10")
    request = raw_request("127.0.0.1:8000", hook)
    head, body = request.split(b"\r\n\r\n", 1)
    assert body == hook.body
    assert f"Content-Length: {len(hook.body)}".encode() in head

    async def read(data: bytes) -> int:
        reader = asyncio.StreamReader()
        reader.feed_data(data)
        return await _read_response(reader)

    answer = b"HTTP/1.1 200 OK\r\ncontent-type: text/xml\r\ncontent-length: 5\r\n\r\n<R/>\n"
    assert asyncio.run(read(answer)) == 200


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.5) == 50.0
    assert percentile(values, 0.99) == 99.0
    assert percentile(values, 1.0) == 100.0
    assert percentile([3.0], 0.99) == 3.0


def _samples(backlogs: list[int]) -> list[Sample]:
    return [
        Sample(t=i * 0.25, inbound=b, outbound=0, outbox=0, rss={}, cpu={}, machine=(0, 0))
        for i, b in enumerate(backlogs)
    ]


def test_backlog_slope() -> None:
    growing = _samples([10 * i for i in range(40)])  # +10 per 0.25 s
    assert abs(backlog_slope(growing, 0, 10) - 40.0) < 1e-9
    flat = _samples([5, 7, 5, 7] * 10)
    assert abs(backlog_slope(flat, 0, 10)) < 1.0


def test_per_cpu_second() -> None:
    run = WrkRun(
        1000.0, 0.001, 0.002, 0.003, 0, 0, 1.0, server_cpu_s=5.0, duration_s=10, accepted_per_s=900.0
    )
    assert run.served_per_s == 900.0
    assert run.per_cpu_second == 1800.0


def test_the_targets_table_reads_one_run() -> None:
    def load(rate: float, sustained: bool, p99_s: float = 0.02) -> dict[str, object]:
        cpu = {"ingress": 0.3, "orders": 0.8, "notifier": 0.4, "sandbox": 0.5, "postgres": 0.3, "redis": 0.1}
        rss = {"ingress": 40e6, "orders": 90e6, "notifier": 60e6, "sandbox": 50e6}
        return {
            "offered_per_s": rate,
            "sustained": sustained,
            "e2e_p99_s": p99_s,
            "cpu_ms_per_message": cpu,
            "peak_rss": rss,
        }

    report = {
        "saturation": {"ratio": 0.31, "ratio_per_cpu_second": 0.33, "ingress": {"p99_s": 0.012}},
        "end_to_end": [load(500, True), load(1000, True), load(1250, False)],
        "half_sustained_load": load(500, True, 0.03),
        "with_status_callbacks": [load(250, True), load(500, False)],
    }
    got = {what.split(" (")[0]: (measured, met) for what, measured, _target, met in targets.rows(report)}
    assert got["ingress / bare hello world"] == ("31.0% (per CPU second 33.0%)", True)
    assert got["ingress p99 at 32 connections"] == ("12.00 ms", False)
    assert got["end to end, highest load sustained"] == ("1,000 msg/s", True)
    assert got["end to end p99 at half of it"] == ("30.0 ms", True)
    assert got["with status callbacks"][1] is False  # 250 < 400
    cpu_row = next(v for k, v in got.items() if k.startswith("CPU per message at 1,000"))
    assert cpu_row[0].startswith("1.90 = ingress 0.30") and cpu_row[1] is True  # the sandbox is not counted
    rss_row = next(v for k, v in got.items() if k.startswith("peak RSS"))
    assert rss_row == ("ingress 40 MB / orders 90 MB / notifier 60 MB", True)
    assert "NO" in targets.table(report)
