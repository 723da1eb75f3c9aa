"""`make run` on a machine with neither PostgreSQL nor Redis: the embedded servers."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path

import psycopg
import pytest
import redis

from tests.conftest import ROOT


def _run(action: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "devtools.localenv", action],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip


def test_embedded_servers_start_migrate_load_the_demo_and_stop(embedded_dir: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update({"LOCALENV_DIR": str(embedded_dir), "LOCALENV_EMBEDDED": "1"})
    try:
        up = _run("up", env)
        assert up.returncode == 0, up.stdout + up.stderr
        assert "embedded PostgreSQL running" in up.stdout and "embedded Redis running" in up.stdout
        values = dict(
            line.split("=", 1) for line in (embedded_dir / ".run" / "env").read_text().splitlines() if line
        )
        assert values["REDIS_URL"].startswith("unix://")
        assert values["HOST"] == "127.0.0.1"
        assert values["REDIS_KEY_PREFIX"] == "wa"
        with psycopg.connect(values["DATABASE_URL"]) as conn:
            (items,) = conn.execute("SELECT count(*) FROM items").fetchone() or (0,)
        assert items > 0
        assert redis.Redis.from_url(values["REDIS_URL"]).ping()
        again = _run("up", env)  # a second `make run` reuses what is there
        assert again.returncode == 0, again.stdout + again.stderr
    finally:
        down = _run("down", env)
    assert down.returncode == 0, down.stdout + down.stderr
    assert not (embedded_dir / ".data" / "redis.pid").exists()
    assert not (embedded_dir / ".data" / "pg" / "postmaster.pid").exists()


def test_a_failed_system_user_for_the_embedded_postgres_is_one_plain_line(
    embedded_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """As root in a user namespace (`unshare --map-root-user`), pgserver's `useradd` fails: the
    newcomer gets one line saying what failed and what to do, not pgserver's traceback."""
    from devtools import localenv

    with warnings.catch_warnings():  # platformdirs: XDG_RUNTIME_DIR unset (localenv silences it too)
        warnings.simplefilter("ignore")
        import pgserver.postgres_server

    def refuse(*args: object, **kwargs: object) -> None:
        raise subprocess.CalledProcessError(
            1,
            ["useradd", "-s", "/bin/bash", "pgserver"],
            stderr="useradd: cannot lock /etc/passwd; try again later.\n",
        )

    monkeypatch.setattr(pgserver.postgres_server, "get_server", refuse)
    monkeypatch.setattr(localenv, "DATA", embedded_dir / ".data")
    with pytest.raises(SystemExit) as stopped:
        localenv.start_embedded_postgres()
    message = str(stopped.value.code)
    assert "\n" not in message
    assert "`useradd -s /bin/bash pgserver` failed (useradd: cannot lock /etc/passwd" in message
    assert "DATABASE_URL" in message and "normal user" in message
