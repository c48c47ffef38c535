"""How far the likelihood estimates are from converged: the lower bound and the IS estimate
of the final model against the number of chains k (issue 15, question 3).

Artifact ``convergence``: ``results/tables/beyond/convergence.csv`` and
``results/figures/beyond/convergence.png`` from ``infusion convergence``'s JSON
(:mod:`infusion.estimation.convergence`).
"""

from __future__ import annotations

import os

import pandas as pd

from infusion.paper.artifacts import artifact
from infusion.paper.published import IS_CHAINS
from infusion.runtime.atomic import atomic_path
from infusion.runtime.reading import read_json

PathLike = str | os.PathLike

CONVERGENCE_COLUMNS = ["proposal", "chains", "estimator", "mean", "std", "repetitions"]
LABELS = {"lower_bound": "lower bound", "importance": "IS estimate"}  # estimator -> legend


def convergence_summary(records: pd.DataFrame) -> pd.DataFrame:
    """Per (proposal, estimator, k): mean and std (ddof 1; 0 for one repetition) of the
    repetitions' values, lower bound first, k increasing; ``proposal`` names the infusion
    chain q that drew and scored the chains."""
    grouped = records.groupby(["proposal", "estimator", "chains"])["value"]
    table = grouped.agg(mean="mean", std="std", repetitions="count").reset_index()
    table["std"] = table["std"].fillna(0.0)
    order = {name: i for i, name in enumerate(LABELS)}
    table = table.sort_values(
        ["proposal", "estimator", "chains"],
        key=lambda c: c.map(order) if c.name == "estimator" else c,
        kind="stable",
    )
    return table[CONVERGENCE_COLUMNS].reset_index(drop=True)


@artifact("convergence")
def convergence(
    estimates: PathLike,
    study_chains: int,
    out: PathLike,
    figure_out: PathLike,
    paper_chains: int = IS_CHAINS,
) -> pd.DataFrame:
    """``convergence.csv`` (``out``: :data:`CONVERGENCE_COLUMNS`, one row per estimator and k)
    and ``convergence.png`` (``figure_out``) from ``estimates``, the JSON of ``infusion
    convergence``. The figure marks the study's own k for Table 3.1 (``study_chains``,
    config evaluation.chains) and the paper's (``paper_chains``)."""
    payload = read_json(estimates, "estimates", "examples")
    table = convergence_summary(pd.DataFrame(payload["estimates"]))
    with atomic_path(out) as tmp:
        table.to_csv(tmp, index=False)
    convergence_figure(table, payload["examples"], study_chains, paper_chains, figure_out)
    return table


def convergence_figure(
    table: pd.DataFrame, examples: int, study_chains: int, paper_chains: int, out: PathLike
) -> None:
    """Each estimator's mean over repetitions against k (log axis), +- std as error bars,
    with vertical lines at the study's k and the paper's."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from infusion.paper.drawing import legend_outside

    fig, ax = plt.subplots(figsize=(8.4, 4.4), layout="constrained")
    for i, (name, label) in enumerate(LABELS.items()):
        rows = table[table["estimator"] == name]
        ax.errorbar(rows["chains"], rows["mean"], yerr=rows["std"], fmt="o-", capsize=4,
                    color=f"C{i}", label=label)  # fmt: skip
    marks = ((study_chains, "this study's k", "0.45"), (paper_chains, "the paper's k", "C3"))
    for k, label, colour in marks:
        ax.axvline(k, linestyle="--", color=colour, label=f"{label} = {k:,}")
    ax.set_xscale("log")
    ax.set_xlabel("chains per test image, k")
    ax.set_ylabel("estimate (nats)")
    ax.set_title(f"Estimates against k, {examples} test images (bars: std over repetitions)")
    ax.grid(alpha=0.3)
    legend_outside(ax, fontsize=9)
    try:
        with atomic_path(out) as tmp:
            fig.savefig(tmp, dpi=110)
    finally:
        plt.close(fig)
