"""Model or estimator: every trained variant of the fidelity ablation scored under every
variant's infusion schedule and under its own tightest proposal (issue 21).

A likelihood estimate weighs chains drawn from a proposal q (:mod:`infusion.process.proposals`):
under its own training chain (the paper's procedure) a variant is scored by another q than
its neighbour, so their difference mixes the model and the estimator. Here each trained
variant (:func:`infusion.runs.ablation_runs`, one run per training tag) is scored
under each distinct schedule its variants trained with (the columns of a matrix: a common
proposal per column) and under the proposal with the highest validation IS among those the
search tried for that model (:mod:`infusion.estimation.proposal_search`): its best estimate.

Artifact ``proposals``: ``results/tables/beyond/proposals.csv`` and
``results/figures/beyond/proposals.png`` from ``infusion evaluate``'s JSON files.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from infusion import study
from infusion.paper.artifacts import artifact
from infusion.paper.tidy import write_csv
from infusion.process.proposals import own_schedule
from infusion.runs import ablation_runs
from infusion.runtime.reading import read_csv, read_json
from infusion.settings import ModelSettings
from infusion.switches import VARIANTS, variant_values

PathLike = str | os.PathLike

TIGHTEST = "tightest"  # the column of each model's tightest proposal on validation
PROPOSALS_COLUMNS = [
    "trained_variant", "seed", "scored_by", "proposal", "own", "lower_bound", "importance",
    "importance_std", "k", "examples",
]  # fmt: skip
QUANTITIES = {"importance": "IS estimate", "lower_bound": "lower bound"}  # column -> title


def variant_schedule(config: dict, variant: str) -> str:
    """The name of the schedule that ``variant``'s final model trains with (its rate
    indexing, first rate and omega at the study's final point), as a proposal that any model
    can be scored under (``paper-a0-w0.1``)."""
    steps, alpha0, omega = study.final_point(config)
    model = {key: value for key, value in config["model"].items() if key != "steps"}
    model |= {key: value for (section, key), value in variant_values(variant).items()
              if section == "model"}  # fmt: skip
    settings = ModelSettings(**model, steps=steps, alpha0=alpha0, omega=omega)
    return own_schedule(settings).name


def trained_runs(config: dict) -> list[tuple[str, int, str]]:
    """(variant, seed, run tag) of every distinct training run of the ablation, in table
    order: a variant that trains nothing (a scoring switch) shares the paper's run and has no
    row of its own."""
    runs, tags = [], set()
    for run in ablation_runs(config):
        if run.tag not in tags:
            runs.append((run.variant, run.seed, run.tag))
            tags.add(run.tag)
    return runs


def cross_proposals(config: dict) -> list[str]:
    """The columns of the matrix: each distinct schedule of the trained variants, in
    :data:`~infusion.switches.VARIANTS` order, then :data:`TIGHTEST` when the
    validation search runs (config ``proposal_search.enabled``)."""
    variants = dict.fromkeys(variant for variant, _, _ in trained_runs(config))
    schedules = dict.fromkeys(variant_schedule(config, variant) for variant in variants)
    return [*schedules, *([TIGHTEST] if config["proposal_search"]["enabled"] else [])]


def cross_runs(config: dict) -> list[tuple[str, int, str, str, str]]:
    """(variant, seed, run tag, scored_by, the variant's own schedule) of every cell of the
    matrix, run by run; empty when the ablation or the cross-scoring is off."""
    if not (config["fidelity"]["enabled"] and config["cross_scoring"]["enabled"]):
        return []
    columns = cross_proposals(config)
    return [
        (variant, seed, tag, column, variant_schedule(config, variant))
        for variant, seed, tag in trained_runs(config)
        for column in columns
    ]


@artifact("proposals")
def proposals(
    scores: list[PathLike],
    variant: list[str],
    seed: list[int],
    scored_by: list[str],
    schedule: list[str],
    out: PathLike,
    figure_out: PathLike,
) -> pd.DataFrame:
    """``proposals.csv`` (``out``: :data:`PROPOSALS_COLUMNS`, one row per cell and seed) and
    its figure (``figure_out``).

    Row i is ``infusion evaluate``'s test-split JSON ``scores[i]`` of the run of ``variant[i]``
    and ``seed[i]``, made under the proposal of the column ``scored_by[i]`` (a schedule's
    name, or :data:`TIGHTEST`, whose file names the proposal the search found);
    ``schedule[i]`` is that variant's own training schedule, and ``own`` says whether the
    cell is scored under it (the matrix's diagonal: the paper's procedure). Lower bound and
    IS are means over the file's repetitions; ``importance_std`` their std.
    """
    if not len(scores) == len(variant) == len(seed) == len(scored_by) == len(schedule):
        raise ValueError("proposals needs one score, variant, seed, scored_by and schedule a cell")
    records = []
    cells = zip(scores, variant, seed, scored_by, schedule, strict=True)
    for path, run_variant, run_seed, column, own in cells:
        result = read_json(path, "settings", "proposal", "lower_bound", "importance", "chains")
        if result["settings"]["split"] != "test":
            raise ValueError(f"{path} scores the {result['settings']['split']!r} split, not test")
        if column != TIGHTEST and result["proposal"] != column:
            raise ValueError(f"{path} was scored under {result['proposal']!r}, not {column!r}")
        records.append(
            {
                "trained_variant": run_variant,
                "seed": int(run_seed),
                "scored_by": column,
                "proposal": result["proposal"],
                "own": result["proposal"] == own,
                "lower_bound": result["lower_bound"]["mean"],
                "importance": result["importance"]["mean"],
                "importance_std": result["importance"]["std"],
                "k": int(result["chains"]),
                "examples": int(result["examples"]),
            }
        )
    table = write_csv(pd.DataFrame(records, columns=PROPOSALS_COLUMNS), out)
    proposals_figure(table, figure_out)
    return table


def cross_summary(table: pd.DataFrame, quantity: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Mean and std (ddof 1; NaN for one seed) over seeds of ``quantity``: trained variants
    (rows, :data:`VARIANTS` order) against the columns ``scored_by`` (in table order)."""
    grouped = table.groupby(["trained_variant", "scored_by"], sort=False)[quantity]
    rows = [v for v in VARIANTS if v in set(table["trained_variant"])]
    columns = list(dict.fromkeys(table["scored_by"]))
    mean, std = (grouped.agg(how).unstack().loc[rows, columns] for how in ("mean", "std"))
    return mean, std


def proposals_figure(table: pd.DataFrame | PathLike, out: PathLike) -> None:
    """Per quantity, a matrix of trained variant (rows) against proposal (columns): each
    cell's mean over seeds, +- std when there are several; the cells scored under the
    variant's own schedule framed."""
    from infusion.paper.drawing import plt, save  # pyplot with the Agg backend

    if not isinstance(table, pd.DataFrame):
        table = read_csv(table, PROPOSALS_COLUMNS)
    rows = [v for v in VARIANTS if v in set(table["trained_variant"])]
    columns = list(dict.fromkeys(table["scored_by"]))
    width = 2.2 + 1.5 * len(columns)
    fig, axes = plt.subplots(1, len(QUANTITIES), figsize=(2 * width, 1.2 + 0.5 * len(rows)))
    for ax, (quantity, title) in zip(axes, QUANTITIES.items(), strict=True):
        mean, std = cross_summary(table, quantity)
        image = ax.imshow(mean.to_numpy(float), cmap="viridis", aspect="auto")
        fig.colorbar(image, ax=ax, label=f"{title} (nats)")
        for i, variant in enumerate(rows):
            for j, column in enumerate(columns):
                value, spread = mean.loc[variant, column], std.loc[variant, column]
                text = f"{value:.0f}" if np.isnan(spread) else f"{value:.0f}\n±{spread:.0f}"
                dark = image.norm(value) < 0.6  # viridis is light above
                ax.text(j, i, text, ha="center", va="center", fontsize=8,
                        color="white" if dark else "black")  # fmt: skip
        own = table.groupby(["trained_variant", "scored_by"], sort=False)["own"].any()
        for (variant, column), is_own in own.items():
            if is_own:
                box = plt.Rectangle((columns.index(column) - 0.5, rows.index(variant) - 0.5),
                                    1, 1, fill=False, edgecolor="C3", linewidth=2)  # fmt: skip
                ax.add_patch(box)
        ax.set_xticks(range(len(columns)), columns, rotation=30, ha="right", fontsize=8)
        ax.set_yticks(range(len(rows)), rows, fontsize=8)
        ax.set_xlabel("proposal q that scores the model")
        ax.set_ylabel("trained variant")
        ax.set_title(f"Test {title}, mean over seeds (framed: own schedule)", fontsize=9)
    fig.tight_layout()
    save(fig, out)
