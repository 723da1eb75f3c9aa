"""The labelled dialogues played through the real conversation (evals/conversations.py).

The tuning sets are a regression guard: the rules were written against them, so they must stay
understood and, above all, never end in a cart the customer did not ask for. The held-out
sets are scored by `make eval`, not here (a test on them would be tuning on them).
"""

from __future__ import annotations

from evals.conversations import DIALOGUES_DIR, Dialogue, Outcome, canonical_cart, load_dialogues, play
from services.orders.menu.catalog import QUALIFIERS, demo_menu_path, load_menu_file
from tests.conftest import ADMIN_DSN

# file -> (least share understood, most share of wrong carts)
FLOORS = {
    "en": (0.99, 0.0),
    "en-more": (0.97, 0.0),
    "en-third": (0.97, 0.0),
    "en-fourth": (0.99, 0.0),
    "en-fifth": (0.97, 0.0),
    "es-dev": (0.99, 0.0),
    "es-more": (0.98, 0.0),
    "es-third": (0.98, 0.0),
    "es-fourth": (0.87, 0.0),
    "pt-BR-dev": (0.98, 0.0),
    "pt-BR-more": (0.98, 0.0),
    "pt-BR-third": (0.97, 0.0),
    "pt-BR-fourth": (0.90, 0.0),
}


async def test_tuning_dialogues_stay_understood_and_never_end_in_a_wrong_cart(pg_template: str) -> None:
    reports = await play([DIALOGUES_DIR / f"{name}.yaml" for name in FLOORS], ADMIN_DSN)
    for report in reports:
        least, most_wrong = FLOORS[report.name]
        misses = "\n".join(
            f"{' | '.join(o.dialogue.turns)}: expected {sorted(o.expected.elements())}, "
            f"got {sorted(o.cart.elements())}"
            for o in report.outcomes
            if not o.understood
        )
        assert report.accuracy >= least, f"{report.name}: {report.accuracy:.1%}\n{misses}"
        assert report.wrong_cart_rate <= most_wrong, (
            f"{report.name}: wrong carts {report.wrong_cart_rate:.1%}\n{misses}"
        )


def test_every_dialogue_file_loads_with_known_categories_and_codes() -> None:
    menu = load_menu_file(demo_menu_path())
    categories = {"add", "set-quantity", "remove", "replace", "change-options", "reference", "question",
                  "small-talk", "unsure", "cancel"}  # fmt: skip
    for path in sorted(DIALOGUES_DIR.glob("*.yaml")):
        dialogues = load_dialogues(path)
        assert len(dialogues) >= 120, path.name
        for dialogue in dialogues:
            assert dialogue.category in categories, (path.name, dialogue)
            for line in dialogue.cart:
                quantity, code, *words = line.split()
                item = menu.item(code)
                assert item is not None and int(quantity) > 0, (path.name, line)
                groups = {g.code: g for g in menu.groups_of(item)}
                for word in words:
                    group_code, _, choice = word.lstrip("-").partition("=")
                    option, _, qualifier = choice.partition(":")
                    group = groups.get(group_code)
                    assert group is not None, (path.name, line, word)
                    assert option in {o.code for o in group.options}, (path.name, line, word)
                    qualified = not qualifier or (group.qualifiers and qualifier in QUALIFIERS)
                    assert qualified, (path.name, line, word)


def test_a_wrong_cart_is_told_from_an_asked_question() -> None:
    menu = load_menu_file(demo_menu_path())
    asked = Dialogue("unsure", ("a coke", "make it large"), ("1 coke",), "ask")
    before = canonical_cart([("coke", 1, ())], menu)
    wrong = canonical_cart([("coke", 1, ("drink-size=large",))], menu)
    outcome = Outcome(0, asked, before, before, ["ask"], [], before)
    assert outcome.understood and not outcome.wrong_cart
    outcome = Outcome(0, asked, wrong, before, ["changed"], [], before)
    assert not outcome.understood and outcome.wrong_cart
    # defaults are not part of a line, identical lines merge
    assert canonical_cart([("coke", 1, ("drink-size=regular",)), ("coke", 2, ())], menu) == canonical_cart(
        [("coke", 3, ())], menu
    )
