"""The paper's figures: one function per figure, each reading files and writing one PNG.

Each is registered under its artifact id (:mod:`infusion.paper.artifacts`): fig3.1, fig3.2,
fig3.3, fig3.5, fig3.6, figA.1 ... figA.4 and tableA.1-images, Table A.1's sample means.
A missing input raises ``FileNotFoundError`` (from numpy or pandas) before anything is
drawn; pictures and PNGs as in :mod:`infusion.paper.drawing`.
"""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from infusion.data.registry import to_unit_interval
from infusion.estimation.nearest import nearest_training_images
from infusion.paper.artifacts import artifact
from infusion.paper.drawing import (
    FONT,
    PathArg,
    after_init,
    grid_size,
    legend_outside,
    load_arrays,
    mark_below,
    pictures,
    robust_ylim,
    save,
    show,
    step_labels,
    with_target,
)
from infusion.paper.grid import CURVE_COLUMNS, METRICS_COLUMNS
from infusion.runtime.reading import CorruptFile, read_csv

PANEL_KINDS = {  # Fig A.1 / Table A.1: which rate a panel varies
    "a": r"$\alpha_0$ varies",
    "b": r"$\omega$ varies",
    "c": r"$\omega$ varies",
    "d": r"$\omega$ varies",
    "e": r"constant rate $\alpha_0$",
    "f": r"constant rate $\alpha_0$",
}
RATE_NAMES = {panel: r"$\omega$" if panel in "bcd" else r"$\alpha_0$" for panel in PANEL_KINDS}


# ---------------------------------------------------------------------------- helpers


def _sampling_chains(samples_npz: PathArg, rows: int) -> np.ndarray:
    """The first ``rows`` model sampling chains of a ``samples.npz``:
    [rows x steps+1 x C x H x W], z^(0) then the means of steps 1..steps."""
    shape, draws, means = load_arrays(samples_npz, "shape", "chain_draws", "chain_means")
    states = np.concatenate([draws[:rows, :1], means[:rows]], axis=1)
    return pictures(states, shape)


def _infusion_chains(samples_npz: PathArg, rows: int) -> np.ndarray:
    """The first ``rows`` infusion chains of a ``samples.npz`` with their targets:
    [rows x T+3 x C x H x W] (see :func:`~infusion.paper.drawing.with_target`)."""
    shape, chains, targets = load_arrays(
        samples_npz, "shape", "infusion_chains", "infusion_targets"
    )
    return with_target(pictures(chains[:rows], shape), pictures(targets[:rows], shape))


def _steps(steps: int) -> str:
    return f"{steps} step{'s' * (steps != 1)}"


def _nats(value: float) -> str:
    return "n/a" if pd.isna(value) else f"{value:.1f}"


# ---------------------------------------------------------------------------- figures


@artifact("fig3.1")
def fig_3_1(samples: PathArg, out: PathArg, rows: int = 10) -> None:
    """Fig 3.1: model sampling chains, one per row.

    ``samples`` (``infusion sample``): ``shape`` (C, H, W), ``chain_draws``
    [K x steps+1 x d], ``chain_means`` [K x steps x d]. Columns: z^(0) then the means of
    steps 1..steps; the first min(rows, K) chains.
    """
    images = _sampling_chains(samples, rows)
    steps = images.shape[1] - 1
    fig, ax = plt.subplots(figsize=grid_size(*images.shape[:2]))
    show(ax, images, col_labels=step_labels(steps + 1))
    ax.set_xlabel(r"step $t$ (0: noise $z^{(0)}$; $t \geq 1$: mean of step $t$)", fontsize=FONT)
    ax.set_title(f"Model sampling chains, {_steps(steps)}", fontsize=FONT + 2)
    save(fig, out)


@artifact("fig3.2")
def fig_3_2(chains: PathArg, out: PathArg, target_index: int = 0) -> None:
    """Fig 3.2: the infusion chain of one training target after init and each early epoch.

    ``chains`` (``chains.npz`` of training): ``chains`` uint8 [E x targets x T+1 x C x H x
    W], ``epochs`` [E], ``targets`` uint8 [targets x C x H x W]. Rows: epochs; columns: chain
    steps z~^(0..T-1) and the last step's mean, then the target.
    """
    snapshots, epochs, targets = load_arrays(chains, "chains", "epochs", "targets")
    chain = snapshots[:, target_index] / 255  # [E x T+1 x C x H x W]
    target = np.repeat(targets[None, target_index] / 255, len(chain), axis=0)
    images = with_target(chain, target)
    rows = ["init" if e == 0 else f"epoch {e}" for e in epochs]
    fig, ax = plt.subplots(figsize=grid_size(*images.shape[:2], extra_w=1.2))
    show(ax, images, row_labels=rows, col_labels=step_labels(chain.shape[1], target=True))
    ax.set_xlabel(r"step $t$ (column $T$: mean of the last step)", fontsize=FONT)
    ax.set_title("Infusion chain of a training example during training", fontsize=FONT + 2)
    save(fig, out)


@artifact("fig3.3")
def fig_3_3(metrics: PathArg, out: PathArg) -> None:
    """Fig 3.3: train and valid lower bound per epoch and, in a panel of its own below, the
    valid Parzen estimate.

    ``metrics`` (``metrics.csv`` of training): one row per epoch with ``epoch,
    train_lower_bound, valid_lower_bound, valid_parzen`` (NaN where not computed). Epoch 0
    (the initialisation) is left out: it can lie far below every later epoch and would
    flatten the curves. Without any Parzen estimate there is one panel.
    """
    curves = after_init(read_csv(metrics, (*METRICS_COLUMNS, "valid_parzen")))
    parzen = curves.dropna(subset=["valid_parzen"])
    panels = 2 if len(parzen) else 1
    fig, axes = plt.subplots(
        panels, 1, figsize=(7, 2 + 2 * panels), sharex=True, squeeze=False,
        height_ratios=[3, 2][:panels], layout="constrained",
    )  # fmt: skip
    ax = axes[0, 0]
    ax.plot(curves["epoch"], curves["train_lower_bound"], label="train lower bound")
    ax.plot(curves["epoch"], curves["valid_lower_bound"], label="valid lower bound")
    ax.set_ylabel("lower bound on log-likelihood (nats)", fontsize=FONT)
    legend_outside(ax)
    ax.set_title("Lower bound during training (final model)", fontsize=FONT + 2)
    if len(parzen):
        below = axes[1, 0]
        below.plot(parzen["epoch"], parzen["valid_parzen"], "o-", color="C3")
        below.set_ylabel("valid Parzen estimate (nats)", fontsize=FONT)
        below.set_title("Parzen estimate of the validation log-likelihood", fontsize=FONT)
    axes[-1, 0].set_xlabel("epoch", fontsize=FONT)
    for each in axes[:, 0]:
        each.tick_params(labelsize=FONT)
        each.grid(alpha=0.3)
    save(fig, out)


def _rate_panel(ax, panel: str, curves: pd.DataFrame) -> None:
    """One Fig A.1 panel: valid lower bound per epoch, one line per rate."""
    steps = int(curves["steps"].iloc[0])
    ax.set_title(f"({panel}) {_steps(steps)}, {PANEL_KINDS[panel]}", fontsize=FONT)
    rates = sorted(curves["rate"].unique())
    colours = plt.cm.viridis(np.linspace(0, 0.9, len(rates)))
    for rate, colour in zip(rates, colours, strict=True):
        run = curves[curves["rate"] == rate].sort_values("epoch")
        ax.plot(run["epoch"], run["valid_lower_bound"], color=colour, label=f"{rate:g}")


@artifact("figA.1")
def fig_a_1(curves: PathArg, out: PathArg) -> None:
    """Fig A.1: validation lower bound per epoch for every grid point, panels (a)-(f).

    ``curves`` (``curves.csv`` of artifact grid): tidy rows ``panel, steps, alpha0, omega,
    rate, epoch, train_lower_bound, valid_lower_bound``. Epochs >= 1 are drawn; all panels
    share one y range whose lower limit ignores diverging runs; a run that ends below it is
    marked on the bottom edge, its final value in the legend (beside the panel). A panel
    without rows reads "not in this study".
    """
    epochs = after_init(read_csv(curves, CURVE_COLUMNS))
    fig, axes = plt.subplots(2, 3, figsize=(15, 7.5), sharey=True, layout="constrained")
    for panel, ax in zip("abcdef", axes.flat, strict=True):
        rows = epochs[epochs["panel"] == panel]
        if len(rows):
            _rate_panel(ax, panel, rows)
        else:
            ax.set_title(f"({panel})", fontsize=FONT)
            ax.text(0.5, 0.5, "not in this study", ha="center", transform=ax.transAxes)
            ax.set_xticks([])
        ax.tick_params(labelsize=FONT)
        ax.grid(alpha=0.3)
    if epochs["valid_lower_bound"].notna().any():
        axes[0, 0].set_ylim(*robust_ylim(epochs["valid_lower_bound"].to_numpy()))
    for panel, ax in zip("abcdef", axes.flat, strict=True):
        if ax.get_lines():
            mark_below(ax)
            legend_outside(ax, title=RATE_NAMES[panel], fontsize=8, title_fontsize=8)
    for ax in axes[1]:
        ax.set_xlabel("epoch", fontsize=FONT)
    for ax in axes[:, 0]:
        ax.set_ylabel("valid lower bound (nats)", fontsize=FONT)
    fig.suptitle("Validation lower bound for each infusion-rate schedule", fontsize=FONT + 3)
    save(fig, out)


def _samples_by_run(samples: list[PathArg]) -> dict[Path, PathArg]:
    """Each ``samples.npz`` under its run folder (the folder that holds it)."""
    return {Path(path).parent: path for path in samples}


@artifact("tableA.1-images")
def table_a_1_images(
    grid: PathArg, samples: list[PathArg], out: PathArg, per_row: int = 10
) -> None:
    """Table A.1's pictures: ``per_row`` sample means for each grid point, one row each.

    ``grid`` (``grid.csv``): rows ``panel, steps, rate, test_lower_bound,
    paper_test_lower_bound, run`` (other columns ignored). ``samples``: the ``samples.npz``
    of every grid point, each in its run folder (the ``run`` of its rows), holding ``shape``
    and ``means`` [S x d] with S >= per_row. Rows are grouped by panel, in file order within
    a panel; a row whose run has no samples among ``samples`` raises ValueError.
    """
    by_run = _samples_by_run(samples)
    runs = read_csv(grid, ("panel", "run")).sort_values("panel", kind="stable")
    missing = sorted(str(run) for run in set(by_run) - set(map(Path, runs["run"])))
    if missing:  # a samples file of every grid point is given: the grid lost rows
        raise CorruptFile(grid, f"no row of the grid point {missing[0]}")
    rows, labels = [], []
    for row in runs.itertuples():
        if Path(row.run) not in by_run:
            raise ValueError(f"{grid}: no samples.npz of run {row.run} among the samples given")
        shape, means = load_arrays(by_run[Path(row.run)], "shape", "means")
        rows.append(pictures(means[:per_row], shape))
        labels.append(
            f"({row.panel}) {_steps(row.steps)}, {RATE_NAMES[row.panel]}={row.rate:g}   LB ours "
            f"{_nats(row.test_lower_bound)} / paper {_nats(row.paper_test_lower_bound)}"
        )
    images = np.stack(rows)  # [grid points x per_row x C x H x W]
    fig, ax = plt.subplots(figsize=grid_size(*images.shape[:2], extra_w=4.0))
    show(ax, images, row_labels=labels)
    ax.set_title("Sample means per grid point; test lower bound (nats)", fontsize=FONT + 2)
    save(fig, out)


def _chain_blocks(samples_npz: PathArg, rows: int, name: str) -> list[tuple]:
    """[(title, images, chain columns)]: a ``samples.npz``'s first ``rows`` infusion chains
    with their targets (chain columns T+1) and its model sampling chains (None)."""
    infusion = _infusion_chains(samples_npz, rows)
    sampling = _sampling_chains(samples_npz, rows)
    return [
        (f"{name}infusion chains", infusion, infusion.shape[1] - 2),
        (f"{name}model sampling chains", sampling, None),
    ]


def _chain_figure(blocks: list[tuple], title: str, out: PathArg) -> None:
    """One panel per block of :func:`_chain_blocks`, stacked, under ``title``."""
    width = max(images.shape[1] for _, images, _ in blocks)
    height = sum(images.shape[0] for _, images, _ in blocks)
    fig, axes = plt.subplots(
        len(blocks),
        1,
        figsize=grid_size(height, width, extra_h=0.6 * len(blocks)),
        layout="constrained",
    )
    for ax, (name, images, chain_columns) in zip(axes, blocks, strict=True):
        if chain_columns is None:
            labels = step_labels(images.shape[1])
        else:
            labels = step_labels(chain_columns, target=True)
        show(ax, images, col_labels=labels)
        ax.set_title(name[0].upper() + name[1:], fontsize=FONT + 1)
    fig.suptitle(title, fontsize=FONT + 3)
    save(fig, out)


@artifact("figA.2")
def fig_a_2(constant: PathArg, increasing: PathArg, out: PathArg, rows: int = 4) -> None:
    """Fig A.2: infusion and sampling chains of a constant-rate and an increasing-rate model.

    ``constant`` and ``increasing`` (``samples.npz``) each hold ``shape``,
    ``infusion_chains`` [K2 x T+1 x d], ``infusion_targets`` [K2 x d], ``chain_draws``
    [K x steps+1 x d] and ``chain_means`` [K x steps x d]; the first ``rows`` chains of each
    kind are shown, the infusion chains with their target in the last column.
    """
    blocks = [
        *_chain_blocks(constant, rows, "constant rate: "),
        *_chain_blocks(increasing, rows, "increasing rate: "),
    ]
    _chain_figure(blocks, "Constant vs. increasing infusion rate", out)


def _natural_image_chains(samples: PathArg, out: PathArg, rows: int) -> None:
    """Figs A.3 and A.4: one model's infusion chains, each with its test target in the last
    column, above its model sampling chains; ``samples`` as for :func:`fig_a_2`."""
    _chain_figure(_chain_blocks(samples, rows, ""), "Infusion and model sampling chains", out)


@artifact("figA.3")
def fig_a_3(samples: PathArg, out: PathArg, rows: int = 8) -> None:
    """Fig A.3 (CIFAR-10 in the paper): infusion and model sampling chains of the final
    model, the first ``rows`` of each kind (``samples``: its ``samples.npz``)."""
    _natural_image_chains(samples, out, rows)


@artifact("figA.4")
def fig_a_4(samples: PathArg, out: PathArg, rows: int = 8) -> None:
    """Fig A.4 (CelebA in the paper): infusion and model sampling chains of the final
    model, the first ``rows`` of each kind (``samples``: its ``samples.npz``)."""
    _natural_image_chains(samples, out, rows)


@artifact("fig3.6")
def fig_3_6(inpainting: PathArg, out: PathArg) -> None:
    """Fig 3.6: per row, a test image, its top half over a bottom half from the prior, then
    its completions.

    ``inpainting`` (``infusion inpaint``): ``shape``, ``images`` [n x d], ``starts`` and
    ``completions`` [n x k x d]; the first start of each image is shown.
    """
    shape, images, starts, completions = load_arrays(
        inpainting, "shape", "images", "starts", "completions"
    )
    rows = np.concatenate([images[:, None], starts[:, :1], completions], axis=1)
    rows = pictures(rows, shape)
    fig, ax = plt.subplots(figsize=grid_size(*rows.shape[:2]))
    labels = ["test", "start"] + [str(j + 1) for j in range(completions.shape[1])]
    show(ax, rows, col_labels=labels)
    ax.set_xlabel("test image; top half over the prior; completions (last-step means)")
    ax.set_title("Inpainting: the top half clamped through the sampling chain", fontsize=FONT + 2)
    save(fig, out)


@artifact("fig3.5")
def fig_3_5(samples: PathArg, data: PathArg, out: PathArg, n: int = 12) -> None:
    """Fig 3.5 (one per dataset): sample means, each beside its nearest training image.

    ``samples`` (``samples.npz``): ``shape`` and ``means`` [S x d] (the first n are shown);
    ``data``: a prepared dataset whose ``train`` uint8 [N x C x H x W] is searched on
    ``pixels / 256`` with :func:`~infusion.estimation.nearest.nearest_training_images`.
    """
    shape, means = load_arrays(samples, "shape", "means")
    means = means[:n]
    (train,) = load_arrays(data, "train")
    train = to_unit_interval(train)  # [N x d]
    nearest = train[nearest_training_images(means, train)]
    pairs = np.stack([pictures(means, shape), pictures(nearest, shape)], axis=1)
    blocks = np.array_split(pairs, math.ceil(math.sqrt(len(pairs) / 2)))
    fig, axes = plt.subplots(
        1, len(blocks), figsize=(2.4 * len(blocks), len(blocks[0]) + 1), squeeze=False
    )
    for ax, block in zip(axes[0], blocks, strict=True):
        show(ax, block, col_labels=["sample", "nearest"])
        ax.set_anchor("N")
    fig.suptitle("Samples (means) and their nearest training images", fontsize=FONT + 2)
    save(fig, out)
