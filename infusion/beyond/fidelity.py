"""The fidelity ablation's table and figure: the paper's text against the authors' code,
switch by switch, over training seeds (the variants of :mod:`infusion.switches`).

Artifacts ``fidelity-table`` (``fidelity.csv``) and ``fidelity-figure`` (``fidelity.png``).
"""

from __future__ import annotations

import os

import pandas as pd

from infusion.paper.artifacts import artifact
from infusion.paper.tidy import write_csv
from infusion.runtime.reading import read_csv, read_json
from infusion.settings import PARZEN_TEST_POINTS
from infusion.switches import SWITCHES, VARIANTS, variant_values

PathLike = str | os.PathLike

FIDELITY_COLUMNS = [
    "variant", "seed", "test_lower_bound", "importance_sampling", "proposal", "parzen",
    "parzen_centres", "parzen_test_points", "changes",
]  # fmt: skip
QUANTITIES = {  # column -> axis label
    "test_lower_bound": "test lower bound (nats)",
    "importance_sampling": "IS estimate (nats)",
    "parzen": "Parzen estimate (nats)",
}


def variant_changes(variant: str) -> str:
    """What a variant changes from the paper's text, and where each change comes from."""
    flipped = [s for s in SWITCHES if variant_values(variant)[(s.section, s.key)] != s.paper]
    if not flipped:
        return "none: the paper's text"
    return "; ".join(f"{s.section}.{s.key}: {_yaml(s.code)} ({s.source})" for s in flipped)


def _yaml(value) -> str:
    """A config value as config.yaml spells it (true, not True)."""
    return str(value).lower() if isinstance(value, bool) else str(value)


@artifact("fidelity-table")
def fidelity_table(
    likelihood: list[PathLike],
    parzen: list[PathLike],
    variant: list[str],
    seed: list[int],
    out: PathLike,
) -> pd.DataFrame:
    """``results/tables/fidelity.csv`` (:data:`FIDELITY_COLUMNS`), one row per (variant, seed).

    Row i is run i: its ``variant`` and ``seed``, its ``infusion evaluate`` JSON on the test
    split (``likelihood``) and its ``infusion parzen`` JSON (``parzen``). The Parzen value is
    the one at the variant's kernel centres and test points (parzen.json holds all four:
    ``by_test_points``); the lower bound and IS
    estimate are the test estimates' means over repetitions, under the infusion chain q that
    ``proposal`` names (:mod:`infusion.process.proposals`).
    """
    if not len(likelihood) == len(parzen) == len(variant) == len(seed):
        raise ValueError("the fidelity table needs one likelihood, parzen, variant and seed a run")
    records = []
    runs = zip(variant, seed, likelihood, parzen, strict=True)
    for run_variant, run_seed, likelihood_json, parzen_json in runs:
        likelihood = read_json(likelihood_json, "settings", "lower_bound", "importance")
        parzen = read_json(parzen_json, "split", "by_test_points")
        if likelihood["settings"]["split"] != "test" or parzen["split"] != "test":
            raise ValueError(f"{likelihood_json} and {parzen_json} must score the test split")
        values = variant_values(run_variant)
        centres = values[("parzen", "chain_steps")]
        points = PARZEN_TEST_POINTS[values[("parzen", "dequantize_test")]]
        records.append(
            {
                "variant": run_variant,
                "seed": int(run_seed),
                "test_lower_bound": likelihood["lower_bound"]["mean"],
                "importance_sampling": likelihood["importance"]["mean"],
                "proposal": likelihood["proposal"],
                "parzen": parzen["by_test_points"][points][centres]["mean"],
                "parzen_centres": centres,
                "parzen_test_points": points,
                "changes": variant_changes(run_variant),
            }
        )
    return write_csv(pd.DataFrame(records, columns=FIDELITY_COLUMNS), out)


def fidelity_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Mean and std (ddof 1) over seeds of every quantity, one row per variant, in
    :data:`~infusion.switches.VARIANTS` order."""
    grouped = table.groupby("variant", sort=False)[list(QUANTITIES)]
    summary = grouped.agg(["mean", "std"])
    order = [v for v in VARIANTS if v in summary.index]
    return summary.loc[order]


@artifact("fidelity-figure")
def fidelity_figure(table: PathLike, out: PathLike) -> None:
    """``results/figures/fidelity.png`` from ``table`` (``fidelity.csv``): for each quantity,
    each variant's seeds as points, their mean as a bar tick and mean +- std as an error bar."""
    from infusion.paper.drawing import plt, save  # pyplot with the Agg backend

    runs = read_csv(table, ("variant", "seed"))
    summary = fidelity_summary(runs)
    variants = list(summary.index)
    fig, axes = plt.subplots(1, len(QUANTITIES), figsize=(4.2 * len(QUANTITIES), 4.2))
    for ax, (column, label) in zip(axes, QUANTITIES.items(), strict=True):
        for i, variant in enumerate(variants):
            values = runs.loc[runs["variant"] == variant, column]
            ax.scatter([i] * len(values), values, s=18, color="0.45", zorder=3)
            mean, std = (
                summary.loc[variant, (column, "mean")],
                summary.loc[variant, (column, "std")],
            )
            ax.errorbar(i, mean, yerr=0 if pd.isna(std) else std, fmt="_", markersize=16,
                        color="C0" if variant not in ("paper", "code") else "C3", capsize=4,
                        zorder=2)  # fmt: skip
        ax.set_xticks(range(len(variants)), variants, rotation=35, ha="right", fontsize=9)
        ax.set_ylabel(label)
        ax.grid(axis="y", alpha=0.3)
    fig.suptitle("Paper's text against the authors' code, switch by switch (points: seeds)")
    fig.tight_layout()
    save(fig, out)
