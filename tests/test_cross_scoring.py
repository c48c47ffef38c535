"""The cross-scoring of the fidelity ablation (issue 21): every trained variant under every
variant's schedule and under its tightest proposal (infusion/beyond/cross_scoring.py)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import tiny_model
from test_proposals import scored_model, table

from infusion import study as study_config
from infusion import switches
from infusion.beyond import cross_scoring
from infusion.process.proposals import own_schedule, schedule_rates

REPO = Path(__file__).resolve().parents[1]


def study(**changes):
    """config.yaml with the ablation on (3 seeds), the final model 5 steps at omega 0.1."""
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    config["fidelity"] = {"enabled": True, "seeds": [0, 1, 2]}
    config["lower_bound_training"]["enabled"] = False
    config["grid"] = [{"panel": "b", "steps": 5, "alpha0": [0.0], "omega": [0.0, 0.1]}]
    config["final"] = {"steps": 5, "alpha0": 0.0, "omega": 0.1}
    config["constant_rate"] = {"steps": 5, "alpha0": 0.0}
    for section, values in changes.items():
        config[section] = config[section] | values
    study_config.validate_config(config)
    return config


def by_hand(variant: str) -> str:
    """A variant's training schedule at 5 steps, omega 0.1, as the switches list says: the
    rate indexing is code for rate_index and code, else paper; alpha0 is 0 but under
    first_rate (growth: omega), which the code variant leaves out."""
    index = "code" if variant in ("rate_index", "code") else "paper"
    return f"{index}-a{0.1 if variant == 'first_rate' else 0}-w0.1"


def test_each_variants_schedule_is_its_training_chain():
    config = study()
    trained = [variant for variant, _, _ in cross_scoring.trained_runs(config)]
    for variant in dict.fromkeys(trained):
        assert cross_scoring.variant_schedule(config, variant) == by_hand(variant), variant


@pytest.mark.parametrize("first_rate", ["alpha0", "growth"])
@pytest.mark.parametrize("rate_index", ["paper", "code"])
def test_own_schedule_has_the_models_rates(rate_index, first_rate):
    model = tiny_model(steps=5, alpha0=0.05, omega=0.15, rate_index=rate_index,
                       first_rate=first_rate).settings  # fmt: skip
    shift = 0 if rate_index == "paper" else 1
    start = 0.05 if first_rate == "alpha0" else 0.15
    rates = [min(start + max(t - shift, 0) * 0.15, 1.0) for t in range(5)]
    assert own_schedule(model).rates(model) == pytest.approx(rates)
    assert schedule_rates(5, start, 0.15, rate_index) == pytest.approx(rates)


@pytest.mark.parametrize("rate_index", ["paper", "code"])
def test_the_diagonal_is_the_variants_own_estimate_bit_for_bit(rate_index):
    """A model scored under its own schedule, named as a proposal as the matrix's column
    names it, gives the numbers of the paper's procedure (own) on the same seed."""
    model = scored_model(rate_index)
    own = table(model)
    column = own_schedule(model.settings).name
    spelled = table(scored_model(rate_index), column)
    assert spelled["proposal"] == column
    for key in ("lower_bound", "importance", "iso_lower_bound", "iso_importance"):
        assert spelled[key] == own[key], key


def test_cells_are_every_trained_run_under_every_column():
    config = study()
    runs = cross_scoring.trained_runs(config)
    tags = [tag for _, _, tag in runs]
    assert len(tags) == len(set(tags))
    # the scoring switches share the paper's runs: no trained variant of their own
    scoring = {s.name for s in switches.SWITCHES if not s.trains}
    assert scoring and not scoring & {variant for variant, _, _ in runs}
    trained = ["paper", *(s.name for s in switches.SWITCHES
                          if s.trains and not s.colour_only), "code"]  # fmt: skip
    assert [variant for variant, _, _ in runs] == [v for v in trained for _ in range(3)]
    columns = cross_scoring.cross_proposals(config)
    assert columns == ["paper-a0-w0.1", "code-a0-w0.1", "paper-a0.1-w0.1", cross_scoring.TIGHTEST]
    cells = cross_scoring.cross_runs(config)
    assert [(v, s, t, c) for v, s, t, c, _ in cells] == [
        (variant, seed, tag, column) for variant, seed, tag in runs for column in columns
    ]
    assert all(schedule == by_hand(variant) for variant, *_, schedule in cells)


def test_no_cells_without_the_ablation_or_the_cross_scoring_and_no_tightest_without_search():
    assert cross_scoring.cross_runs(study(fidelity={"enabled": False})) == []
    assert cross_scoring.cross_runs(study(cross_scoring={"enabled": False})) == []
    columns = cross_scoring.cross_proposals(study(proposal_search={"enabled": False}))
    assert cross_scoring.TIGHTEST not in columns


def test_the_sizes_default_to_table_3_1s_test_estimate():
    config = study(evaluation={"test_examples": 30, "chains": 7, "repetitions": 2})
    assert study_config.cross_scoring_sizes(config) == {
        "examples": 30, "chains": 7, "repetitions": 2,
    }  # fmt: skip
    config["cross_scoring"] |= {"examples": 11, "repetitions": 1}
    assert study_config.cross_scoring_sizes(config) == {
        "examples": 11, "chains": 7, "repetitions": 1,
    }  # fmt: skip


@pytest.mark.parametrize("key, value", [("examples", 0), ("chains", -1), ("repetitions", 1.5)])
def test_bad_sizes_stop_naming_the_key(key, value):
    with pytest.raises(study_config.ConfigError, match=f"cross_scoring.{key}"):
        study(cross_scoring={key: value})


def write_score(path: Path, proposal: str, lb: list[float], is_: list[float], split="test"):
    path.write_text(json.dumps({
        "settings": {"split": split}, "proposal": proposal, "examples": 40, "chains": 9,
        "lower_bound": {"mean": float(np.mean(lb)), "std": float(np.std(lb, ddof=1))},
        "importance": {"mean": float(np.mean(is_)), "std": float(np.std(is_, ddof=1))},
    }))  # fmt: skip
    return str(path)


def synthetic_matrix(tmp_path):
    """Two variants x two seeds x (two schedules + tightest): each cell's JSON and values."""
    rng = np.random.default_rng(3)
    own = {"paper": "paper-a0-w0.1", "rate_index": "code-a0-w0.1"}
    cells, values = {key: [] for key in ("scores", "variant", "seed", "scored_by", "schedule")}, {}
    for variant in ("paper", "rate_index"):
        for seed in (0, 1):
            for column in ("paper-a0-w0.1", "code-a0-w0.1", "tightest"):
                proposal = "code-a0.1-w0.1-x0.5" if column == "tightest" else column
                lb, is_ = rng.normal(700, 20, 2).tolist(), rng.normal(1100, 30, 2).tolist()
                path = write_score(tmp_path / f"{variant}{seed}{column}.json", proposal, lb, is_)
                values[variant, seed, column] = (proposal, np.mean(lb), np.mean(is_))
                for key, value in zip(cells, (path, variant, seed, column, own[variant]),
                                      strict=True):  # fmt: skip
                    cells[key].append(value)
    return cells, values


def test_the_table_holds_every_cell_and_the_figure_its_means_over_seeds(tmp_path, kept_figures):
    cells, values = synthetic_matrix(tmp_path)
    out, figure = tmp_path / "proposals.csv", tmp_path / "proposals.png"
    cross_scoring.proposals(**cells, out=out, figure_out=figure)
    read = pd.read_csv(out)
    assert list(read.columns) == cross_scoring.PROPOSALS_COLUMNS
    assert len(read) == len(values)
    for row in read.itertuples():
        proposal, lb, is_ = values[row.trained_variant, row.seed, row.scored_by]
        assert (row.proposal, row.k, row.examples) == (proposal, 9, 40)
        np.testing.assert_allclose([row.lower_bound, row.importance], [lb, is_])
        own = {"paper": "paper-a0-w0.1", "rate_index": "code-a0-w0.1"}[row.trained_variant]
        assert row.own == (row.scored_by == own)
    assert figure.stat().st_size > 5000
    (fig,) = kept_figures
    panels = [ax for ax in fig.axes if ax.get_images()]
    assert [ax.get_title().split(",")[0] for ax in panels] == [
        "Test IS estimate",
        "Test lower bound",
    ]
    for ax, index in zip(panels, (2, 1), strict=True):
        matrix = ax.get_images()[0].get_array()
        texts = {(round(t.get_position()[1]), round(t.get_position()[0])): t.get_text()
                 for t in ax.texts}  # fmt: skip
        for i, variant in enumerate(("paper", "rate_index")):
            for j, column in enumerate(("paper-a0-w0.1", "code-a0-w0.1", "tightest")):
                seeds = [values[variant, seed, column][index] for seed in (0, 1)]
                np.testing.assert_allclose(matrix[i, j], np.mean(seeds))
                assert texts[i, j] == f"{np.mean(seeds):.0f}\n±{np.std(seeds, ddof=1):.0f}"
        framed = sorted((round(p.get_y() + 0.5), round(p.get_x() + 0.5)) for p in ax.patches)
        assert framed == [(0, 0), (1, 1)]  # each variant's own schedule


def test_a_cell_scored_under_another_proposal_than_its_column_stops(tmp_path):
    cells, _ = synthetic_matrix(tmp_path)
    cells["scored_by"][0] = "code-a0-w0.1"  # the file says paper-a0-w0.1
    with pytest.raises(ValueError, match="not 'code-a0-w0.1'"):
        cross_scoring.proposals(**cells, out=tmp_path / "p.csv", figure_out=tmp_path / "p.png")
    assert not (tmp_path / "p.csv").exists()


def test_a_cell_of_the_train_split_stops(tmp_path):
    cells, _ = synthetic_matrix(tmp_path)
    cells["scores"][0] = write_score(tmp_path / "train.json", "paper-a0-w0.1", [1, 2], [3, 4],
                                     split="train")  # fmt: skip
    with pytest.raises(ValueError, match="not test"):
        cross_scoring.proposals(**cells, out=tmp_path / "p.csv", figure_out=tmp_path / "p.png")
