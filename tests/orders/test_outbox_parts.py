"""Splitting a reply into WhatsApp messages: never a part over Twilio's 1,600 characters, and a
bounded number of parts per reply."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from services.orders.storage.outbox import MAX_BODY_CHARS, MAX_REPLY_PARTS, SHORTENED, split_body

MARKER = re.compile(r"^\((\d+)/(\d+)\) ")


def unmarked(parts: list[str]) -> list[str]:
    """The parts without their `(i/n) ` markers, checking the markers count 1..n."""
    if len(parts) == 1:
        return parts
    out = []
    for index, part in enumerate(parts, 1):
        found = MARKER.match(part)
        assert found is not None, part[:20]
        assert (int(found[1]), int(found[2])) == (index, len(parts))
        out.append(part[found.end() :])
    return out


def test_a_hundred_parts_without_spaces_stay_within_the_limit() -> None:
    # 120 parts: the markers "(100/120) " are wider than the room kept for "(12/12) ".
    body = "x" * (MAX_BODY_CHARS * 120)
    parts = split_body(body)
    assert len(parts) > 100
    assert max(len(p) for p in parts) <= MAX_BODY_CHARS
    assert "".join(unmarked(parts)) == body


def test_ten_parts_boundary_with_words() -> None:
    body = " ".join(["word"] * 4000)  # about 20,000 characters: 13 parts
    parts = split_body(body)
    assert 10 <= len(parts) < 100
    assert max(len(p) for p in parts) <= MAX_BODY_CHARS
    assert " ".join(unmarked(parts)).split() == body.split()


def test_short_body_is_one_part_unmarked() -> None:
    assert split_body("  hello  ") == ["hello"]
    assert split_body("") == ["…"]


@settings(max_examples=150, deadline=None)
@given(
    st.text(alphabet=st.sampled_from("ab \n🍕é"), min_size=0, max_size=9000),
    st.integers(min_value=40, max_value=400),
)
def test_every_part_fits_and_nothing_but_whitespace_is_lost(body: str, limit: int) -> None:
    parts = split_body(body, limit)
    assert all(0 < len(p) <= limit for p in parts)
    assert "".join("".join(unmarked(parts)).split()) == ("".join(body.split()) or "…")


def test_a_reply_is_bounded_to_a_few_parts_and_says_it_was_shortened() -> None:
    lines = "\n".join(f"{n}. 1 x Margherita (large, extra cheese) — 12.50" for n in range(1, 1200))
    parts = split_body(lines, max_parts=MAX_REPLY_PARTS)
    assert len(parts) == MAX_REPLY_PARTS
    assert max(len(p) for p in parts) <= MAX_BODY_CHARS
    assert parts[-1].endswith(SHORTENED)
    assert parts[0].startswith(f"(1/{MAX_REPLY_PARTS}) 1. 1 x Margherita")
    # A reply that fits is not touched by the bound.
    assert split_body("short", max_parts=MAX_REPLY_PARTS) == ["short"]


def test_the_bound_of_one_part_still_fits_the_limit() -> None:
    parts = split_body("y" * 5000, max_parts=1)
    assert len(parts) == 1 and len(parts[0]) <= MAX_BODY_CHARS and parts[0].endswith(SHORTENED)
