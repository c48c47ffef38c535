"""The fidelity ablation's table and figure: the paper's text against the authors' code,
switch by switch, over training seeds (the variants of :mod:`infusion.beyond.switches`)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd

from infusion.beyond.switches import SWITCHES, VARIANTS, variant_values
from infusion.runtime.atomic import atomic_path

PathLike = str | os.PathLike

FIDELITY_COLUMNS = [
    "variant", "seed", "test_lower_bound", "importance_sampling", "parzen", "parzen_centres",
    "changes",
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


def fidelity_table(rows: list[tuple[str, int, PathLike, PathLike]], out: PathLike) -> pd.DataFrame:
    """``results/tables/fidelity.csv`` (:data:`FIDELITY_COLUMNS`), one row per (variant, seed).

    ``rows``: (variant, seed, ``infusion evaluate`` JSON on the test split, ``infusion
    parzen`` JSON) of each run. The Parzen value is the one at the variant's kernel centres
    (parzen.json holds both); the lower bound and IS estimate are the test estimates' means
    over repetitions.
    """
    records = []
    for variant, seed, likelihood_json, parzen_json in rows:
        likelihood = json.loads(Path(likelihood_json).read_text())
        parzen = json.loads(Path(parzen_json).read_text())
        if likelihood["settings"]["split"] != "test" or parzen["split"] != "test":
            raise ValueError(f"{likelihood_json} and {parzen_json} must score the test split")
        centres = variant_values(variant)[("parzen", "chain_steps")]
        records.append(
            {
                "variant": variant,
                "seed": int(seed),
                "test_lower_bound": likelihood["lower_bound"]["mean"],
                "importance_sampling": likelihood["importance"]["mean"],
                "parzen": parzen["by_chain_steps"][centres]["mean"],
                "parzen_centres": centres,
                "changes": variant_changes(variant),
            }
        )
    table = pd.DataFrame(records, columns=FIDELITY_COLUMNS)
    with atomic_path(out) as tmp:
        table.to_csv(tmp, index=False)
    return table


def fidelity_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Mean and std (ddof 1) over seeds of every quantity, one row per variant, in
    :data:`~infusion.beyond.switches.VARIANTS` order."""
    grouped = table.groupby("variant", sort=False)[list(QUANTITIES)]
    summary = grouped.agg(["mean", "std"])
    order = [v for v in VARIANTS if v in summary.index]
    return summary.loc[order]


def fidelity_figure(table_csv: PathLike, out: PathLike) -> None:
    """``results/figures/fidelity.png``: for each quantity, each variant's seeds as points,
    their mean as a bar tick and mean +- std as an error bar."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    table = pd.read_csv(table_csv)
    summary = fidelity_summary(table)
    variants = list(summary.index)
    fig, axes = plt.subplots(1, len(QUANTITIES), figsize=(4.2 * len(QUANTITIES), 4.2))
    for ax, (column, label) in zip(axes, QUANTITIES.items(), strict=True):
        for i, variant in enumerate(variants):
            values = table.loc[table["variant"] == variant, column]
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
    try:
        with atomic_path(out) as tmp:
            fig.savefig(tmp, dpi=110)
    finally:
        plt.close(fig)
