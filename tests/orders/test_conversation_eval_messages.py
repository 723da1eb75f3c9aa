"""Every labelled message of the understanding eval, sent to the conversation as a first
message: each gets a reply (never the apology for an internal error, never over 1,600
characters), and a message the parser reads as order lines is added to the cart rather than
taken for a command (or asked about, with a numbered choice)."""

from __future__ import annotations

from evals import messages as conversation_eval
from services.orders.conversation.engine import SORRY
from services.orders.storage.outbox import MAX_BODY_CHARS
from tests.orders.chat import direct_chat


async def test_every_eval_message_gets_a_sensible_first_reply(database_url: str) -> None:
    cases = conversation_eval.load_cases(conversation_eval.default_cases_path())
    problems = []
    async with direct_chat(database_url) as chat:
        for i, (text, cart) in enumerate(cases):
            customer = f"whatsapp:+1555300{i:04d}"
            replies = await chat.say(text, customer=customer)
            joined = "\n".join(replies)
            if not replies or SORRY in joined or any(len(r) > MAX_BODY_CHARS for r in replies):
                problems.append(f"{text!r}: {replies!r}")
                continue
            wants_lines = any(line[0].isdigit() or line.startswith("?") for line in cart)
            # Asked about (a numbered choice: which item, or how many portions of a count of
            # pieces such as "ten wings") is as good as added.
            asked = "Which one" in joined or (
                "\n1. " in joined and "\n2. " in joined and "Added" not in joined
            )
            if wants_lines and "Added" not in joined and not asked:
                problems.append(f"{text!r} should add to the cart: {joined[:120]!r}")
    assert not problems, "\n".join(problems)
