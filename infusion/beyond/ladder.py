"""The ladder toward the paper's scale: its table, its figure and the gap (issue 22).

The study's final model, as the quick study trains it, moved one factor at a time toward the
paper's final model (more epochs, 1,200 units, 15 steps at omega 0.01, more or fewer
training images), then several together, each rung under the text's semantics and the
released code's (:func:`infusion.runs.ladder_runs`, config section ``ladder``). Every run is
scored on test under its own proposal (the paper's procedure) and under the ladder's common
one, which compares the models under one chain.

Artifact ``ladder``: ``results/tables/beyond/ladder.csv`` (:data:`LADDER_COLUMNS`, one row
per run), ``results/tables/beyond/gap.csv`` (:mod:`infusion.beyond.gap`) and
``results/figures/beyond/ladder.png``, read from the runs' files where the plan puts them;
the plan comes from the study's config files, as ``infusion cost`` reads them.
"""

from __future__ import annotations

import os

import pandas as pd

from infusion import study
from infusion.beyond.gap import PAPER_BOUND, PAPER_SETTINGS, START, gap_table
from infusion.paper.artifacts import artifact
from infusion.paper.tidy import write_csv
from infusion.runs import LadderRun, ladder_runs
from infusion.runtime.reading import read_csv, read_json
from infusion.settings import PARZEN_TEST_POINTS
from infusion.switches import variant_values

PathLike = str | os.PathLike

LADDER_COLUMNS = [
    "rung", "factor", "value", "semantics", "seed", "dataset", "train_examples", "epochs",
    "hidden", "layers", "steps", "omega", "patience", "epochs_run", "best_epoch",
    "test_lower_bound", "importance_sampling", "proposal", "common_lower_bound",
    "common_importance_sampling", "common_proposal", "parzen", "seconds",
]  # fmt: skip
QUANTITIES = {  # column -> the figure's row title
    "test_lower_bound": "test lower bound, own proposal (nats)",
    "common_importance_sampling": "IS, common proposal (nats)",
}


def ladder_record(run: LadderRun, proposal: str) -> dict:
    """One row of the ladder's table: the run's training summary, its test estimates under
    its own proposal and ``proposal``, and the Parzen estimate at its semantics' centres and
    test points (as the fidelity table reads it)."""
    files = run.files(proposal)
    summary = read_json(files["summary"], "model_settings", "train_settings")
    scores = {
        name: read_json(files[name], "lower_bound", "importance") for name in ("own", proposal)
    }
    parzen = read_json(files["parzen"], "by_test_points")
    values = variant_values(run.semantics)
    points = PARZEN_TEST_POINTS[values[("parzen", "dequantize_test")]]
    model, training = summary["model_settings"], summary["train_settings"]
    return {
        "rung": run.rung, "factor": run.factor, "value": run.value, "semantics": run.semantics,
        "seed": run.seed, "dataset": run.dataset,
        "train_examples": summary.get("train_examples"), "epochs": training["epochs"],
        "hidden": model["hidden"], "layers": model["layers"], "steps": model["steps"],
        "omega": model["omega"], "patience": training.get("patience", 0),
        "epochs_run": summary.get("epochs_run"), "best_epoch": summary["best_epoch"],
        "test_lower_bound": scores["own"]["lower_bound"]["mean"],
        "importance_sampling": scores["own"]["importance"]["mean"],
        "proposal": scores["own"]["proposal"],
        "common_lower_bound": scores[proposal]["lower_bound"]["mean"],
        "common_importance_sampling": scores[proposal]["importance"]["mean"],
        "common_proposal": scores[proposal]["proposal"],
        "parzen": parzen["by_test_points"][points][values[("parzen", "chain_steps")]]["mean"],
        "seconds": summary.get("train_seconds"),
    }  # fmt: skip


def ladder_table(config: dict) -> pd.DataFrame:
    """The ladder's table (:data:`LADDER_COLUMNS`) of the study ``config``, one row per run
    of :func:`~infusion.runs.ladder_runs`, in plan order."""
    runs = ladder_runs(config)
    if not runs:
        raise ValueError("config key 'ladder.enabled': the ladder is off, it has no table")
    proposal = config["ladder"]["proposal"]
    return pd.DataFrame([ladder_record(run, proposal) for run in runs], columns=LADDER_COLUMNS)


@artifact("ladder")
def ladder(
    config: PathLike,
    out: PathLike,
    gap_out: PathLike,
    figure_out: PathLike,
    configfile: list[PathLike] = (),
) -> pd.DataFrame:
    """``ladder.csv``, ``gap.csv`` and ``ladder.png`` of the study ``config`` with the
    overlays ``configfile`` (merged as snakemake merges them)."""
    settings = study.load(config, configfile)
    table = write_csv(ladder_table(settings), out)
    write_csv(gap_table(table, settings["ladder"]["factors"]), gap_out)
    ladder_figure(out, figure_out)
    return table


def factor_panels(table: pd.DataFrame) -> list[str]:
    """The figure's panels: every factor but the start, in the ladder's order."""
    return [f for f in dict.fromkeys(table["factor"]) if f != START]


def rung_order(shown: pd.DataFrame) -> list[str]:
    """A panel's rungs (``shown``: its rows, the start's among them where it shares their
    dataset) along the x axis: by the one setting column (of :data:`PAPER_SETTINGS`) in
    which they differ, so that the start stands at its own value (4,000 images after 1,000
    and 2,000); in table order where several columns differ (factors moved together)."""
    moved = [c for c in PAPER_SETTINGS if shown[c].nunique() > 1]
    if len(moved) != 1:
        return list(dict.fromkeys(shown["rung"]))
    ordered = shown.sort_values(moved[0], kind="stable")
    return list(dict.fromkeys(ordered["rung"]))


def ladder_figure(table: PathLike, out: PathLike) -> None:
    """``results/figures/beyond/ladder.png`` from ``table`` (``ladder.csv``): a column per
    factor, the start among its rungs at its own value (:func:`rung_order`); each semantics'
    seeds as points, their mean joined by a line; the paper's final model (Table 3.1) as a
    dashed line, or a label where it is far above, where the rungs train on the study's own
    dataset. Rows: :data:`QUANTITIES`."""
    import seaborn as sns

    from infusion.paper.drawing import plt, save  # pyplot with the Agg backend

    runs = read_csv(table, LADDER_COLUMNS)
    start = runs[runs["factor"] == START]
    panels = factor_panels(runs)
    fig, axes = plt.subplots(
        len(QUANTITIES), max(1, len(panels)), figsize=(3.4 * max(1, len(panels)), 6.4),
        squeeze=False,
    )  # fmt: skip
    for j, factor in enumerate(panels):
        rungs = runs[runs["factor"] == factor]
        on_start = rungs["dataset"].eq(start["dataset"].iloc[0]).all() if len(start) else False
        shown = pd.concat([start, rungs]) if on_start else rungs
        order = rung_order(shown)
        dodge = shown["semantics"].nunique() > 1  # seaborn cannot dodge a single hue level
        for i, (column, title) in enumerate(QUANTITIES.items()):
            ax = axes[i, j]
            sns.pointplot(data=shown, x="rung", y=column, hue="semantics", order=order,
                          errorbar="sd", dodge=0.2 if dodge else False, ax=ax,
                          markersize=4)  # fmt: skip
            grey = dict.fromkeys(shown["semantics"].unique(), "0.5")
            sns.stripplot(data=shown, x="rung", y=column, hue="semantics", order=order,
                          dodge=dodge, palette=grey, size=3, ax=ax, legend=False)  # fmt: skip
            if on_start and column == "test_lower_bound":
                paper_line(ax, shown[column])
            ax.set_title(factor if i == 0 else "", fontsize=10)
            ax.set_xlabel("")
            ax.set_ylabel(title if j == 0 else "", fontsize=9)
            ax.tick_params(axis="x", rotation=30, labelsize=8)
            ax.grid(axis="y", alpha=0.3)
            if (i, j) != (0, 0) and ax.get_legend():
                ax.get_legend().remove()
    fig.suptitle(f"The ladder toward the paper's scale (proposals: own; {_common(runs)})")
    fig.tight_layout()
    save(fig, out)


def paper_line(ax, values: pd.Series) -> None:
    """The paper's test bound (Table 3.1) as a dashed line, or, where it lies more than three
    times the data's own range above them, as a label at the top (the data keep their
    scale)."""
    low, high = values.min(), values.max()
    if PAPER_BOUND <= high + 3 * max(high - low, 1.0):
        ax.axhline(PAPER_BOUND, ls="--", color="C3", lw=1)
        ax.text(0.02, PAPER_BOUND, "paper", color="C3", fontsize=8, va="bottom",
                transform=ax.get_yaxis_transform())  # fmt: skip
    else:
        ax.text(0.98, 0.97, f"paper: {PAPER_BOUND:,.0f} (above)", color="C3", fontsize=8,
                ha="right", va="top", transform=ax.transAxes)  # fmt: skip


def _common(runs: pd.DataFrame) -> str:
    names = sorted(set(runs["common_proposal"]))
    return "common " + ", ".join(names) if names else "no common proposal"
