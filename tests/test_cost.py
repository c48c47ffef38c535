"""The cost estimate: linear in epochs, grid points and chains; shared points counted once;
rates timed on the study's own network."""

import copy
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import torch
import yaml
from conftest import FakeClock

from infusion import switches as fidelity_switches
from infusion.cli import main
from infusion.cost import estimate_cost, gpu_warning, wall_clock_hours
from infusion.runs import ladder_runs
from infusion.runtime.timing import load_independent_clock, timed_calls
from infusion.study import load, merged, validate_config
from infusion.throughput import (
    Rates,
    measure_rates,
    measure_startup,
    natural_datasets,
    step_rate,
    study_rates,
)

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
    monkeypatch.setattr("infusion.throughput.measure_startup", lambda: 4.5)
    tiny = merged(CONFIG, yaml.safe_load((ROOT / "workflow/configs/tiny.yaml").read_text()))
    narrow, wide = (
        measure_rates(
            merged(tiny, {"model": {"hidden": h}, "evaluation": {"chain_batch": 256}}), "cpu"
        )
        for h in (16, 2048)
    )
    assert narrow.startup_s == 4.5 and narrow.device == "cpu"
    assert narrow.examples_per_s > 2 * wide.examples_per_s > 0
    assert narrow.chain_steps_per_s > 2 * wide.chain_steps_per_s > 0


def test_cli_prints_the_table_with_a_total_row(capsys):
    main(["cost", "--config", str(ROOT / "config.yaml"), "--configfile",
          str(ROOT / "workflow/configs/tiny.yaml"), "--examples-per-s", "4000",
          "--chain-steps-per-s", "10000", "--startup-s", "0"])  # fmt: skip
    out = capsys.readouterr().out
    lines = out.strip().splitlines()
    # after the rates of two networks; given rates: no device, no GPU warning
    assert lines[2].split() == ["stage", "jobs", "hours", "on", "given"]
    assert lines[-1].split()[0] == "total"
    # tiny: 5 points under 2 seeds; train, grid evaluation, Table 3.1 (test and train),
    # samples (+ final); + the natural-image dataset shapes16: its training and its samples;
    # + the fidelity ablation's 3 runs beyond the study's (rate_index, first_rate, code of
    #   tiny.yaml's variants: train, test estimates, samples)
    # + the objectives' 6, the convergence question's 2 (own and tightest proposal)
    # + each seed's proposal search and test estimates under its best
    # + the cross-scoring: 4 trained runs x 4 columns (paper-a0-w0.1, code-a0-w0.1,
    #   paper-a0.1-w0.1 of first_rate, tightest) and the 3 searches beyond the study's own
    # + the ladder's 6 runs: 4 trained (its start's are the study's and the ablation's),
    #   each run's 2 test estimates and samples
    assert lines[-1].split()[1] == str(
        2 * (5 + 5 + 2 + 1) + 5 + 2 + 3 * 3 + 6 + 2 + 2 * 2 + 2 * 2 + 4 * 4 + 3 + 4 + 6 * 3
    )
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
    ladder = dict.fromkeys((run.folder for run in ladder_runs(merged_config)), given)
    expected = estimate_cost(merged_config, given, {"shapes16": given}, ladder)
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
                 "estimate_convergence", "search_proposal", "evaluate_tightest",
                 "score_under_proposal", "score_ladder_run", "sample_ladder_run")  # fmt: skip
NO_NATURAL = {"data": {name: {"enabled": False} for name in ("cifar10", "celeba", "tfd")}}


@pytest.mark.parametrize("overlay", ["paper", "beyond", "fidelity", "ladder"])
def test_the_estimate_counts_the_compute_jobs_snakemake_plans(tmp_path, overlay):
    """Every training, evaluation and sampling job of the plan is one job of a stage: the
    paper's grid with the questions beyond the paper, the beyond overlay (3 seeds) and the
    fidelity overlay (the ablation and its cross-scoring)."""
    from workflow_runs import snakemake, workflow_copy

    folder = workflow_copy(tmp_path)
    overlays = [folder / "no-natural.yaml"]
    overlays[0].write_text(yaml.safe_dump(NO_NATURAL))
    if overlay != "paper":
        overlays.append(folder / f"workflow/configs/{overlay}.yaml")
    out = snakemake(folder, "-n", "--configfile", *map(str, overlays)).stdout
    stats = out[out.index("Job stats:") :].splitlines()
    planned = dict(line.split() for line in stats[3:] if len(line.split()) == 2)
    config = load(ROOT / "config.yaml", overlays)
    ladder = {run.folder: RATES for run in ladder_runs(config)}
    table = estimate_cost(config, RATES, ladder_rates=ladder)
    assert table.jobs.iloc[-1] == sum(int(planned.get(rule, 0)) for rule in COMPUTE_RULES)
    if overlay == "ladder":  # priced at the study's rates for every network here
        assert "ladder" in set(table.stage)
        return
    stages = set(table.stage)
    questions = {"fidelity", "cross_scoring"} if overlay == "fidelity" else {
        "lower_bound_training", "convergence", "sampling_steps"}  # fmt: skip
    assert questions | {"proposal_search"} <= stages


def beyond_config(**questions):
    """The paper's config with one grid point (the final model's), one seed and the
    questions beyond the paper off but those given."""
    off = {name: {"enabled": False} for name in
           ("lower_bound_training", "convergence", "sampling_steps", "parzen_trust",
            "proposal_search")}  # fmt: skip
    study = {
        "grid": [{"panel": "b", "steps": 5, "alpha0": [0.0], "omega": [0.1]}],
        "final": {"steps": 5, "alpha0": 0.0, "omega": 0.1},
        "constant_rate": {"steps": 5, "alpha0": 0.0},
    }
    return merged(CONFIG, {**study, **off, **questions})


def test_the_convergence_job_draws_the_largest_k_once_per_repetition():
    config = beyond_config(
        convergence={"enabled": True, "chains": [1, 10, 300], "examples": 7, "repetitions": 4},
        proposal_search={"enabled": True},  # and under the tightest proposal
    )
    # 7 images x 300 chains x 4 repetitions x 5 steps, at 10,000 chain-steps per second
    assert hours(config, "convergence") == pytest.approx(2 * 7 * 300 * 4 * 5 / 10000 / 3600)
    config["proposal_search"]["enabled"] = False  # the configured proposal's job alone
    assert hours(config, "convergence") == pytest.approx(7 * 300 * 4 * 5 / 10000 / 3600)
    assert "convergence" not in set(estimate_cost(beyond_config(), RATES).stage)


def test_the_proposal_search_scores_every_candidate_then_test_under_the_best():
    search = {"enabled": True, "examples": 7, "chains": 30, "scales": [0.5, 1.0]}
    config = beyond_config(proposal_search=search)
    config["training"]["seeds"] = [0, 3]
    # T = 5, alpha0 0, omega 0.1: own, paper-a0-w0.1-x0.5 (x1 is own), paper-a0.1-w0.1 and
    # code-a0-w0.1, code-a0.1-w0.1 at both scales: 8 candidates
    search_steps = 7 * 30 * 8 * 5
    evaluation = config["evaluation"]
    test = evaluation["test_examples"] * evaluation["chains"] * evaluation["repetitions"]
    test_steps = (test + evaluation["isotropic_examples"] * evaluation["isotropic_chains"]) * 5
    expected = 2 * (search_steps + test_steps) / 10000 / 3600
    assert hours(config, "proposal_search") == pytest.approx(expected)
    assert estimate_cost(config, RATES).set_index("stage").loc["proposal_search", "jobs"] == 4
    assert "proposal_search" not in set(estimate_cost(beyond_config(), RATES).stage)


def test_the_cross_scoring_prices_every_cell_at_its_sizes():
    """Every trained run of the ablation (the paper's, each training switch's of a grayscale
    study, the code's; 3 seeds) x (the schedules paper-a0-w0.1, code-a0-w0.1 and
    paper-a0.1-w0.1 of first_rate, and the tightest) at 5 steps: cells of 6 images x 8
    chains x 2 repetitions plus the isotropic variance's 3 x 10."""
    config = beyond_config(
        fidelity={"enabled": True, "seeds": [0, 1, 2]},
        cross_scoring={"enabled": True, "examples": 6, "chains": 8, "repetitions": 2},
        proposal_search={"enabled": True},
    )
    config["evaluation"] |= {"isotropic_examples": 3, "isotropic_chains": 10}
    table = estimate_cost(config, RATES).set_index("stage")
    runs = 3 * (2 + sum(s.trains and not s.colour_only for s in fidelity_switches.SWITCHES))
    # and the search of every run but the study's own (the paper's first seed): 100
    # validation images x 100 chains x 28 candidates (own, then both indexings x alpha0 0 or
    # 0.1 x 7 scales, less paper-a0-w0.1 at scale 1, which is own) x 5 steps
    assert table.loc["cross_scoring", "jobs"] == runs * 4 + runs - 1
    per_cell = (6 * 8 * 2 + 3 * 10) * 5 / 10000 / 3600
    search = 100 * 100 * 28 * 5 / 10000 / 3600
    expected = runs * 4 * per_cell + (runs - 1) * search
    assert table.loc["cross_scoring", "hours"] == pytest.approx(expected)
    config["cross_scoring"]["enabled"] = False
    assert "cross_scoring" not in set(estimate_cost(config, RATES).stage)


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


def test_the_warning_says_cpu_hours_when_a_gpu_study_was_timed_on_a_cpu():
    config = load(ROOT / "config.yaml")
    assert config["training"]["device"] == "auto"  # the train rule takes resources gpu=1
    assert "CPU core-hours" in gpu_warning(config, "cpu")
    assert gpu_warning(config, "cuda") is None
    assert gpu_warning(config, "given") is None
    assert gpu_warning(merged(config, {"training": {"device": "cpu"}}), "cpu") is None
    # the study's compute section sets the training's device
    on_cpu = merged(CONFIG, {"compute": {"device": "cpu"}})
    validate_config(on_cpu)
    assert gpu_warning(on_cpu, "cpu") is None


def test_the_wall_clock_divides_by_the_slots_down_to_the_longest_job():
    table = pd.DataFrame(
        {"stage": ["train", "evaluation", "total"], "jobs": [8, 2, 10],
         "hours": [80.0, 20.0, 100.0], "longest_job_hours": [10.0, 10.0, 10.0]}
    )  # fmt: skip
    assert wall_clock_hours(table, 1, 1) == 100.0
    assert wall_clock_hours(table, 2, 2) == 25.0  # 100 h over 4 slots
    assert wall_clock_hours(table, 20, 1) == 10.0  # no faster than the longest job
    with pytest.raises(ValueError, match="--gpus 0"):
        wall_clock_hours(table, 0, 1)


def test_the_longest_job_of_the_paper_grid_is_its_longest_training():
    """By hand: a 15-step point, 1,500 epochs of 50,000 images at 4,000 example-steps/s,
    plus each epoch's 10,000 + 10,000 curve chains at 10,000 chain-steps/s."""
    table = estimate_cost(CONFIG, RATES).set_index("stage")
    seconds = 1500 * 50000 * 15 / 4000 + 1500 * 20000 * 15 / 10000
    assert table.loc["train", "longest_job_hours"] == pytest.approx(seconds / 3600)
    assert table.loc["total", "longest_job_hours"] == pytest.approx(seconds / 3600)


def test_the_training_rate_separates_the_fixed_part_of_a_step():
    """By hand: a step costs 0.03 s (Adam's update) plus 1e-4 s per example-step; a 3-step
    step on 512 examples takes 0.03 + 0.1536 s, so the rate at 15 steps and 512 examples is
    7,680 / (0.03 + 0.768); timed on 8 examples (0.03 + 0.0024 s), at 15 steps and 100
    examples it is 1,500 / (0.03 + 0.15)."""
    assert step_rate(0.03, 0.03 + 0.1536, 512, 15, 512) == pytest.approx(7680 / 0.798)
    assert step_rate(0.03, 0.03 + 0.0024, 8, 15, 100) == pytest.approx(1500 / 0.18)
    # noise: an update no faster than the whole step: the whole step counts per example-step
    assert step_rate(0.5, 0.3, 10, 15, 10) == pytest.approx(30 / 0.3)


def test_the_fastest_of_the_timed_calls_counts_and_the_median_is_kept():
    # warm-up 0.5 s: 1 s of budget fits 2 calls, at least 3 are timed
    clock = FakeClock(0.0, 0.5, 1.0, 1.3, 2.0, 2.2, 3.0, 3.9)
    timing = timed_calls(lambda: None, torch.device("cpu"), 1.0, clock=clock)
    assert (timing.best, timing.median, timing.rounds) == (
        pytest.approx(0.2),
        pytest.approx(0.3),
        3,
    )
    # a fast call: as many as fit, at most 4 here
    clock = FakeClock(0.0, 0.1, *[t + d for t in range(4) for d in (0.0, 0.4 - t / 10)])
    timing = timed_calls(lambda: None, torch.device("cpu"), 1.0, max_rounds=4, clock=clock)
    assert (timing.best, timing.rounds) == (pytest.approx(0.1), 4)


def test_the_rates_are_cached_by_network_and_reused(tmp_path, monkeypatch):
    measured = []

    def fake_measure(config, device, startup_s=None):
        measured.append(config["dataset"])
        return Rates(1000.0 * len(measured), 5000.0, 4.0, "cpu", 900.0, 4000.0)

    monkeypatch.setattr("infusion.throughput.measure_rates", fake_measure)
    cache = tmp_path / "results/cost/rates.json"
    first = study_rates(CONFIG, "cpu", cache=cache)
    assert measured == ["mnist", "cifar10", "celeba"]
    keys = [json.loads(key) for key in json.loads(cache.read_text())]
    assert {key["torch"] for key in keys} == {torch.__version__}
    assert all(key["device"].startswith("cpu (") for key in keys)
    assert sorted(key["shape"] for key in keys) == [[1, 28, 28], [3, 32, 32], [3, 64, 64]]
    again = study_rates(CONFIG, "cpu", cache=cache)
    assert measured == ["mnist", "cifar10", "celeba"] and again == first  # nothing timed again
    smaller = merged(CONFIG, {"training": {"batch_size": 256}})  # MNIST's; CIFAR's is its own
    study_rates(smaller, "cpu", cache=cache)
    assert measured[3:] == ["mnist"]  # a new batch: timed; the conv networks: as before
    study_rates(CONFIG, "cpu", cache=None)
    assert measured[4:] == ["mnist", "cifar10", "celeba"]  # no cache: measured afresh


def test_a_cpu_timing_prints_the_device_the_warning_and_no_exponent(monkeypatch, capsys):
    monkeypatch.setattr(
        "infusion.throughput.measure_rates",
        lambda config, device, startup_s=None: Rates(2.0, 9.0, 4.0, "cpu", 1.5, 8.0),
    )
    main(["cost", "--config", str(ROOT / "config.yaml"), "--device", "cpu", "--no-cache",
          "--gpus", "4"])  # fmt: skip
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("warning:") and "CPU core-hours" in lines[0]
    assert lines[1].startswith("timed on cpu (")
    assert "median 1.50 and 8.00" in lines[2]
    header = next(line for line in lines if line.split()[:2] == ["stage", "jobs"])
    assert header.split()[2:] == ["core-hours", "on", "cpu"]
    assert not [line for line in lines if re.search(r"\de[+-]?\d", line)], lines
    assert re.search(r"total +\d+ +[\d,]+ h \([\d,]+ days\)", "\n".join(lines))
    assert lines[-1].startswith("wall clock on 4 device(s), 1 job(s) each")


def test_a_cpu_timing_reads_one_threads_cpu_time_and_restores_the_threads():
    """Seconds the timed thread does not compute (here asleep, as when other jobs hold the
    cores) do not count on a CPU; the wall clock counts them on other devices."""
    threads = torch.get_num_threads()
    with load_independent_clock(torch.device("cpu")) as clock:
        assert torch.get_num_threads() == 1
        start = clock()
        time.sleep(0.3)
        assert clock() - start < 0.1
    assert torch.get_num_threads() == threads
    with load_independent_clock(torch.device("meta")) as clock:
        start = clock()
        time.sleep(0.3)
        assert clock() - start >= 0.3


def test_the_start_up_is_the_childs_cpu_time(monkeypatch):
    """A child that sleeps 1 s before its imports costs its CPU time, not its wall time."""
    sleeper = [sys.executable, "-c", "import time; time.sleep(1)"]
    run = subprocess.run
    monkeypatch.setattr(subprocess, "run", lambda args, check: run(sleeper, check=check))
    assert measure_startup() < 0.5


def test_the_ladder_prices_each_run_with_its_own_settings_and_network():
    """A ladder of the start (its paper run is the study's final model: not trained again)
    and one rung on 1,000 images at 1,200 units: the rung's training is 30 epochs x (1,000
    images + 2 x 500 curve images, clipped to the split) x 5 steps at the 1,200-unit rates,
    each run's two test estimates 200 x 100 chains (+ 200 x 10 isotropic) x 5 steps, its
    samples 2,000 x 20 steps (+ 10 infusion targets x 5)."""
    overlay = yaml.safe_load((ROOT / "workflow/configs/ladder.yaml").read_text())
    overlay["ladder"] |= {"semantics": ["paper"], "seeds": [0], "rungs": [
        {"rung": "start", "factor": "start", "value": "start"},
        {"rung": "small-wide", "factor": "images", "value": 1000,
         "set": {"training.train_size": 1000, "model.hidden": 1200}}]}  # fmt: skip
    config = merged(CONFIG, overlay)
    validate_config(config)
    wide = Rates(examples_per_s=1000.0, chain_steps_per_s=2000.0)
    folders = [run.folder for run in ladder_runs(config)]
    table = estimate_cost(config, RATES, ladder_rates={folders[0]: RATES, folders[1]: wide})
    row = table.set_index("stage").loc["ladder"]
    train = 30 * (1000 * 5 / 1000.0 + (500 + 500) * 5 / 2000.0)
    chain_steps = 2 * (200 * 100 + 200 * 10) * 5 + 2000 * 20 + 10 * 5  # a run's scores, samples
    expected = train + chain_steps / wide.chain_steps_per_s + chain_steps / RATES.chain_steps_per_s
    assert row.jobs == 7
    assert row.hours == pytest.approx(expected / 3600)
