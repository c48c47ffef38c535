"""How much Parzen can be trusted (Theis, van den Oord and Bethge, 2016): the final model's
Parzen estimate with the fixed sigma of Fig 3.4 and with sigma chosen on validation data,
the estimate of real images (training images as kernel centres), and Fig 3.4's published
baselines beside them (config ``parzen_trust``).

Artifact ``parzen-trust``: ``results/tables/beyond/parzen-trust.csv`` and
``results/figures/beyond/parzen-trust.png``.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from infusion import published as paper
from infusion.paper.artifacts import artifact
from infusion.paper.drawing import FONT, save
from infusion.paper.tables import OURS
from infusion.paper.tidy import PathLike, expect_split, write_csv
from infusion.runtime.reading import read_json

PARZEN_TRUST_COLUMNS = [
    "model", "kernel_centres", "sigma_choice", "seed", "sigma", "mean", "stderr", "centres",
    "points",
]  # fmt: skip
THIS_STUDY = "Infusion training (this study)"
REAL_DATA = "Real data"
COLOURS = {"published": "0.55", "model samples": "C0", "training images": "C3"}


@artifact("parzen-trust")
def parzen_trust(
    fixed: list[PathLike],
    chosen: list[PathLike],
    seed: list[int],
    real_fixed: PathLike,
    real_chosen: PathLike,
    out: PathLike,
    figure_out: PathLike,
) -> pd.DataFrame:
    """The table (:data:`PARZEN_TRUST_COLUMNS`) to ``out`` and the figure to ``figure_out``.

    Rows: Fig 3.4's published baselines (``kernel_centres`` "published"; sigma known for the
    paper's own row only); the final model of each training seed (``seed``) with the sigma of
    Fig 3.4 (``fixed``: its ``parzen.json``) and with sigma chosen on validation data
    (``chosen``: ``infusion parzen --sigma 0``), kernel centres "model samples"; and real
    images (``infusion parzen --real-centres``, the sigma of Fig 3.4 and the chosen one),
    kernel centres "training images". Every estimate is of the test split; ``sigma_choice``
    is read from each file ("validation" where it scored sigma's candidates, else "fixed").
    """
    if not len(fixed) == len(chosen) == len(seed):
        raise ValueError("parzen-trust needs one fixed and one chosen estimate a training seed")
    rows = [
        {"model": name, "kernel_centres": "published", "sigma_choice": "published",
         "sigma": paper.PARZEN_SIGMA if name == OURS else math.nan, "mean": mean, "stderr": stderr}
        for name, mean, stderr in paper.FIG_3_4
    ]  # fmt: skip
    for path, run_seed in [*zip(fixed, seed, strict=True), *zip(chosen, seed, strict=True)]:
        rows.append(_estimate_row(path, THIS_STUDY, "model samples", int(run_seed)))
    for path in (real_fixed, real_chosen):
        rows.append(_estimate_row(path, REAL_DATA, "training images", None))
    table = pd.DataFrame(rows, columns=PARZEN_TRUST_COLUMNS)
    table = table.astype({"seed": "Int64", "centres": "Int64", "points": "Int64"})
    write_csv(table, out)
    draw_figure(table, figure_out)
    return table


def _estimate_row(path: PathLike, model: str, centres: str, seed: int | None) -> dict:
    """A row of the table from one ``infusion parzen`` JSON file."""
    estimate = read_json(path)
    expect_split(estimate["split"], "test", path)
    return {
        "model": model,
        "kernel_centres": centres,
        "sigma_choice": "validation" if estimate["validation_scores"] else "fixed",
        "seed": seed,
        "sigma": estimate["sigma"],
        "mean": estimate["mean"],
        "stderr": estimate["stderr"],
        "centres": estimate["samples"],
        "points": estimate["n"],
    }


def row_label(model: str, centres: str, choice: str, sigmas: pd.Series) -> str:
    """A group of rows' label: who, and which sigma (every seed's, where they differ)."""
    if centres == "published":
        return f"{model} (the paper)" if model == OURS else model
    values = ", ".join(f"{sigma:.3g}" for sigma in dict.fromkeys(sigmas))
    rule = f"sigma = {values}" if choice == "fixed" else f"sigma chosen: {values}"
    who = "this study's samples" if centres == "model samples" else "real training images"
    return f"{who}, {rule}"


def draw_figure(table: pd.DataFrame, out: PathLike) -> None:
    """One line per group of rows (a published model; this study's samples or the real
    training images under either sigma), top to bottom in table order: each row's mean as a
    point with its standard error as a bar (every seed of this study); the real images'
    estimate at the fixed sigma as a dashed line, the ceiling."""
    groups = list(table.groupby(["model", "kernel_centres", "sigma_choice"], sort=False))
    fig, ax = plt.subplots(figsize=(9, 0.42 * len(groups) + 1.6))
    labels = []
    for position, ((model, centres, choice), rows) in enumerate(groups):
        offsets = np.linspace(-0.15, 0.15, len(rows)) if len(rows) > 1 else np.zeros(1)
        ax.errorbar(
            rows["mean"], position + offsets, xerr=rows["stderr"], fmt="o", markersize=5,
            capsize=3, color=COLOURS[centres],
        )  # fmt: skip
        labels.append(row_label(model, centres, choice, rows["sigma"]))
    real = table[(table.kernel_centres == "training images") & (table.sigma_choice == "fixed")]
    for ceiling in real["mean"]:
        ax.axvline(ceiling, color=COLOURS["training images"], linestyle="--", linewidth=1)
    ax.set_yticks(range(len(groups)), labels, fontsize=FONT)
    ax.invert_yaxis()
    ax.tick_params(axis="x", labelsize=FONT)
    ax.set_xlabel(
        "Parzen estimate of the test log-likelihood (nats; bars: standard error; dashed: "
        "real images, the ceiling)",
        fontsize=FONT,
    )
    ax.grid(axis="x", alpha=0.3)
    ax.set_title(
        "Parzen: Fig 3.4's baselines (grey), this study's samples (blue), real images (red)",
        fontsize=FONT + 2,
    )
    fig.tight_layout()
    save(fig, out)
