"""Fault-test fixtures: the mesh behind fault proxies, a customer load, and the ledger check.

Every service reaches Redis through one `ProxyThread` and orders reaches PostgreSQL through
another, so a test can cut, refuse or hold those connections without touching the shared
servers other test runs use. Timeouts are shortened (and kept consistent: each handler's
budget stays under its visibility timeout) so a fault and its recovery fit in seconds.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import AUTH_TOKEN, migrated_database, redis_namespace
from tests.e2e.harness import ACCOUNT_SID, SERVICES, Mesh
from tests.faults.proxy import ProxyThread
from tests.faults.workload import Ledger, Load, settle

# Shorter than production, consistent with each other (see the module docstring).
FAST_ENV = {
    "CUSTOMER_MESSAGE_LIMIT": "100000",  # the load talks faster than the flood limit allows
    "DB_POOL_TIMEOUT_SECONDS": "2",
    "TWILIO_CONNECT_TIMEOUT_SECONDS": "1",
    "TWILIO_READ_TIMEOUT_SECONDS": "3",
    "NOTIFIER_HANDLER_BUDGET_SECONDS": "4",  # + connect 1 + read 3 < visibility 10
    "TWILIO_RETRY_BASE_SECONDS": "0.05",
    "TWILIO_RETRY_CAP_SECONDS": "0.5",
    "TWILIO_RECONCILE_SETTLE_SECONDS": "2",  # > how late past the read timeout a slow answer comes
    "SANDBOX_CALLBACK_DELAY_SECONDS": "0.05",
    "SANDBOX_LIST_LAG_SECONDS": "0.3",  # Twilio's list is eventually consistent; < the settle delay
}
SERVICE_ENV = {
    # Reclaim soon after a crash, yet longer than the slowest handler while PostgreSQL is
    # down (2 s pool wait) plus one heartbeat of the pause.
    "orders": {"STREAM_VISIBILITY_TIMEOUT_MS": "6000"},
    "notifier": {"STREAM_VISIBILITY_TIMEOUT_MS": "10000"},
}


def _with_port(url: str, port: int) -> str:
    parts = urlsplit(url)
    host = parts.hostname or "127.0.0.1"
    user = f"{parts.username}@" if parts.username else ""
    return urlunsplit(parts._replace(netloc=f"{user}{host}:{port}"))


@dataclass
class FaultMesh:
    """A running mesh, its proxies, and the URLs to reach the real servers directly."""

    mesh: Mesh
    redis_proxy: ProxyThread
    pg_proxy: ProxyThread
    database_url: str
    redis_url: str

    def load(self, **kwargs: object) -> Load:
        """A customer load on this mesh's ingress replicas (not started)."""
        ingress = [self.mesh.url(n) for n in self.mesh.procs if Mesh.base(n) == "ingress"]
        return Load(
            ingress_urls=ingress,
            public_url=self.mesh.url("ingress"),
            sandbox_url=self.mesh.url("sandbox"),
            auth_token=AUTH_TOKEN,
            account_sid=ACCOUNT_SID,
            **kwargs,  # type: ignore[arg-type]
        )

    def ledger(self, load: Load, timeout_s: float = 60) -> Ledger:
        """The ledger once nothing is in flight (or after `timeout_s`)."""
        return settle(load, self.database_url, self.redis_url, self.mesh.key_prefix, timeout_s=timeout_s)

    def fault(self, mode: str, count: int, **extra: float) -> None:
        """Arm the sandbox's Twilio fault for its next `count` Messages API calls."""
        response = self.mesh.http.post(
            self.mesh.url("sandbox") + "/sandbox/faults", json={"mode": mode, "count": count, **extra}
        )
        response.raise_for_status()

    def fault_left(self) -> int:
        """How many armed Twilio faults are still to fire."""
        return int(self.mesh.http.get(self.mesh.url("sandbox") + "/sandbox/faults").json()["count"])

    def ready(self, name: str) -> int:
        """The status of a service's /ready (0 when it does not answer)."""
        try:
            return self.mesh.http.get(self.mesh.url(name) + "/ready", timeout=5).status_code
        except Exception:
            return 0

    def metric(self, name: str, metric: str, **labels: str) -> float:
        """The sum of `metric`'s samples on one process's /metrics whose labels include `labels`."""
        text = self.mesh.http.get(self.mesh.url(name) + "/metrics", timeout=5).text
        total = 0.0
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == metric and all(sample.labels.get(k) == v for k, v in labels.items()):
                    total += sample.value
        return total

    def wait_sent_at_least(self, load: Load, count: int, timeout: float = 30) -> None:
        """Wait until the load has posted `count` messages."""
        self.mesh.wait_until(lambda: load.sent_count >= count, timeout, f"{count} messages posted")


@pytest.fixture(scope="session")
def fault_mesh(
    pg_template: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FaultMesh]:
    """The mesh (one replica each) behind the Redis and PostgreSQL proxies, demo store loaded.

    Shared by the fault modules (starting a mesh costs seconds): every test uses customers of
    its own, restores what it broke in a `finally`, and restarts what it killed.
    """
    with _fault_mesh(pg_template, redis_url, Path(tmp_path_factory.mktemp("faults"))) as fm:
        yield fm


@pytest.fixture(scope="module")
def scaled_mesh(
    pg_template: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FaultMesh]:
    """Two replicas of ingress, orders and notifier (`ingress-2`, ...) on one database and prefix."""
    log_dir = Path(tmp_path_factory.mktemp("scaled"))
    with _fault_mesh(pg_template, redis_url, log_dir, replicas=REPLICAS) as fm:
        yield fm


REPLICAS = ("ingress-2", "orders-2", "notifier-2")


@contextlib.contextmanager
def _fault_mesh(
    template: str, redis_url: str, log_dir: Path, replicas: tuple[str, ...] = ()
) -> Iterator[FaultMesh]:
    with (
        migrated_database(template) as db,
        redis_namespace(redis_url) as prefix,
        _fault_mesh_on(db, redis_url, prefix, log_dir, replicas=replicas) as fm,
    ):
        yield fm


@contextlib.contextmanager
def _fault_mesh_on(
    db: str, redis_url: str, prefix: str, log_dir: Path, *, replicas: tuple[str, ...] = ()
) -> Iterator[FaultMesh]:
    """The mesh on database `db` and key `prefix`, behind fresh proxies, demo store loaded."""
    with (
        ProxyThread(_target(redis_url, 6379)) as redis_proxy,
        ProxyThread(_target(db, 5432)) as pg_proxy,
    ):
        env = {
            name: {**extra, "REDIS_URL": _with_port(redis_url, redis_proxy.port)}
            for name, extra in {**SERVICE_ENV, "ingress": {}}.items()
        }
        env["orders"]["DATABASE_URL"] = _with_port(db, pg_proxy.port)
        with Mesh(db, redis_url, prefix, log_dir, extra_env=dict(FAST_ENV), service_env=env) as mesh:
            mesh.run_cli("load-menu", "--demo")
            mesh.start(*SERVICES, *replicas)
            yield FaultMesh(mesh, redis_proxy, pg_proxy, db, redis_url)


def _target(url: str, default_port: int) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or default_port


def assert_guarantee(ledger: Ledger, *, strict_orders: bool = True) -> None:
    """Fail with every broken promise and the whole ledger."""
    problems = ledger.problems(strict_orders=strict_orders)
    assert not problems, "\n".join([*problems, *(f"  {k}: {v}" for k, v in ledger.summary().items())])


def run_load(fm: FaultMesh, seconds: float, **kwargs: object) -> Load:
    """Start a load, keep it running `seconds`, and return it still running."""
    load = fm.load(**kwargs).start()
    time.sleep(seconds)
    return load
