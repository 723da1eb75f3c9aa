"""`python -m bench.notifier`: the notifier alone, CPU per reply, with the sandbox as Twilio.

The production notifier process (pace at its maximum) and the sandbox run as in `make bench`;
`--replies` reply envelopes (each a new customer, seq 1) are XADDed to the outbound stream in
one go once the notifier is ready, and the run ends when every send result is on the inbound
stream. Printed: replies per second, and the CPU each process spent per reply (notifier,
sandbox, redis-server). Unlike the end-to-end figures this does not depend on orders or
PostgreSQL keeping up, so a notifier change shows by itself even on a busy machine.

    .venv/bin/python -m bench.notifier --replies 4000 [--callbacks]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import redis

from bench import procs
from bench.mesh import REDIS_URL, BenchMesh, key_prefix
from libs.messages import ENTRY_FIELD, REPLY, Envelope, Keys


def run(replies: int, *, callbacks: bool, log_dir: Path) -> dict[str, float]:
    """One run; returns replies/s and CPU ms per reply per process."""
    with key_prefix() as prefix:
        mesh = BenchMesh("postgresql://unused", REDIS_URL, prefix, log_dir, callbacks=callbacks)
        with mesh:
            # With callbacks, ingress takes them (signature checked, deduped, onto the inbound stream).
            mesh.start(*(("sandbox", "notifier", "ingress") if callbacks else ("sandbox", "notifier")))
            client = redis.Redis.from_url(REDIS_URL)
            keys = Keys(prefix)
            redis_pid = int(client.info("server")["process_id"])
            pids = {n: p.pid for n, p in mesh.procs.items()}
            # Each reply's send result, and with callbacks its three statuses, end on the inbound stream.
            expected = replies * (4 if callbacks else 1)
            pipe = client.pipeline(transaction=False)
            for i in range(replies):
                to = f"whatsapp:+1555{i:07d}"
                fields = {"reply_id": f"b{i}", "To": to, "seq": "1", "Body": "Menu: ..."}
                pipe.xadd(keys.outbound, {ENTRY_FIELD: Envelope(kind=REPLY, fields=fields).encode()})
            time.sleep(1.0)  # start-up work done
            before = {n: procs.cpu_seconds(p) for n, p in pids.items()}
            before["redis"] = procs.cpu_seconds(redis_pid)
            started = time.monotonic()
            pipe.execute()
            deadline = started + 120
            while client.xlen(keys.inbound) < expected and time.monotonic() < deadline:
                time.sleep(0.05)
            elapsed = time.monotonic() - started
            done = client.xlen(keys.inbound) * replies // expected
            after = {n: procs.cpu_seconds(p) for n, p in pids.items()}
            after["redis"] = procs.cpu_seconds(redis_pid)
            client.close()
    out = {"replies": float(done), "per_s": done / elapsed}
    out.update({f"{n}_ms": (after[n] - before[n]) * 1e3 / max(1, done) for n in after})
    return out


def main() -> int:
    """Parse the arguments, run, print one line."""
    parser = argparse.ArgumentParser(description="The notifier's CPU per reply.")
    parser.add_argument("--replies", type=int, default=3000)
    parser.add_argument("--callbacks", action="store_true", help="the sandbox posts status callbacks")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as logs:
        r = run(args.replies, callbacks=args.callbacks, log_dir=Path(logs))
    print(
        f"{r['replies']:.0f} replies, {r['per_s']:.0f}/s; CPU ms per reply: notifier {r['notifier_ms']:.2f}"
        f" sandbox {r['sandbox_ms']:.2f} redis {r['redis_ms']:.2f}"
        + (f" ingress {r['ingress_ms']:.2f}" if "ingress_ms" in r else "")
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
