"""Denoising against lower-bound training (issue 15, question 1): the compared points, their
run tags, and the table and figure against the files they are made from."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from matplotlib.collections import PathCollection
from test_figures import assert_legends_outside_data
from workflow_runs import REPO

from infusion import runs, study
from infusion.beyond.lower_bound_training import lower_bound_training
from infusion.paper.drawing import tile
from infusion.published import TABLE_A1

CONFIG = study.load(REPO / "config.yaml")


def with_section(**section) -> dict:
    config = copy.deepcopy(CONFIG)
    config["lower_bound_training"] |= section
    return config


def test_config_yaml_s_optima_are_table_a_1_s_best_rates_of_the_increasing_panels():
    """The default points, read from the published numbers: each of panels (b)-(d)'s
    omega of the highest test bound."""
    text = yaml.safe_load((REPO / "config.yaml").read_text())
    best = {panel: max(TABLE_A1[panel], key=TABLE_A1[panel].get) for panel in ("b", "c", "d")}
    assert text["lower_bound_training"]["optima"] == best == {"b": 0.1, "c": 0.02, "d": 0.01}


def test_the_points_are_the_final_model_and_each_panel_s_nearest_grid_point():
    assert study.objective_points(CONFIG) == [
        ("final, d", (15, 0.0, 0.01)),  # (d)'s optimum is the final model
        ("b", (5, 0.0, 0.1)),
        ("c", (10, 0.0, 0.02)),
    ]
    # off-grid optima map to the panel's nearest omega; a panel the grid lacks is left out
    config = with_section(optima={"b": 0.115, "c": 0.071, "z": 0.5})
    assert study.objective_points(config) == [
        ("final", (15, 0.0, 0.01)),
        ("b", (5, 0.0, 0.1)),
        ("c", (10, 0.0, 0.07)),
    ]


def test_each_objective_and_seed_is_a_run_tag_that_sets_the_objective():
    config = with_section(enabled=True)
    config["training"]["seeds"] = [0, 4]
    tags = runs.run_tags(config)
    assert tags["_objective-lower_bound"] == {
        ("training", "objective"): "lower_bound",
        ("training", "seed"): 0,
    }
    assert tags["_objective-lower_bound_seed4"][("training", "seed")] == 4
    assert tags[""] == {("training", "seed"): 0}  # denoising, the study's own: no new run
    denoising = runs.training_run(config, "mnist", (15, 0.0, 0.01),
                                  {("training", "objective"): "denoising"}, 4)  # fmt: skip
    assert (denoising.tag, denoising.changes) == ("_seed4", {})
    off = with_section(enabled=False)
    assert not any("objective" in tag for tag in runs.run_tags(off))


def test_sampling_steps_keep_the_final_model_s_proportion():
    assert CONFIG["sampling"]["sampling_steps"] / CONFIG["final"]["steps"] == 2
    steps = [study.objective_sampling_steps(CONFIG, t) for t in (15, 10, 5, 1)]
    assert steps == [30, 20, 10, 2]


# --- the artifact --------------------------------------------------------------------------

SHAPE = (1, 3, 3)
# The plan of config.yaml with the optimum of panel (b) only and two seeds, written out by
# hand: point, grid point, objective, seed (the final model first, then (b)'s)
RUNS = [
    (point, grid_point, objective, seed)
    for point, grid_point in (("final", "T15-a0-w0.01"), ("b", "T5-a0-w0.1"))
    for objective in ("denoising", "lower_bound")
    for seed in (0, 1)
]


def write_run(files: dict, i: int, rng) -> dict:
    """Synthetic files of run i where the plan puts them, and the values they hold."""
    for path in files.values():
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    values = {
        "lower_bound": rng.normal(100, 5),
        "importance": rng.normal(120, 5),
        "parzen": rng.normal(50, 5),
        # epochs 0 (the initialisation) and 1 far below the rest, as in a real run
        "valid": np.concatenate([[-4000.0, -1000.0], rng.normal(0, 10, 4)]),
        "means": rng.uniform(0, 1, (10, 9)),
    }
    Path(files["likelihood"]).write_text(json.dumps({
        "settings": {"split": "test"},
        "proposal": f"own-x{i + 1}",
        "lower_bound": {"mean": values["lower_bound"]},
        "importance": {"mean": values["importance"]},
    }))  # fmt: skip
    Path(files["parzen"]).write_text(json.dumps({"mean": values["parzen"]}))
    pd.DataFrame({"epoch": range(6), "valid_lower_bound": values["valid"]}).to_csv(
        files["metrics"], index=False
    )
    np.savez(files["samples"], means=values["means"], shape=np.array(SHAPE))
    return values


def two_point_config() -> dict:
    config = with_section(enabled=True, optima={"b": 0.1})
    config["training"]["seeds"] = [0, 1]
    return config


@pytest.fixture
def made(tmp_path, monkeypatch, kept_figures):
    """The artifact run on :func:`two_point_config` written to a file, in a folder holding
    every planned run's files (and those of no other run)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(two_point_config()))
    plan = runs.objective_runs(two_point_config())
    rng = np.random.default_rng(0)
    values = [write_run(run.files(), i, rng) for i, run in enumerate(plan)]
    out, figure = tmp_path / "lbt.csv", tmp_path / "lbt.png"
    lower_bound_training(tmp_path / "config.yaml", out, figure)
    (fig,) = kept_figures
    return pd.read_csv(out), values, fig


def test_the_plan_reads_each_run_where_its_rules_write():
    """The final model's runs are read where Table 3.1's and Fig 3.4's rules score them
    (results/final/<dataset><tag>/), the other points' under the comparison's folder; the
    curves from each run's training folder."""
    config = two_point_config()
    final, lower = (run for run in runs.objective_runs(config)
                    if run.label == "final" and run.seed == 1)  # fmt: skip
    assert final.files() == {
        "likelihood": "results/final/mnist_seed1/likelihood_test.json",
        "parzen": "results/final/mnist_seed1/parzen.json",
        "samples": "results/final/mnist_seed1/samples.npz",
        "metrics": "results/runs/mnist/T15-a0-w0.01_seed1/metrics.csv",
    }
    assert lower.files()["likelihood"] == (
        "results/final/mnist_objective-lower_bound_seed1/likelihood_test.json"
    )
    (b,) = (run for run in runs.objective_runs(config)
            if run.label == "b" and run.objective == "lower_bound" and run.seed == 0)  # fmt: skip
    assert b.files()["parzen"] == (
        "results/beyond/lower-bound-training/mnist/T5-a0-w0.1_objective-lower_bound/parzen.json"
    )


def test_the_table_holds_each_run_s_estimates_and_best_epoch(made):
    table, values, _ = made
    assert (
        list(zip(table.point, table.grid_point, table.objective, table.seed, strict=True)) == RUNS
    )
    for i, (row, run) in enumerate(zip(table.itertuples(), values, strict=True)):
        assert row.proposal == f"own-x{i + 1}"
        assert row.test_lower_bound == pytest.approx(run["lower_bound"])
        assert row.importance_sampling == pytest.approx(run["importance"])
        assert row.parzen == pytest.approx(run["parzen"])
        assert row.best_epoch == int(np.argmax(run["valid"]))


def test_the_figure_draws_each_objective_s_seeds_curves_and_samples(made):
    table, values, fig = made
    estimates, curves, sheets = fig.axes[:3], fig.axes[3:5], fig.axes[5:7]
    assert_legends_outside_data(fig)
    keys = {"test_lower_bound": "lower_bound", "importance_sampling": "importance",
            "parzen": "parzen"}  # fmt: skip
    for ax, key in zip(estimates, keys.values(), strict=True):
        points = np.concatenate(
            [c.get_offsets() for c in ax.collections if isinstance(c, PathCollection)]
        )
        assert len(points) == len(RUNS)
        for i, (point, _, objective, _) in enumerate(RUNS):
            x = (0 if point == "final" else 1) + (-0.15 if objective == "denoising" else 0.15)
            assert np.isclose(points[:, 1], values[i][key]).sum() == 1
            (match,) = points[np.isclose(points[:, 1], values[i][key])]
            assert match[0] == pytest.approx(x)
        for bars in ax.containers:  # mean +- std (ddof 1) of the two seeds
            (x,), (y,) = bars.lines[0].get_data()
            seeds = [v[key] for v, (p, _, o, _) in zip(values, RUNS, strict=True)
                     if (0 if p == "final" else 1) + (-0.15 if o == "denoising" else 0.15)
                     == pytest.approx(x)]  # fmt: skip
            assert y == pytest.approx(np.mean(seeds))
            ((_, low), (_, high)) = bars.lines[2][0].get_segments()[0]
            assert (high - low) / 2 == pytest.approx(np.std(seeds, ddof=1))
    for ax, first in zip(curves, (0, 4), strict=True):
        drawn = [line.get_ydata() for line in ax.lines]
        for got, run in zip(drawn, values[first : first + 4], strict=True):
            np.testing.assert_allclose(got, run["valid"][1:])  # epochs >= 1
        # the y range holds the bulk (epochs >= 2); epoch 1's -1000 falls off the bottom
        low, high = ax.get_ylim()
        bulk = np.concatenate([run["valid"][2:] for run in values[first : first + 4]])
        assert low <= bulk.min() and high >= bulk.max() and -1000 < low
    for ax, first in zip(sheets, (0, 4), strict=True):  # first seed: runs first, first + 2
        rows = [values[first]["means"][:8], values[first + 2]["means"][:8]]
        expected = tile(np.stack(rows).reshape(2, 8, *SHAPE))[..., 0]
        np.testing.assert_allclose(ax.images[0].get_array(), expected)


def test_the_comparison_off_has_no_table(tmp_path):
    (tmp_path / "off.yaml").write_text(yaml.safe_dump({"lower_bound_training": {"enabled": False}}))
    with pytest.raises(ValueError, match="'lower_bound_training.enabled'"):
        lower_bound_training(REPO / "config.yaml", tmp_path / "x.csv", tmp_path / "x.png",
                             configfile=[tmp_path / "off.yaml"])  # fmt: skip
