"""Fixtures for the local environment tests."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def embedded_dir() -> Iterator[Path]:
    """A folder for embedded servers' state, outside pytest's own temporary root.

    Run as root, the embedded PostgreSQL drops to its own user, which must reach its data
    folder; pytest keeps /tmp/pytest-of-<user> owner-only (and re-applies that whenever another
    pytest session starts), so state there becomes unreadable to it mid-test."""
    path = Path(tempfile.mkdtemp(prefix="wa-embedded-"))
    path.chmod(0o755)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
