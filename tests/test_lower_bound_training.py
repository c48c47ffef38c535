"""Denoising against lower-bound training (issue 15, question 1): the compared points, their
run tags, and the table and figure against the files they are made from."""

from __future__ import annotations

import copy
import json

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
    assert runs.objective_tag(config, "denoising", 4) == "_seed4"
    off = with_section(enabled=False)
    assert not any("objective" in tag for tag in runs.run_tags(off))


def test_sampling_steps_keep_the_final_model_s_proportion():
    assert CONFIG["sampling"]["sampling_steps"] / CONFIG["final"]["steps"] == 2
    steps = [study.objective_sampling_steps(CONFIG, t) for t in (15, 10, 5, 1)]
    assert steps == [30, 20, 10, 2]


# --- the artifact --------------------------------------------------------------------------

SHAPE = (1, 3, 3)
RUNS = [  # point, grid point, objective, seed
    (point, grid_point, objective, seed)
    for point, grid_point in (("final, d", "T3-a0-w0.1"), ("b", "T2-a0-w0.2"))
    for objective in ("denoising", "lower_bound")
    for seed in (0, 1)
]


def write_run(folder, i: int, rng) -> dict:
    """Synthetic files of run i and the values they hold."""
    folder.mkdir()
    values = {
        "lower_bound": rng.normal(100, 5),
        "importance": rng.normal(120, 5),
        "parzen": rng.normal(50, 5),
        # epochs 0 (the initialisation) and 1 far below the rest, as in a real run
        "valid": np.concatenate([[-4000.0, -1000.0], rng.normal(0, 10, 4)]),
        "means": rng.uniform(0, 1, (10, 9)),
    }
    (folder / "likelihood.json").write_text(json.dumps({
        "settings": {"split": "test"},
        "proposal": f"own-x{i + 1}",
        "lower_bound": {"mean": values["lower_bound"]},
        "importance": {"mean": values["importance"]},
    }))  # fmt: skip
    (folder / "parzen.json").write_text(json.dumps({"mean": values["parzen"]}))
    pd.DataFrame({"epoch": range(6), "valid_lower_bound": values["valid"]}).to_csv(
        folder / "metrics.csv", index=False
    )
    np.savez(folder / "samples.npz", means=values["means"], shape=np.array(SHAPE))
    return values


@pytest.fixture
def made(tmp_path, kept_figures):
    rng = np.random.default_rng(0)
    values = [write_run(tmp_path / f"run{i}", i, rng) for i in range(len(RUNS))]
    files = {
        name: [str(tmp_path / f"run{i}" / f"{name}.{ext}") for i in range(len(RUNS))]
        for name, ext in (
            ("likelihood", "json"),
            ("parzen", "json"),
            ("samples", "npz"),
            ("metrics", "csv"),
        )  # fmt: skip
    }
    point, grid_point, objective, seed = (list(column) for column in zip(*RUNS, strict=True))
    out, figure = tmp_path / "lbt.csv", tmp_path / "lbt.png"
    lower_bound_training(**files, point=point, grid_point=grid_point, objective=objective,
                         seed=seed, out=out, figure_out=figure)  # fmt: skip
    (fig,) = kept_figures
    return pd.read_csv(out), values, fig


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
            x = (0 if point == "final, d" else 1) + (-0.15 if objective == "denoising" else 0.15)
            assert np.isclose(points[:, 1], values[i][key]).sum() == 1
            (match,) = points[np.isclose(points[:, 1], values[i][key])]
            assert match[0] == pytest.approx(x)
        for bars in ax.containers:  # mean +- std (ddof 1) of the two seeds
            (x,), (y,) = bars.lines[0].get_data()
            seeds = [v[key] for v, (p, _, o, _) in zip(values, RUNS, strict=True)
                     if (0 if p == "final, d" else 1) + (-0.15 if o == "denoising" else 0.15)
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


def test_one_of_each_input_a_run(tmp_path):
    with pytest.raises(ValueError, match="one of each input a run"):
        lower_bound_training(["a"], ["b"], ["c"], [], ["final"], ["T1"], ["denoising"], [0],
                             tmp_path / "x.csv", tmp_path / "x.png")  # fmt: skip
