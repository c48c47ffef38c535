"""The cost estimate: linear in epochs, grid points and chains; shared points counted once."""

import copy
from pathlib import Path

import pytest
import yaml

from infusion.cli import main
from infusion.cost import estimate_cost, merge_config

ROOT = Path(__file__).resolve().parent.parent
CONFIG = yaml.safe_load((ROOT / "config.yaml").read_text())
RATES = {"examples_per_s": 4000.0, "chain_steps_per_s": 10000.0}


def hours(config, stage):
    table = estimate_cost(config, **RATES).set_index("stage")
    return float(table.loc[stage, "hours"])


def test_total_row_sums_the_stages():
    table = estimate_cost(CONFIG, **RATES)
    assert list(table.columns) == ["stage", "jobs", "hours"]
    assert table["stage"].iloc[-1] == "total"
    assert table["hours"].iloc[-1] == pytest.approx(table["hours"].iloc[:-1].sum())
    assert table.set_index("stage").loc["train", "jobs"] == 46  # the paper's grid


def test_training_hours_double_with_epochs():
    doubled = copy.deepcopy(CONFIG)
    doubled["training"]["epochs"] *= 2
    assert hours(doubled, "train") == pytest.approx(2 * hours(CONFIG, "train"))


def test_training_and_grid_evaluation_double_with_the_grid_points():
    one = {**CONFIG, "grid": [{"panel": "b", "steps": 5, "alpha0": [0.0], "omega": [0.0, 0.1]}]}
    two = {**one, "grid": [{**one["grid"][0], "omega": [0.0, 0.1, 0.2, 0.3]}]}
    for stage in ("train", "grid_evaluation"):
        assert hours(two, stage) == pytest.approx(2 * hours(one, stage))


def test_table_3_1_hours_double_with_the_chains():
    doubled = merge_config(CONFIG, {"evaluation": {"chains": 2 * CONFIG["evaluation"]["chains"]}})
    # The isotropic variance's few validation chains do not scale with `chains`: 5e-5 of it.
    assert hours(doubled, "evaluation") == pytest.approx(2 * hours(CONFIG, "evaluation"), rel=1e-3)
    assert doubled["evaluation"]["seed"] == CONFIG["evaluation"]["seed"]  # merged, not replaced


def test_a_point_shared_by_two_panels_is_trained_once():
    point = {"steps": 10, "alpha0": [0.0], "omega": [0.0]}
    single = {**CONFIG, "grid": [{"panel": "c", **point}]}
    shared = {**CONFIG, "grid": [{"panel": "c", **point}, {"panel": "e", **point}]}
    assert hours(shared, "train") == hours(single, "train")
    assert estimate_cost(shared, **RATES)["jobs"].iloc[0] == 1


def test_overlay_lists_replace_and_width_scales_quadratically():
    overlay = {"grid": [{"panel": "a", "steps": 1, "alpha0": [0.0], "omega": [0.0]}]}
    merged = merge_config(CONFIG, overlay | {"model": {"hidden": 600}})
    assert merged["grid"] == overlay["grid"] and merged["model"]["layers"] == 2
    wide = merge_config(merged, {"model": {"hidden": 1200}})
    assert hours(merged, "train") == pytest.approx(hours(wide, "train") / 4)


def test_cli_prints_the_table_with_a_total_row(capsys):
    main(["cost", "--config", str(ROOT / "config.yaml"), "--configfile",
          str(ROOT / "workflow/configs/tiny.yaml"), "--examples-per-s", "4000",
          "--chain-steps-per-s", "10000"])  # fmt: skip
    out = capsys.readouterr().out
    lines = out.strip().splitlines()
    assert lines[1].split() == ["stage", "jobs", "hours"]
    assert lines[-1].split()[0] == "total"
    assert lines[-1].split()[1] == str(
        5 + 5 + 2 + 6
    )  # tiny: 5 points; train, grid eval, 3.1, samples
    assert "train" in out and "sampling" in out
