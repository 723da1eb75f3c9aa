"""e2e fixtures: one mesh of real processes per test module, one demo store loaded."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import migrated_database, redis_namespace
from tests.e2e.harness import Mesh


@pytest.fixture(scope="module")
def mesh(pg_template: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mesh]:
    """The whole mesh, started once for the module, with the demo store loaded."""
    with migrated_database(pg_template) as db, redis_namespace(redis_url) as prefix:
        log_dir = Path(tmp_path_factory.mktemp("mesh"))
        with Mesh(db, redis_url, prefix, log_dir) as m:
            m.run_cli("load-menu", "--demo")
            m.start()
            yield m
