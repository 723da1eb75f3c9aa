"""`new_id`: 32 hex characters, unique within a process and across forked ones."""

from __future__ import annotations

import os
import re

from libs.messages import new_id


def test_ids_are_32_hex_characters_and_never_repeat() -> None:
    ids = [new_id() for _ in range(10_000)]
    assert all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids)
    assert len(set(ids)) == len(ids)


def test_a_forked_child_draws_ids_of_its_own() -> None:
    """A worker forked after import must not replay its parent's ids (same counter, same prefix)."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: send its next id and leave at once
        os.write(write, new_id().encode())
        os._exit(0)
    os.close(write)
    child = os.read(read, 64).decode()
    os.close(read)
    os.waitpid(pid, 0)
    mine = new_id()
    assert len(child) == 32
    assert child[:16] != mine[:16]
