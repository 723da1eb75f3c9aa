"""An open-loop load generator for signed webhooks: its own process, raw HTTP/1.1 keep-alive.

`python -m bench.loadgen --port P --rate R --duration D --run RR --out FILE` sends R webhooks
a second for D seconds to ingress on 127.0.0.1:P and writes one JSON file with, per request,
the customer, the HTTP status, when it was due, sent and answered.

Open loop: request k is due at start + k/R whether or not earlier ones were answered, so a
slow server shows up as latency measured from the due time (no coordinated omission), not as
a lower offered rate. Requests are signed before the clock starts and written as prebuilt
bytes, so the generator's CPU per request is a socket write and a header parse; its CPU time
is reported so a run can show it was not the bottleneck.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import time
from dataclasses import dataclass
from pathlib import Path

import orjson
import uvloop

from bench.webhooks import WEBHOOK_PATH, SignedWebhook, inbound


@dataclass(slots=True)
class Result:
    """What happened to one request; times in seconds on the generator's monotonic clock."""

    due: float
    sent: float = 0.0
    done: float = 0.0
    status: int = 0


def raw_request(host: str, hook: SignedWebhook) -> bytes:
    """The full HTTP/1.1 request for one webhook, keep-alive."""
    head = (
        f"POST {WEBHOOK_PATH} HTTP/1.1\r\nHost: {host}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"X-Twilio-Signature: {hook.signature}\r\nContent-Length: {len(hook.body)}\r\n\r\n"
    )
    return head.encode() + hook.body


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    if length:
        await reader.readexactly(length)
    return status


async def run(
    port: int, rate: float, duration: float, connections: int, requests: list[bytes]
) -> tuple[list[Result], float, float]:
    """Send `requests` at `rate`/s over `connections` keep-alive connections.

    Returns the results in request order, and the wall-clock and monotonic times of the start.
    """
    queue: asyncio.Queue[int | None] = asyncio.Queue()
    results: list[Result] = []
    conns = [await asyncio.open_connection("127.0.0.1", port) for _ in range(connections)]
    start_wall, start = time.time(), time.monotonic() + 0.05
    count = min(len(requests), int(rate * duration))

    async def worker(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while (k := await queue.get()) is not None:
            result = results[k]
            result.sent = time.monotonic()
            writer.write(requests[k])
            try:
                result.status = await _read_response(reader)
            except (asyncio.IncompleteReadError, ConnectionError):
                result.status = -1
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            result.done = time.monotonic()

    workers = [asyncio.create_task(worker(r, w)) for r, w in conns]
    for k in range(count):
        due = start + k / rate
        results.append(Result(due=due))
        delay = due - time.monotonic()
        if delay > 0.0005:
            await asyncio.sleep(delay)
        queue.put_nowait(k)
    for _ in workers:
        queue.put_nowait(None)
    await asyncio.gather(*workers)
    for _, writer in conns:
        writer.close()
    return results, start_wall + 0.05, start


def main() -> None:
    """CLI entry point; see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--rate", type=float, required=True, help="webhooks per second")
    parser.add_argument("--duration", type=float, required=True, help="seconds")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--run", required=True, help="two digits that keep customers apart between runs")
    parser.add_argument("--text", default="menu", help="the message body every customer sends")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()

    host = f"127.0.0.1:{args.port}"
    url = f"http://{host}{WEBHOOK_PATH}"
    count = int(args.rate * args.duration)
    hooks = [inbound(url, i, args.run, args.text) for i in range(count)]
    requests = [raw_request(host, h) for h in hooks]
    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    results, start_wall, start = uvloop.run(
        run(args.port, args.rate, args.duration, args.connections, requests)
    )
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    elapsed = max(r.done for r in results) - start
    args.out.write_bytes(
        orjson.dumps(
            {
                "rate": args.rate,
                "duration": args.duration,
                "connections": args.connections,
                "elapsed_s": elapsed,
                "cpu_s": cpu,
                "last_sent_s": max(r.sent for r in results) - start,
                "customers": [h.customer for h in hooks[: len(results)]],
                "status": [r.status for r in results],
                # Seconds: since the request was due / since it was written; wall clock of the answer.
                "latency_due_s": [r.done - r.due for r in results],
                "latency_sent_s": [r.done - r.sent for r in results],
                "answered_wall": [start_wall + (r.done - start) for r in results],
            }
        )
    )


if __name__ == "__main__":
    main()
