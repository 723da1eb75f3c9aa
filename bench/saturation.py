"""Ingress at saturation against a bare uvicorn hello world, both driven by wrk.

wrk (one thread, 32 connections, like docs/performance.md's reference figures) posts
pre-signed webhooks (bench/signed.lua) to one ingress worker, and plain GETs to the hello
world; the ratio of their requests per second is the headline figure. Accepted webhooks are
counted from ingress' own `wa_webhooks_total{outcome="accepted"}`, so a 4xx/5xx never counts.
wrk's CPU time is measured too: a load generator near 100% of its core would be the limit.
"""

from __future__ import annotations

import re
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx

from bench import procs
from bench.mesh import BenchMesh
from bench.webhooks import WEBHOOK_PATH, write_wrk_file
from tests.conftest import ROOT, free_port

LUA = Path(__file__).with_name("signed.lua")
_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0}


@dataclass
class WrkRun:
    """One wrk run: throughput, latency percentiles (seconds), errors, CPU of both sides."""

    requests_per_s: float
    p50_s: float
    p90_s: float
    p99_s: float
    non_2xx: int
    socket_errors: int
    wrk_cpu_s: float
    server_cpu_s: float
    duration_s: float
    accepted_per_s: float | None = None

    @property
    def served_per_s(self) -> float:
        """Accepted webhooks/s for ingress, requests/s for the hello world."""
        return self.accepted_per_s if self.accepted_per_s is not None else self.requests_per_s

    @property
    def per_cpu_second(self) -> float:
        """Requests served per second of the server's own CPU time.

        On a machine busy with other work the server may get well under one core; this
        figure barely moves with that, so it is the one to compare across runs.
        """
        return self.served_per_s * self.duration_s / self.server_cpu_s if self.server_cpu_s else 0.0


def _seconds(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(value) * _UNITS[unit]


def wrk(url: str, *, server_pid: int, connections: int, duration_s: int, script: list[str]) -> WrkRun:
    """Run wrk once against `url`; parse its --latency report."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_before = procs.cpu_seconds(server_pid)
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{duration_s}s", "--latency", *script[:2], url, *script[2:]],
        capture_output=True,
        text=True,
        check=True,
        timeout=duration_s + 60,
    ).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    latency = dict(re.findall(r"^\s+(50|90|99)%\s+(\S+)$", out, flags=re.MULTILINE))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return WrkRun(
        requests_per_s=float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        p50_s=_seconds(latency["50"]),
        p90_s=_seconds(latency["90"]),
        p99_s=_seconds(latency["99"]),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(int(g) for g in errors.groups()) if errors else 0,
        wrk_cpu_s=(after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
        server_cpu_s=procs.cpu_seconds(server_pid) - cpu_before,
        duration_s=duration_s,
    )


def _accepted(http: httpx.Client, base: str) -> float:
    text = http.get(base + "/metrics").text
    found = re.search(r'^wa_webhooks_total\{kind="message",outcome="accepted"\} (\S+)$', text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


@dataclass
class Saturation:
    """The medians of `runs` runs each of ingress and of the hello world, and their ratio."""

    ingress: WrkRun
    hello: WrkRun
    ratio: float
    ratio_per_cpu_second: float
    runs: int
    connections: int
    ingress_runs: list[WrkRun]
    hello_runs: list[WrkRun]

    def as_dict(self) -> dict[str, object]:
        """JSON-ready."""
        return asdict(self)


def _median(runs: list[WrkRun]) -> WrkRun:
    return sorted(runs, key=lambda r: r.requests_per_s)[len(runs) // 2]


def measure(mesh: BenchMesh, *, runs: int = 3, duration_s: int = 10, connections: int = 32) -> Saturation:
    """Start ingress alone (Redis only), measure it and the hello world `runs` times each.

    The two alternate (ingress, hello, ingress, ...) so a slow phase of the machine hits both.
    """
    mesh.start("ingress")
    ingress_pid = mesh.procs["ingress"].pid
    base = mesh.url("ingress")
    hello_port = free_port()
    hello = subprocess.Popen([sys.executable, "-m", "bench.hello", str(hello_port)], cwd=ROOT)
    http = httpx.Client(timeout=10)
    try:
        mesh.wait_until(lambda: mesh._ok(f"http://127.0.0.1:{hello_port}/"), 10, "hello world up")
        ingress_runs, hello_runs = [], []
        with tempfile.TemporaryDirectory() as tmp:
            for i in range(runs):
                # Enough distinct webhooks that none repeats within a run (ingress does well under 20k/s).
                bodies = f"{tmp}/webhooks-{i}.txt"
                write_wrk_file(bodies, base + WEBHOOK_PATH, 20_000 * duration_s, run=f"9{i}")
                accepted = _accepted(http, base)
                run = wrk(
                    base + WEBHOOK_PATH,
                    server_pid=ingress_pid,
                    connections=connections,
                    duration_s=duration_s,
                    script=["-s", str(LUA), "--", bodies],
                )
                run.accepted_per_s = (_accepted(http, base) - accepted) / duration_s
                ingress_runs.append(run)
                hello_runs.append(
                    wrk(
                        f"http://127.0.0.1:{hello_port}/",
                        server_pid=hello.pid,
                        connections=connections,
                        duration_s=duration_s,
                        script=[],
                    )
                )
                time.sleep(1)
    finally:
        http.close()
        hello.send_signal(signal.SIGTERM)
        hello.wait(timeout=10)
        mesh.kill("ingress", signal.SIGTERM)
    ingress, bare = _median(ingress_runs), _median(hello_runs)
    return Saturation(
        ingress=ingress,
        hello=bare,
        ratio=(ingress.accepted_per_s or 0.0) / bare.requests_per_s,
        ratio_per_cpu_second=ingress.per_cpu_second / bare.per_cpu_second if bare.per_cpu_second else 0.0,
        runs=runs,
        connections=connections,
        ingress_runs=ingress_runs,
        hello_runs=hello_runs,
    )


def summary(result: Saturation) -> str:
    """Human lines for the console."""
    i, h = result.ingress, result.hello
    return "\n".join(
        [
            f"ingress (1 worker, wrk -t1 -c{result.connections}, median of {result.runs}):"
            f" {i.accepted_per_s:,.0f} accepted webhooks/s, p50 {i.p50_s * 1e3:.2f} ms,"
            f" p99 {i.p99_s * 1e3:.2f} ms, non-2xx {i.non_2xx},"
            f" server CPU {i.server_cpu_s / i.duration_s:.0%}, wrk CPU {i.wrk_cpu_s / i.duration_s:.0%}",
            f"bare uvicorn hello world: {h.requests_per_s:,.0f} req/s, p50 {h.p50_s * 1e3:.2f} ms,"
            f" p99 {h.p99_s * 1e3:.2f} ms, server CPU {h.server_cpu_s / h.duration_s:.0%},"
            f" wrk CPU {h.wrk_cpu_s / h.duration_s:.0%}",
            f"per second of server CPU: ingress {i.per_cpu_second:,.0f}, hello world {h.per_cpu_second:,.0f},"
            f" ratio {result.ratio_per_cpu_second:.1%}",
            f"ratio ingress / hello world: {result.ratio:.1%}  (all runs:"
            f" {', '.join(f'{r.accepted_per_s or 0:,.0f}' for r in result.ingress_runs)} vs"
            f" {', '.join(f'{r.requests_per_s:,.0f}' for r in result.hello_runs)};"
            f" median {statistics.median(r.p99_s for r in result.ingress_runs) * 1e3:.2f} ms p99)",
        ]
    )
