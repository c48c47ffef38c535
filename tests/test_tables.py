"""Aggregation, paper-facing tables, runtimes and the scorecard on small fake run folders and
evaluation outputs."""

from __future__ import annotations

import json
import math

import docutils.core
import pandas as pd
import pytest
import yaml
from workflow_runs import REPO

from infusion import published as paper
from infusion.paper import tables
from infusion.paper.grid import aggregate_grid
from infusion.paper.runtimes import runtimes
from infusion.paper.scorecard import scorecard

EPOCHS = 3  # fake training runs: epochs 0 (initialisation) .. EPOCHS
CONFIG = REPO / "config.yaml"  # the study's config file; the tests' studies overlay it


def overlay(values: dict) -> dict:
    """A config overlay from dotted keys: {"final.steps": 5} -> {"final": {"steps": 5}}."""
    tree: dict = {}
    for key, value in values.items():
        *sections, name = key.split(".")
        node = tree
        for section in sections:
            node = node.setdefault(section, {})
        node[name] = value
    return tree


def write_study(folder, values: dict, name: str = "study.yaml"):
    """The study ``values`` (dotted keys) as an overlay of :data:`CONFIG`, in ``folder``."""
    path = folder / name
    path.write_text(yaml.safe_dump(overlay(values)))
    return path


def grid_of(*points) -> list[dict]:
    """A config grid of one entry per (panel, steps, alpha0, omega)."""
    return [
        {"panel": panel, "steps": steps, "alpha0": [alpha0], "omega": [omega]}
        for panel, steps, alpha0, omega in points
    ]


def write_json(path, obj):
    path.write_text(json.dumps(obj))


def evaluation(split: str, base: float, isotropic: bool = True, proposal: str = "own") -> dict:
    """An `infusion evaluate` output whose estimates are base, base + 1, base + 2, made under
    ``proposal``."""
    keys = ["lower_bound", "importance"] + (["iso_lower_bound", "iso_importance"] * isotropic)
    estimates = {
        key: {"mean": base + i, "std": 0.1 * (i + 1), "values": [base + i]}
        for i, key in enumerate(keys)
    }
    return {
        "examples": 100 if split == "train" else 1000,
        "chains": 50,
        "isotropic_var": 0.01 if isotropic else None,
        "settings": {"split": split},
        "proposal": proposal,
        **estimates,
    }


def make_run(root, name: str, steps: int, alpha0: float, omega: float, test: float, files=None):
    """A fake training run folder with summary.json, metrics.csv and test_bound.json."""
    run = root / name
    run.mkdir()
    files = files or ("summary.json", "metrics.csv", "test_bound.json")
    if "summary.json" in files:
        write_json(
            run / "summary.json",
            {
                "model_settings": {"steps": steps, "alpha0": alpha0, "omega": omega},
                "train_settings": {"epochs": EPOCHS, "batch_size": 64},
                "best_epoch": EPOCHS - 1,
                "best_valid_lower_bound": test + 5.0,
                "train_seconds": 12.5,
                "device": "cpu",
            },
        )
    if "metrics.csv" in files:
        epochs = range(EPOCHS + 1)
        pd.DataFrame(
            {
                "epoch": epochs,
                "loss": [-10.0 * e for e in epochs],
                "seconds": [1.0] * len(epochs),
                "train_lower_bound": [100.0 * e for e in epochs],
                "valid_lower_bound": [90.0 * e for e in epochs],
                "valid_parzen": [math.nan] * len(epochs),
            }
        ).to_csv(run / "metrics.csv", index=False)
    if "test_bound.json" in files:
        write_json(run / "test_bound.json", evaluation("test", test) | {"isotropic_var": None})
    return str(run)


@pytest.fixture
def grid_runs(tmp_path):
    """Panels (a), (b), (e) and one 10-step run shared by panels (c) and (e)."""
    shared = make_run(tmp_path, "T10_a0_w0", 10, 0.0, 0.0, 800.0)
    return [
        ("a", make_run(tmp_path, "T1_a0.3", 1, 0.3, 0.0, 1200.0)),
        # 0.3 - 0.2 != 0.1 in floating point: matched to the paper's row by tolerance
        ("b", make_run(tmp_path, "T5_a0_w0.1", 5, 0.0, 0.3 - 0.2, 1400.0)),
        ("c", shared),
        ("e", make_run(tmp_path, "T10_a0.08_w0", 10, 0.08, 0.0, 1300.0)),
        ("e", shared),
    ]


@pytest.fixture
def grid(tmp_path, grid_runs):
    return aggregate_grid(grid_runs, tmp_path / "grid.csv", tmp_path / "curves.csv")


def test_aggregate_grid_rates_and_paper_values(tmp_path, grid):
    written = pd.read_csv(tmp_path / "grid.csv")
    assert list(written.columns) == [
        "panel", "steps", "alpha0", "omega", "rate", "best_epoch", "best_valid_lower_bound",
        "test_lower_bound", "proposal", "paper_test_lower_bound", "difference", "seeds",
        "seed_mean", "seed_std", "train_seconds", "run",
    ]  # fmt: skip
    assert (written.proposal == "own").all()
    assert written.panel.tolist() == ["a", "b", "c", "e", "e"]
    assert written.rate.tolist() == pytest.approx([0.3, 0.1, 0.0, 0.0, 0.08])
    b = written[written.panel == "b"].iloc[0]
    assert b.paper_test_lower_bound == 1448.66
    assert b.difference == pytest.approx(1400.0 - 1448.66)
    assert written.loc[written.panel == "a", "paper_test_lower_bound"].item() == 1209.39
    assert written.loc[written.panel == "e", "paper_test_lower_bound"].isna().all()
    assert written.loc[written.panel == "e", "difference"].isna().all()


def test_run_in_two_panels_gives_two_rows_and_all_curves(tmp_path, grid, grid_runs):
    shared = grid[grid.run.str.endswith("T10_a0_w0")]
    assert sorted(shared.panel) == ["c", "e"]
    assert shared.paper_test_lower_bound.isna().tolist() == [False, True]  # c: 824.42
    curves = pd.read_csv(tmp_path / "curves.csv")
    assert len(curves) == len(grid_runs) * (EPOCHS + 1)
    c = curves[curves.panel == "c"]
    assert c.epoch.tolist() == list(range(EPOCHS + 1))
    assert c.valid_lower_bound.tolist() == [90.0 * e for e in range(EPOCHS + 1)]
    assert set(curves.columns) >= {"steps", "alpha0", "omega", "rate", "train_lower_bound"}


@pytest.mark.parametrize("missing", ["summary.json", "metrics.csv", "test_bound.json"])
def test_missing_file_raises_and_writes_nothing(tmp_path, grid_runs, missing):
    present = {"summary.json", "metrics.csv", "test_bound.json"} - {missing}
    broken = make_run(tmp_path, "broken", 5, 0.0, 0.05, 1.0, files=present)
    runs = [*grid_runs, ("b", broken)]
    with pytest.raises(FileNotFoundError, match=missing):
        aggregate_grid(runs, tmp_path / "grid.csv", tmp_path / "curves.csv")
    assert not (tmp_path / "grid.csv").exists()
    assert not (tmp_path / "curves.csv").exists()


@pytest.mark.parametrize(
    ("panel", "steps", "omega", "message"),
    [("b", 10, 0.05, "step counts"), ("f", 15, 0.05, "omega != 0"), ("g", 5, 0.0, "panel 'g'")],
)
def test_inconsistent_run_is_rejected(tmp_path, grid_runs, panel, steps, omega, message):
    runs = [*grid_runs, (panel, make_run(tmp_path, "odd", steps, 0.0, omega, 1.0))]
    with pytest.raises(ValueError, match=message):
        aggregate_grid(runs, tmp_path / "grid.csv", tmp_path / "curves.csv")
    assert not (tmp_path / "grid.csv").exists()


def test_table_a1_lists_skipped_rows_and_keeps_both_panels(tmp_path, grid):
    table = tables.table_a_1(tmp_path / "grid.csv", tmp_path / "tableA.1.csv")
    assert list(pd.read_csv(tmp_path / "tableA.1.csv").columns) == [
        "panel", "steps", "schedule", "rate", "paper_test_lower_bound", "test_lower_bound",
        "proposal", "difference", "seeds", "seed_mean", "seed_std", "best_epoch",
    ]  # fmt: skip
    ran = table.test_lower_bound.notna()
    assert (table[ran].proposal == "own").all() and table[~ran].proposal.isna().all()
    b = table[table.panel == "b"]
    assert b.rate.tolist() == pytest.approx(sorted(paper.TABLE_A1["b"]))
    assert b.test_lower_bound.notna().sum() == 1
    assert b.loc[b.test_lower_bound.isna(), "paper_test_lower_bound"].notna().all()
    assert (b.steps == 5).all()  # skipped rows take their panel's step count
    d = table[table.panel == "d"]  # not run at all
    assert len(d) == len(paper.TABLE_A1["d"])
    assert d.test_lower_bound.isna().all() and (d.steps == 15).all()  # the paper's steps
    # The shared grid point stays in both panels (no filter overwritten by another).
    shared = table[table.rate.eq(0.0) & table.panel.isin(["c", "e"])].set_index("panel")
    assert shared.test_lower_bound.tolist() == [800.0, 800.0]
    assert shared.loc["c", "paper_test_lower_bound"] == paper.TABLE_A1["c"][0.0]
    assert math.isnan(shared.loc["e", "paper_test_lower_bound"])
    assert shared.schedule.tolist() == ["increasing", "constant"]
    assert len(table[table.panel == "c"]) == len(paper.TABLE_A1["c"])
    assert len(table[table.panel == "e"]) == 2
    assert len(table) == sum(map(len, paper.TABLE_A1.values())) + 2


@pytest.fixture
def bound_jsons(tmp_path):
    test, train = tmp_path / "test.json", tmp_path / "train.json"
    write_json(test, evaluation("test", 1300.0))
    write_json(train, evaluation("train", 1200.0))
    return test, train


def test_table_3_1_takes_numbers_from_the_json(tmp_path, bound_jsons):
    table = tables.table_3_1(*bound_jsons, tmp_path / "table3.1.csv")
    assert list(pd.read_csv(tmp_path / "table3.1.csv").columns) == [
        "model", "estimator", "paper_test_mean", "paper_test_std", "test_mean", "test_std",
        "paper_train_mean", "paper_train_std", "train_mean", "train_std", "test_difference",
        "train_difference", "seeds", "test_seed_mean", "test_seed_std", "train_seed_mean",
        "train_seed_std", "examples_test", "examples_train", "chains", "proposal",
    ]  # fmt: skip
    assert len(table) == len(paper.TABLE_3_1)
    ais = table[table.estimator == "AIS"]
    assert ais[["test_mean", "train_mean", "chains", "proposal"]].isna().all().all()
    assert (table[table.estimator != "AIS"].proposal == "own").all()
    iso = table[table.model == "Infusion training + isotropic"].iloc[0]
    assert (iso.test_mean, iso.test_std) == (1303.0, pytest.approx(0.4))  # iso_importance
    assert iso.test_difference == pytest.approx(1303.0 - paper.TABLE_3_1[6][2])
    lower = table[table.estimator == "lower bound"].iloc[0]
    assert (lower.train_mean, lower.train_std) == (1200.0, pytest.approx(0.1))
    assert (lower.examples_test, lower.examples_train, lower.chains) == (1000, 100, 50)


@pytest.mark.parametrize("odd", ["test", "train", "seed"])
def test_table_3_1_refuses_estimates_under_different_proposals(tmp_path, odd):
    """The table's rows compare one model under one proposal q: a file (either split, or
    another training seed's) made under another q stops the table, naming the files."""
    paths = {
        name: tmp_path / f"{name}.json" for name in ("test", "train", "seed_test", "seed_train")
    }
    for name, path in paths.items():
        proposal = "paper-a0-w0.1" if name.startswith(odd) else "own"
        write_json(path, evaluation(name.split("_")[-1], 1300.0, proposal=proposal))
    with pytest.raises(ValueError, match="different proposals.*own.*paper-a0-w0.1"):
        tables.table_3_1(
            [paths["test"], paths["seed_test"]],
            [paths["train"], paths["seed_train"]],
            tmp_path / "t31.csv",
        )
    assert not (tmp_path / "t31.csv").exists()


def test_table_3_1_rejects_swapped_splits(tmp_path, bound_jsons):
    test, train = bound_jsons
    with pytest.raises(ValueError, match="'train' split"):
        tables.table_3_1(train, test, tmp_path / "table3.1.csv")


def tightest_jsons(tmp_path, means: list[float], names: list[str]) -> list:
    """One test estimate per seed under its tightest proposal: IS mean ``means[i]``, its
    repetitions ``means[i] -+ 0.5``, made under ``names[i]`` (``infusion evaluate
    --proposal-from``'s output)."""
    paths = []
    for seed, (mean, name) in enumerate(zip(means, names, strict=True)):
        record = evaluation("test", mean - 1.0, proposal=name)  # importance: mean
        record["importance"] |= {"std": math.sqrt(0.5), "values": [mean - 0.5, mean + 0.5]}
        record |= {"chains": 40, "examples": 300, "proposal_from": f"search{seed}.json"}
        paths.append(tmp_path / f"tightest{seed}.json")
        write_json(paths[-1], record)
    return paths


@pytest.mark.parametrize(
    "names, proposal",
    [
        (["own-x0.5", "own-x0.5", "own-x0.5"], "own-x0.5"),
        (["own-x0.5", "code-a0-w0.1", "own-x0.5"], "own-x0.5; code-a0-w0.1; own-x0.5"),
    ],
)
def test_table_3_1_s_tightest_row_follows_the_is_row(tmp_path, names, proposal):
    """The tightest files' importance as the test columns (the first seed's mean and std,
    numpy's mean and ddof-1 std over the seeds), no paper or train values, the tightest
    proposal's name (every seed's where they differ); the other rows keep their own."""
    seeds = [(tmp_path / f"t{i}.json", tmp_path / f"r{i}.json") for i in range(3)]
    for i, (test, train) in enumerate(seeds):
        write_json(test, evaluation("test", 1300.0 + i))
        write_json(train, evaluation("train", 1200.0 + i))
    means = [1500.0, 1510.0, 1496.0]
    tightest = tightest_jsons(tmp_path, means, names)
    tests, trains = ([pair[i] for pair in seeds] for i in (0, 1))
    plain = tables.table_3_1(tests, trains, tmp_path / "plain.csv")
    table = tables.table_3_1(tests, trains, tmp_path / "t31.csv", tightest=tightest)
    assert len(table) == len(plain) + 1
    rows = list(zip(table.model, table.estimator, strict=True))
    at = rows.index(("Infusion training", "IS")) + 1
    assert rows[at] == ("Infusion training", "IS, tightest proposal on validation")
    others = table.drop(index=at).reset_index(drop=True)
    pd.testing.assert_frame_equal(others, plain)
    row = pd.read_csv(tmp_path / "t31.csv").iloc[at]
    assert (row.test_mean, row.test_std) == (1500.0, pytest.approx(math.sqrt(0.5)))
    assert row.test_seed_mean == pytest.approx(sum(means) / 3)
    deviations = [(m - sum(means) / 3) ** 2 for m in means]
    assert row.test_seed_std == pytest.approx(math.sqrt(sum(deviations) / 2))
    assert (row.seeds, row.examples_test, row.chains, row.proposal) == (3, 300, 40, proposal)
    paper_and_train = ["paper_test_mean", "paper_test_std", "paper_train_mean", "train_mean",
                       "train_std", "train_seed_mean", "test_difference",
                       "examples_train"]  # fmt: skip
    assert row[paper_and_train].isna().all()


def test_table_3_1_refuses_tightest_files_not_one_per_seed_or_not_on_test(tmp_path, bound_jsons):
    two = tightest_jsons(tmp_path, [1.0, 2.0], ["own", "own"])
    with pytest.raises(ValueError, match="one tightest-proposal estimate per seed"):
        tables.table_3_1(*bound_jsons, tmp_path / "t31.csv", tightest=two)
    write_json(two[0], evaluation("train", 1.0))
    with pytest.raises(ValueError, match="'train' split"):
        tables.table_3_1(*bound_jsons, tmp_path / "t31.csv", tightest=two[:1])
    assert not (tmp_path / "t31.csv").exists()


def test_scorecard_shows_the_tightest_estimate_beside_the_paper_procedure_s(
    tmp_path, grid, bound_jsons, parzen_json
):
    """On Table 3.1's IS row on test only: the tightest row's first-seed test mean and its
    proposal, while ours, the difference and the verdict stay the paper procedure's."""
    tables.table_a_1(tmp_path / "grid.csv", tmp_path / "a1.csv")
    tables.fig_3_4(parzen_json, tmp_path / "f34.csv")
    tables.table_3_1(*bound_jsons, tmp_path / "plain.csv")
    tightest = tightest_jsons(tmp_path, [1400.0], ["code-a0-w0.1-x0.5"])
    tables.table_3_1(*bound_jsons, tmp_path / "t31.csv", tightest=tightest)
    cards = {}
    judged = write_study(tmp_path, STUDY | {"verdicts.enabled": True, "verdicts.stds": 2})
    for name in ("plain", "t31"):
        paths = [tmp_path / n for n in ("a1.csv", f"{name}.csv", "f34.csv", "c.csv", "c.rst")]
        cards[name] = scorecard(CONFIG, *paths, configfile=[judged])
    rst = (tmp_path / "c.rst").read_text()
    card, plain = cards["t31"], cards["plain"]
    shown = card.tightest.notna()
    assert card[shown].quantity.tolist() == ["Table 3.1 Infusion training, IS (test)"]
    assert card[shown].tightest.tolist() == [1400.0]
    assert card[shown].tightest_proposal.tolist() == ["code-a0-w0.1-x0.5"]
    assert card[~shown].tightest_proposal.isna().all()
    assert card[shown].ours.tolist() == [1301.0]  # the own proposal's importance
    kept = ["quantity", "paper", "ours", "difference", "verdict", "explanation", "proposal"]
    pd.testing.assert_frame_equal(card[kept], plain[kept])
    assert "1400.00 (code-a0-w0.1-x0.5)" in rst and "Tightest proposal" in rst
    # with the link target Snakemake's report appends for the verdicts figure the page links
    target = "\n\n.. _verdicts.png: javascript:app.showResultInfo('verdicts.png')\n"
    docutils.core.publish_parts(rst + target, writer="html", settings_overrides={"halt_level": 2})


@pytest.fixture
def parzen_json(tmp_path):
    path = tmp_path / "parzen.json"
    parzen = {"sigma": 0.17, "mean": 250.5, "stderr": 2.5, "n": 100, "samples": 500}
    write_json(path, parzen | {"split": "test"})
    return path


def test_fig_3_4_sets_ours_on_the_infusion_row(tmp_path, parzen_json):
    table = tables.fig_3_4(parzen_json, tmp_path / "fig3.4.csv")
    assert list(pd.read_csv(tmp_path / "fig3.4.csv").columns) == [
        "model", "paper_mean", "paper_stderr", "mean", "stderr", "difference", "seeds",
        "seed_mean", "seed_std", "sigma", "samples",
    ]  # fmt: skip
    assert len(table) == 7
    ours = table[table["mean"].notna()]
    assert ours.model.tolist() == ["Infusion training"]
    row = ours.iloc[0]
    assert (row.stderr, row.sigma, row.samples) == (2.5, 0.17, 500)
    assert row.difference == pytest.approx(250.5 - 312)


BENCHMARK_HEADER = "\t".join(
    ["s", "h:m:s", "max_rss", "max_vms", "max_uss", "max_pss", "io_in", "io_out", "mean_load",
     "cpu_time"]
)  # fmt: skip


def write_benchmark(path, row: str):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"{BENCHMARK_HEADER}\n{row}\n")
    return str(path)


def test_runtimes_parses_snakemake_benchmarks(tmp_path):
    root = tmp_path / "results" / "benchmarks"
    files = [
        write_benchmark(
            root / "train" / "mnist5k_T5_a0.0_w0.1.tsv",
            "125.4321\t0:02:05\t812.45\t4096.10\t800.00\t805.00\t10.00\t2.50\t97.50\t122.30",
        ),
        write_benchmark(  # no data collected: Snakemake writes NA
            root / "evaluate" / "test.tsv", "0.5000\t0:00:00" + "\tNA" * 7 + "\t0"
        ),
    ]
    table = runtimes(files, tmp_path / "runtimes.csv")
    assert list(pd.read_csv(tmp_path / "runtimes.csv").columns) == [
        "rule", "job", "seconds", "max_rss_mb",
    ]  # fmt: skip
    assert table.rule.tolist() == ["evaluate", "train"]
    assert table.job.tolist() == ["test", "mnist5k_T5_a0.0_w0.1"]
    assert table.seconds.tolist() == [0.5, 125.4321]
    assert math.isnan(table.max_rss_mb[0]) and table.max_rss_mb[1] == 812.45


@pytest.mark.parametrize("text", ["", "s,max_rss\n1.0,2.0\n", f"{BENCHMARK_HEADER}\n"])
def test_runtimes_rejects_malformed_files(tmp_path, text):
    path = tmp_path / "benchmarks" / "train" / "bad.tsv"
    path.parent.mkdir(parents=True)
    path.write_text(text)
    with pytest.raises(ValueError, match="bad.tsv"):
        runtimes([str(path)], tmp_path / "runtimes.csv")


# A quick study, by dotted config key: the grid of grid_runs (five rows of four points), no
# natural images, no verdicts.
STUDY = {
    "report.study": "quick",
    "report.notes": ["The *optimum* of omega shifts with T_steps | only with 1500 epochs."],
    "dataset": "mnist5k",
    "training.epochs": 20,
    "model.hidden": 256,
    "training.batch_size": 128,
    "evaluation.chains": 50,
    "sampling.samples": 500,
    "grid": grid_of(
        ("a", 1, 0.3, 0.0),
        ("b", 5, 0.0, 0.1),
        ("c", 10, 0.0, 0.0),
        ("e", 10, 0.0, 0.0),
        ("e", 10, 0.08, 0.0),
    ),
    "data.cifar10.enabled": False,
    "data.celeba.enabled": False,
    "data.tfd.enabled": False,
    "verdicts.enabled": False,
}


def quick_scorecard(folder, table_3_2=None):
    """The scorecard of the tables a1.csv, t31.csv and f34.csv in ``folder`` for STUDY."""
    paths = [folder / name for name in ("a1.csv", "t31.csv", "f34.csv", "card.csv", "card.rst")]
    study = write_study(folder, STUDY)
    return scorecard(CONFIG, *paths, configfile=[study], table_3_2=table_3_2)


def test_scorecard_renders_and_shows_every_paper_number(tmp_path, grid, bound_jsons, parzen_json):
    a1 = tables.table_a_1(tmp_path / "grid.csv", tmp_path / "a1.csv")
    tables.table_3_1(*bound_jsons, tmp_path / "t31.csv")
    tables.fig_3_4(parzen_json, tmp_path / "f34.csv")
    card = quick_scorecard(tmp_path)

    assert list(pd.read_csv(tmp_path / "card.csv").columns) == [
        "quantity", "paper", "ours", "difference", "seeds", "seed_mean", "seed_std",
        "within_seed_spread", "note", "proposal", "tightest", "tightest_proposal",
    ]  # fmt: skip
    assert card[["tightest", "tightest_proposal"]].isna().all().all()  # no search: empty
    assert "Tightest" not in (tmp_path / "card.rst").read_text()
    assert len(card) == a1.test_lower_bound.notna().sum() + 2 * 3 + 1
    likelihood = card.quantity.str.startswith(("Table A.1", "Table 3.1"))
    assert (card[likelihood].proposal == "own").all() and card[~likelihood].proposal.isna().all()
    assert card.ours.notna().all()
    rst = (tmp_path / "card.rst").read_text()
    html = docutils.core.publish_parts(rst, writer="html", settings_overrides={"halt_level": 2})
    for value in card.paper.dropna():
        assert f"{value:.2f}" in rst
    assert "1448.66" in rst and "1836.27" in rst and "312.00" in rst
    assert "—" in rst  # panel (e): no paper value
    assert f"{paper.IS_CHAINS:,}" in rst and f"{paper.PARZEN_SAMPLES:,}" in rst
    for setting, value in (("Epochs", "20"), ("Hidden units", "256"), ("Batch size", "128"),
                           ("Grid points", "4"), ("IS chains", "50"), ("Parzen samples", "500"),
                           ("Training data", "mnist5k")):  # fmt: skip
        assert f"   * - {setting}\n     - {value}\n" in rst, setting  # STUDY's
    assert "T_steps" in html["body"]  # notes are escaped: plain text, not a reference


def test_a_reduced_panel_is_not_compared_with_the_paper(tmp_path):
    """A 3-step panel (b) at omega = 0.1 is not the paper's 5-step model: no paper value."""
    runs = [("b", make_run(tmp_path, "T3_w0.1", 3, 0.0, 0.1, 50.0))]
    grid = aggregate_grid(runs, tmp_path / "grid.csv", tmp_path / "curves.csv")
    assert math.isnan(grid.paper_test_lower_bound.iloc[0])
    table = tables.table_a_1(tmp_path / "grid.csv", tmp_path / "tableA.1.csv")
    paper_row = table[(table.panel == "b") & (table.rate == 0.1) & (table.steps == 5)]
    assert paper_row.paper_test_lower_bound.tolist() == [paper.TABLE_A1["b"][0.1]]


def test_scorecard_takes_table_3_2_s_inception_scores_when_given(
    tmp_path, grid, bound_jsons, parzen_json
):
    tables.table_a_1(tmp_path / "grid.csv", tmp_path / "a1.csv")
    tables.table_3_1(*bound_jsons, tmp_path / "t31.csv")
    tables.fig_3_4(parzen_json, tmp_path / "f34.csv")
    for kind, mean, std in [("data", 11.0, 0.2), ("samples", 4.5, 0.1)]:  # real data, ours
        record = {kind: "x", "inception_score_mean": mean, "inception_score_std": std,
                  "images": 500, "splits": 5}  # fmt: skip
        write_json(tmp_path / f"{kind}.json", record)
    tables.table_3_2(tmp_path / "samples.json", tmp_path / "data.json", tmp_path / "t32.csv")
    without = quick_scorecard(tmp_path)
    card = quick_scorecard(tmp_path, table_3_2=tmp_path / "t32.csv")

    inception = card[card.quantity.str.startswith("Table 3.2")].set_index("quantity")
    assert len(card) == len(without) + 2
    # the thesis' Table 3.2: real data 11.24 +- 0.12, infusion training 4.62 +- 0.06
    real = inception.loc["Table 3.2 Inception score, Real data"]
    ours = inception.loc["Table 3.2 Inception score, Infusion training"]
    assert (real.paper, real.ours) == (11.24, 11.0)
    assert (ours.paper, ours.ours) == (4.62, 4.5)
    assert ours.difference == pytest.approx(4.5 - 4.62)
    assert "0.06 (paper)" in ours.note and "0.10 over 5 splits" in ours.note
    assert "500 images" in ours.note
    assert inception.seeds.isna().all() and inception.within_seed_spread.isna().all()
    written = pd.read_csv(tmp_path / "card.csv")
    assert written.quantity.tolist() == card.quantity.tolist()
    rst = (tmp_path / "card.rst").read_text()
    assert "11.24" in rst and "4.62" in rst and "Inception scores have no unit" in rst


def test_grid_artifact_reads_panel_run_folders_from_its_flags(tmp_path, grid_runs):
    from infusion.cli import main

    runs = [f"{panel}={run}" for panel, run in grid_runs]
    out, curves = tmp_path / "cli-grid.csv", tmp_path / "cli-curves.csv"
    main(["artifact", "grid", "--runs", *runs, "--out", str(out), "--curves-out", str(curves)])
    written = pd.read_csv(out)
    assert written.panel.tolist() == ["a", "b", "c", "e", "e"]
    assert written.test_lower_bound.tolist() == [1200.0, 1400.0, 800.0, 800.0, 1300.0]
    assert len(pd.read_csv(curves)) == len(grid_runs) * (EPOCHS + 1)


def test_grid_artifact_with_two_seeds_gives_their_mean(tmp_path):
    from infusion.cli import main

    seeds = [make_run(tmp_path, f"b{i}", 5, 0.0, 0.1, bound) for i, bound in enumerate([10, 20])]
    out = tmp_path / "grid.csv"
    main(["artifact", "grid", "--runs", f"b={','.join(seeds)}", "--out", str(out),
          "--curves-out", str(tmp_path / "curves.csv")])  # fmt: skip
    row = pd.read_csv(out).iloc[0]
    assert (row.seeds, row.seed_mean, row.test_lower_bound) == (2, 15.0, 10.0)


def test_grid_refuses_seeds_scored_under_different_proposals(tmp_path):
    seeds = [make_run(tmp_path, f"b{i}", 5, 0.0, 0.1, 10.0) for i in range(2)]
    bound = tmp_path / "b1" / "test_bound.json"
    write_json(bound, json.loads(bound.read_text()) | {"proposal": "own-x0.5"})
    with pytest.raises(ValueError, match="different proposals"):
        aggregate_grid([("b", seeds)], tmp_path / "grid.csv", tmp_path / "curves.csv")


def test_grid_artifact_rejects_an_entry_without_its_panel(tmp_path, caplog):
    from infusion.cli import main

    with pytest.raises(SystemExit):
        main(["artifact", "grid", "--runs", "results/runs/x", "--out", str(tmp_path / "g.csv"),
              "--curves-out", str(tmp_path / "c.csv")])  # fmt: skip
    assert "PANEL=RUN_FOLDER" in caplog.text
    assert not (tmp_path / "g.csv").exists()
