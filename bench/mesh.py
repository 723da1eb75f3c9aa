"""The mesh under load: the e2e harness' processes with production-like settings.

`BenchMesh` is `tests.e2e.harness.Mesh` (the same real processes on free ports) with:
- the production visibility timeout (the harness shortens it to test crash recovery; under load
  that would reclaim entries still being handled and count them twice);
- the notifier's Twilio pace raised to its maximum: it paces to Twilio's per-sender limit
  (80/s by default), which the local sandbox does not have, and the bench measures the mesh;
- status callbacks on or off: without PUBLIC_BASE_URL the notifier asks for none, so each
  reply costs one webhook in instead of four (`callbacks=False`, the default).
`database()` creates and drops a migrated database holding the demo store.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import redis
from psycopg import sql

from tests.e2e.harness import Mesh

ADMIN_DSN = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")

BENCH_ENV = {
    "STREAM_VISIBILITY_TIMEOUT_MS": "60000",
    "TWILIO_SEND_RATE_PER_SECOND": "10000",
    "SANDBOX_CALLBACK_DELAY_SECONDS": "0",
}


@dataclass
class BenchMesh(Mesh):
    """A `Mesh` for measuring; see the module docstring."""

    callbacks: bool = False

    def env(self, name: str) -> dict[str, str]:
        """The harness' environment plus `BENCH_ENV`; no status callbacks unless asked."""
        env = super().env(name)
        env.update(BENCH_ENV)
        if name == "notifier" and not self.callbacks:
            env.pop("PUBLIC_BASE_URL", None)
        return env


@contextlib.contextmanager
def database() -> Iterator[str]:
    """A new empty database on the test server; yields its URL and drops it afterwards."""
    name = f"wa_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(ADMIN_DSN, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield urlunsplit(urlsplit(ADMIN_DSN)._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(ADMIN_DSN, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@contextlib.contextmanager
def key_prefix() -> Iterator[str]:
    """A fresh Redis key prefix; every key under it is deleted afterwards."""
    prefix = f"bench{uuid.uuid4().hex[:8]}"
    try:
        yield prefix
    finally:
        client = redis.Redis.from_url(REDIS_URL)
        for batch in _batches(client.scan_iter(match=f"{prefix}:*", count=5000), 5000):
            client.delete(*batch)
        client.close()


def _batches(items: Iterator[bytes], size: int) -> Iterator[list[bytes]]:
    batch: list[bytes] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


@contextlib.contextmanager
def mesh(log_dir: Path, *, callbacks: bool = False) -> Iterator[BenchMesh]:
    """A migrated database with the demo store, a key prefix, and a `BenchMesh` (not started)."""
    with database() as db, key_prefix() as prefix:
        bench_mesh = BenchMesh(db, REDIS_URL, prefix, log_dir, callbacks=callbacks)
        with bench_mesh:  # Mesh.__enter__ is typed as returning the base class
            bench_mesh.run_cli("migrate")
            bench_mesh.run_cli("load-menu", "--demo")
            yield bench_mesh
