"""The benchmark's PNG: end-to-end latency against offered load, and ingress against its ceiling."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display: render straight to a file

import matplotlib.pyplot as plt


def render(report: dict[str, Any], path: Path) -> None:
    """Write the figure for `report` (the JSON `python -m bench` saves) to `path`."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 5), gridspec_kw={"width_ratios": [2, 1]})
    loads = report.get("end_to_end", [])
    if loads:
        rates = [r["offered_per_s"] for r in loads]
        for key, label, style in (
            ("e2e_p50_s", "p50", "o-"),
            ("e2e_p99_s", "p99", "s-"),
            ("e2e_max_s", "max", "^:"),
        ):
            left.plot(rates, [r[key] * 1e3 for r in loads], style, label=label)
        for r in loads:
            if not r["sustained"]:
                left.axvline(r["offered_per_s"], color="red", alpha=0.3)
        left.set_yscale("log")
        left.set_xlabel("offered load (messages/s); red: backlog grew (not sustained)")
        left.set_ylabel("webhook accepted -> reply at the sandbox (ms)")
        left.set_title(f"End to end; highest sustained: {report.get('max_sustained_per_s', 0):g} msg/s")
        left.axhline(50, color="grey", linestyle="--", linewidth=0.8)
        left.grid(True, which="both", alpha=0.3)
        left.legend()
    sat = report.get("saturation")
    if sat:
        names = ["ingress\n(accepted)", "hello world"]
        rps = [sat["ingress"]["accepted_per_s"] or 0.0, sat["hello"]["requests_per_s"]]
        bars = right.bar(names, rps, color=["tab:blue", "tab:grey"])
        for bar, run in zip(bars, (sat["ingress"], sat["hello"]), strict=True):
            right.annotate(
                f"p50 {run['p50_s'] * 1e3:.1f} ms\np99 {run['p99_s'] * 1e3:.1f} ms",
                (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                ha="center",
                va="bottom",
                fontsize=8,
            )
        right.set_ylim(0, max(rps) * 1.2)  # room for the labels above the bars
        right.set_ylabel("requests/s, 1 worker, wrk -t1 -c32")
        right.set_title(f"ingress / bare uvicorn = {sat['ratio']:.1%}")
    machine = report.get("machine", {})
    fig.suptitle(
        f"{machine.get('cpus')} CPUs, load average before {machine.get('loadavg', [0])[0]:.1f},"
        f" commit {machine.get('commit')}, {report.get('when')}",
        fontsize=9,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
