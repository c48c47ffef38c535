"""Several training seeds: their mean and std beside the paper's single number in the tables,
whether the paper's number lies within our seed spread, and their cost."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml
from test_tables import CONFIG, STUDY, evaluation, grid_of, make_run, write_json, write_study
from workflow_runs import REPO

from infusion import published as paper
from infusion.cost import estimate_cost
from infusion.paper import tables
from infusion.paper.grid import aggregate_grid
from infusion.paper.scorecard import scorecard
from infusion.throughput import Rates

PAPER_B = paper.TABLE_A1["b"][0.1]  # Table A.1 (B), omega = 0.1


def seed_runs(tmp_path, name, steps, alpha0, omega, bounds):
    return [make_run(tmp_path, f"{name}_s{i}", steps, alpha0, omega, b)
            for i, b in enumerate(bounds)]  # fmt: skip


@pytest.fixture
def seeded_grid(tmp_path):
    # (b) omega 0.1 spreads around the paper's value; (a) alpha0 0.3 lies far below it.
    runs = [
        ("b", seed_runs(tmp_path, "b", 5, 0.0, 0.1, [PAPER_B - 3.0, PAPER_B + 5.0, PAPER_B])),
        ("a", seed_runs(tmp_path, "a", 1, 0.3, 0.0, [100.0, 104.0, 101.0])),
    ]
    aggregate_grid(runs, tmp_path / "grid.csv", tmp_path / "curves.csv")
    return tables.table_a_1(tmp_path / "grid.csv", tmp_path / "a1.csv")


def test_table_a1_gives_mean_and_std_over_seeds(seeded_grid):
    b = seeded_grid[(seeded_grid.panel == "b") & seeded_grid.test_lower_bound.notna()].iloc[0]
    values = [PAPER_B - 3.0, PAPER_B + 5.0, PAPER_B]
    assert b.test_lower_bound == values[0]  # the first seed's run, as the figures show
    assert b.seeds == 3
    assert b.seed_mean == pytest.approx(sum(values) / 3)
    assert b.seed_std == pytest.approx(np.std(values, ddof=1))
    skipped = seeded_grid[seeded_grid.test_lower_bound.isna()]
    assert skipped.seeds.isna().all()


def test_a_seed_run_of_another_grid_point_is_refused(tmp_path):
    runs = [("b", [make_run(tmp_path, "x", 5, 0.0, 0.1, 1.0),
                   make_run(tmp_path, "y", 5, 0.0, 0.2, 1.0)])]  # fmt: skip
    with pytest.raises(ValueError, match="another seed"):
        aggregate_grid(runs, tmp_path / "grid.csv", tmp_path / "curves.csv")


@pytest.fixture
def seeded_final(tmp_path):
    tests, trains = [], []
    for i, base in enumerate([1300.0, 1310.0, 1330.0]):
        tests.append(tmp_path / f"test{i}.json")
        trains.append(tmp_path / f"train{i}.json")
        write_json(tests[-1], evaluation("test", base))
        write_json(trains[-1], evaluation("train", base - 100.0))
    parzens = []
    for i, mean in enumerate([300.0, 302.0, 301.0]):
        parzens.append(tmp_path / f"parzen{i}.json")
        write_json(parzens[-1], {"sigma": 0.17, "mean": mean, "stderr": 2.0, "n": 100,
                                 "samples": 500, "split": "test"})  # fmt: skip
    t31 = tables.table_3_1(tests, trains, tmp_path / "t31.csv")
    f34 = tables.fig_3_4(parzens, tmp_path / "f34.csv")
    return t31, f34


def test_table_3_1_and_fig_3_4_give_mean_and_std_over_seeds(seeded_final):
    t31, f34 = seeded_final
    lower = t31[t31.estimator == "lower bound"].iloc[0]  # evaluation(): lower_bound = base
    assert lower.test_mean == 1300.0 and lower.seeds == 3
    assert lower.test_seed_mean == pytest.approx(np.mean([1300, 1310, 1330]))
    assert lower.test_seed_std == pytest.approx(np.std([1300, 1310, 1330], ddof=1))
    assert lower.train_seed_mean == pytest.approx(np.mean([1200, 1210, 1230]))
    iso = t31[t31.model == "Infusion training + isotropic"].iloc[0]  # iso_importance = base + 3
    assert iso.test_seed_mean == pytest.approx(np.mean([1303, 1313, 1333]))
    assert t31[t31.estimator == "AIS"].seeds.isna().all()
    ours = f34[f34["mean"].notna()].iloc[0]
    assert ours["mean"] == 300.0 and ours.seeds == 3
    assert ours.seed_std == pytest.approx(np.std([300, 302, 301], ddof=1))


def test_table_3_1_needs_one_test_and_train_estimate_per_seed(tmp_path, seeded_final):
    a, b = tmp_path / "test0.json", tmp_path / "train0.json"
    with pytest.raises(ValueError, match="as many test as train"):
        tables.table_3_1([a, tmp_path / "test1.json"], [b], tmp_path / "x.csv")


def test_scorecard_says_whether_the_paper_lies_within_the_seed_spread(
    tmp_path, seeded_grid, seeded_final
):
    paths = [tmp_path / name for name in ("a1.csv", "t31.csv", "f34.csv", "card.csv", "card.rst")]
    grid = grid_of(("b", 5, 0.0, 0.1), ("a", 1, 0.3, 0.0))  # seeded_grid's points
    study = write_study(tmp_path, STUDY | {"grid": grid})
    card = scorecard(CONFIG, *paths, configfile=[study]).set_index("quantity")
    b_row = card.loc[[q for q in card.index if q.startswith("Table A.1 (b)")][0]]
    # |paper - mean| = 2/3 against 2 std of [-3, +5, 0]: within
    assert b_row.within_seed_spread == True  # noqa: E712 (a nullable boolean)
    for quantity, row in card.iterrows():
        expected = abs(row.paper - row.seed_mean) <= 2 * row.seed_std
        if pd.isna(row.paper):
            assert pd.isna(row.within_seed_spread), quantity
        else:
            assert row.within_seed_spread == expected, quantity
    parzen = card.loc["Fig 3.4 Parzen estimate, Infusion training (test)"]
    assert parzen.within_seed_spread == False  # noqa: E712 (312 vs 301 +- 2 x 1)


def test_one_seed_leaves_the_spread_unknown(tmp_path):
    runs = [("b", make_run(tmp_path, "one", 5, 0.0, 0.1, PAPER_B))]
    aggregate_grid(runs, tmp_path / "grid.csv", tmp_path / "curves.csv")
    a1 = tables.table_a_1(tmp_path / "grid.csv", tmp_path / "a1.csv")
    row = a1[a1.test_lower_bound.notna()].iloc[0]
    assert row.seeds == 1 and np.isnan(row.seed_std)


def paper_config(changes=None):
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    for (section, key), value in (changes or {}).items():
        config[section][key] = value
    return config


RATES = Rates(examples_per_s=1000.0, chain_steps_per_s=50000.0, startup_s=3.0)


def test_cost_counts_every_seed_and_the_ablation():
    one = estimate_cost(paper_config(), RATES).set_index("stage")
    two = estimate_cost(paper_config({("training", "seeds"): [0, 5]}), RATES).set_index("stage")
    for stage in ("train", "grid_evaluation", "evaluation", "lower_bound_training"):
        assert two.loc[stage, "jobs"] == 2 * one.loc[stage, "jobs"]
        assert two.loc[stage, "hours"] == pytest.approx(2 * one.loc[stage, "hours"])
    # the final model is sampled under every seed, the grid (Fig A.1's sheets) under the first
    assert two.loc["sampling", "jobs"] == one.loc["sampling", "jobs"] + 1
    final_samples_h = (10000 * 30 + 10 * 15) / 50000.0 / 3600 + 3.0 / 3600
    assert two.loc["sampling", "hours"] == pytest.approx(
        one.loc["sampling", "hours"] + final_samples_h
    )
    assert "fidelity" not in one.index
    ablation = estimate_cost(paper_config({("fidelity", "enabled"): True}), RATES)
    ablation = ablation.set_index("stage")
    # 9 trained variants x 3 seeds, less the study's own run: train, test estimates, samples
    assert ablation.loc["fidelity", "jobs"] == 3 * 26
    # one run of the final model: 1,500 epochs of 50,000 training steps x 15 steps, plus
    # 2 x 10,000 curve chains, at 1,000 example-steps/s; then its estimates and samples
    train_s = 1500 * 50000 * 15 / 1000.0 + 1500 * 20000 * 15 / 50000.0
    test_s = (1000 * 20000 * 10 + 1000 * 10) * 15 / 50000.0
    samples_s = (10000 * 30 + 10 * 15) / 50000.0
    per_run_h = (train_s + test_s + samples_s + 3 * 3.0) / 3600
    assert ablation.loc["fidelity", "hours"] == pytest.approx(26 * per_run_h, rel=1e-9)
