"""Denoising against lower-bound training (issue 15, question 1; section 3.3.4.1 says the
lower bound gave "similar results"): each compared point trained with both objectives
(``training.objective``) over the training seeds, scored as the final model.

Artifact ``lower-bound-training``: ``results/tables/beyond/lower-bound-training.csv`` and
``results/figures/beyond/lower-bound-training.png`` (the estimates, the validation curves
and samples), read from the runs' files where the plan puts them; the plan comes from the
study's config files, as ``infusion cost`` reads them.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from infusion import study
from infusion.paper.artifacts import artifact
from infusion.paper.drawing import (
    FONT,
    after_init,
    legend_outside,
    load_arrays,
    pictures,
    robust_ylim,
    save,
    show,
)
from infusion.paper.tables import OBJECTIVE_COLUMNS
from infusion.paper.tidy import write_csv
from infusion.runs import ObjectiveRun, objective_runs
from infusion.runtime.reading import read_csv, read_json
from infusion.settings import OBJECTIVES

PathLike = str | os.PathLike

QUANTITIES = {  # column -> axis label
    "test_lower_bound": "test lower bound (nats)",
    "importance_sampling": "IS estimate (nats)",
    "parzen": "Parzen estimate (nats)",
}
LABELS = {"denoising": "denoising", "lower_bound": "lower bound"}  # objective -> legend
CURVE = ("epoch", "valid_lower_bound")  # the columns of metrics.csv read
SHOWN_SAMPLES = 8  # samples of each objective's first seed, per point


def objective_table(runs: list[ObjectiveRun]) -> pd.DataFrame:
    """:data:`OBJECTIVE_COLUMNS`, one row per run of ``runs``, read from its files
    (:meth:`~infusion.runs.ObjectiveRun.files`): its test estimates (``infusion evaluate``:
    means over repetitions, under the infusion chain q its ``proposal`` names), its Parzen
    estimate and the best validation epoch of its training curves (the model kept)."""
    records = []
    for run in runs:
        files = run.files()
        estimates = read_json(files["likelihood"], "settings", "proposal", "lower_bound",
                              "importance")  # fmt: skip
        curves = read_csv(files["metrics"], CURVE)
        if estimates["settings"]["split"] != "test":
            raise ValueError(f"{files['likelihood']} must score the test split")
        records.append(
            {
                "point": run.label,
                "grid_point": os.path.basename(study.run_folder(run.dataset, *run.point)),
                "objective": run.objective,
                "seed": run.seed,
                "test_lower_bound": estimates["lower_bound"]["mean"],
                "importance_sampling": estimates["importance"]["mean"],
                "proposal": estimates["proposal"],
                "parzen": read_json(files["parzen"], "mean")["mean"],
                "best_epoch": int(curves.loc[curves["valid_lower_bound"].idxmax(), "epoch"]),
            }
        )
    return pd.DataFrame(records, columns=OBJECTIVE_COLUMNS).astype({"seed": int})


@artifact("lower-bound-training")
def lower_bound_training(
    config: PathLike,
    out: PathLike,
    figure_out: PathLike,
    configfile: list[PathLike] = (),
) -> pd.DataFrame:
    """``lower-bound-training.csv`` (``out``: :func:`objective_table`) and its figure
    (``figure_out``) of the study ``config`` with the overlays ``configfile`` (merged as
    snakemake merges them): every run of :func:`~infusion.runs.objective_runs`, read where
    the plan puts its files. Returns the table."""
    settings = study.load(config, configfile)
    if not settings["lower_bound_training"]["enabled"]:
        raise ValueError(
            "config key 'lower_bound_training.enabled': the comparison is off, it has no table"
        )
    runs = objective_runs(settings)
    table = write_csv(objective_table(runs), out)
    metrics = [run.files()["metrics"] for run in runs]
    samples = [run.files()["samples"] for run in runs]
    lower_bound_training_figure(table, metrics, samples, figure_out)
    return table


def lower_bound_training_figure(
    table: pd.DataFrame, metrics: list[PathLike], samples: list[PathLike], out: PathLike
) -> None:
    """Three rows: each quantity per point (seeds as points, mean +- std over seeds, one
    colour per objective); each point's validation lower bound per epoch >= 1 (a line per
    run; y range: :func:`~infusion.paper.drawing.robust_ylim`); each point's first
    :data:`SHOWN_SAMPLES` samples of each objective's first seed."""
    import matplotlib.pyplot as plt

    points = list(dict.fromkeys(table["point"]))
    fig = plt.figure(figsize=(max(12.6, 4.2 * len(points)), 10.5), layout="constrained")
    rows = fig.subfigures(3, 1, height_ratios=[1.1, 1.0, 0.55])
    _estimates_row(rows[0].subplots(1, len(QUANTITIES)), table, points)
    _curves_row(np.atleast_1d(rows[1].subplots(1, len(points))), table, metrics, points)
    _samples_row(np.atleast_1d(rows[2].subplots(1, len(points))), table, samples, points)
    fig.suptitle("Denoising against lower-bound training (points: training seeds)")
    save(fig, out)


def _estimates_row(axes, table: pd.DataFrame, points: list[str]) -> None:
    offsets = dict(zip(OBJECTIVES, (-0.15, 0.15), strict=True))
    for ax, (column, label) in zip(axes, QUANTITIES.items(), strict=True):
        for c, name in enumerate(OBJECTIVES):
            for i, point in enumerate(points):
                values = table.loc[(table.point == point) & (table.objective == name), column]
                x = i + offsets[name]
                ax.scatter([x] * len(values), values, s=16, color="0.45", zorder=3)
                std = values.std() if len(values) > 1 else 0.0
                ax.errorbar(x, values.mean(), yerr=std, fmt="o", color=f"C{c}", capsize=4,
                            label=LABELS[name] if i == 0 else None, zorder=2)  # fmt: skip
        ax.set_xticks(range(len(points)), points, fontsize=FONT)
        ax.set_ylabel(label, fontsize=FONT)
        ax.grid(axis="y", alpha=0.3)
    legend_outside(axes[-1])


def _curves_row(axes, table: pd.DataFrame, metrics: list[PathLike], points: list[str]) -> None:
    for ax, point in zip(axes, points, strict=True):
        runs = np.flatnonzero(table.point == point)
        drawn = []
        for i in runs:
            curves = after_init(read_csv(metrics[i], CURVE))
            drawn.append(curves["valid_lower_bound"].to_numpy())
            c = OBJECTIVES.index(table.objective[i])
            label = f"{LABELS[table.objective[i]]}, seed {table.seed[i]}"
            style = "-" if table.seed[i] == table.seed[runs[0]] else "--"
            ax.plot(curves["epoch"], curves["valid_lower_bound"], style, color=f"C{c}",
                    label=label, linewidth=1.2, alpha=0.85)  # fmt: skip
        if np.isfinite(np.concatenate(drawn)).any():
            ax.set_ylim(*robust_ylim(np.concatenate(drawn)))
        ax.set_title(f"{point} ({table.grid_point[runs[0]]})", fontsize=FONT + 1)
        ax.set_xlabel("epoch", fontsize=FONT)
        ax.set_ylabel("valid lower bound (nats)", fontsize=FONT)
        ax.grid(alpha=0.3)
        legend_outside(ax, fontsize=FONT - 1)


def _samples_row(axes, table: pd.DataFrame, samples: list[PathLike], points: list[str]) -> None:
    for ax, point in zip(axes, points, strict=True):
        sheets = []
        for name in OBJECTIVES:
            i = np.flatnonzero((table.point == point) & (table.objective == name))[0]
            means, shape = load_arrays(samples[i], "means", "shape")
            sheets.append(pictures(means[:SHOWN_SAMPLES], shape))
        show(ax, np.stack(sheets), row_labels=[LABELS[name] for name in OBJECTIVES])
        ax.set_title(f"{point}: samples, first seed", fontsize=FONT + 1)
