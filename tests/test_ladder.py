"""The ladder toward the paper's scale (issue 22): its plan against its config, the gap's
arithmetic against sums and least squares done here, and the config's checks."""

import copy
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from infusion.beyond.gap import PAPER_BOUND, fit_log_linear, gap_table
from infusion.runs import ladder_runs, run_tags, seed_tags
from infusion.study import ConfigError, load, validate_config

ROOT = Path(__file__).resolve().parent.parent
OVERLAY = ROOT / "workflow/configs/ladder.yaml"
FACTORS = {
    "epochs": {"column": "epochs", "extrapolate": True},
    "images": {"column": "train_examples", "extrapolate": True},
    "width": {"column": "hidden"},
    "steps": {"column": "steps"},
}


def ladder_config():
    return load(ROOT / "config.yaml", [OVERLAY])


def test_the_plan_is_every_rung_of_the_overlay_and_nothing_else():
    """Each rung of ladder.yaml (read here as YAML) under its semantics and seeds (its own,
    else the ladder's) is one run; its grid point and dataset are the final model's with
    the rung's keys; its run tag's settings hold every key it sets, and the released code's
    switches under the code semantics; the study trains no other tag than its own seeds'."""
    raw = yaml.safe_load(OVERLAY.read_text())["ladder"]
    config = ladder_config()
    expected = {
        (rung["rung"], semantics, seed)
        for rung in raw["rungs"]
        for semantics in rung.get("semantics", raw["semantics"])
        for seed in rung.get("seeds", raw["seeds"])
    }
    runs = ladder_runs(config)
    assert [(r.rung, r.semantics, r.seed) for r in runs] == sorted(
        expected,
        key=lambda k: (
            [r["rung"] for r in raw["rungs"]].index(k[0]),
            raw["semantics"].index(k[1]),
            k[2],
        ),  # fmt: skip
    )
    tags = run_tags(config)
    assert set(tags) == {r.tag for r in runs} | set(seed_tags(config))
    by_name = {rung["rung"]: rung for rung in raw["rungs"]}
    for run in runs:
        rung = by_name[run.rung]
        changes = rung.get("set", {})
        assert run.dataset == changes.get("dataset", "mnist5k")
        assert run.point == (changes.get("final.steps", 5), 0.0, changes.get("final.omega", 0.1))
        settings = tags[run.tag]
        assert settings[("training", "seed")] == run.seed
        for dotted, value in changes.items():
            section, _, key = dotted.partition(".")
            if section in ("model", "training"):
                assert settings[(section, key)] == value, (run.rung, dotted)
        code = {("model", "rate_index"): "code", ("model", "layers"): 1,
                ("training", "keep"): "last"}  # fmt: skip
        for key, value in code.items():
            assert (settings.get(key) == value) == (run.semantics == "code"), (run, key)
    assert len({r.folder for r in runs}) == len(runs)


def test_the_workflow_plans_one_training_per_run_of_the_ladder(tmp_path):
    """snakemake -n on ladder.yaml plans the train jobs of the ladder's runs and of the
    two-point grid (the start's paper run of seed 0 is the grid's final model), each scored
    under its own and the common proposal, sampled and its samples scored by Parzen."""
    from workflow_runs import snakemake, workflow_copy

    folder = workflow_copy(tmp_path)
    out = snakemake(folder, "-n", "--configfile", str(OVERLAY)).stdout
    stats = out[out.index("Job stats:") :].splitlines()
    planned = dict(line.split() for line in stats[3:] if len(line.split()) == 2)
    runs = ladder_runs(ladder_config())
    grid = {"results/runs/mnist5k/T5-a0-w0", "results/runs/mnist5k/T5-a0-w0.1"}
    assert int(planned["train"]) == len({r.folder for r in runs} | grid)
    assert int(planned["score_ladder_run"]) == 2 * len(runs)
    assert int(planned["sample_ladder_run"]) == int(planned["parzen_ladder_run"]) == len(runs)
    assert int(planned["ladder"]) == 1


@pytest.mark.parametrize(
    "change, key",
    [
        ({"set": {"training.seeds": [3]}}, "ladder.rungs[1].set"),
        ({"set": {"model.widht": 3}}, "ladder.rungs[1].set"),
        ({"set": {"model.hidden": 0}}, "ladder.rungs[1].set"),
        ({"set": {"dataset": "mnist7k"}}, "ladder.rungs[1]"),
        ({"set": {"final.steps": 15}}, "ladder.rungs[1].set"),
        ({"rung": "start"}, "ladder.rungs"),
    ],
)
def test_a_bad_rung_stops_naming_its_key(change, key):
    """A key a rung cannot set, a value its settings refuse, an unknown dataset, a grid
    point where the common proposal's rates leave [0, 1] (paper-a0-w0.02-x5 reaches 1.4 at
    15 steps), a repeated name: one line naming the key."""
    config = ladder_config()
    config["ladder"]["rungs"][1] = {**config["ladder"]["rungs"][1], **change}
    if "final.steps" in change.get("set", {}):
        config["ladder"]["proposal"] = "paper-a0-w0.02-x5"
    with pytest.raises(ConfigError, match=re.escape(f"'{key}")):
        validate_config(copy.deepcopy(config))


def synthetic_ladder(semantics="paper"):
    """A ladder table of known values: the start (2 seeds), two image counts and two epoch
    counts (2 seeds each), one width and one step rung, on one dataset, and a second
    dataset's two image counts (the fit's second intercept)."""
    rows = []

    def add(rung, factor, values, dataset="mnist5k", **settings):
        base = {"train_examples": 4000, "epochs": 30, "hidden": 256, "steps": 5}
        for seed, value in enumerate(values):
            labels = {"rung": rung, "factor": factor, "semantics": semantics, "seed": seed}
            rows.append({**labels, "dataset": dataset, **base, **settings,
                         "test_lower_bound": value})  # fmt: skip

    add("start", "start", [700.0, 710.0])
    add("images-1000", "images", [600.0, 612.0], train_examples=1000)
    add("images-2000", "images", [655.0, 661.0], train_examples=2000)
    add("epochs-100", "epochs", [760.0, 770.0], epochs=100)
    add("width-600", "width", [720.0], hidden=600)
    add("width-1200", "width", [745.0], hidden=1200)
    add("steps-15", "steps", [800.0], steps=15)
    add("fashion-5000", "fashion", [300.0], "fashionmnist", train_examples=5000, epochs=10)
    add("fashion-50000", "fashion", [390.0], "fashionmnist", train_examples=50000, epochs=10)
    return pd.DataFrame(rows)


def test_the_fit_is_numpys_least_squares_on_the_same_points():
    """Intercept per dataset, slopes in ln(value): numpy's lstsq on the design built here."""
    rng = np.random.default_rng(0)
    n = 30
    runs = pd.DataFrame({
        "dataset": rng.choice(["a", "b"], n),
        "train_examples": rng.integers(500, 50000, n),
        "epochs": rng.integers(10, 300, n),
        "test_lower_bound": rng.normal(700, 50, n),
    })  # fmt: skip
    fit = fit_log_linear(runs, ["train_examples", "epochs"])
    columns = [runs.dataset == "a", runs.dataset == "b", np.log(runs.train_examples),
               np.log(runs.epochs)]  # fmt: skip
    design = np.column_stack(columns).astype(float)
    solution, *_ = np.linalg.lstsq(design, runs.test_lower_bound.to_numpy(), rcond=None)
    np.testing.assert_allclose([fit["a"], fit["b"], fit["train_examples"], fit["epochs"]],
                               solution, rtol=1e-9)  # fmt: skip
    with pytest.raises(ValueError, match="do not determine"):
        fit_log_linear(runs.assign(epochs=30), ["train_examples", "epochs"])


def test_the_shares_are_measured_or_extrapolated_and_sum_to_the_total():
    """Total = the paper's Table 3.1 test bound - the start's mean; width and steps: the
    mean of the rung nearest 1,200 units and 15 steps - the start's; epochs and images:
    lstsq slope (on the start, image and epoch rungs and the Fashion rungs, which differ
    from the start in fitted factors and dataset only) x ln(paper / start); unexplained:
    the rest; the prediction: the start plus the shares."""
    table = synthetic_ladder()
    gap = gap_table(table, FACTORS, resamples=50).set_index("component")
    start = 705.0
    assert PAPER_BOUND == 1350.598
    assert gap.loc["total", "nats"] == pytest.approx(1350.598 - start)
    assert gap.loc["width", "nats"] == pytest.approx(745.0 - start)
    assert gap.loc["width", "to_value"] == 1200
    assert gap.loc["steps", "nats"] == pytest.approx(800.0 - start)
    fitted = table[table.factor.isin(["start", "images", "epochs", "fashion"])]
    columns = [fitted.dataset == "mnist5k", fitted.dataset == "fashionmnist",
               np.log(fitted.epochs), np.log(fitted.train_examples)]  # fmt: skip
    design = np.column_stack(columns).astype(float)
    (_, _, epochs_slope, images_slope), *_ = np.linalg.lstsq(
        design, fitted.test_lower_bound.to_numpy(), rcond=None
    )
    assert gap.loc["epochs", "nats"] == pytest.approx(epochs_slope * np.log(1500 / 30))
    assert gap.loc["images", "nats"] == pytest.approx(images_slope * np.log(50000 / 4000))
    assert gap.loc["epochs", "kind"] == "extrapolated" and gap.loc["width", "kind"] == "measured"
    shares = gap[gap.kind.isin(["measured", "extrapolated", "unexplained"])].nats.sum()
    assert shares == pytest.approx(gap.loc["total", "nats"])
    explained = gap[gap.kind.isin(["measured", "extrapolated"])].nats.sum()
    assert gap.loc["prediction", "nats"] == pytest.approx(start + explained)
    assert gap.loc["prediction", "low"] <= gap.loc["prediction", "nats"]
    assert gap.loc["prediction", "nats"] <= gap.loc["prediction", "high"]
    assert "least squares on 10 runs" in gap.loc["prediction", "model"]


def test_a_factor_not_run_is_unexplained_and_leaves_no_prediction():
    """Without the steps rung its share is empty, the unexplained share takes it, the
    prediction is empty; without the epoch rungs the fit is not determined."""
    table = synthetic_ladder()
    gap = gap_table(table[table.factor != "steps"], FACTORS, resamples=10).set_index("component")
    assert np.isnan(gap.loc["steps", "nats"]) and np.isnan(gap.loc["prediction", "nats"])
    known = gap.loc[["width", "epochs", "images"], "nats"].sum()
    assert gap.loc["unexplained", "nats"] == pytest.approx(gap.loc["total", "nats"] - known)
    unfit = gap_table(table[table.factor != "epochs"], FACTORS, resamples=10)
    unfit = unfit.set_index("component")
    assert np.isnan(unfit.loc["epochs", "nats"])
    assert unfit.loc["prediction", "model"].startswith("not fitted")


def test_the_bootstrap_resamples_seeds_within_rungs():
    """One seed per rung: every resample is the point prediction; two seeds with a spread:
    the interval opens around it, and no wider than the extreme choices of seeds allow."""
    one = synthetic_ladder().groupby("rung").head(1)
    gap = gap_table(one, FACTORS, resamples=30).set_index("component")
    assert gap.loc["prediction", "low"] == pytest.approx(gap.loc["prediction", "nats"])
    assert gap.loc["prediction", "high"] == pytest.approx(gap.loc["prediction", "nats"])
    two = gap_table(synthetic_ladder(), FACTORS, resamples=200).set_index("component")
    assert two.loc["prediction", "low"] < two.loc["prediction", "high"]


def test_the_paper_values_of_the_factors_are_the_papers():
    """Sections 3.5 and A.1 and the released code: 1,500 epochs at most, 50,000 training
    digits, 1,200 units, 15 steps."""
    from infusion.beyond.gap import PAPER_SETTINGS

    assert PAPER_SETTINGS == {"epochs": 1500, "train_examples": 50000, "hidden": 1200,
                              "steps": 15}  # fmt: skip


def test_the_figure_draws_a_panel_of_one_semantics(tmp_path):
    """ladder.png from a table whose Fashion-MNIST panel has one semantics and one seed a
    rung (seaborn cannot dodge one hue level): one column per factor but the start."""
    from infusion.beyond.ladder import LADDER_COLUMNS, factor_panels, ladder_figure

    table = synthetic_ladder()
    code = synthetic_ladder("code")
    table = pd.concat([table, code[code.factor != "fashion"]], ignore_index=True)
    for column in LADDER_COLUMNS:
        if column not in table:
            table[column] = 1.0 if column not in ("common_proposal", "proposal") else "own"
    table["common_importance_sampling"] = table["test_lower_bound"] + 400
    table[LADDER_COLUMNS].to_csv(tmp_path / "ladder.csv", index=False)
    ladder_figure(tmp_path / "ladder.csv", tmp_path / "ladder.png")
    assert (tmp_path / "ladder.png").stat().st_size > 10_000
    assert factor_panels(table) == ["images", "epochs", "width", "steps", "fashion"]


def test_a_panel_places_the_start_at_its_own_value():
    """The images panel reads 1,000, 2,000, then the start's 4,000; the epochs panel the
    start's 30 before 100; rungs that move two settings together keep the table's order."""
    from infusion.beyond.ladder import rung_order

    table = synthetic_ladder()
    start = table[table.factor == "start"]
    images = pd.concat([start, table[table.factor == "images"]])
    assert rung_order(images) == ["images-1000", "images-2000", "start"]
    epochs = pd.concat([start, table[table.factor == "epochs"]])
    assert rung_order(epochs) == ["start", "epochs-100"]
    width = pd.concat([table[table.factor == "width"].iloc[::-1], start])
    assert rung_order(width) == ["start", "width-600", "width-1200"]
    together = start.assign(rung="both", epochs=100, train_examples=2000)
    assert rung_order(pd.concat([start, together])) == ["start", "both"]
