"""Running Prometheus' `promtool` from tests: found on PATH, or the test fails saying how to get it."""

from __future__ import annotations

import shutil
import subprocess

import pytest

Completed = subprocess.CompletedProcess[str]


def promtool(
    *args: str, stdin: bytes | None = None, cwd: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `promtool ARGS`; fails the test (never skips) when promtool is not installed."""
    exe = shutil.which("promtool")
    if exe is None:
        pytest.fail("promtool is not installed: run `make test-deps` (Debian: apt-get install prometheus)")
    return subprocess.run(
        [exe, *args],
        input=None if stdin is None else stdin.decode(),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
