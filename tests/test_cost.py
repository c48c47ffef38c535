"""The cost estimate: linear in epochs, grid points and chains; shared points counted once;
rates timed on the study's own network."""

import copy
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import torch
import yaml

from infusion.cli import main
from infusion.cost import Rates, estimate_cost, measure_rates, natural_datasets
from infusion.study import load, merged

ROOT = Path(__file__).resolve().parent.parent
CONFIG = yaml.safe_load((ROOT / "config.yaml").read_text())
RATES = Rates(examples_per_s=4000.0, chain_steps_per_s=10000.0)


def hours(config, stage):
    table = estimate_cost(config, RATES).set_index("stage")
    return float(table.loc[stage, "hours"])


def test_total_row_sums_the_stages():
    table = estimate_cost(CONFIG, RATES)
    assert list(table.columns[:3]) == ["stage", "jobs", "hours"]
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
    doubled = merged(CONFIG, {"evaluation": {"chains": 2 * CONFIG["evaluation"]["chains"]}})
    # The isotropic variance's few validation chains do not scale with `chains`: 5e-5 of it.
    assert hours(doubled, "evaluation") == pytest.approx(2 * hours(CONFIG, "evaluation"), rel=1e-3)
    assert doubled["evaluation"]["seed"] == CONFIG["evaluation"]["seed"]  # merged, not replaced


def test_a_point_shared_by_two_panels_is_trained_once():
    point = {"steps": 10, "alpha0": [0.0], "omega": [0.0]}
    single = {**CONFIG, "grid": [{"panel": "c", **point}]}
    shared = {**CONFIG, "grid": [{"panel": "c", **point}, {"panel": "e", **point}]}
    assert hours(shared, "train") == hours(single, "train")
    assert estimate_cost(shared, RATES)["jobs"].iloc[0] == 1


def test_overlay_lists_replace_and_dicts_merge():
    overlay = {"grid": [{"panel": "a", "steps": 1, "alpha0": [0.0], "omega": [0.0]}]}
    config = merged(CONFIG, overlay | {"model": {"hidden": 600}})
    assert config["grid"] == overlay["grid"]
    assert config["model"]["hidden"] == 600 and config["model"]["layers"] == 2


def test_startup_adds_its_seconds_once_per_job():
    plain = estimate_cost(CONFIG, RATES).set_index("stage")
    slow = estimate_cost(CONFIG, Rates(4000.0, 10000.0, startup_s=36.0)).set_index("stage")
    extra = (slow.hours - plain.hours) * 3600
    assert extra.to_numpy() == pytest.approx(36.0 * plain.jobs.to_numpy())
    with pytest.raises(ValueError, match="startup_s"):
        estimate_cost(CONFIG, Rates(4000.0, 10000.0, startup_s=-1.0))


def test_rates_are_timed_on_the_study_network(monkeypatch):
    """A network 128 times wider runs at a lower rate: the rates are not one width's."""
    monkeypatch.setattr("infusion.cost.measure_startup", lambda: 4.5)
    tiny = merged(CONFIG, yaml.safe_load((ROOT / "workflow/configs/tiny.yaml").read_text()))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # steadier on a machine shared with other jobs
    try:
        narrow, wide = (
            measure_rates(
                merged(tiny, {"model": {"hidden": h}, "evaluation": {"chain_batch": 256}}),
                "cpu",
            )
            for h in (16, 2048)
        )
    finally:
        torch.set_num_threads(threads)
    assert narrow.startup_s == 4.5 and narrow.device == "cpu"
    assert narrow.examples_per_s > 2 * wide.examples_per_s > 0
    assert narrow.chain_steps_per_s > 2 * wide.chain_steps_per_s > 0


def test_cli_prints_the_table_with_a_total_row(capsys):
    main(["cost", "--config", str(ROOT / "config.yaml"), "--configfile",
          str(ROOT / "workflow/configs/tiny.yaml"), "--examples-per-s", "4000",
          "--chain-steps-per-s", "10000", "--startup-s", "0"])  # fmt: skip
    out = capsys.readouterr().out
    lines = out.strip().splitlines()
    assert lines[2].split() == ["stage", "jobs", "hours"]  # after the rates of two networks
    assert lines[-1].split()[0] == "total"
    # tiny: 5 points under 2 seeds; train, grid evaluation, Table 3.1 (test and train),
    # samples (+ final); + the natural-image dataset shapes16: its training and its samples;
    # + the fidelity ablation's 4 runs beyond the study's (train, test estimates, samples)
    assert lines[-1].split()[1] == str(2 * (5 + 5 + 2 + 1) + 5 + 2 + 3 * 4 + 6 + 1 + 2 * 2)
    assert "shapes16 train" in out and "shapes16 sampling" in out
    assert "train" in out and "sampling" in out


def test_cli_writes_the_table_of_the_merged_config_files(tmp_path):
    tiny = ROOT / "workflow/configs/tiny.yaml"
    merged_config = merged(CONFIG, yaml.safe_load(tiny.read_text()))
    rates = ["--examples-per-s", "4000", "--chain-steps-per-s", "10000", "--startup-s", "3"]
    main(["cost", "--config", str(ROOT / "config.yaml"), "--configfile", str(tiny), *rates,
          "--out", str(tmp_path / "files.csv")])  # fmt: skip
    files = pd.read_csv(tmp_path / "files.csv")
    given = Rates(4000.0, 10000.0, 3.0)
    expected = estimate_cost(merged_config, given, {"shapes16": given})
    assert files.hours.tolist() == expected.hours.tolist()
    assert files.stage.tolist() == expected.stage.tolist()
    rows = files.iloc[:-1]  # the total row has no rates
    assert (rows.startup_s == 3).all() and (rows.device == "given").all()


def test_an_invalid_value_outside_the_repository_stops_naming_the_key(tmp_path):
    """`infusion cost` validates against the schema inside the package: run from a folder
    with no workflow beside it, an overlay's bad value stops with one line naming the key."""
    bad = tmp_path / "bad.yaml"
    bad.write_text("training:\n  epochs: -3\n")
    package_parent = Path(__import__("infusion").__file__).resolve().parents[1]
    result = subprocess.run(
        [sys.executable, "-m", "infusion", "cost", "--config", str(ROOT / "config.yaml"),
         "--configfile", str(bad), "--examples-per-s", "1e5", "--chain-steps-per-s", "1e6",
         "--startup-s", "1"],
        cwd=tmp_path, capture_output=True, text=True,
        env={**os.environ, "PYTHONPATH": str(package_parent)},
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "invalid config key 'training.epochs'" in lines[0]


def test_a_file_that_is_not_a_config_is_named():
    with pytest.raises(ValueError, match="README.md"):
        load(ROOT / "config.yaml", [ROOT / "workflow/configs/tiny.yaml", ROOT / "README.md"])


def test_natural_image_rows_cost_their_own_settings_at_their_own_rates():
    """CIFAR-10 and CelebA (TFD's sizes are unknown) add a training and a sampling row each,
    from their natural_images entry: hours = epochs x train images x steps / rate + curves."""
    slow = Rates(examples_per_s=100.0, chain_steps_per_s=1000.0, startup_s=10.0)
    table = estimate_cost(CONFIG, RATES, {"cifar10": slow}).set_index("stage")
    entry = CONFIG["natural_images"]["cifar10"]
    epochs, steps = entry["training"]["epochs"], entry["steps"]
    curves = 2 * entry["training"]["curve_examples"]
    expected = (epochs * 45000 * steps / 100.0 + epochs * curves * steps / 1000.0 + 10) / 3600
    assert table.loc["cifar10 train", "hours"] == pytest.approx(expected)
    sampling = entry["sampling"]["samples"] * entry["sampling"]["sampling_steps"]
    sampling += CONFIG["sampling"]["infusion_targets"] * steps
    assert table.loc["cifar10 sampling", "hours"] == pytest.approx((sampling / 1000.0 + 10) / 3600)
    assert table.loc["cifar10 train", "examples_per_s"] == 100.0
    assert table.loc["train", "examples_per_s"] == RATES.examples_per_s
    without = estimate_cost(CONFIG, RATES).set_index("stage")
    assert table.loc["total", "hours"] == pytest.approx(
        without.loc["total", "hours"]
        + table.loc[["cifar10 train", "cifar10 sampling"], "hours"].sum()
    )
    assert natural_datasets(CONFIG) == ["cifar10", "celeba"]  # TFD: sizes unknown


# The rules whose work the estimate prices (each of its stages is some of their jobs)
COMPUTE_RULES = ("train", "evaluate_grid_point", "evaluate_likelihood", "evaluate_objective_point",
                 "sample_final", "sample_grid_point", "sample_objective_point", "sample_steps",
                 "estimate_convergence")  # fmt: skip
NO_NATURAL = {"data": {name: {"enabled": False} for name in ("cifar10", "celeba", "tfd")}}


@pytest.mark.parametrize("overlay", ["paper", "beyond"])
def test_the_estimate_counts_the_compute_jobs_snakemake_plans(tmp_path, overlay):
    """Every training, evaluation and sampling job of the plan is one job of a stage: the
    paper's grid with the questions beyond the paper, and the beyond overlay (3 seeds)."""
    from workflow_runs import snakemake, workflow_copy

    folder = workflow_copy(tmp_path)
    overlays = [folder / "no-natural.yaml"]
    overlays[0].write_text(yaml.safe_dump(NO_NATURAL))
    if overlay == "beyond":
        overlays.append(folder / "workflow/configs/beyond.yaml")
    out = snakemake(folder, "-n", "--configfile", *map(str, overlays)).stdout
    stats = out[out.index("Job stats:") :].splitlines()
    planned = dict(line.split() for line in stats[3:] if len(line.split()) == 2)
    table = estimate_cost(load(ROOT / "config.yaml", overlays), RATES)
    assert table.jobs.iloc[-1] == sum(int(planned.get(rule, 0)) for rule in COMPUTE_RULES)
    stages = set(table.stage)
    assert {"lower_bound_training", "convergence", "sampling_steps"} <= stages


def beyond_config(**questions):
    """The paper's config with one grid point (the final model's), one seed and the
    questions beyond the paper off but those given."""
    off = {name: {"enabled": False} for name in
           ("lower_bound_training", "convergence", "sampling_steps", "parzen_trust")}  # fmt: skip
    study = {
        "grid": [{"panel": "b", "steps": 5, "alpha0": [0.0], "omega": [0.1]}],
        "final": {"steps": 5, "alpha0": 0.0, "omega": 0.1},
        "constant_rate": {"steps": 5, "alpha0": 0.0},
    }
    return merged(CONFIG, {**study, **off, **questions})


def test_the_convergence_job_draws_the_largest_k_once_per_repetition():
    config = beyond_config(
        convergence={"enabled": True, "chains": [1, 10, 300], "examples": 7, "repetitions": 4}
    )
    # 7 images x 300 chains x 4 repetitions x 5 steps, at 10,000 chain-steps per second
    assert hours(config, "convergence") == pytest.approx(7 * 300 * 4 * 5 / 10000 / 3600)
    assert "convergence" not in set(estimate_cost(beyond_config(), RATES).stage)


def test_the_sampling_steps_sample_every_seed_at_every_step_count():
    config = beyond_config(sampling_steps={"enabled": True, "factors": [1, 1.5, 4]})
    config["training"]["seeds"] = [0, 3]
    samples, targets = config["sampling"]["samples"], config["sampling"]["infusion_targets"]
    # T = 5: 5, 8 (7.5 rounded up) and 20 steps; each file also draws its infusion chains
    chain_steps = 2 * (samples * (5 + 8 + 20) + 3 * targets * 5)
    assert hours(config, "sampling_steps") == pytest.approx(chain_steps / 10000 / 3600)
    assert estimate_cost(config, RATES).set_index("stage").loc["sampling_steps", "jobs"] == 6


def test_lower_bound_training_adds_the_final_models_run_under_the_other_objective():
    """With no optima, the comparison's only extra run is the final model trained on the
    lower bound: one training of the grid's one point, its test estimates and samples."""
    config = beyond_config(lower_bound_training={"enabled": True, "optima": {}})
    table = estimate_cost(config, RATES).set_index("stage")
    evaluation = config["evaluation"]
    test_chain_steps = 5 * (
        evaluation["test_examples"] * evaluation["chains"] * evaluation["repetitions"]
        + evaluation["isotropic_examples"] * evaluation["isotropic_chains"]
    )
    sampling = config["sampling"]
    sample_chain_steps = (
        sampling["samples"] * sampling["sampling_steps"] + sampling["infusion_targets"] * 5
    )
    expected = table.loc["train", "hours"] + (test_chain_steps + sample_chain_steps) / 1e4 / 3600
    assert table.loc["lower_bound_training", "hours"] == pytest.approx(expected)
    assert table.loc["lower_bound_training", "jobs"] == 3
    # a second point (panel b's 0.1 is the final model's: still one; the seeds double it)
    config["training"]["seeds"] = [0, 1]
    config["lower_bound_training"]["optima"] = {"b": 0.3}
    doubled = estimate_cost(config, RATES).set_index("stage")
    assert doubled.loc["lower_bound_training", "hours"] == pytest.approx(2 * expected)
