"""The understanding evals as tests: the labelled conversation set, and the PIZZA evaluation's
machinery on a small sample of the project's own (tests/data/pizza-sample, written in the
benchmark's format). The benchmark itself is licensed data kept outside the repository and is
scored by `make eval-pizza`, not here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from evals import messages as conversation_eval
from evals.pizza import __main__ as pizza_cli
from evals.pizza import evaluation as eval_pizza
from services.orders.menu.catalog import load_menu_file
from tests.conftest import ROOT

SAMPLE = ROOT / "tests" / "data" / "pizza-sample"


def test_conversation_eval_at_least_95_percent() -> None:
    path = conversation_eval.default_cases_path()
    cases = conversation_eval.load_cases(path)
    assert len(cases) >= 200, f"the labelled set needs at least 200 messages, has {len(cases)}"
    report = conversation_eval.evaluate(path)
    misses = "\n".join(f"{t!r}: expected {w}, got {g}" for t, w, g in report.misses)
    assert report.accuracy >= conversation_eval.TARGET, f"{report.accuracy:.1%}\n{misses}"


def test_pizza_evaluation_scores_the_own_sample() -> None:
    report = eval_pizza.evaluate(SAMPLE)
    shown = "\n".join(f"{t}\n  want {e}\n  got  {g}" for t, e, g, _ in report.mismatches)
    assert report.total == 12
    assert report.correct == report.total, shown


def _sample_with_one_wrong_reference(directory: Path) -> Path:
    """A copy of the sample whose first reference says SMALL where the order says large."""
    (directory / "catalogs").symlink_to(SAMPLE / "catalogs")
    rows = (SAMPLE / "PIZZA_dev.json").read_text().splitlines()
    rows[0] = rows[0].replace("(SIZE LARGE )", "(SIZE SMALL )")
    (directory / "PIZZA_dev.json").write_text("\n".join(rows))
    return directory


def test_pizza_evaluation_counts_a_wrong_reference_as_a_miss(tmp_path: Path) -> None:
    _sample_with_one_wrong_reference(tmp_path)
    report = eval_pizza.evaluate(tmp_path)
    assert (report.total, report.correct) == (12, 11)
    assert report.mismatches[0][3] == ("SIZE",)


def test_swapped_entity_variants_come_from_the_sample_catalogs() -> None:
    report = eval_pizza.evaluate(SAMPLE, swapped=True)
    assert report.total > 12
    assert report.accuracy >= eval_pizza.TARGET


def test_missing_benchmark_data_says_where_to_get_it(tmp_path: Path) -> None:
    with pytest.raises(eval_pizza.PizzaDataMissing, match="amazon-science/pizza-semantic-parsing-dataset"):
        eval_pizza.evaluate(tmp_path)
    assert eval_pizza.pizza_dir({"PIZZA_DIR": str(tmp_path)}) == tmp_path


def test_eval_pizza_command_fails_below_its_threshold(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _sample_with_one_wrong_reference(tmp_path)
    monkeypatch.setenv("PIZZA_DIR", str(tmp_path))
    assert pizza_cli.main(["--threshold", "0.9"]) == 0  # 11/12 = 91.7%
    assert pizza_cli.main(["--threshold", "0.98"]) == 1
    monkeypatch.setenv("PIZZA_DIR", str(tmp_path / "nowhere"))
    assert pizza_cli.main([]) == 2


def test_pizza_menu_file_loads_through_the_menu_format(tmp_path: Path) -> None:
    from evals.pizza.menu import pizza_menu_yaml

    out = tmp_path / "pizza.yaml"
    out.write_text(pizza_menu_yaml(SAMPLE / "catalogs"), encoding="utf-8")
    menu = load_menu_file(out)
    assert menu.item("coke") is not None and menu.group("toppings") is not None
