"""Audit the locked dependencies for known vulnerabilities.

Runs `pip-audit` over requirements.lock first. Where its vulnerability services (PyPI's
per-release JSON API, OSV) cannot be reached, it falls back to PyPI's project JSON API
(https://docs.pypi.org/api/json/), which lists the known vulnerabilities of a project's
latest release with the versions that fix them: a pin is reported vulnerable when a listed
vulnerability's `fixed_in` versions are all newer than the pin, and a pin older than the
latest release is reported as such (it may carry a vulnerability fixed since). Exit status 1
when any locked package is vulnerable or could not be audited at all.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import httpx
from packaging.version import InvalidVersion, Version

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements.lock"
_PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==([^\s;]+)")


def pins(lock: Path = LOCK) -> list[tuple[str, str]]:
    """(name, version) of every `name==version` line in the lock file."""
    found = []
    for line in lock.read_text().splitlines():
        match = _PIN.match(line.strip())
        if match:
            found.append((match.group(1), match.group(2)))
    return found


def run_pip_audit() -> int | None:
    """pip-audit's exit status, or None when it could not reach a vulnerability service."""
    done = subprocess.run(
        [sys.executable, "-m", "pip_audit", "--progress-spinner", "off", "--strict", "--disable-pip",
         "--no-deps", "-r", str(LOCK)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode == 0:
        print(done.stdout.strip() or "pip-audit: no known vulnerabilities")
        return 0
    if "could not be audited" in done.stderr or "ConnectionError" in done.stderr:
        return None
    print(done.stdout, done.stderr, sep="\n")
    return done.returncode


def audit_with_project_json() -> int:
    """The fallback described in the module docstring; returns the exit status."""
    problems = 0
    behind = []
    with httpx.Client(timeout=20, follow_redirects=True) as client:
        for name, version in pins():
            response = client.get(f"https://pypi.org/pypi/{name}/json")
            if response.status_code != 200:
                print(f"UNAUDITED {name}=={version}: PyPI answered {response.status_code}")
                problems += 1
                continue
            data = response.json()
            latest = data["info"]["version"]
            try:
                pinned = Version(version)
            except InvalidVersion:
                print(f"UNAUDITED {name}=={version}: not a PEP 440 version")
                problems += 1
                continue
            for vuln in data.get("vulnerabilities") or []:
                fixes = [Version(v) for v in vuln.get("fixed_in") or []]
                if not fixes or all(fix > pinned for fix in fixes):
                    fixed = ", ".join(map(str, fixes)) or "no fix yet"
                    print(f"VULNERABLE {name}=={version}: {vuln.get('id')} (fixed in {fixed})")
                    problems += 1
            if pinned < Version(latest):
                behind.append(f"{name}=={version} (latest {latest})")
    if behind:
        print("older than their latest release (re-lock to pick up fixes):", ", ".join(behind))
    print(f"audited {len(pins())} locked packages via PyPI's JSON API: {problems} problem(s)")
    return 1 if problems else 0


def main() -> int:
    """Audit; see the module docstring."""
    status = run_pip_audit()
    if status is None:
        print("pip-audit could not reach a vulnerability service; using PyPI's project JSON API")
        status = audit_with_project_json()
    return status


if __name__ == "__main__":
    raise SystemExit(main())
