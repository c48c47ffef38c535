"""How far the likelihood estimates are from converged: the lower bound and the IS estimate
of the final model against the number of chains k (issue 15, question 3).

Artifact ``convergence``: ``results/tables/beyond/convergence.csv`` and
``results/figures/beyond/convergence.png`` from ``infusion convergence``'s JSON files
(:mod:`infusion.estimation.against_k`), one per proposal: the configured one
(``convergence.proposal``, the paper's procedure by default) and the tightest found on
validation (``convergence.tightest``, issue 21).
"""

from __future__ import annotations

import os

import pandas as pd

from infusion.paper.artifacts import artifact
from infusion.paper.tidy import write_csv
from infusion.published import IS_CHAINS
from infusion.runtime.reading import read_json

PathLike = str | os.PathLike

CONVERGENCE_COLUMNS = [
    "proposal", "tightest", "chains", "estimator", "mean", "std", "repetitions",
]  # fmt: skip
LABELS = {"lower_bound": "lower bound", "importance": "IS estimate"}  # estimator -> legend


def convergence_summary(records: pd.DataFrame) -> pd.DataFrame:
    """Per (proposal, estimator, k): mean and std (ddof 1; 0 for one repetition) of the
    repetitions' values, lower bound first, k increasing; ``proposal`` names the infusion
    chain q that drew and scored the chains, ``tightest`` whether the validation search
    chose it."""
    grouped = records.groupby(["proposal", "tightest", "estimator", "chains"])["value"]
    table = grouped.agg(mean="mean", std="std", repetitions="count").reset_index()
    table["std"] = table["std"].fillna(0.0)
    order = {name: i for i, name in enumerate(LABELS)}
    table = table.sort_values(
        ["tightest", "proposal", "estimator", "chains"],
        key=lambda c: c.map(order) if c.name == "estimator" else c,
        kind="stable",
    )
    return table[CONVERGENCE_COLUMNS].reset_index(drop=True)


@artifact("convergence")
def convergence(
    estimates: list[PathLike],
    study_chains: int,
    out: PathLike,
    figure_out: PathLike,
    paper_chains: int = IS_CHAINS,
) -> pd.DataFrame:
    """``convergence.csv`` (``out``: :data:`CONVERGENCE_COLUMNS`, one row per proposal,
    estimator and k) and ``convergence.png`` (``figure_out``) from ``estimates``, the JSON
    files of ``infusion convergence`` (one per proposal, all on the same test images; a file
    whose proposal came from the validation search holds ``proposal_from``). The figure marks
    the study's own k for Table 3.1 (``study_chains``, config evaluation.chains) and the
    paper's (``paper_chains``)."""
    records, examples = [], set()
    for path in estimates:
        payload = read_json(path, "estimates", "examples")
        tightest = "proposal_from" in payload
        records += [record | {"tightest": tightest} for record in payload["estimates"]]
        examples.add(payload["examples"])
    if len(examples) != 1:
        raise ValueError(f"{', '.join(map(str, estimates))} score different test images")
    table = write_csv(convergence_summary(pd.DataFrame(records)), out)
    convergence_figure(table, examples.pop(), study_chains, paper_chains, figure_out)
    return table


def proposal_label(proposal: str, tightest: bool) -> str:
    """A legend's name of a proposal: its name, and how it was chosen when by the search."""
    return f"{proposal} (tightest on validation)" if tightest else proposal


def convergence_figure(
    table: pd.DataFrame, examples: int, study_chains: int, paper_chains: int, out: PathLike
) -> None:
    """One panel per estimator: each proposal's mean over repetitions against k (log axis),
    +- std as error bars, with vertical lines at the study's k and the paper's."""
    from infusion.paper.drawing import legend_outside, plt, save  # pyplot with Agg

    fig, axes = plt.subplots(1, len(LABELS), figsize=(12.6, 4.4), layout="constrained")
    proposals = list(dict.fromkeys(zip(table["proposal"], table["tightest"], strict=True)))
    for ax, (name, label) in zip(axes, LABELS.items(), strict=True):
        for i, (proposal, tightest) in enumerate(proposals):
            rows = table[(table["estimator"] == name) & (table["proposal"] == proposal)
                         & (table["tightest"] == tightest)]  # fmt: skip
            ax.errorbar(rows["chains"], rows["mean"], yerr=rows["std"], fmt="o-", capsize=4,
                        color=f"C{i}", label=proposal_label(proposal, tightest))  # fmt: skip
        marks = ((study_chains, "this study's k", "0.45"), (paper_chains, "the paper's k", "C3"))
        for k, text, colour in marks:
            ax.axvline(k, linestyle="--", color=colour, label=f"{text} = {k:,}")
        ax.set_xscale("log")
        ax.set_xlabel("chains per test image, k")
        ax.set_ylabel(f"{label} (nats)")
        ax.set_title(f"{label} against k, {examples} test images (bars: std over repetitions)")
        ax.grid(alpha=0.3)
    legend_outside(axes[-1], fontsize=9)
    save(fig, out)
