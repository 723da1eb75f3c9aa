"""`python -m bench` (`make bench`): measure the mesh on this machine, print and save the figures.

1. ingress saturation: one ingress worker against a bare uvicorn hello world (bench.saturation);
2. end to end: an offered-load sweep through ingress, orders, notifier and the sandbox, with
   real PostgreSQL and Redis (bench.endtoend), stopping at the first load not sustained;
3. with `--callbacks`, the end-to-end sweep again with Twilio's status callbacks on, up to the
   highest load sustained without them;
   `--replicas 2` runs two instances of orders and of the notifier (scale-out on one
   machine; CPU per message is summed over a service's instances);
4. prints the targets table (`bench.targets`: each target with this run's figure) and writes
   `bench-results/bench-<time>.json` and `.png` (latency against offered load), and
   `bench-results/latest.json` / `latest.png`.

PostgreSQL and Redis come from TEST_DATABASE_URL / TEST_REDIS_URL (defaults: the local
servers), as for the tests; the bench creates its own database and key prefix and removes them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import endtoend, plot, saturation, targets
from bench.mesh import mesh
from tests.conftest import ROOT

DEFAULT_RATES = (25, 50, 100, 150, 200, 300, 400, 500, 750, 1000, 1250, 1500)


def _git_commit() -> str:
    done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    return done.stdout.strip() or "unknown"


def machine() -> dict[str, Any]:
    """What the figures depend on: cores, load before the run, versions."""
    return {
        "cpus": os.cpu_count(),
        "loadavg": os.getloadavg(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "commit": _git_commit(),
    }


def main() -> int:
    """Run the benchmark; see the module docstring. Returns the process exit status."""
    parser = argparse.ArgumentParser(description="Throughput, latency and memory of the mesh.")
    parser.add_argument("--out", type=Path, default=ROOT / "bench-results")
    parser.add_argument("--runs", type=int, default=3, help="wrk runs per side (median reported)")
    parser.add_argument("--wrk-seconds", type=int, default=10)
    parser.add_argument("--load-seconds", type=float, default=15.0, help="seconds per offered load")
    parser.add_argument("--rates", type=float, nargs="+", default=list(DEFAULT_RATES))
    parser.add_argument("--skip-saturation", action="store_true")
    parser.add_argument(
        "--callbacks", action="store_true", help="also run the sustained load with status callbacks"
    )
    parser.add_argument(
        "--replicas",
        type=int,
        default=1,
        help="instances of orders and of the notifier in the end-to-end runs (CPU summed per service)",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None and not args.skip_saturation:
        print(
            "wrk is not installed: run `make bench` (it installs it) or apt-get install -y wrk",
            file=sys.stderr,
        )
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    report: dict[str, Any] = {"when": stamp, "machine": machine(), "command": "make bench"}

    with tempfile.TemporaryDirectory() as logs:
        if not args.skip_saturation:
            print("== ingress at saturation vs a bare uvicorn hello world", flush=True)
            with mesh(Path(logs) / "saturation") as m:
                sat = saturation.measure(m, runs=args.runs, duration_s=args.wrk_seconds)
            print(saturation.summary(sat), flush=True)
            report["saturation"] = sat.as_dict()

        replicas = [f"{s}-{i}" for i in range(2, args.replicas + 1) for s in ("orders", "notifier")]
        print(
            f"== end to end, {args.load_seconds:g} s per offered load"
            + (f", {args.replicas} instances of orders and of the notifier" if replicas else ""),
            flush=True,
        )
        report["replicas"] = args.replicas
        with mesh(Path(logs) / "e2e") as m:
            m.start()
            if replicas:
                m.start(*replicas)
            loads = endtoend.sweep(m, sorted(args.rates), args.load_seconds)
            sustained = [r for r in loads if r.sustained]
            best = max(sustained, key=lambda r: r.offered_per_s) if sustained else None
            # The latency target is stated at half the highest sustained load.
            half = None
            if best is not None:
                rate = best.offered_per_s / 2
                half = next((r for r in loads if r.offered_per_s == rate), None)
                if half is None:
                    print(f"-- half the highest sustained load: {rate:g} msg/s", flush=True)
                    (half,) = endtoend.sweep(m, [rate], args.load_seconds)
        report["end_to_end"] = [r.as_dict() for r in loads]
        report["max_sustained_per_s"] = best.offered_per_s if best else 0.0
        report["peak_rss_at_max_sustained"] = best.peak_rss if best else {}
        report["half_sustained_load"] = half.as_dict() if half else None

        report["callbacks_requested"] = args.callbacks
        if args.callbacks:
            # The same sweep with Twilio's status callbacks on, up to the highest load sustained
            # without them (they only add work); at the lowest rate when none was, for the CPU.
            print("== end to end with Twilio's three status callbacks per reply", flush=True)
            top = best.offered_per_s if best is not None else min(args.rates)
            rates = [r for r in sorted(args.rates) if r <= top]
            with mesh(Path(logs) / "callbacks", callbacks=True) as m:
                m.start()
                if replicas:
                    m.start(*replicas)
                with_callbacks = endtoend.sweep(m, rates, args.load_seconds)
            report["with_status_callbacks"] = [r.as_dict() for r in with_callbacks]

    if best is not None:
        rss = ", ".join(f"{n} {b / 2**20:.0f} MiB" for n, b in best.peak_rss.items())
        print(f"highest load sustained: {best.offered_per_s:g} msg/s; peak RSS there: {rss}")
        if half is not None:
            print(
                f"at half that load ({half.offered_per_s:g} msg/s): e2e p50 {half.e2e_p50_s * 1e3:.1f} ms,"
                f" p99 {half.e2e_p99_s * 1e3:.1f} ms, max {half.e2e_max_s * 1e3:.1f} ms"
            )
    else:
        print("no offered load was sustained")
    print("== targets, as measured in this run")
    print(targets.table(report))
    json_path = args.out / f"bench-{stamp}.json"
    json_path.write_text(json.dumps(report, indent=2) + "\n")
    png_path = args.out / f"bench-{stamp}.png"
    plot.render(report, png_path)
    shutil.copyfile(json_path, args.out / "latest.json")
    shutil.copyfile(png_path, args.out / "latest.png")
    print(f"saved {json_path.relative_to(ROOT) if json_path.is_relative_to(ROOT) else json_path} and .png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
