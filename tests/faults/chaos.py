"""`make chaos`: random faults for minutes under a steady load, then the ledger as a table.

    python -m tests.faults.chaos [--duration 180] [--customers 16] [--seed N] [--rate MSG_PER_S]

Starts two replicas of ingress, orders and notifier plus the Twilio sandbox, on a database and
Redis key prefix of their own, behind fault proxies (tests/faults/proxy.py). While `customers`
conversations run (tests/faults/workload.py, 10% of webhooks posted as racing copies; with
`--rate`, plus an open-loop stream of that many messages a second from new customers), it
applies one fault at a time, with a quiet gap of 2-6 s between, drawing from a shuffled bag
that holds every kind once (so a run of a few minutes meets each kind at least once):

- SIGKILL of any one process, restarted after 0.5-3 s; SIGTERM of one (it must exit 0);
- Redis: every connection cut; refused for 2-6 s; hung for 2-5 s;
- PostgreSQL: the same three;
- Twilio (the sandbox): 429s, 500s, slow answers, answers slower than notifier's read
  timeout, and the outcomes a client cannot read: a 5xx (500, 502 or 503) after Twilio
  created the message, the connection dropped after it created it, the connection dropped
  with nothing created.

After each fault is cleared it measures the recovery time: until every process answers
/ready 200 and a probe customer's message got its reply. At the end the load stops, the
mesh drains, and the ledger is printed. Exit status 1 when a reply was lost, delivered twice,
an ambiguous send was left unresolved, or an accepted webhook was never processed.

Databases come from TEST_DATABASE_URL / TEST_REDIS_URL, as for the tests.
"""

from __future__ import annotations

import argparse
import contextlib
import random
import shlex
import signal
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql

from services.orders.storage.migrations import apply_migrations
from tests.conftest import ADMIN_DSN, REDIS_URL, _dsn_for, redis_namespace
from tests.e2e.harness import SERVICES, Mesh
from tests.faults.conftest import REPLICAS, FaultMesh, _fault_mesh_on
from tests.faults.workload import Ledger, Load, settle

PROCESSES = ("ingress", "orders", "notifier", *REPLICAS)


@dataclass
class FaultRecord:
    """One fault applied: what, when (seconds since the start), how long it lasted, recovery."""

    name: str
    at_s: float
    lasted_s: float = 0.0
    recovery_s: float | None = None
    note: str = ""


@dataclass
class Chaos:
    """Applies faults to `fm` and times the recovery of each."""

    fm: FaultMesh
    load: Load
    rng: random.Random
    started: float = field(default_factory=time.monotonic)
    records: list[FaultRecord] = field(default_factory=list)
    bad_exits: list[str] = field(default_factory=list)

    def faults(self) -> list[tuple[str, Callable[[], str]]]:
        """Every kind of fault once; `run()` draws them from a shuffled bag.

        A kill picks one of the service's two replicas at random.
        """
        return [
            *(
                (f"SIGKILL {service}", lambda s=service: self.kill(self._replica(s), signal.SIGKILL))
                for service in ("ingress", "orders", "notifier")
            ),
            ("SIGTERM", lambda: self.kill(self.rng.choice(PROCESSES), signal.SIGTERM)),
            ("Redis: connections cut", self.redis_cut),
            ("Redis: down", self.redis_down),
            ("Redis: hung", self.redis_hung),
            ("PostgreSQL: connections cut", self.pg_cut),
            ("PostgreSQL: down", self.pg_down),
            ("PostgreSQL: hung", self.pg_hung),
            ("Twilio: 429", lambda: self.twilio("status_429", self.rng.randint(3, 12))),
            ("Twilio: 500", lambda: self.twilio("status_500", self.rng.randint(3, 12))),
            ("Twilio: slow", lambda: self.twilio("slow", self.rng.randint(3, 8), delay_s=1.5)),
            ("Twilio: slower than read timeout", lambda: self.twilio("slow", 2, delay_s=4.0)),
            ("Twilio: 5xx after create", self.twilio_5xx_after_create),
            (
                "Twilio: dropped after create",
                lambda: self.twilio("drop_after_create", self.rng.randint(2, 6)),
            ),
            ("Twilio: dropped, not created", lambda: self.twilio("drop", self.rng.randint(2, 6))),
        ]

    # -- the faults; each returns a note and returns once the fault is cleared -------------

    def _replica(self, service: str) -> str:
        return self.rng.choice([p for p in PROCESSES if Mesh.base(p) == service])

    def kill(self, name: str, sig: int) -> str:
        status = self.fm.mesh.kill(name, sig)
        time.sleep(self.rng.uniform(0.5, 3.0))
        self.fm.mesh.start(name)
        if sig == signal.SIGTERM and status != 0:
            self.bad_exits.append(f"{name} exited {status} after SIGTERM")
        return f"{name}, exit {status}" if sig == signal.SIGTERM else f"{name}"

    def _for(self, low: float, high: float) -> float:
        seconds = self.rng.uniform(low, high)
        time.sleep(seconds)
        return seconds

    def redis_cut(self) -> str:
        return f"{self.fm.redis_proxy.cut()} connections"

    def redis_down(self) -> str:
        self.fm.redis_proxy.down()
        try:
            return f"{self._for(2, 6):.1f} s"
        finally:
            self.fm.redis_proxy.up()

    def redis_hung(self) -> str:
        self.fm.redis_proxy.hold()
        try:
            return f"{self._for(2, 5):.1f} s"
        finally:
            self.fm.redis_proxy.release()

    def pg_cut(self) -> str:
        return f"{self.fm.pg_proxy.cut()} connections"

    def pg_down(self) -> str:
        self.fm.pg_proxy.down()
        try:
            return f"{self._for(2, 6):.1f} s"
        finally:
            self.fm.pg_proxy.up()

    def pg_hung(self) -> str:
        self.fm.pg_proxy.hold()
        try:
            return f"{self._for(2, 5):.1f} s"
        finally:
            self.fm.pg_proxy.release()

    def _calls(self) -> int:
        return self.rng.randint(2, 6)

    def twilio_5xx_after_create(self) -> str:
        status = self.rng.choice((500, 502, 503))
        return f"{status}, " + self.twilio("status_5xx_after_create", self._calls(), status=status)

    def twilio(self, mode: str, count: int, **extra: float) -> str:
        self.fm.fault(mode, count, **extra)
        deadline = time.monotonic() + 60
        while self.fm.fault_left() and time.monotonic() < deadline:
            time.sleep(0.1)
        left = self.fm.fault_left()
        self.fm.fault("none", 0)
        return f"{count - left} calls" + (f" ({left} never fired)" if left else "")

    # -- running -------------------------------------------------------------------------------

    def recover(self) -> float | None:
        """Seconds until every process is ready and a probe message got its reply (None: never)."""
        started = time.monotonic()
        deadline = started + 120
        while time.monotonic() < deadline:
            if all(self.fm.ready(p) == 200 for p in PROCESSES):
                break
            time.sleep(0.1)
        else:
            return None
        waited = self.load.probe(timeout_s=max(1.0, deadline - time.monotonic()))
        return None if waited is None else time.monotonic() - started

    def run(self, duration_s: float) -> None:
        """Apply faults at random until `duration_s` has passed."""
        end = self.started + duration_s
        bag: list[tuple[str, Callable[[], str]]] = []
        while time.monotonic() < end:
            time.sleep(self.rng.uniform(2, 6))  # quiet: the load runs undisturbed
            if not bag:  # every kind once before any twice, in random order
                bag = self.faults()
                self.rng.shuffle(bag)
            name, apply = bag.pop()
            record = FaultRecord(name, time.monotonic() - self.started)
            began = time.monotonic()
            record.note = apply()
            record.lasted_s = time.monotonic() - began
            record.recovery_s = self.recover()
            self.records.append(record)
            print(
                f"[{record.at_s:6.1f} s] {name}: {record.note}; recovered in "
                + (f"{record.recovery_s:.1f} s" if record.recovery_s is not None else "NEVER"),
                flush=True,
            )


def table(rows: list[tuple[str, str]], headers: tuple[str, str]) -> str:
    """A Markdown table."""
    width = [max(len(r[i]) for r in [headers, *rows]) for i in range(2)]
    lines = [
        f"| {headers[0]:<{width[0]}} | {headers[1]:>{width[1]}} |",
        f"|{'-' * (width[0] + 2)}|{'-' * (width[1] + 1)}:|",
    ]
    lines += [f"| {a:<{width[0]}} | {b:>{width[1]}} |" for a, b in rows]
    return "\n".join(lines)


def report(ledger: Ledger, records: list[FaultRecord], args: argparse.Namespace, elapsed_s: float) -> str:
    """The printed result: the ledger, then every fault with its recovery time."""
    summary = [(k, str(v)) for k, v in ledger.summary().items()]
    faults = [
        (
            f"{r.at_s:6.1f} s  {r.name} ({r.note})",
            f"{r.recovery_s:.1f} s" if r.recovery_s is not None else "never",
        )
        for r in records
    ]
    recoveries = [r.recovery_s for r in records if r.recovery_s is not None]
    command = "python -m tests.faults.chaos " + shlex.join(
        ["--duration", f"{args.duration:g}", "--customers", str(args.customers), "--seed", str(args.seed)]
        + (["--rate", f"{args.rate:g}"] if args.rate else [])
    )
    parts = [
        f"command: {command}",
        f"ran {elapsed_s:.0f} s with {len(records)} faults; {args.customers} customers; "
        + (f"open loop {args.rate:g} msg/s; " if args.rate else "")
        + "two replicas each of ingress, orders, notifier",
        "",
        table(summary, ("ledger", "count")),
        "",
        table(faults, ("fault (time since start, detail)", "recovery")),
    ]
    if recoveries:
        parts.append(
            f"\nrecovery: median {sorted(recoveries)[len(recoveries) // 2]:.1f} s, "
            f"max {max(recoveries):.1f} s (until every process is ready and a probe is answered)"
        )
    return "\n".join(parts)


@contextlib.contextmanager
def fresh_database() -> Iterator[str]:
    """A new, migrated database on TEST_DATABASE_URL's server; dropped afterwards."""
    name = f"wa_chaos_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(ADMIN_DSN, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        with psycopg.connect(_dsn_for(name), autocommit=True) as conn:
            apply_migrations(conn)
        yield _dsn_for(name)
    finally:
        with psycopg.connect(ADMIN_DSN, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def main(argv: list[str] | None = None) -> int:
    """Run the chaos; returns 0 when nothing was lost or doubled."""
    parser = argparse.ArgumentParser(
        prog="python -m tests.faults.chaos", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--duration", type=float, default=180.0, help="seconds of faults (default 180)")
    parser.add_argument("--customers", type=int, default=16, help="concurrent conversations (default 16)")
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: a new one)")
    parser.add_argument(
        "--rate", type=float, default=None, help="also an open-loop load of this many messages a second"
    )
    parser.add_argument("--log-dir", type=Path, default=None, help="keep the processes' logs here")
    args = parser.parse_args(argv)
    if args.seed is None:
        args.seed = random.randrange(1_000_000)
    rng = random.Random(args.seed)
    log_dir = args.log_dir or Path(tempfile.mkdtemp(prefix="chaos-"))
    print(f"chaos: seed {args.seed}, {args.duration:g} s, logs in {log_dir}", flush=True)
    started = time.monotonic()
    with (
        fresh_database() as db,
        redis_namespace(REDIS_URL) as prefix,
        _fault_mesh_on(db, REDIS_URL, prefix, log_dir, replicas=REPLICAS) as fm,
    ):
        assert set(SERVICES) <= set(fm.mesh.procs)
        load = fm.load(
            customers=args.customers, duplicates=0.1, reply_timeout_s=45, seed=args.seed, rate=args.rate
        ).start()
        chaos = Chaos(fm, load, rng)
        try:
            chaos.run(args.duration)
        finally:
            load.stop()
            load.join(180)
        print("faults over; waiting for the mesh to drain", flush=True)
        ledger = settle(load, fm.database_url, fm.redis_url, fm.mesh.key_prefix, timeout_s=180)
        text = report(ledger, chaos.records, args, time.monotonic() - started)
    print()
    print(text)
    print(
        f"\nlost {len(ledger.lost)}, duplicated {len(ledger.duplicated)}, "
        f"unresolved ambiguous {ledger.unresolved_ambiguous}"
    )
    problems = ledger.problems(strict_orders=False)
    problems = [p for p in problems if "dead letters" not in p]  # counted in the table, not a loss
    problems += chaos.bad_exits
    never = [r.name for r in chaos.records if r.recovery_s is None]
    if never:
        problems.append(f"never recovered after: {never}")
    if problems:
        print("\nFAILED:\n" + "\n".join(problems))
        return 1
    print("\nOK: nothing lost, nothing doubled, no ambiguous send left unresolved")
    return 0


if __name__ == "__main__":
    sys.exit(main())
