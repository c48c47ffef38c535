"""The Snakemake workflow: planning, config validation, an end-to-end tiny study, resume."""

import hashlib
import json
import math
import os
import re
import signal
import subprocess
import time

import numpy as np
import pandas as pd
import pytest
import yaml
from workflow_runs import REPO, TINY, snakemake, workflow_copy

from infusion import published as paper
from infusion.settings import ModelSettings, TrainSettings

RATE_COLUMNS = ("examples_per_s", "chain_steps_per_s", "startup_s")  # of cost.csv (+ device)
MNIST_FIGURES = ["fig3.1", "fig3.2", "fig3.3", "fig3.5-digits", "figA.1", "figA.2", "tableA.1"]
# the natural-image part on shapes16, the conv operator standing in for CIFAR-10 and CelebA
FIGURES = [*MNIST_FIGURES, "fig3.5-shapes16", "figA.3", "figA.4", "fig3.6"]
TIGHTEST = "IS, tightest proposal on validation"  # Table 3.1's row beyond the paper


def number(value) -> str:
    return f"{float(value):g}"


def test_dry_run_plans_one_train_job_per_grid_point_and_natural_dataset(tmp_path):
    folder = workflow_copy(tmp_path)
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    expected = {
        ("mnist", str(panel["steps"]), number(alpha0), number(omega))
        for panel in config["grid"]
        for alpha0 in panel["alpha0"]
        for omega in panel["omega"]
    }
    assert len(expected) == 46  # Table A.1's 35 rows + constant rates, shared points once
    # Section 3.5's final natural-image models, planned without TFD's or CelebA's files
    natural = {("cifar10", "20", "0", "0.02"), ("celeba", "15", "0", "0.01"),
               ("tfd", "15", "0", "0.01")}  # fmt: skip
    assert not (folder / "data/TFD_48x48.mat").exists()
    out = snakemake(folder, "-n", "-p").stdout
    runs = re.findall(
        r"rule train:.*?wildcards: dataset=(\w+), steps=(\d+), alpha=([\d.e-]+),"
        r" omega=([\d.e-]+), tag=(\S*).*?(infusion .*?)\n",
        out,
        flags=re.S,
    )
    jobs = [(*run[:4], run[5]) for run in runs if run[4] == ""]
    planned = [job[:4] for job in jobs]
    # beyond the paper: the final model and panels (b), (c) optima under the lower bound
    lower_bound = {run[:4]: run[5] for run in runs if run[4] == "_objective-lower_bound"}
    assert set(lower_bound) == {("mnist", "15", "0", "0.01"), ("mnist", "5", "0", "0.1"),
                                ("mnist", "10", "0", "0.02")}  # fmt: skip
    assert all("--objective lower_bound" in shell for shell in lower_bound.values())
    assert len(runs) == len(jobs) + len(lower_bound)
    assert len(planned) == len(expected | natural)
    assert set(planned) == expected | natural
    # each dataset trains with its own operator and sizes (config natural_images)
    shell = {job[0]: job[4] for job in jobs}
    assert "--network conv" in shell["cifar10"] and "--network conv" in shell["celeba"]
    # mlp is the command's default, which the rules leave to it (a flag at its default is
    # not passed)
    assert ModelSettings().network == "mlp"
    assert "--network" not in shell["tfd"] and "--network" not in shell["mnist"]
    # the epochs of each: a flag where it is not the command's default, which is the paper's
    default = TrainSettings().epochs
    epochs = {name: int(found.group(1)) if (found := re.search(r"--epochs (\d+)", shell[name]))
              else default for name in shell}  # fmt: skip
    natural_config = config["natural_images"]
    assert epochs["cifar10"] == natural_config["cifar10"]["training"]["epochs"] != default
    assert epochs["mnist"] == epochs["tfd"] == config["training"]["epochs"] == 1500
    # and the natural-image outputs are planned, their sources (TFD's file, Inception's
    # weights) checked by the first jobs rather than by the planning
    for output in ["fig3.5-cifar10.png", "fig3.5-celeba.png", "fig3.5-tfd.png", "figA.3.png",
                   "figA.4.png", "fig3.6.png", "table3.2.csv"]:  # fmt: skip
        assert f"results/{'tables' if output.endswith('csv') else 'figures'}/{output}" in out
    assert "rule fetch_inception_weights:" in out and "prepare tfd" in out
    assert "--samples 50000" in shell_of(out, "sample_final", "cifar10")
    assert "--sampling-steps 15" in shell_of(out, "inpaint", "celeba")


def test_the_plan_trains_each_training_run_of_the_study_once(tmp_path):
    """The train jobs snakemake plans for the tiny study are the study's training runs
    (infusion.runs.training_runs), each once: 20, counted by hand from tiny.yaml (5 distinct
    grid points x 2 seeds; shapes16's final model; the ablation's rate_index, first_rate and
    code runs, its paper run being the final model's and its Parzen switches training
    nothing; the ladder's images-300, epochs-4, width-48 and steps-4 rungs, its start being
    the final model's and the ablation's code run; the lower-bound objective under 2 seeds,
    the denoising one being the study's own)."""
    from infusion import runs, study

    folder = workflow_copy(tmp_path)
    plan = snakemake(folder, "-n", "-p", "--configfile", TINY).stdout
    planned = re.findall(r" train --data \S+ --out (\S+) ", plan)
    config = study.load(folder / "config.yaml", [folder / TINY])
    assert len(planned) == len(set(planned)) == 20
    assert set(planned) == {run.folder for run in runs.training_runs(config)}


def shell_of(dry_run: str, rule: str, dataset: str) -> str:
    """The shell command of the planned job of `rule` on `dataset` in `snakemake -n -p`."""
    (job,) = [
        job
        for job in dry_run.split("\nrule ")[1:]
        if job.startswith(f"{rule}:") and re.search(rf"wildcards: dataset={dataset}\b", job)
    ]
    return re.search(r"Shell command: (.*)", job).group(1)


def test_disabled_natural_dataset_is_not_planned(tmp_path):
    folder = workflow_copy(tmp_path)
    (folder / "no-tfd.yaml").write_text(yaml.safe_dump({"data": {"tfd": {"enabled": False}}}))
    out = snakemake(folder, "-n", "--configfile", "no-tfd.yaml").stdout
    assert "dataset=celeba" in out and "dataset=tfd" not in out


@pytest.mark.parametrize(
    "overlay, key",
    [
        ({"grid": [{"panel": "b", "steps": 5, "alpha0": [0.0], "omega": [0.1, -0.1]}]},
         "grid[0].omega[1]"),
        ({"final": {"steps": 0, "alpha0": 0.0, "omega": 0.01}}, "final.steps"),
        ({"dataset": "cifar"}, "dataset"),
        ({"training": {"epochs": "many"}}, "training.epochs"),
        ({"final": {"steps": 7, "alpha0": 0.0, "omega": 0.01}}, "final"),
        ({"resources": {"jobs_per_gpu": 0}}, "resources.jobs_per_gpu"),
        ({"natural_images": {"tfd": {"steps": 15, "alpha0": 0.0, "omega": 0.01,
                                     "training": {"epochs": 0}}}},
         "natural_images.tfd.training.epochs"),
        ({"inception": {"weights": "nowhere/inception.pth"}}, "inception.weights"),
    ],
)  # fmt: skip
def test_invalid_config_stops_before_any_job_naming_the_key(tmp_path, overlay, key):
    folder = workflow_copy(tmp_path)
    (folder / "bad.yaml").write_text(yaml.safe_dump(overlay))
    result = snakemake(folder, "--cores", "1", "--configfile", "bad.yaml", check=False)
    assert result.returncode != 0
    assert f"config key '{key}'" in result.stderr
    assert not (folder / "results").exists()


def test_lint_is_clean():
    result = snakemake(REPO, "--lint")
    assert "Congratulations, your workflow is in a good condition!" in result.stdout + result.stderr


def test_tiny_study_writes_every_figure_and_the_report(tiny_study):
    for name in FIGURES:
        assert (tiny_study / "figures" / f"{name}.png").stat().st_size > 5000, name
    report = (tiny_study / "report.html").read_text()
    assert "scorecard" in report.lower()
    for name in FIGURES:
        assert f"{name}.png" in report, name


def test_tiny_study_tables_have_expected_rows_and_finite_numbers(tiny_study):
    tables = tiny_study / "tables"
    config = yaml.safe_load((REPO / TINY).read_text())
    grid_rows = sum(len(p["alpha0"]) * len(p["omega"]) for p in config["grid"])
    distinct_runs = len(
        {(p["steps"], a, w) for p in config["grid"] for a in p["alpha0"] for w in p["omega"]}
    )

    a1 = pd.read_csv(tables / "tableA.1.csv")
    ours = a1[a1.test_lower_bound.notna()]
    assert len(ours) == grid_rows
    assert np.isfinite(ours.test_lower_bound).all()

    t31 = pd.read_csv(tables / "table3.1.csv")
    tightest = t31.estimator == TIGHTEST
    infusion = t31[t31.model.str.startswith("Infusion") & ~tightest]
    assert len(infusion) == 3 and tightest.sum() == 1 and len(t31) == 10
    estimates = infusion[["test_mean", "test_std", "train_mean", "train_std"]].to_numpy()
    assert np.isfinite(estimates).all()
    # the importance-sampling estimate is never below the lower bound on the same draws
    by_estimator = infusion[infusion.model == "Infusion training"].set_index("estimator")
    assert by_estimator.loc["IS", "test_mean"] >= by_estimator.loc["lower bound", "test_mean"]

    parzen = pd.read_csv(tables / "fig3.4.csv")
    assert len(parzen) == 7 and math.isfinite(parzen["mean"].iloc[-1])

    card = pd.read_csv(tables / "scorecard.csv")
    ran = card[card.ours.notna()]
    assert len(ran) == grid_rows + 6 + 1  # Table A.1 rows, Table 3.1 x 2 splits, Parzen
    assert np.isfinite(ran.ours).all()
    # with verdicts (tiny.yaml), also the paper's numbers it did not run, without ours
    assert (card[card.ours.isna()].verdict == "not run at this scale").all()

    runtimes = pd.read_csv(tables / "runtimes.csv")
    seeds = config["training"]["seeds"]
    assert (runtimes.rule == "train").sum() == distinct_runs * len(seeds)
    assert (runtimes.seconds > 0).all()


def test_tiny_study_seed_columns_are_the_mean_and_std_of_each_seeds_run(tiny_study):
    """tiny.yaml trains every run under two seeds: Table A.1's, Table 3.1's and Fig 3.4's
    seed columns against numpy over the runs' own JSON files (read here), and the seeds
    really differ."""
    config = yaml.safe_load((REPO / TINY).read_text())
    assert config["training"]["seeds"] == [0, 1]
    a1 = pd.read_csv(tiny_study / "tables" / "tableA.1.csv")
    row = a1[(a1.panel == "b") & (a1.rate == 0.1)].iloc[0]
    bounds = [
        json.loads((tiny_study / f"runs/digits/T3-a0-w0.1{tag}/test_bound.json").read_text())
        for tag in ("", "_seed1")
    ]
    values = [b["lower_bound"]["mean"] for b in bounds]
    assert values[0] != values[1]
    assert row.test_lower_bound == pytest.approx(values[0])
    assert (row.seeds, row.seed_mean) == (2, pytest.approx(np.mean(values)))
    assert row.seed_std == pytest.approx(np.std(values, ddof=1))
    summaries = [
        json.loads((tiny_study / f"runs/digits/T3-a0-w0.1{tag}/summary.json").read_text())
        for tag in ("", "_seed1")
    ]
    assert [s["train_settings"]["seed"] for s in summaries] == [0, 1]
    t31 = pd.read_csv(tiny_study / "tables" / "table3.1.csv")
    lower = t31[t31.estimator == "lower bound"].iloc[0]
    finals = [
        json.loads((tiny_study / f"final/digits{tag}/likelihood_test.json").read_text())
        for tag in ("", "_seed1")
    ]
    expected = [f["lower_bound"]["mean"] for f in finals]
    assert lower.test_seed_mean == pytest.approx(np.mean(expected))
    parzen = pd.read_csv(tiny_study / "tables" / "fig3.4.csv").iloc[-1]
    parzens = [
        json.loads((tiny_study / f"final/digits{tag}/parzen.json").read_text())["mean"]
        for tag in ("", "_seed1")
    ]
    assert parzen.seed_std == pytest.approx(np.std(parzens, ddof=1))


def test_tiny_study_runs_the_fidelity_ablation(tiny_study):
    """Every variant's row, from runs trained with the variant's settings (read back from
    each run's summary), and its Parzen value at the variant's centres; table and figure in
    the report."""
    table = pd.read_csv(tiny_study / "tables" / "fidelity.csv").set_index("variant")
    # tiny.yaml's fidelity.variants, in table order
    assert list(table.index) == ["paper", "rate_index", "first_rate", "parzen_centres",
                                 "parzen_test_points", "code"]  # fmt: skip
    assert np.isfinite(table[["test_lower_bound", "importance_sampling", "parzen"]]).all().all()
    runs = tiny_study / "runs/digits"
    code_tag = ("_rate_index-code_layers-1_dequantize_targets-true_keep-last"
                "_statistics_dequantize-true_last_batch-keep")  # fmt: skip
    code = json.loads((runs / f"T3-a0-w0.1{code_tag}/summary.json").read_text())
    assert code["model_settings"]["rate_index"] == "code"
    assert code["model_settings"]["layers"] == 1
    assert code["model_settings"]["first_rate"] == "alpha0"  # not in the code's variant
    assert code["train_settings"]["dequantize_targets"] is True
    assert code["train_settings"]["keep"] == "last" and code["kept_epoch"] == 3
    growth = json.loads((runs / "T3-a0-w0.1_first_rate-growth/summary.json").read_text())
    assert growth["model_settings"]["first_rate"] == "growth"
    # the Parzen switches train nothing: the paper run's estimates at the other cells
    parzen = json.loads((tiny_study / "final/digits/parzen.json").read_text())
    for switch, points, centres in (("parzen_centres", "dequantized", "training"),
                                    ("parzen_test_points", "raw", "sampling"),
                                    ("paper", "dequantized", "sampling")):  # fmt: skip
        assert table.loc[switch, "test_lower_bound"] == table.loc["paper", "test_lower_bound"]
        cell = parzen["by_test_points"][points][centres]["mean"]
        assert table.loc[switch, "parzen"] == cell, switch
    assert table.loc["paper", "parzen"] == parzen["by_chain_steps"]["sampling"]["mean"]
    report = (tiny_study / "report.html").read_text()
    assert "fidelity.png" in report and "fidelity.csv" in report


def test_tiny_study_judges_every_paper_number_and_counts_the_verdicts(tiny_study):
    """Every Table A.1 number of the paper is on the scorecard, run or not; the counts per
    table are the scorecard's verdicts tallied; table and figure are in the report."""
    card = pd.read_csv(tiny_study / "tables" / "scorecard.csv")
    a1 = card[card.quantity.str.startswith("Table A.1") & card.paper.notna()]
    assert sorted(a1.paper) == sorted(v for rows in paper.TABLE_A1.values() for v in rows.values())
    counts = pd.read_csv(tiny_study / "tables/beyond/verdicts.csv").set_index("table")
    judged = card[card.verdict.notna()]
    kinds = judged.verdict.str.replace(r"^differs by .*", "differs", regex=True)
    assert counts.loc["all", "rows"] == len(judged)
    assert counts.loc["all", "differs"] == (kinds == "differs").sum()
    assert counts.loc["all", "not_run_at_this_scale"] == (kinds == "not run at this scale").sum()
    # the tiny study runs at another scale than the paper's: none of its numbers is judged
    # against the paper's, each run one is "other scale"
    ran = judged[judged.ours.notna() & (judged.verdict != "")]
    assert len(ran) and (ran.verdict == "other scale").all()
    assert counts.loc["all", "other_scale"] == len(ran)
    assert (tiny_study / "figures/beyond/verdicts.png").stat().st_size > 5000
    report = (tiny_study / "report.html").read_text()
    assert "verdicts.png" in report and "verdicts.csv" in report


def test_tiny_study_judges_the_paper_s_claims(tiny_study):
    """claims.csv holds every claim, with a verdict each, and each holds or fails names the
    noise it was decided against; those whose table the tiny study does not make (Table
    3.2, a sample-quality score) are not run, Fig 3.4's at another scale."""
    from infusion.paper.claims import CLAIM_COLUMNS, CLAIMS

    claims = pd.read_csv(tiny_study / "tables/claims.csv", keep_default_na=False)
    assert list(claims.columns) == CLAIM_COLUMNS
    assert list(claims.id) == [claim.id for claim in CLAIMS]
    assert set(claims.verdict) <= {
        "holds",
        "fails",
        "undecided",
        "not run",
        "not run (other scale)",
    }
    decided = claims[claims.verdict.isin(["holds", "fails"])]
    assert (decided.noise != "").all()
    verdicts = claims.set_index("id").verdict
    assert verdicts["inception-above-gan"].startswith("not run")
    assert verdicts["increasing-beats-constant"] == "not run"
    assert verdicts["parzen-above-baselines"] == "not run (other scale)"
    # two seeds and the lower-bound-training table: "similar" is judged against a known noise
    noise = claims.set_index("id").noise
    assert noise["lower-bound-training-similar"] == "seed std over 2 seeds"
    assert (claims.ours != "").all() and (claims.test != "").all()
    assert "claims.csv" in (tiny_study / "report.html").read_text()


def test_tiny_study_front_page_opens_on_the_status_and_the_claims(tiny_study):
    page = (tiny_study / "report/front_page.rst").read_text()
    titles = re.findall(r"^(\S[^\n]*)\n-+\n", page, flags=re.M)
    assert titles == ["Status", "Claims", "What the full study should find", "Verdicts", "Numbers"]
    assert "`verdicts.png`_" in page and "shapes16" in page  # its natural-image dataset
    report = (tiny_study / "report.html").read_text()
    assert "infusion-beats-rate-0" in report and "Paper numbers with no run here" in report


def test_tiny_study_runs_the_ladder(tiny_study):
    """A row per run of tiny.yaml's ladder (its rungs, read here), each row's estimates those
    of the run's own files (read here), its settings those its summary records; gap.csv's
    shares sum to its total for each semantics, and the front page gives the prediction."""
    raw = yaml.safe_load((REPO / "workflow/configs/tiny.yaml").read_text())["ladder"]
    table = pd.read_csv(tiny_study / "tables/beyond/ladder.csv")
    expected = [(rung["rung"], semantics, 0) for rung in raw["rungs"]
                for semantics in rung.get("semantics", raw["semantics"])]  # fmt: skip
    assert list(zip(table.rung, table.semantics, table.seed, strict=True)) == expected
    scores = tiny_study / "beyond/ladder/digits"
    row = table.set_index("rung").loc["images-300"]
    own = json.loads((scores / "T3-a0-w0.1_train_size-300/proposals/own.json").read_text())
    common = json.loads(
        (scores / f"T3-a0-w0.1_train_size-300/proposals/{raw['proposal']}.json").read_text()
    )
    assert row.test_lower_bound == own["lower_bound"]["mean"] and own["proposal"] == "own"
    assert row.common_importance_sampling == common["importance"]["mean"]
    assert row.common_proposal == raw["proposal"] and row.train_examples == 300
    steps = table.set_index("rung").loc["steps-4"]
    assert (steps.steps, steps.omega) == (4, 0.05)
    assert table.set_index("rung").loc["width-48"].hidden == 48
    assert np.isfinite(table[["test_lower_bound", "common_lower_bound", "parzen"]]).all().all()
    gap = pd.read_csv(tiny_study / "tables/beyond/gap.csv")
    for _, part in gap.groupby("semantics"):
        shares = part[part.kind.isin(["measured", "extrapolated", "unexplained"])].nats.sum()
        assert shares == pytest.approx(part[part.kind == "total"].nats.iloc[0])
    paper = gap[(gap.semantics == "paper") & (gap.component == "prediction")].iloc[0]
    assert np.isfinite(paper.nats) and paper.low <= paper.nats <= paper.high
    page = (tiny_study / "report/front_page.rst").read_text()
    assert "What the full study should find" in page and f"{paper.nats:.2f}" in page
    assert "ladder.png" in (tiny_study / "report.html").read_text()


def test_tiny_study_runs_the_convergence_study(tiny_study):
    """Both estimators at every k of tiny.yaml under the model's own chain and under the
    tightest proposal the search found for it, finite, IS above the bound, in the report."""
    table = pd.read_csv(tiny_study / "tables/beyond/convergence.csv")
    search = json.loads((tiny_study / "final/digits/proposal_search.json").read_text())
    expected = [
        (proposal, tightest, name, k)
        for proposal, tightest in (("own", False), (search["best"], True))
        for name in ("lower_bound", "importance")
        for k in (1, 4, 16)
    ]
    assert list(zip(table.proposal, table.tightest, table.estimator, table.chains,
                    strict=True)) == expected  # fmt: skip
    assert np.isfinite(table[["mean", "std"]]).all().all() and (table.repetitions == 2).all()
    for _, rows in table.groupby("tightest"):
        wide = rows.pivot(index="chains", columns="estimator", values="mean")
        assert (wide.importance >= wide.lower_bound).all()
    report = (tiny_study / "report.html").read_text()
    assert "convergence.png" in report and "convergence.csv" in report


def test_tiny_study_names_the_proposal_of_every_likelihood_estimate(tiny_study):
    """The default proposal, the model's own training chain ("own"), in every JSON and every
    table row that holds a lower bound or an IS estimate (but those under the tightest)."""
    estimates = [*tiny_study.glob("final/*/likelihood_test.json"),
                 *tiny_study.glob("final/*/likelihood_train.json"),
                 *tiny_study.glob("runs/*/*/test_bound.json")]  # fmt: skip
    assert estimates and {json.loads(p.read_text())["proposal"] for p in estimates} == {"own"}
    convergence = json.loads(next(tiny_study.glob("final/*/convergence.json")).read_text())
    assert {r["proposal"] for r in convergence["estimates"]} == {"own"}
    for name in ("grid.csv", "tableA.1.csv", "table3.1.csv", "fidelity.csv",
                 "beyond/convergence.csv", "beyond/lower-bound-training.csv"):  # fmt: skip
        table = pd.read_csv(tiny_study / "tables" / name)
        if name == "table3.1.csv":
            table = table[table.estimator != TIGHTEST]
        if name == "beyond/convergence.csv":
            table = table[~table.tightest]
        assert set(table.proposal.dropna()) == {"own"}, name
    card = pd.read_csv(tiny_study / "tables/scorecard.csv")
    # the rows of estimates the study made (not those it did not run, kept for their verdicts)
    made = card.quantity.str.startswith(("Table A.1", "Table 3.1")) & card.ours.notna()
    assert made.any() and (card[made].proposal == "own").all()
    assert card[~made].proposal.isna().all()


def test_tiny_study_scores_test_under_the_tightest_proposal_on_validation(tiny_study):
    """Every seed's search file: its candidates (own first), its best the highest validation
    IS; the test estimate under it names it and the file; Table 3.1's tightest row is the
    first seed's estimate and proposal, and the scorecard shows it beside ours."""
    config = yaml.safe_load((REPO / TINY).read_text())["proposal_search"]
    finals = [tiny_study / f"final/digits{tag}" for tag in ("", "_seed1")]
    searches = [json.loads((final / "proposal_search.json").read_text()) for final in finals]
    estimates = [
        json.loads((final / "likelihood_test_tightest.json").read_text()) for final in finals
    ]
    for final, search, estimate in zip(finals, searches, estimates, strict=True):
        candidates = search["candidates"]
        assert candidates[0]["proposal"] == "own" and len(candidates) > 1
        assert (search["examples"], search["chains"]) == (config["examples"], config["chains"])
        importance = [c["importance"] for c in candidates]
        assert search["best"] == candidates[int(np.argmax(importance))]["proposal"]
        assert np.isfinite(importance).all()
        assert all(c["importance"] >= c["lower_bound"] for c in candidates)
        assert estimate["proposal"] == search["best"]
        assert estimate["proposal_from"] == f"results/final/{final.name}/proposal_search.json"
    t31 = pd.read_csv(tiny_study / "tables/table3.1.csv")
    rows = list(zip(t31.model, t31.estimator, strict=True))
    row = t31.iloc[rows.index(("Infusion training", TIGHTEST))]
    assert (
        rows.index(("Infusion training", TIGHTEST)) == rows.index(("Infusion training", "IS")) + 1
    )
    names = [s["best"] for s in searches]
    assert row.proposal == (names[0] if len(set(names)) == 1 else "; ".join(names))
    assert row.test_mean == estimates[0]["importance"]["mean"]
    means = [e["importance"]["mean"] for e in estimates]
    assert row.test_seed_mean == pytest.approx(np.mean(means))
    assert math.isnan(row.paper_test_mean) and math.isnan(row.train_mean)
    card = pd.read_csv(tiny_study / "tables/scorecard.csv").set_index("quantity")
    shown = card[card.tightest.notna()]
    assert list(shown.index) == ["Table 3.1 Infusion training, IS (test)"]
    assert shown.tightest.iloc[0] == row.test_mean
    assert shown.tightest_proposal.iloc[0] == row.proposal
    assert TIGHTEST in (tiny_study / "report.html").read_text()


def test_tiny_study_compares_the_two_objectives(tiny_study):
    """One point (the final model, panel b's optimum too), both objectives, both seeds; the
    lower-bound runs trained with that objective (read back from their summaries)."""
    table = pd.read_csv(tiny_study / "tables/beyond/lower-bound-training.csv")
    assert list(zip(table.point, table.objective, table.seed, strict=True)) == [
        ("final, b", objective, seed) for objective in ("denoising", "lower_bound")
        for seed in (0, 1)
    ]  # fmt: skip
    quantities = ["test_lower_bound", "importance_sampling", "parzen"]
    assert np.isfinite(table[quantities]).all().all()
    for tag, objective in (("", "denoising"), ("_objective-lower_bound_seed1", "lower_bound")):
        summary = json.loads((tiny_study / f"runs/digits/T3-a0-w0.1{tag}/summary.json").read_text())
        assert summary["train_settings"]["objective"] == objective
    denoising = json.loads((tiny_study / "final/digits/likelihood_test.json").read_text())
    assert table.test_lower_bound[0] == denoising["lower_bound"]["mean"]
    report = (tiny_study / "report.html").read_text()
    assert "lower-bound-training.png" in report and "lower-bound-training.csv" in report


def test_tiny_study_answers_the_sampling_steps_question(tiny_study):
    """tiny.yaml samples its 3-step final model for 1 and 1.5 T (3 and 5 steps) under both
    seeds. The 3-step chains are the first 3 steps of Fig 3.4's 6-step ones (same seed, same
    draws), so their means and Parzen estimate are that file's step-T centres'."""
    table = pd.read_csv(tiny_study / "tables/beyond/sampling-steps.csv")
    assert list(zip(table.seed, table.steps, strict=True)) == [(0, 3), (0, 5), (1, 3), (1, 5)]
    columns = ["parzen", "nearest_distance", "test_nearest_distance"]
    assert np.isfinite(table[columns]).all().all() and (table.nearest_distance > 0).all()
    for row in table[table.steps == 3].itertuples():
        final = tiny_study / f"final/digits{'' if row.seed == 0 else f'_seed{row.seed}'}"
        with (
            np.load(final / "sampling_steps/3/samples.npz") as ours,
            np.load(final / "samples.npz") as fig_3_4,
        ):
            np.testing.assert_array_equal(ours["means"], fig_3_4["training_steps_means"])
        step_t = json.loads((final / "parzen.json").read_text())["by_chain_steps"]["training"]
        assert row.parzen == pytest.approx(step_t["mean"], rel=1e-12)
    report = (tiny_study / "report.html").read_text()
    assert "sampling-steps.png" in report and "sampling-steps.csv" in report


def test_tiny_study_answers_the_parzen_trust_question(tiny_study):
    """The real-data row against parzen.log_likelihood on the same arrays: the first 300
    training digits (sampling.samples) as centres, the first 300 test digits (parzen.examples)
    dequantized with parzen.seed; this study's fixed-sigma rows are Fig 3.4's files."""
    import torch

    from infusion.data.registry import dequantize, load, to_unit_interval
    from infusion.estimation.parzen import log_likelihood

    table = pd.read_csv(tiny_study / "tables/beyond/parzen-trust.csv")
    assert np.isfinite(table["mean"]).all() and len(table) == 7 + 2 * 2 + 2
    data = load(tiny_study / "data/digits.npz")
    test = torch.as_tensor(to_unit_interval(data["test"][:300]))
    points = dequantize(test, torch.Generator().manual_seed(3)).numpy()
    expected = log_likelihood(to_unit_interval(data["train"][:300]), points, 0.17).mean()
    real = table[(table.model == "Real data") & (table.sigma_choice == "fixed")].iloc[0]
    assert real["mean"] == pytest.approx(expected, rel=1e-9)
    fixed = table[(table.kernel_centres == "model samples") & (table.sigma_choice == "fixed")]
    for row in fixed.itertuples():  # seeds are floats in a column with blanks: 1.0
        final = tiny_study / f"final/digits{'' if row.seed == 0 else f'_seed{row.seed:.0f}'}"
        assert row.mean == json.loads((final / "parzen.json").read_text())["mean"]
    chosen = table[table.sigma_choice == "validation"]
    assert (
        len(chosen) == 3
        and chosen.sigma.isin(
            yaml.safe_load((REPO / "config.yaml").read_text())["parzen"]["sigma_grid"]
        ).all()
    )
    report = (tiny_study / "report.html").read_text()
    assert "parzen-trust.png" in report and "parzen-trust.csv" in report


def test_tiny_study_cost_table_is_in_the_report_and_matches_infusion_cost(tiny_study, tmp_path):
    from infusion.cli import main
    from infusion.cost import estimate_cost
    from infusion.study import load
    from infusion.throughput import Rates

    table = pd.read_csv(tiny_study / "tables" / "cost.csv")
    assert "cost.csv" in (tiny_study / "report.html").read_text()
    assert table.stage.tolist()[-3:] == ["shapes16 train", "shapes16 sampling", "total"]
    study_rates, natural_rates = (
        {key: float(table[key].iloc[row]) for key in RATE_COLUMNS} for row in (0, -3)
    )
    assert all(value > 0 for value in (*study_rates.values(), *natural_rates.values()))
    assert natural_rates != study_rates  # the conv network was timed on its own
    # The same config given as files to `infusion cost`, with the study network's rates the
    # workflow measured (given rates stand for every network) ...
    flags = [
        arg
        for key, value in study_rates.items()
        for arg in (f"--{key.replace('_', '-')}", repr(value))
    ]
    main(["cost", "--config", str(REPO / "config.yaml"), "--configfile", str(REPO / TINY),
          *flags, "--out", str(tmp_path / "direct.csv")])  # fmt: skip
    direct = pd.read_csv(tmp_path / "direct.csv")
    assert table.stage.tolist() == direct.stage.tolist()
    assert table.jobs.tolist() == direct.jobs.tolist()
    # (the ladder's runs are priced at their own networks' rates, as shapes16's)
    own_network = ~table.stage.str.startswith("shapes16") & ~table.stage.isin(["ladder", "total"])
    assert table.hours[own_network].to_numpy() == pytest.approx(
        direct.hours[own_network].to_numpy(), rel=1e-12
    )
    assert table.hours[table.stage == "ladder"].iloc[0] > 0
    # ... and the whole table but the ladder from both networks' rates.
    config = load(REPO / "config.yaml", [REPO / TINY])
    expected = estimate_cost(config, Rates(**study_rates), {"shapes16": Rates(**natural_rates)})
    rows = ~table.stage.isin(["ladder", "total"])
    assert table.hours[rows].to_numpy() == pytest.approx(
        expected.hours[expected.stage != "total"].to_numpy(), rel=1e-12
    )


@pytest.mark.slow
def test_table_3_2_of_the_tiny_conv_model_with_random_inception_weights(tmp_path, random_weights):
    folder = workflow_copy(tmp_path)
    target = ["results/tables/table3.2.csv", "--cores", "1", "--configfile", TINY]
    (folder / "table.yaml").write_text(
        yaml.safe_dump({"natural_outputs": {"table3.2": "shapes16"}})
    )
    # No local weights and no MD5: the fetch is planned all the same, SHA-256-checked (not
    # run: it would reach the internet).
    planned = snakemake(folder, *target, "table.yaml", "-n", "-p").stdout
    (fetch,) = re.findall(r"fetch-inception-weights .*", planned)
    assert "--weights-sha256 6726825d" in fetch and "--md5" not in fetch
    assert "--out results/downloads/inception/weights-inception-2015-12-05-6726825d.pth" in fetch

    # Random weights of another SHA-256, declared so in the config
    prefix = hashlib.sha256(random_weights.read_bytes()).hexdigest()[:8]
    overlay = {"natural_outputs": {"table3.2": "shapes16"},
               "inception": {"weights": str(random_weights), "weights_sha256": prefix}}  # fmt: skip
    (folder / "table.yaml").write_text(yaml.safe_dump(overlay))
    snakemake(folder, *target, "table.yaml")
    table = pd.read_csv(folder / "results/tables/table3.2.csv").set_index("model")
    ours = table.loc[["Infusion training", "Real data"]]
    assert (ours.inception_score >= 1).all() and np.isfinite(ours.inception_score_std).all()
    assert (ours.images == 20).all() and (ours.splits == 2).all()
    assert np.isfinite(table.loc["Infusion training", "fid"])
    assert table.loc["Infusion training", "paper_inception_score"] == 4.62


def test_interrupted_workflow_resumes_without_redoing_finished_points(tmp_path):
    folder = workflow_copy(tmp_path)
    # Longer runs than tiny's so that the interrupt lands during training.
    slow = {"training": {"epochs": 60}, "model": {"hidden": 128}}
    (folder / "slow.yaml").write_text(yaml.safe_dump(slow))
    targets = [f"results/runs/digits/T3-a0-w{omega}/model.pt" for omega in ("0", "0.1")]
    command = [*targets, "--cores", "1", "--configfile", TINY, "slow.yaml"]
    process = subprocess.Popen(["snakemake", *command], cwd=folder, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    models = [folder / t for t in targets]

    def state():
        """(finished model, the other one) once one point is done and the other mid-run."""
        for done, other in (models, models[::-1]):
            curves = other.parent / "metrics.csv"
            if done.exists() and not other.exists() and curves.exists():
                if len(curves.read_text().splitlines()) > 5:
                    return done, other
        return None

    deadline = time.time() + 300
    while (found := state()) is None:
        assert process.poll() is None and time.time() < deadline, "workflow ended too early"
        time.sleep(0.02)
    os.killpg(process.pid, signal.SIGKILL)  # the whole workflow, as a crash or a kill would
    process.wait()
    finished, interrupted = found
    assert not interrupted.exists()
    finished_at = finished.stat().st_mtime_ns

    snakemake(folder, "--unlock", *command)  # a killed snakemake leaves its lock behind
    snakemake(folder, *command)
    assert finished.stat().st_mtime_ns == finished_at  # the finished grid point was not redone
    name = interrupted.parent.name
    log = (folder / f"results/logs/train/digits/{name}.log").read_text()
    assert "resumed from" in log
    metrics = pd.read_csv(interrupted.parent / "metrics.csv")
    assert metrics.epoch.tolist() == list(range(61))


def test_a_config_edit_reruns_training_to_the_models_of_a_clean_run(tmp_path):
    """One grid point of the tiny study: 3 epochs; then training.epochs 2; then also
    training.lr 0.002. Each rerun warns that the checkpoint is stale, needs nothing deleted
    by hand, and gives the model of a clean run (no checkpoint, no outputs) of its config."""
    import torch

    folder = workflow_copy(tmp_path)
    run = folder / "results/runs/digits/T3-a0-w0.1"
    checkpoints, log = folder / "results/checkpoints", folder / "results/logs/train/digits"
    target = ["results/runs/digits/T3-a0-w0.1/model.pt", "--cores", "1", "--configfile", TINY]
    (folder / "fewer.yaml").write_text(yaml.safe_dump({"training": {"epochs": 2}}))
    (folder / "lr.yaml").write_text(yaml.safe_dump({"training": {"epochs": 2, "lr": 0.002}}))

    def trained(*overlays):
        snakemake(folder, *target, *overlays)
        model = torch.load(run / "model.pt", weights_only=True)
        return model, json.loads((run / "summary.json").read_text())

    def clean(*overlays):
        for path in (checkpoints, run):
            subprocess.run(["rm", "-r", str(path)], check=True)
        return trained(*overlays)

    three, _ = trained()
    for overlay, stale_because in (("fewer.yaml", "epochs 3 -> 2"), ("lr.yaml", "lr 0.001")):
        edited, summary = trained(overlay)
        warned = (log / "T3-a0-w0.1.log").read_text()
        assert stale_because in warned and "training starts afresh" in warned, warned[-2000:]
        reference, clean_summary = clean(overlay)
        assert summary["best_epoch"] == clean_summary["best_epoch"] <= 2
        assert summary["train_settings"] == clean_summary["train_settings"]
        assert edited["state"].keys() == reference["state"].keys()
        for key in reference["state"]:
            assert torch.equal(edited["state"][key], reference["state"][key]), (overlay, key)
    assert not all(torch.equal(three["state"][k], edited["state"][k]) for k in three["state"])


def test_tiny_study_cross_scores_every_trained_variant(tiny_study):
    """Every trained variant (one seed) under the schedules of the variants (paper-a0-w0.1;
    code-a0-w0.1 of rate_index and code; paper-a0.1-w0.1 of first_rate) and under its
    tightest proposal; at tiny.yaml's sizes (cross_scoring null: evaluation's) each cell under
    the variant's own schedule is the fidelity table's estimate of it, bit for bit, and the
    tightest cell is under its run's search's best; table and figure in the report."""
    cells = pd.read_csv(tiny_study / "tables/beyond/proposals.csv")
    trained = ["paper", "rate_index", "first_rate", "code"]  # of tiny.yaml's variants
    columns = ["paper-a0-w0.1", "code-a0-w0.1", "paper-a0.1-w0.1", "tightest"]
    assert list(zip(cells.trained_variant, cells.scored_by, strict=True)) == [
        (variant, column) for variant in trained for column in columns
    ]
    assert (cells.seed == 0).all() and (cells.k == 20).all() and (cells.examples == 50).all()
    assert np.isfinite(cells[["lower_bound", "importance"]]).all().all()
    own = {"rate_index": "code-a0-w0.1", "code": "code-a0-w0.1", "first_rate": "paper-a0.1-w0.1"}
    diagonal = cells[cells.own].set_index("trained_variant")
    assert list(diagonal.index) == trained
    fidelity = pd.read_csv(tiny_study / "tables/fidelity.csv").set_index("variant")
    for variant in trained:
        cell = diagonal.loc[variant]
        assert cell.scored_by == own.get(variant, "paper-a0-w0.1"), variant
        assert cell.lower_bound == fidelity.loc[variant, "test_lower_bound"], variant
        assert cell.importance == fidelity.loc[variant, "importance_sampling"], variant
    runs = {variant: tag for variant, _, tag in _fidelity_runs(tiny_study)}
    for row in cells[cells.scored_by == "tightest"].itertuples():
        search = tiny_study / f"final/digits{runs[row.trained_variant]}/proposal_search.json"
        assert row.proposal == json.loads(search.read_text())["best"]
    report = (tiny_study / "report.html").read_text()
    assert "proposals.png" in report and "proposals.csv" in report


def _fidelity_runs(tiny_study):
    """(variant, seed, run tag) of the tiny study's trained ablation runs."""
    from infusion import study as study_config
    from infusion.beyond.cross_scoring import trained_runs

    config = study_config.load(REPO / "config.yaml", [REPO / "workflow/configs/tiny.yaml"])
    return trained_runs(config)
