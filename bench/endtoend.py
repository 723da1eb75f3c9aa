"""End to end: offered load in, replies out at the sandbox; latency, backlog and memory per load.

At each offered rate, `bench.loadgen` (a separate process) posts signed "menu" messages from
distinct customers to ingress for `duration_s`. Each message's latency is the time from
ingress answering 200 (the webhook accepted) to the sandbox receiving the reply (its
`received_at`), both on this machine's clock. While the load runs, a sampler records the
backlog every 0.25 s (inbound and outbound streams: lag + pending entries; outbox rows not
yet published) and each service's RSS and CPU.

A load is *sustained* when every webhook got 200, the generator kept to the rate, every reply
arrived, and the backlog did not grow: its least-squares slope over the load window (after a
2 s warm-up) is under 2% of the offered rate, or it never exceeds 0.5 s of that rate (at least
25 entries).
"""

from __future__ import annotations

import contextlib
import itertools
import math
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import orjson
import psycopg
import redis

from bench import procs
from bench.mesh import BenchMesh
from libs.messages import NOTIFIER_GROUP, ORDERS_GROUP, Keys
from tests.conftest import ROOT

SERVICES = ("ingress", "orders", "notifier", "sandbox")
# CPU is also read for this database's PostgreSQL backends and for redis-server (which other
# users of the same Redis share: on a busy machine its figure includes their work).
DATA_STORES = ("postgres", "redis")
SAMPLE_S = 0.25
WARMUP_S = 2.0
# Two digits per load run, part of every customer's number: no two runs of one process share
# a customer, so a reply can only ever be matched to the message that caused it.
_RUN_IDS = itertools.count(10)


def percentile(values: list[float], q: float) -> float:
    """The q-quantile (0..1) by nearest rank; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    # Nearest rank: the smallest value with at least q of all values at or below it.
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


@dataclass
class Sample:
    """One sampler tick: seconds since the load started, backlog parts, RSS and CPU per service."""

    t: float
    inbound: int
    outbound: int
    outbox: int
    rss: dict[str, int]
    cpu: dict[str, float]
    machine: tuple[int, int]

    @property
    def backlog(self) -> int:
        """Everything accepted but not yet handed to the sandbox, in entries/rows."""
        return self.inbound + self.outbound + self.outbox


class Sampler(threading.Thread):
    """Samples the backlog and the processes every `SAMPLE_S` until `stop()`."""

    def __init__(self, mesh: BenchMesh) -> None:
        super().__init__(daemon=True)
        self.mesh = mesh
        self.keys = Keys(mesh.key_prefix)
        self.samples: list[Sample] = []
        self._halt = threading.Event()
        self.started_at = time.monotonic()

    def _group(self, client: redis.Redis, stream: str, group: str) -> int:
        for info in client.xinfo_groups(stream):
            if info["name"].decode() == group:
                return int(info.get("lag") or 0) + int(info["pending"])
        return 0

    def run(self) -> None:
        """Sample until stopped (the thread body)."""
        client = redis.Redis.from_url(self.mesh.redis_url)
        # Every replica of a service ("orders", "orders-2"): CPU summed, RSS the largest one's.
        procs_of = self.mesh.procs.items()
        pids = {name: [p.pid for n, p in procs_of if self.mesh.base(n) == name] for name in SERVICES}
        redis_pid = int(client.info("server")["process_id"])
        backends: dict[int, float] = {}  # CPU seconds of every backend seen, kept after it exits
        with psycopg.connect(self.mesh.database_url, autocommit=True) as db:
            while not self._halt.wait(SAMPLE_S):
                row = db.execute(
                    "SELECT count(*) FROM outbox WHERE published_at IS NULL AND status = 'pending'"
                ).fetchone()
                for (pid,) in db.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                    " AND pid <> pg_backend_pid()"
                ).fetchall():
                    with contextlib.suppress(FileNotFoundError, ProcessLookupError):  # exited since
                        backends[pid] = procs.cpu_seconds(pid)
                cpu = {n: sum(procs.cpu_seconds(p) for p in ps) for n, ps in pids.items()}
                cpu["postgres"] = sum(backends.values())
                cpu["redis"] = procs.cpu_seconds(redis_pid)
                self.samples.append(
                    Sample(
                        t=time.monotonic() - self.started_at,
                        inbound=self._group(client, self.keys.inbound, ORDERS_GROUP),
                        outbound=self._group(client, self.keys.outbound, NOTIFIER_GROUP),
                        outbox=int(row[0]) if row else 0,
                        rss={n: max(procs.rss_bytes(p) for p in ps) for n, ps in pids.items()},
                        cpu=cpu,
                        machine=procs.machine_jiffies(),
                    )
                )
        client.close()

    def stop(self) -> None:
        """Stop sampling and wait for the thread."""
        self._halt.set()
        self.join(timeout=5)


def backlog_slope(samples: list[Sample], start: float, end: float) -> float:
    """Least-squares slope of the backlog (entries per second) between `start` and `end`."""
    points = [(s.t, float(s.backlog)) for s in samples if start <= s.t <= end]
    if len(points) < 3:
        return 0.0
    n = len(points)
    mean_t = sum(t for t, _ in points) / n
    mean_b = sum(b for _, b in points) / n
    var = sum((t - mean_t) ** 2 for t, _ in points)
    return sum((t - mean_t) * (b - mean_b) for t, b in points) / var if var else 0.0


@dataclass
class LoadResult:
    """Everything measured at one offered rate."""

    offered_per_s: float
    duration_s: float
    sent: int
    ok: int
    generator_elapsed_s: float
    generator_cpu_share: float
    webhook_p50_s: float
    webhook_p99_s: float
    replies: int
    e2e_p50_s: float
    e2e_p99_s: float
    e2e_max_s: float
    completed_per_s: float
    backlog_max: int
    backlog_slope_per_s: float
    drain_s: float
    peak_rss: dict[str, int]
    cpu_share: dict[str, float]
    cpu_ms_per_message: dict[str, float]
    machine_busy_share: float
    backlog_max_parts: dict[str, int]
    sustained: bool
    loadavg_before: tuple[float, float, float]
    reasons: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return asdict(self)


def _replies(
    mesh: BenchMesh, after: int, customers: set[str], deadline: float
) -> tuple[dict[str, float], int]:
    """First reply time (sandbox `received_at`) per customer, polling until all or `deadline`."""
    first: dict[str, float] = {}
    while True:
        response = mesh.http.get(
            mesh.url("sandbox") + "/sandbox/messages", params={"after": after}, timeout=60
        )
        for message in response.json():
            after = max(after, int(message["index"]))
            if message["to"] in customers and message["to"] not in first:
                first[message["to"]] = float(message["received_at"])
        if len(first) >= len(customers) or time.monotonic() > deadline:
            return first, after
        time.sleep(0.2)


def run_load(mesh: BenchMesh, rate: float, duration_s: float, run: str, after: int) -> tuple[LoadResult, int]:
    """One offered rate; returns its result and the sandbox's last message index."""
    loadavg = os.getloadavg()
    sampler = Sampler(mesh)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "load.json"
        # Signing happens before the generator's clock starts; start sampling when it does.
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bench.loadgen",
                "--port",
                str(mesh.ports["ingress"]),
                "--rate",
                str(rate),
                "--duration",
                str(duration_s),
                "--run",
                run,
                "--out",
                str(out),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        sampler.start()
        proc.wait(timeout=duration_s * 4 + 120)
        load_done = time.monotonic()
        data = orjson.loads(out.read_bytes())
    customers = data["customers"]
    answered = dict(zip(customers, data["answered_wall"], strict=True))
    ok = [c for c, s in zip(customers, data["status"], strict=True) if s == 200]
    first, after = _replies(mesh, after, set(ok), deadline=time.monotonic() + 60)
    drained = time.monotonic()
    sampler.stop()
    latencies = [first[c] - answered[c] for c in ok if c in first]
    samples = sampler.samples
    # The generator's load window, on the sampler's clock (it started just before the load).
    gen_s = float(data["elapsed_s"])
    window_end = min(gen_s, (load_done - sampler.started_at))
    slope = backlog_slope(samples, WARMUP_S, window_end)
    backlog_max = max((s.backlog for s in samples if s.t <= window_end), default=0)
    in_window = [s for s in samples if s.t <= window_end]
    cpu_share = {}
    if len(in_window) >= 2:
        span = in_window[-1].t - in_window[0].t
        cpu_share = {n: (in_window[-1].cpu[n] - in_window[0].cpu[n]) / span for n in SERVICES + DATA_STORES}
    peak_rss = {n: max(s.rss[n] for s in samples) for n in SERVICES} if samples else {}
    # CPU each process spent per reply over the whole run, drain included: unlike latency it
    # hardly depends on what else the machine runs, so it is the figure to compare across runs.
    per_message = {}
    if len(samples) >= 2 and first:
        per_message = {
            n: (samples[-1].cpu[n] - samples[0].cpu[n]) * 1e3 / len(first) for n in SERVICES + DATA_STORES
        }
    # Share of all the machine's cores busy (anything, ours or not) during the load window.
    busy = 0.0
    if len(in_window) >= 2:
        (b0, t0), (b1, t1) = in_window[0].machine, in_window[-1].machine
        busy = (b1 - b0) / (t1 - t0) if t1 > t0 else 0.0
    parts = {
        part: max((getattr(s, part) for s in in_window), default=0)
        for part in ("inbound", "outbound", "outbox")
    }
    last_reply = max(first.values(), default=0.0)
    last_answer = max(answered.values(), default=0.0)
    reasons = []
    if len(ok) < len(customers):
        reasons.append(f"{len(customers) - len(ok)} webhooks not answered 200")
    if float(data["last_sent_s"]) > duration_s * 1.05 + 0.2:
        reasons.append(f"generator fell behind: last request sent at {data['last_sent_s']:.1f} s")
    if len(first) < len(ok):
        reasons.append(f"{len(ok) - len(first)} replies missing after 60 s")
    if slope > 0.02 * rate and backlog_max > max(25.0, 0.5 * rate):
        reasons.append(f"backlog grew {slope:.0f} entries/s (max {backlog_max})")
    result = LoadResult(
        offered_per_s=rate,
        duration_s=duration_s,
        sent=len(customers),
        ok=len(ok),
        generator_elapsed_s=gen_s,
        generator_cpu_share=float(data["cpu_s"]) / gen_s,
        webhook_p50_s=percentile(data["latency_due_s"], 0.5),
        webhook_p99_s=percentile(data["latency_due_s"], 0.99),
        replies=len(first),
        e2e_p50_s=percentile(latencies, 0.5),
        e2e_p99_s=percentile(latencies, 0.99),
        e2e_max_s=max(latencies, default=float("nan")),
        completed_per_s=len(first) / max(1e-9, last_reply - min(answered.values(), default=0.0)),
        backlog_max=backlog_max,
        backlog_slope_per_s=slope,
        drain_s=max(0.0, last_reply - last_answer) if first else float("nan"),
        peak_rss=peak_rss,
        cpu_share=cpu_share,
        cpu_ms_per_message=per_message,
        machine_busy_share=busy,
        backlog_max_parts=parts,
        sustained=not reasons,
        loadavg_before=loadavg,
        reasons=reasons,
    )
    _ = drained
    return result, after


def summary_line(r: LoadResult) -> str:
    """One console line for a load."""
    rss = " ".join(f"{n} {r.peak_rss.get(n, 0) / 2**20:.0f}" for n in SERVICES)
    cpu = " ".join(f"{n} {r.cpu_share.get(n, 0):.0%}" for n in SERVICES + DATA_STORES)
    parts = " ".join(f"{k} {v}" for k, v in r.backlog_max_parts.items())
    verdict = "sustained" if r.sustained else "NOT sustained: " + "; ".join(r.reasons)
    per_message = " ".join(f"{n} {r.cpu_ms_per_message.get(n, 0):.2f}" for n in SERVICES + DATA_STORES)
    return (
        f"{r.offered_per_s:>6.0f} msg/s: e2e p50 {r.e2e_p50_s * 1e3:7.1f} ms  p99 {r.e2e_p99_s * 1e3:7.1f} ms"
        f"  max {r.e2e_max_s * 1e3:7.1f} ms | webhook p99 {r.webhook_p99_s * 1e3:6.1f} ms"
        f" | backlog max {r.backlog_max:>6} | RSS MiB {rss} | CPU {cpu}"
        f" | generator CPU {r.generator_cpu_share:.0%} | {verdict}\n"
        f"{'':>14}CPU ms per message: {per_message} | machine busy {r.machine_busy_share:.0%}"
        f" | backlog max by part: {parts}"
    )


def sweep(
    mesh: BenchMesh, rates: list[float], duration_s: float, *, stop_after_failures: int = 2, log: Any = print
) -> list[LoadResult]:
    """Run each rate in order on the running mesh.

    Stops after `stop_after_failures` unsustained loads in a row: one can be a burst of other
    work on the machine, two are the mesh's limit.
    """
    results: list[LoadResult] = []
    after = 0
    failures = 0
    for rate in rates:
        result, after = run_load(mesh, rate, duration_s, run=f"{next(_RUN_IDS) % 100:02d}", after=after)
        results.append(result)
        log(summary_line(result))
        failures = 0 if result.sustained else failures + 1
        if failures >= stop_after_failures:
            break
        time.sleep(2)  # let the backlog (if any) drain before the next rate
    return results
