"""How many sampling steps: the final model sampled for T, 1.5T, 2T and 4T steps (config
``sampling_steps``; the paper samples its 15-step MNIST model for 30, section 3.5.2).

Artifact ``sampling-steps``: ``results/tables/beyond/sampling-steps.csv`` (one row per step
count and training seed: Parzen, and the mean distance of the samples to their nearest
training image, a memorisation check) and ``results/figures/beyond/sampling-steps.png``
(both against the steps, and a sample sheet per step count).
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from infusion.data.registry import to_unit_interval
from infusion.estimation.nearest import nearest_distances
from infusion.paper.artifacts import artifact
from infusion.paper.drawing import FONT, legend_outside, load_arrays, pictures, save, show
from infusion.paper.tidy import PathLike, expect_split, write_csv
from infusion.runtime.reading import read_json

SAMPLING_STEPS_COLUMNS = [
    "steps", "factor", "seed", "parzen", "parzen_stderr", "sigma", "nearest_distance",
    "nearest_distance_std", "test_nearest_distance", "samples", "test_images",
]  # fmt: skip
SHEET = 6  # a sample sheet is SHEET x SHEET last-step means, the first ones
SHEETS_PER_ROW = 4


@artifact("sampling-steps")
def sampling_steps(
    samples: list[PathLike],
    parzen: list[PathLike],
    data: PathLike,
    steps: list[int],
    seed: list[int],
    training_steps: int,
    out: PathLike,
    figure_out: PathLike,
) -> pd.DataFrame:
    """The table (:data:`SAMPLING_STEPS_COLUMNS`) to ``out`` and the figure to ``figure_out``.

    Run i was sampled for ``steps[i]`` steps from the final model trained with ``seed[i]``
    (``training_steps`` = T): its ``samples.npz`` (``infusion sample``) and its
    ``parzen.json`` (``infusion parzen`` on the test split), whose estimate at the last
    step's means (``by_chain_steps.sampling``) is the one taken, whatever
    ``parzen.chain_steps`` says. ``nearest_distance`` is the mean (and ``_std`` the std) over
    those means of the Euclidean distance to the nearest ``train`` image of the prepared
    dataset ``data`` (``pixels / 256``); ``test_nearest_distance`` is the same mean for its
    first ``test_images`` test images (as many as samples, or all), the reference that
    samples much closer to the training set than held-out images are would fall below.
    """
    if not len(samples) == len(parzen) == len(steps) == len(seed):
        raise ValueError("sampling-steps needs one samples file, parzen file, steps and seed a run")
    train, test = load_arrays(data, "train", "test")
    train = to_unit_interval(train)
    reference: dict[int, tuple[int, float]] = {}  # sample count -> (test images, mean distance)
    records = []
    for samples_npz, parzen_json, run_steps, run_seed in zip(
        samples, parzen, steps, seed, strict=True
    ):
        (means,) = load_arrays(samples_npz, "means")
        estimate = read_json(parzen_json)
        expect_split(estimate["split"], "test", parzen_json)
        at_last_step = estimate["by_chain_steps"]["sampling"]
        distances = nearest_distances(means, train)
        if len(means) not in reference:
            held_out = to_unit_interval(test[: len(means)])
            reference[len(means)] = (len(held_out), nearest_distances(held_out, train).mean())
        test_images, test_distance = reference[len(means)]
        records.append(
            {
                "steps": int(run_steps),
                "factor": int(run_steps) / training_steps,
                "seed": int(run_seed),
                "parzen": at_last_step["mean"],
                "parzen_stderr": at_last_step["stderr"],
                "sigma": at_last_step["sigma"],
                "nearest_distance": distances.mean(),
                "nearest_distance_std": distances.std(ddof=1) if len(distances) > 1 else 0.0,
                "test_nearest_distance": test_distance,
                "samples": len(means),
                "test_images": test_images,
            }
        )
    table = pd.DataFrame(records, columns=SAMPLING_STEPS_COLUMNS)
    table = table.sort_values(["seed", "steps"], kind="stable", ignore_index=True)
    write_csv(table, out)
    first_seed = [path for path, s in zip(samples, seed, strict=True) if s == seed[0]]
    first_steps = [n for n, s in zip(steps, seed, strict=True) if s == seed[0]]
    draw_figure(table, first_seed, first_steps, training_steps, figure_out)
    return table


def draw_figure(
    table: pd.DataFrame,
    samples: list[PathLike],
    steps: list[int],
    training_steps: int,
    out: PathLike,
) -> None:
    """Parzen and the nearest distance against the steps (every seed's points, their mean as
    a line; the test images' distance dashed), above a sample sheet per step count of the
    first seed (``samples`` sampled for ``steps``)."""
    order = np.argsort(steps, kind="stable")
    sheet_rows = math.ceil(len(steps) / SHEETS_PER_ROW)
    fig = plt.figure(figsize=(12, 3.6 + 2.8 * sheet_rows), layout="constrained")
    grid = fig.add_gridspec(
        1 + sheet_rows, 2 * SHEETS_PER_ROW, height_ratios=[1.25] + [1] * sheet_rows
    )
    parzen_ax = fig.add_subplot(grid[0, :SHEETS_PER_ROW])
    distance_ax = fig.add_subplot(grid[0, SHEETS_PER_ROW:])
    _plot_against_steps(parzen_ax, table, "parzen", "Parzen estimate, test (nats)")
    _plot_against_steps(
        distance_ax, table, "nearest_distance", "distance to nearest training image"
    )
    distance_ax.axhline(
        table["test_nearest_distance"].iloc[0], color="0.35", linestyle="--",
        label="test images' distance",
    )  # fmt: skip
    for ax in (parzen_ax, distance_ax):
        ax.axvline(training_steps, color="0.75", linewidth=1, zorder=0)
        ax.set_xticks(sorted(set(steps)))
        ax.set_xlabel(f"sampling steps (T = {training_steps}: grey line)", fontsize=FONT)
        legend_outside(ax)
    for position, k in enumerate(order):
        row, column = divmod(position, SHEETS_PER_ROW)
        ax = fig.add_subplot(grid[1 + row, 2 * column : 2 * column + 2])
        show(ax, sample_sheet(*load_arrays(samples[k], "means", "shape")))
        ax.set_title(f"{steps[k]} steps ({steps[k] / training_steps:.3g} T)", fontsize=FONT + 1)
    fig.suptitle(
        "The final model sampled for more steps than it was trained with (sheets: first seed)",
        fontsize=FONT + 2,
    )
    save(fig, out)


def sample_sheet(means: np.ndarray, shape) -> np.ndarray:
    """The first means as [rows x columns x C x H x W] pictures: :data:`SHEET` columns (fewer
    for fewer samples) and up to as many full rows."""
    columns = min(SHEET, len(means))
    rows = min(SHEET, len(means) // columns)
    sheet = pictures(means[: rows * columns], shape)
    return sheet.reshape(rows, columns, *sheet.shape[1:])


def _plot_against_steps(ax, table: pd.DataFrame, column: str, label: str) -> None:
    """Every seed's value as a point, and the mean over seeds as a line, against the steps."""
    ax.scatter(table["steps"], table[column], s=16, color="0.45", zorder=3, label="seeds")
    mean = table.groupby("steps")[column].mean()
    ax.plot(mean.index, mean.to_numpy(), color="C0", marker="o", zorder=2, label="mean over seeds")
    ax.set_ylabel(label, fontsize=FONT)
    ax.tick_params(labelsize=FONT)
    ax.grid(alpha=0.3)
