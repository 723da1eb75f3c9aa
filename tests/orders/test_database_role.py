"""orders needs no superuser: migrations, menu loading and message handling as a plain owner role."""

from __future__ import annotations

import subprocess
import sys
import uuid
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

from tests.conftest import ADMIN_DSN, ROOT


def test_plain_owner_role_migrates_loads_and_serves() -> None:
    role = f"wa_owner_{uuid.uuid4().hex[:8]}"
    database = f"wa_role_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
        admin.execute(
            sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION").format(
                sql.Identifier(role)
            )
        )
        admin.execute(
            sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(database), sql.Identifier(role))
        )
    url = urlunsplit(
        urlsplit(ADMIN_DSN)._replace(
            netloc=f"{role}@{urlsplit(ADMIN_DSN).hostname}:{urlsplit(ADMIN_DSN).port or 5432}",
            path=f"/{database}",
        )
    )
    try:
        env = {"DATABASE_URL": url, "PATH": "/usr/bin:/bin"}
        for args in (["migrate"], ["migrate"], ["load-menu", "--demo"]):
            done = subprocess.run(
                [sys.executable, "-m", "services.orders", *args],
                cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False,
            )  # fmt: skip
            assert done.returncode == 0, done.stderr
        with psycopg.connect(url) as conn:
            (superuser,) = conn.execute(
                "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"
            ).fetchone() or (None,)
            assert superuser is False
            (items,) = conn.execute("SELECT count(*) FROM items").fetchone() or (0,)
            assert items > 0
    finally:
        with psycopg.connect(ADMIN_DSN, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database)))
            admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))
