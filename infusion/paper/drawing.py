"""Drawing pictures for the figures: arrays of images tiled into one, labelled, saved.

Pictures are arrays [C x H x W] of values in [0, 1]: float model states are clipped for
display, uint8 chain snapshots are divided by 255, and dataset images are converted as
everywhere else (``pixels / 256``). Every PNG is written atomically
(:func:`infusion.runtime.atomic.atomic_path`), so a failed figure leaves no file behind.
"""

from __future__ import annotations

import os

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.transforms import offset_copy

from infusion.runtime.atomic import atomic_path
from infusion.runtime.reading import read_npz

matplotlib.use("Agg")

DPI = 150
FONT = 9  # points; tick labels and legends, never smaller than 8
CELL = 0.36  # inches per image in a grid

PathArg = str | os.PathLike


def load_arrays(path: PathArg, *keys: str) -> list[np.ndarray]:
    """The named arrays of an ``.npz`` file (checked: :func:`infusion.runtime.reading.read_npz`)."""
    arrays = read_npz(path, *keys)
    return [arrays[key] for key in keys]


def pictures(flat: np.ndarray, shape) -> np.ndarray:
    """[... x d] float states -> [... x C x H x W] pictures clipped to [0, 1]."""
    return np.clip(flat, 0, 1).reshape(*flat.shape[:-1], *(int(s) for s in shape))


def tile(images: np.ndarray) -> np.ndarray:
    """[rows x cols x C x H x W] -> one [rows*(H+1)-1 x cols*(W+1)-1 x C] image.

    Neighbouring pictures are separated by a 1-pixel white line.
    """
    rows, cols, c, h, w = images.shape
    padded = np.pad(images, [(0, 0)] * 3 + [(0, 1), (0, 1)], constant_values=1.0)
    canvas = padded.transpose(0, 3, 1, 4, 2).reshape(rows * (h + 1), cols * (w + 1), c)
    return canvas[:-1, :-1]


def show(ax, images: np.ndarray, row_labels=None, col_labels=None) -> None:
    """Draw [rows x cols x C x H x W] pictures as one tiled image on ``ax``.

    Grayscale (C=1) uses a fixed [0, 1] gray map, RGB (C=3) is shown as is. Optional labels
    name the rows (left) and columns (bottom); otherwise the axes have no ticks.
    """
    rows, cols, c, h, w = images.shape
    canvas = tile(images)
    if c == 1:
        ax.imshow(canvas[..., 0], cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    else:
        ax.imshow(canvas, interpolation="nearest")
    ax.set_xticks([k * (w + 1) + (w - 1) / 2 for k in range(cols)] if col_labels else [])
    ax.set_yticks([r * (h + 1) + (h - 1) / 2 for r in range(rows)] if row_labels else [])
    if col_labels:
        ax.set_xticklabels(col_labels, fontsize=FONT)
    if row_labels:
        ax.set_yticklabels(row_labels, fontsize=FONT)
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)


def with_target(chains: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """[rows x K x C x H x W] chains and [rows x C x H x W] targets -> [rows x K+2 x ...]:
    the chains, a blank column, then the targets."""
    blank = np.ones_like(targets)
    return np.concatenate([chains, blank[:, None], targets[:, None]], axis=1)


def step_labels(columns: int, target: bool = False) -> list[str]:
    """Column labels 0..columns-1, followed by a blank and "target" if ``target``."""
    return [str(t) for t in range(columns)] + (["", "target"] if target else [])


def grid_size(rows: int, cols: int, extra_w: float = 0.6, extra_h: float = 0.9):
    """A figure size (inches) for a grid of ``rows`` x ``cols`` pictures and its labels."""
    return (max(cols * CELL + extra_w, 4.0), rows * CELL + extra_h)


def save(fig, out: PathArg) -> None:
    """Write ``fig`` to ``out`` atomically, and close it."""
    try:
        with atomic_path(out) as tmp:
            fig.savefig(tmp, dpi=DPI, bbox_inches="tight")
    finally:
        plt.close(fig)


def after_init(frame: pd.DataFrame) -> pd.DataFrame:
    """Epochs >= 1: the initialisation (epoch 0) can be far below every later epoch."""
    return frame[frame["epoch"] >= 1]


def robust_ylim(values: np.ndarray) -> tuple[float, float]:
    """A y range that keeps the bulk of the curves: the lower limit is the Tukey fence
    q25 - 1.5 IQR (so a diverging minority of runs falls off the bottom; mark them with
    :func:`mark_below`)."""
    q25, q75 = np.nanpercentile(values, [25, 75])
    low = max(q25 - 1.5 * (q75 - q25), np.nanmin(values))
    high = np.nanmax(values)
    margin = 0.05 * (high - low) or 1.0
    return low - margin, high + margin


BELOW = "v"  # the marker of a curve that ends below its axis


def mark_below(ax) -> None:
    """Once ``ax``'s y range is set: each line whose last finite value lies below it gets a
    down triangle of its colour on the bottom edge at that point's x (several at one x side
    by side, leftwards), and its legend label that value, e.g. ``0.05 (↓ -1,234)``. Call
    before the legend is made."""
    low = ax.get_ylim()[0]
    marked: list[float] = []
    for line in ax.get_lines():
        x, y = (np.asarray(v, dtype=float) for v in line.get_data())
        finite = np.isfinite(y)
        if finite.any() and y[finite][-1] < low:
            end, at = y[finite][-1], x[finite][-1]
            beside = offset_copy(
                ax.transData, fig=ax.figure, x=-9 * marked.count(at), units="points"
            )
            ax.plot(at, low, BELOW, color=line.get_color(), markersize=8, transform=beside,
                    clip_on=False, zorder=4, label="_below")  # fmt: skip
            line.set_label(f"{line.get_label()} (\u2193 {end:,.0f})")
            marked.append(at)


def legend_outside(ax, **kwargs):
    """``ax``'s legend beside it, to the right of its data area, top-aligned."""
    kwargs.setdefault("fontsize", FONT)
    return ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1), borderaxespad=0, **kwargs)
