"""A dead letter fixed and replayed through the real command: handled once, answered once."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
import redis

from libs.messages import Keys
from tests.conftest import migrated_database, redis_namespace
from tests.e2e.harness import Mesh


def test_message_dead_lettered_before_the_menu_existed_is_replayed_once(
    pg_template: str, redis_url: str, tmp_path: Path
) -> None:
    """No store yet: orders cannot handle the message, retries it, and gives up after two
    deliveries. An operator loads the menu and replays it: one inbox row, one reply."""
    with migrated_database(pg_template) as db, redis_namespace(redis_url) as prefix:
        env = {"STREAM_MAX_DELIVERIES": "2", "STREAM_VISIBILITY_TIMEOUT_MS": "1000"}
        with Mesh(db, redis_url, prefix, tmp_path, service_env={"orders": env}) as mesh:
            mesh.start("ingress", "orders")
            keys = Keys(prefix)
            r = redis.Redis.from_url(redis_url)
            who = "whatsapp:+15550009903"
            params = mesh.message_params(who, "menu")
            mesh.say(who, "menu", MessageSid=params["MessageSid"])
            dead = keys.dead_letters(keys.inbound)
            mesh.wait_until(lambda: r.xlen(dead) == 1, 30, "the message dead-lettered")

            listed = mesh.run_cli("dead-letters", "list")
            (line,) = listed.splitlines()
            assert "kind=inbound_message" in line and "no store is loaded" in line
            mesh.run_cli("load-menu", "--demo")
            replayed = mesh.run_cli("dead-letters", "replay", "--all")
            assert replayed.startswith("replayed ")
            assert r.xlen(dead) == 0

            def handled() -> int:
                with psycopg.connect(db) as conn:
                    row = conn.execute(
                        "SELECT count(*) FROM inbox WHERE message_sid = %s", (params["MessageSid"],)
                    ).fetchone()
                return int(row[0]) if row else 0

            mesh.wait_until(handled, 15, "the replayed message handled")
            with psycopg.connect(db) as conn:
                (replies,) = conn.execute(
                    "SELECT count(*) FROM outbox WHERE to_address = %s", (who,)
                ).fetchone() or (0,)
            assert replies == 1
            with pytest.raises(AssertionError, match="no dead letter"):
                mesh.run_cli("dead-letters", "replay", line.split()[0])
            r.close()
