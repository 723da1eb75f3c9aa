"""`python -m bench.orders`: the orders service alone, CPU per message, PostgreSQL included.

The production orders process runs against a new migrated database with the demo store (as in
`make bench`). `--messages` inbound WhatsApp messages (each from a new customer, body
`--body`) are XADDed to the inbound stream once orders is ready, in one go or at `--rate` per
second, and the run ends when every reply is on the outbound stream. With `--send-results`,
each reply's send result (the notifier's report, with a MessageSid) follows, and the run ends
when orders has recorded them all. Printed: messages per second and the CPU spent per message
by orders, its PostgreSQL backends and redis-server. Unlike the end-to-end figures it does not
depend on the notifier, ingress or the sandbox, so an orders change shows by itself, and CPU
per message carries over to a busy machine better than a rate does.

    .venv/bin/python -m bench.orders --messages 2000 [--body menu] [--send-results] [--profile FILE]

`--profile FILE` runs py-spy on the orders process during the load and writes its collapsed
stacks to FILE (`py-spy record --format raw`), then prints the functions with the most samples.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import os
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import cast

import psycopg
import redis

from bench import procs
from bench.mesh import REDIS_URL, BenchMesh, database, key_prefix
from libs.messages import ENTRY_FIELD, INBOUND_MESSAGE, SEND_RESULT, Envelope, Keys


def _backend_pids(conn: psycopg.Connection[tuple[object, ...]]) -> list[int]:
    rows = conn.execute(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
    ).fetchall()
    return [int(r[0]) for r in rows]  # type: ignore[call-overload]


def _postgres_cpu(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):
            total += procs.cpu_seconds(pid)
    return total


def run(
    messages: int,
    *,
    body: str,
    send_results: bool,
    log_dir: Path,
    profile: Path | None = None,
    rate: float = 0.0,
) -> dict[str, float]:
    """One run; returns messages/s and CPU ms per message for orders, postgres and redis."""
    with database() as db, key_prefix() as prefix:
        mesh = BenchMesh(db, REDIS_URL, prefix, log_dir)
        if profile is not None:
            # py-spy starts orders (attaching to a running process needs ptrace rights).
            spy_bin = str(Path(sys.executable).with_name("py-spy"))
            mesh.launcher["orders"] = [spy_bin, "record", "--format", "raw", "-r", "200", "-o", str(profile)]
            mesh.launcher["orders"].append("--")
        with mesh:
            mesh.run_cli("migrate")
            mesh.run_cli("load-menu", "--demo")
            mesh.start("orders")
            client = redis.Redis.from_url(REDIS_URL)
            keys = Keys(prefix)
            redis_pid = int(client.info("server")["process_id"])
            orders_pid = mesh.procs["orders"].pid
            if profile is not None:  # the service is py-spy's child
                children = Path(f"/proc/{orders_pid}/task/{orders_pid}/children").read_text()
                orders_pid = int(children.split()[0])
            pipe = client.pipeline(transaction=False)
            for i in range(messages):
                fields = {
                    "MessageSid": f"SMbench{i:010d}",
                    "From": f"whatsapp:+1555{i:07d}",
                    "To": "whatsapp:+14155238886",
                    "Body": body,
                    "ProfileName": f"Customer {i}",
                    "WaId": f"1555{i:07d}",
                }
                env = Envelope(kind=INBOUND_MESSAGE, fields=fields, received_at=time.time())
                pipe.xadd(keys.inbound, {ENTRY_FIELD: env.encode()})
            time.sleep(1.0)  # start-up work done
            with psycopg.connect(db, autocommit=True) as conn:
                pg_before = _postgres_cpu(_backend_pids(conn))
                before = {"orders": procs.cpu_seconds(orders_pid), "redis": procs.cpu_seconds(redis_pid)}
                started = time.monotonic()
                if rate:
                    _paced(client, keys, pipe, rate, started)
                else:
                    pipe.execute()
                deadline = started + 300
                while client.xlen(keys.outbound) < messages and time.monotonic() < deadline:
                    time.sleep(0.02)
                if send_results:
                    _send_results(client, keys)
                    while time.monotonic() < deadline:
                        (pending,) = conn.execute(
                            "SELECT count(*) FROM outbox WHERE twilio_sid IS NULL"
                        ).fetchone() or (0,)
                        if not pending:
                            break
                        time.sleep(0.05)
                elapsed = time.monotonic() - started
                done = min(messages, client.xlen(keys.outbound))
                pids = _backend_pids(conn)
                after = {"orders": procs.cpu_seconds(orders_pid), "redis": procs.cpu_seconds(redis_pid)}
                pg_after = _postgres_cpu(pids)
            client.close()
            if profile is not None:  # py-spy writes its file once its child exits
                os.kill(orders_pid, signal.SIGTERM)
                mesh.procs["orders"].wait(timeout=60)
    out = {"messages": float(done), "per_s": done / elapsed}
    out.update({f"{n}_ms": (after[n] - before[n]) * 1e3 / max(1, done) for n in after})
    # Backends that exited during the run are missed; orders keeps its pool open, so few do.
    out["postgres_ms"] = (pg_after - pg_before) * 1e3 / max(1, done)
    return out


def _paced(client: redis.Redis, keys: Keys, pipe: redis.client.Pipeline, rate: float, started: float) -> None:
    """XADD the pipeline's entries one by one, the k-th at `started + k / rate` (open loop)."""
    commands = list(pipe.command_stack)
    pipe.reset()
    for k, command in enumerate(commands):
        delay = started + k / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        client.execute_command(*command[0])  # type: ignore[no-untyped-call]


def _send_results(client: redis.Redis, keys: Keys) -> None:
    """One send result per reply on the outbound stream, as the notifier reports them."""
    pipe = client.pipeline(transaction=False)
    entries = cast(list[tuple[bytes, dict[bytes, bytes]]], client.xrange(keys.outbound))
    for n, (_, fields) in enumerate(entries):
        reply = Envelope.decode(fields[ENTRY_FIELD])
        result = {"reply_id": reply.fields["reply_id"], "outcome": "sent", "MessageSid": f"SMsent{n:010d}"}
        pipe.xadd(keys.inbound, {ENTRY_FIELD: Envelope(kind=SEND_RESULT, fields=result).encode()})
    pipe.execute()


def top_functions(collapsed: Path, n: int = 25) -> list[tuple[str, float, float]]:
    """From py-spy's collapsed stacks: the `n` functions with the most inclusive samples, as
    (function, inclusive share, self share)."""
    inclusive: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    total = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count_s = line.rpartition(" ")
        count = int(count_s)
        frames = stack.split(";")
        total += count
        for frame in set(frames):
            inclusive[frame] += count
        own[frames[-1]] += count
    return [(f, c / total, own[f] / total) for f, c in inclusive.most_common(n)]


def main() -> None:
    """Command line; see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--body", default="menu")
    parser.add_argument("--send-results", action="store_true")
    parser.add_argument("--rate", type=float, default=0.0, help="messages per second (0: all at once)")
    parser.add_argument("--profile", type=Path)
    parser.add_argument("--top", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        r = run(args.messages, body=args.body, send_results=args.send_results, log_dir=Path(tmp),
                profile=args.profile, rate=args.rate)  # fmt: skip
    print(
        f"orders: {r['messages']:.0f} messages ({args.body!r}), {r['per_s']:.0f}/s;"
        f" CPU ms per message: orders {r['orders_ms']:.2f} postgres {r['postgres_ms']:.2f}"
        f" redis {r['redis_ms']:.2f}"
    )
    if args.profile is not None and args.profile.exists():
        for name, inc, self_share in top_functions(args.profile, args.top):
            print(f"{inc:6.1%} {self_share:6.1%}  {name[:150]}")


if __name__ == "__main__":
    main()
