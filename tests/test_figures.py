"""Figures: each function renders a readable PNG from small synthetic inputs, atomically."""

from __future__ import annotations

import matplotlib.image as mpimg
import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PathCollection
from matplotlib.colors import to_rgba

from infusion.beyond.fidelity import fidelity_figure
from infusion.paper import drawing, figures

SHAPE = (1, 8, 8)
D = 64
RNG = np.random.default_rng(0)


def check_png(out, min_size=50):
    """The PNG exists, opens, has a plausible size, and no temporary file is left beside it."""
    image = mpimg.imread(out)
    assert image.ndim == 3 and min(image.shape[:2]) >= min_size
    assert [p.name for p in out.parent.iterdir() if p.name.startswith(".")] == []


def test_tile_separates_images_by_one_pixel_and_keeps_rgb():
    images = RNG.uniform(0, 1, (2, 3, 3, 4, 5))  # rows x cols x C x H x W
    canvas = drawing.tile(images)
    assert canvas.shape == (2 * 5 - 1, 3 * 6 - 1, 3)
    np.testing.assert_array_equal(canvas[5:9, 6:11], images[1, 1].transpose(1, 2, 0))
    assert (canvas[4] == 1).all() and (canvas[:, 5] == 1).all()


# The gray of pictures a figure must not show, apart from :func:`distinct_grays`'s levels.
HIDDEN = 0.95


def distinct_grays(n: int) -> np.ndarray:
    """n gray levels at least 0.05 apart, none near black text, white or :data:`HIDDEN`."""
    return np.linspace(0.1, 0.85, n)


def colour_cells(png, colours) -> list[tuple[float, float, int]]:
    """For each RGB colour (in [0, 1]), the median (row, column) and the count of the PNG's
    pixels drawn in it (within 1/255), read with PIL: where and how big its cell is."""
    from PIL import Image

    rgb = np.asarray(Image.open(png).convert("RGB")).astype(int)
    found = []
    for colour in np.round(np.asarray(colours) * 255):
        ys, xs = np.nonzero((np.abs(rgb - colour) <= 1).all(axis=2))
        found.append((float(np.median(ys)), float(np.median(xs)), len(ys)))
    return found


def cells(png, levels) -> list[tuple[float, float, int]]:
    """:func:`colour_cells` of gray levels drawn with matplotlib's gray map."""
    from matplotlib import colormaps

    return colour_cells(png, colormaps["gray"](np.asarray(levels))[:, :3])


def assert_laid_out(found, rows: int, cols: int):
    """Cells (row-major) in rows x cols, rows top to bottom, columns left to right, all of
    one size within 10%."""
    y, x, count = (np.array(v).reshape(rows, cols) for v in zip(*found, strict=True))
    assert (count > 0.9 * np.median(count)).all() and (count < 1.1 * np.median(count)).all()
    assert (np.diff(y, axis=0) > 0).all() and (np.ptp(y, axis=1) < 2).all()
    assert (np.diff(x, axis=1) > 0).all() and (np.ptp(x, axis=0) < 2).all()


def write_chain_samples(path, infusion, sampling, shape=SHAPE):
    """A ``samples.npz`` whose first chains are pictures of one colour each: ``infusion``
    [rows x T+2 x C] colours (states z~(0..T), then the target) and ``sampling``
    [rows x steps+1 x C] (z^(0), then the means of steps 1..steps). One more chain of each
    kind, and the draws after z^(0), are :data:`HIDDEN`."""
    rows, c, d = len(infusion), shape[0], int(np.prod(shape))

    def hidden(*dims):
        return np.full((rows + 1, *dims, c), HIDDEN)

    chains, targets = hidden(infusion.shape[1] - 1), hidden()
    chains[:rows], targets[:rows] = infusion[:, :-1], infusion[:, -1]
    draws, means = hidden(sampling.shape[1]), hidden(sampling.shape[1] - 1)
    draws[:rows, 0], means[:rows] = sampling[:, 0], sampling[:, 1:]
    arrays = {
        "infusion_chains": chains,
        "infusion_targets": targets,
        "chain_draws": draws,
        "chain_means": means,
    }
    flat = {k: np.repeat(v, d // c, axis=-1).astype(np.float32) for k, v in arrays.items()}
    np.savez(path, shape=np.array(shape), **flat)
    return path


def assert_stacked_blocks(found, blocks):
    """``found``: cells (:func:`colour_cells`) of every block's colours, block after block,
    each row-major; ``blocks``: (rows, cols, with_target) each. Every block is laid out as
    rows x cols below the one before; a block with targets has them past a blank column."""
    bottom = -np.inf
    for rows, cols, with_target in blocks:
        block, found = found[: rows * cols], found[rows * cols :]
        assert_laid_out(block, rows, cols)
        y, x, _ = (np.array(v).reshape(rows, cols) for v in zip(*block, strict=True))
        assert y.min() > bottom
        bottom = y.max()
        if with_target:
            assert (x[:, -1] - x[:, -2] > 1.5 * (x[:, 1] - x[:, 0])).all()


def rgb_colours(n: int) -> np.ndarray:
    """n colours [n x 3] whose channels all differ, at least 0.03 apart in red."""
    red = distinct_grays(n)
    return np.stack([red, 0.95 - red, np.full(n, 0.3)], axis=1)


def test_sampling_chains_show_z0_then_each_step_s_mean(tmp_path):
    """Fig 3.1 from chains whose every picture is one gray level: row r of the PNG holds
    chain r's z^(0) (its draw) then the means of steps 1..4, in order; 3 of 5 chains shown."""
    chains, steps, rows = 5, 4, 3
    levels = distinct_grays(rows * (steps + 1)).reshape(rows, steps + 1)
    draws = np.full((chains, steps + 1, D), HIDDEN)
    means = np.full((chains, steps, D), HIDDEN)
    draws[:rows, 0] = levels[:, :1]
    means[:rows] = levels[:, 1:, None]
    path = tmp_path / "s.npz"
    np.savez(path, shape=np.array(SHAPE), chain_draws=draws, chain_means=means)
    out = tmp_path / "fig3.1.png"
    figures.fig_3_1(path, out, rows=rows)
    check_png(out)
    found = cells(out, levels.ravel())
    assert_laid_out(found, rows, steps + 1)
    assert cells(out, [HIDDEN])[0][2] < 0.1 * found[0][2]  # nor are rows past ``rows``


def test_fig_3_2_shows_one_target_per_epoch(tmp_path):
    """Fig 3.2: one row per epoch, the chosen target's T + 1 chain states, then (after a blank)
    the target itself; pictures of one gray level each, read back from the PNG."""
    epochs, targets, steps = 3, 2, 4
    levels = distinct_grays(epochs * (steps + 1) + 1)
    hidden = round(HIDDEN * 255)
    chains = np.full((epochs, targets, steps + 1, *SHAPE), hidden, dtype=np.uint8)
    codes = np.round(levels * 255).astype(np.uint8)
    chains[:, 1] = codes[:-1].reshape(epochs, steps + 1, 1, 1, 1, 1)[:, :, 0]
    target_images = np.full((targets, *SHAPE), hidden, dtype=np.uint8)
    target_images[1] = codes[-1]
    path = tmp_path / "chains.npz"
    np.savez(path, chains=chains, epochs=np.arange(epochs), targets=target_images)
    out = tmp_path / "fig3.2.png"
    figures.fig_3_2(path, out, target_index=1)
    check_png(out)
    found = cells(out, codes / 255)
    assert_laid_out(found[:-1], epochs, steps + 1)
    target_y, target_x, target_count = found[-1]
    assert target_count > 0.9 * epochs * found[0][2]  # the target repeated on every row
    assert target_x > found[steps][1] + 1.5 * (found[1][1] - found[0][1])  # past a blank
    assert abs(target_y - found[(epochs // 2) * (steps + 1)][0]) < 2  # centred on the rows
    assert cells(out, [hidden / 255])[0][2] < 0.1 * found[0][2]  # nor is the other target


def legend_texts(ax) -> list[str]:
    return [text.get_text() for text in ax.get_legend().get_texts()]


def assert_legends_outside_data(fig):
    """No legend of ``fig`` (of an axes or of the figure) covers any axes' data area."""
    fig.canvas.draw()
    legends = [ax.get_legend() for ax in fig.axes if ax.get_legend()] + fig.legends
    assert legends
    for legend in legends:
        box = legend.get_window_extent()
        for ax in fig.axes:
            assert not box.overlaps(ax.get_window_extent()), legend_texts(ax)


def curves(ax) -> list:
    """The lines of ``ax`` that are curves: those named in its legend."""
    return [line for line in ax.get_lines() if not line.get_label().startswith("_")]


def assert_curves_in_view_or_marked(ax) -> list:
    """Every curve's last value lies within ``ax``'s y range, or a down triangle of its colour
    sits on the bottom edge at its last x; the curves marked so."""
    low, high = ax.get_ylim()
    marks = [line for line in ax.get_lines() if line.get_marker() == drawing.BELOW]
    marked = []
    for line in curves(ax):
        x, y = line.get_xdata()[-1], line.get_ydata()[-1]
        if low <= y <= high:
            continue
        assert y < low
        (mark,) = [m for m in marks if to_rgba(m.get_color()) == to_rgba(line.get_color())]
        assert list(mark.get_xdata()) == [x] and list(mark.get_ydata()) == [low]
        assert not mark.get_clip_on()  # drawn on the edge, not cut in half
        marked.append(line)
    assert len(marked) == len(marks)
    return marked


def test_training_curves_draw_every_epoch_after_init(tmp_path, kept_figures):
    """Fig 3.3: the train and valid lower bounds at epochs 1..5 (not the initialisation), their
    legend beside the data, and below them, in a panel of its own that names it, the valid
    Parzen estimates where computed."""
    epochs = np.arange(6)
    train = np.array([-5000, 100, 200, 300, 350, 360.0])
    valid = np.array([-5000, 90, 190, 280, 330, 340.0])
    parzen = np.array([120, np.nan, 150, np.nan, np.nan, 210])  # epoch 0's not drawn
    metrics = pd.DataFrame(
        {
            "epoch": epochs,
            "loss": 1.0,
            "seconds": 2.0,
            "train_lower_bound": train,
            "valid_lower_bound": valid,
            "valid_parzen": parzen,
        }
    )
    metrics.to_csv(tmp_path / "metrics.csv", index=False)
    out = tmp_path / "fig3.3.png"
    figures.fig_3_3(tmp_path / "metrics.csv", out)
    check_png(out)
    (fig,) = kept_figures
    ax, below = fig.axes
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert sorted(lines) == ["train lower bound", "valid lower bound"]
    for label, values in [("train lower bound", train), ("valid lower bound", valid)]:
        np.testing.assert_array_equal(lines[label].get_xdata(), [1, 2, 3, 4, 5])
        np.testing.assert_array_equal(lines[label].get_ydata(), values[1:])
    (points,) = below.get_lines()
    np.testing.assert_array_equal(points.get_xdata(), [2, 5])
    np.testing.assert_array_equal(points.get_ydata(), [150, 210])
    assert legend_texts(ax) == ["train lower bound", "valid lower bound"]
    assert below.get_legend() is None
    assert_legends_outside_data(fig)
    assert "Parzen" not in ax.get_ylabel() and "(nats)" in ax.get_ylabel()
    assert below.get_ylabel() == "valid Parzen estimate (nats)"
    assert below.get_xlabel() == "epoch" and below.get_position().y1 < ax.get_position().y0
    assert ax.get_ylim()[0] > 0  # the curves, not the initialisation, set the range


def test_training_curves_without_parzen_have_one_panel(tmp_path, kept_figures):
    pd.DataFrame(
        {
            "epoch": [0, 1, 2],
            "train_lower_bound": [1.0, 2.0, 3.0],
            "valid_lower_bound": [0.5, 1.5, 2.5],
            "valid_parzen": np.nan,
        }
    ).to_csv(tmp_path / "metrics.csv", index=False)
    figures.fig_3_3(tmp_path / "metrics.csv", tmp_path / "fig3.3.png")
    (fig,) = kept_figures
    (ax,) = fig.axes
    assert legend_texts(ax) == ["train lower bound", "valid lower bound"]
    assert ax.get_xlabel() == "epoch"
    assert_legends_outside_data(fig)


def grid_value(panel: str, rate: float, epoch: int) -> float:
    """A valid lower bound distinct for every panel, rate and epoch; the initialisation far
    below; one run of panel (b) diverging."""
    if epoch == 0:
        return -5000.0
    if (panel, rate) == ("b", 0.02):
        return -1e6
    return 500 + 100 * epoch + 1000 * rate + {"a": 0, "b": 30, "e": 60}[panel]


def test_grid_curves_draw_each_rate_in_its_panel_above_a_tukey_fence(tmp_path, kept_figures):
    """Fig A.1: in panel (p), one line per rate (ascending) of that panel's runs at epochs
    1..3; panels without rows say so; the shared y range's lower limit is the Tukey fence
    q25 - 1.5 IQR of the drawn values (numpy here), so the diverging run falls off it and is
    marked on the bottom edge, its last value in its legend entry; legends beside the data."""
    runs = {("a", 1): [0.1, 0.0, 0.05], ("b", 5): [0.02, 0.0, 0.01], ("e", 10): [0.1, 0.05]}
    epochs = [0, 1, 2, 3]
    rows = [
        (panel, steps, rate, 0.0, rate, epoch, value + 10, value)
        for (panel, steps), rates in runs.items()
        for rate in rates
        for epoch in epochs
        for value in [grid_value(panel, rate, epoch)]
    ]
    columns = "panel steps alpha0 omega rate epoch train_lower_bound valid_lower_bound"
    pd.DataFrame(rows, columns=columns.split()).to_csv(tmp_path / "curves.csv", index=False)
    out = tmp_path / "figA.1.png"
    figures.fig_a_1(tmp_path / "curves.csv", out)
    check_png(out)
    (fig,) = kept_figures
    axes = dict(zip("abcdef", fig.axes, strict=True))
    titles = {
        "a": r"(a) 1 step, $\alpha_0$ varies",
        "b": r"(b) 5 steps, $\omega$ varies",
        "e": r"(e) 10 steps, constant rate $\alpha_0$",
    }
    for (panel, _), rates in runs.items():
        ax = axes[panel]
        assert ax.get_title() == titles[panel]
        lines = curves(ax)
        labels = [
            f"{r:g}" + " (\u2193 -1,000,000)" * ((panel, r) == ("b", 0.02)) for r in sorted(rates)
        ]
        assert [line.get_label() for line in lines] == labels == legend_texts(ax)
        for line, rate in zip(lines, sorted(rates), strict=True):
            np.testing.assert_array_equal(line.get_xdata(), epochs[1:])
            expected = [grid_value(panel, rate, epoch) for epoch in epochs[1:]]
            np.testing.assert_array_equal(line.get_ydata(), expected)
        marked = assert_curves_in_view_or_marked(ax)
        assert [line.get_label() for line in marked] == [labels[-1]] * (panel == "b")
    assert axes["b"].get_legend().get_title().get_text() == r"$\omega$"
    assert axes["e"].get_legend().get_title().get_text() == r"$\alpha_0$"
    assert_legends_outside_data(fig)
    for panel in "cdf":
        assert axes[panel].get_lines() == [] and axes[panel].get_title() == f"({panel})"
        assert [t.get_text() for t in axes[panel].texts] == ["not in this study"]
    drawn = np.array([row[-1] for row in rows if row[5] >= 1])
    q25, q75 = np.percentile(drawn, [25, 75])
    low, high = max(q25 - 1.5 * (q75 - q25), drawn.min()), drawn.max()
    assert low > -1e6  # the fence, not the diverging run, sets the lower limit
    margin = 0.05 * (high - low)
    for ax in axes.values():
        np.testing.assert_allclose(ax.get_ylim(), (low - margin, high + margin))
    assert [axes[p].get_xlabel() for p in "abcdef"] == [""] * 3 + ["epoch"] * 3
    assert [axes[p].get_ylabel() != "" for p in "abcdef"] == [True, False, False] * 2


def test_markers_of_curves_below_the_axis_sit_side_by_side(kept_figures):
    """:func:`~infusion.paper.drawing.mark_below`: two curves ending below at one x get two
    triangles on the bottom edge, drawn apart (in pixels); a curve in view gets none."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, -50], label="p")
    ax.plot([0, 1], [1, -80], label="q")
    ax.plot([0, 1], [2, 3], label="r")
    ax.set_ylim(-1, 4)
    drawing.mark_below(ax)
    assert [line.get_label() for line in curves(ax)] == ["p (\u2193 -50)", "q (\u2193 -80)", "r"]
    assert len(assert_curves_in_view_or_marked(ax)) == 2
    fig.canvas.draw()
    marks = [line for line in ax.get_lines() if line.get_marker() == drawing.BELOW]
    centres = [m.get_transform().transform((1, -1)) for m in marks]
    assert abs(centres[0][0] - centres[1][0]) > 5 and centres[0][1] == centres[1][1]
    plt.close(fig)


def test_robust_ylim_ignores_a_diverging_minority():
    values = np.concatenate([np.linspace(500, 1500, 90), np.full(10, -1e6)])
    low, high = drawing.robust_ylim(values)
    assert -1000 < low < 500 and high > 1500


def write_grid_samples(tmp_path, per_row, levels):
    """grid.csv of two runs, (b) then (a), and their samples.npz: (a)'s first ``per_row``
    means are gray ``levels[0]``, (b)'s ``levels[1]``, the rest :data:`HIDDEN`."""
    rows, samples = [], []
    for i, (panel, rate, paper, shown) in enumerate([("b", 0.01, 910.19, levels[1]),
                                                     ("a", 0.0, np.nan, levels[0])]):  # fmt: skip
        run = tmp_path / f"run{i}"
        run.mkdir()
        means = np.full((per_row + 2, D), HIDDEN)
        means[:per_row] = shown[:, None]
        np.savez(run / "samples.npz", shape=np.array(SHAPE), means=means)
        samples.append(run / "samples.npz")
        rows.append((panel, 5, rate, 0.0, rate, 3, 800.0, 790.0, paper, 790.0 - paper, run))
    columns = (
        "panel steps alpha0 omega rate best_epoch best_valid_lower_bound test_lower_bound "
        "paper_test_lower_bound difference run"
    )
    pd.DataFrame(rows, columns=columns.split()).to_csv(tmp_path / "grid.csv", index=False)
    return samples


def test_table_a_1_images_show_each_run_s_first_means_grouped_by_panel(tmp_path):
    """Table A.1's pictures: one row per grid point, panel (a) above (b) whatever the file's
    order, each row the first ``per_row`` means of its run's samples (given in another
    order than the grid's); read back from the PNG."""
    per_row = 3
    levels = distinct_grays(2 * per_row).reshape(2, per_row)  # row 0: panel a, row 1: b
    samples = write_grid_samples(tmp_path, per_row, levels)[::-1]
    out = tmp_path / "figs" / "tableA.1.png"
    figures.table_a_1_images(tmp_path / "grid.csv", samples, out, per_row=per_row)
    check_png(out)
    found = cells(out, levels.ravel())
    assert_laid_out(found, 2, per_row)
    assert cells(out, [HIDDEN])[0][2] < 0.1 * found[0][2]  # means past per_row not drawn


def test_table_a_1_images_need_the_samples_of_every_grid_run(tmp_path):
    levels = distinct_grays(2).reshape(2, 1)
    first, _ = write_grid_samples(tmp_path, 1, levels)
    out = tmp_path / "tableA.1.png"
    with pytest.raises(ValueError, match="run1"):  # (a)'s run: its samples are not given
        figures.table_a_1_images(tmp_path / "grid.csv", [first], out, per_row=1)
    assert not out.exists()


def test_fig_a_2_stacks_each_model_s_infusion_then_sampling_chains(tmp_path):
    """Fig A.2 from pictures of one gray level each: the constant-rate model's infusion chains
    (targets past a blank) above its sampling chains, above the increasing-rate model's;
    2 of 3 chains of each kind shown."""
    rows = 2
    blocks = [(rows, 1 + 2, True), (rows, 2 + 1, False), (rows, 2 + 2, True), (rows, 3 + 1, False)]
    levels = distinct_grays(sum(r * c for r, c, _ in blocks))
    pictures, start = [], 0
    for r, c, _ in blocks:
        pictures.append(levels[start : start + r * c].reshape(r, c, 1))
        start += r * c
    constant = write_chain_samples(tmp_path / "constant.npz", *pictures[:2])
    increasing = write_chain_samples(tmp_path / "increasing.npz", *pictures[2:])
    out = tmp_path / "figA.2.png"
    figures.fig_a_2(constant, increasing, out, rows=rows)
    check_png(out)
    found = cells(out, levels)
    assert_stacked_blocks(found, blocks)
    assert cells(out, [HIDDEN])[0][2] < 0.1 * found[0][2]


@pytest.mark.parametrize("figure", [figures.fig_a_3, figures.fig_a_4])
def test_chains_of_rgb_images_keep_each_picture_s_colour(tmp_path, figure):
    """Fig A.3/A.4 from RGB pictures of one colour each (channels all different): the
    infusion chains with their targets above the sampling chains; 2 of 3 chains shown."""
    rows, infusion_steps, steps, shape = 2, 2, 3, (3, 6, 6)
    blocks = [(rows, infusion_steps + 2, True), (rows, steps + 1, False)]
    colours = rgb_colours(sum(r * c for r, c, _ in blocks))
    infusion, sampling = np.split(colours, [rows * (infusion_steps + 2)])
    samples = write_chain_samples(
        tmp_path / "s.npz",
        infusion.reshape(rows, infusion_steps + 2, 3),
        sampling.reshape(rows, steps + 1, 3),
        shape,
    )
    out = tmp_path / "figA.3.png"
    figure(samples, out, rows=rows)
    check_png(out)
    found = colour_cells(out, colours)
    assert_stacked_blocks(found, blocks)
    assert colour_cells(out, [[HIDDEN] * 3])[0][2] < 0.1 * found[0][2]


def test_inpainting_shows_each_image_its_first_start_then_its_completions(tmp_path):
    """Fig 3.6 from pictures of one gray level each: per row the test image, its first start
    (the second is not shown) and its 3 completions."""
    n, k = 2, 3
    levels = distinct_grays(n * (k + 2)).reshape(n, k + 2)  # image, start, completions
    starts = np.full((n, k, D), HIDDEN)
    starts[:, 0] = levels[:, 1:2]
    np.savez(
        tmp_path / "inpainting.npz",
        shape=np.array(SHAPE),
        images=np.repeat(levels[:, :1], D, axis=1),
        starts=starts,
        completions=np.repeat(levels[:, 2:, None], D, axis=2),
    )
    out = tmp_path / "fig3.6.png"
    figures.fig_3_6(tmp_path / "inpainting.npz", out)
    check_png(out)
    found = cells(out, levels.ravel())
    assert_laid_out(found, n, k + 2)
    assert cells(out, [HIDDEN])[0][2] < 0.1 * found[0][2]


def test_fig_3_5_pairs_each_sample_with_its_closest_training_image(tmp_path):
    """Fig 3.5: each shown sample beside the training image nearest to it (pixels / 256),
    read back from the PNG; a third sample (not shown) and decoy training images."""
    samples, partners = np.array([0.2, 0.5]), np.array([0.26, 0.56])  # nearest: +0.06
    decoys = np.array([0.02, 0.38, 0.7])  # farther from either sample than its partner
    train = np.round(np.concatenate([decoys, partners[::-1]]) * 256).astype(np.uint8)
    data = {"train": np.repeat(train, D).reshape(-1, *SHAPE)}
    data |= {split: data["train"][:2] for split in ("valid", "test")}
    np.savez(tmp_path / "digits.npz", **data)
    means = np.repeat(np.r_[samples, HIDDEN], D).reshape(3, D)
    np.savez(tmp_path / "s.npz", shape=np.array(SHAPE), means=means)
    out = tmp_path / "fig3.5.png"
    figures.fig_3_5(tmp_path / "s.npz", tmp_path / "digits.npz", out, n=2)
    check_png(out)
    shown = np.stack([samples, np.round(partners * 256) / 256], axis=1)  # [sample, nearest]
    found = cells(out, shown.ravel())
    assert_laid_out(found, 2, 2)
    assert all(count < 0.1 * found[0][2] for *_, count in cells(out, [HIDDEN, *decoys]))


def test_rgb_sampling_chains_keep_each_picture_s_colour(tmp_path):
    """Fig 3.1 of RGB pictures: z^(0) then the means, each in its own colour."""
    rows, steps = 2, 3
    colours = rgb_colours(rows * (steps + 1))
    infusion = np.full((rows, 2, 3), HIDDEN)  # not in this figure
    samples = write_chain_samples(
        tmp_path / "s.npz", infusion, colours.reshape(rows, steps + 1, 3), (3, 6, 6)
    )
    out = tmp_path / "fig3.1-rgb.png"
    figures.fig_3_1(samples, out, rows=rows)
    check_png(out)
    assert_laid_out(colour_cells(out, colours), rows, steps + 1)


def test_fidelity_figure_shows_each_variant_s_seeds_with_their_mean_and_std(tmp_path, kept_figures):
    """The fidelity figure, one panel per quantity: at position i, the seeds of the i-th
    variant in the ablation's order (paper, ..., code; not the file's) as points, and an
    error bar centred on their mean, half as high as their std (ddof 1; 0 for one seed)."""
    seeds = {"code": 3, "paper": 2, "layers": 1}
    order = ["paper", "layers", "code"]
    panels = {
        "test_lower_bound": "test lower bound (nats)",
        "importance_sampling": "IS estimate (nats)",
        "parzen": "Parzen estimate (nats)",
    }
    rng = np.random.default_rng(1)
    rows = [
        {"variant": variant, "seed": seed, "parzen_centres": "sampling", "changes": "-"}
        | {column: rng.normal(100 * k, 10) for k, column in enumerate(panels, 1)}
        for seed in range(3)  # the variants' rows interleaved
        for variant, count in seeds.items()
        if seed < count
    ]
    pd.DataFrame(rows).to_csv(tmp_path / "fidelity.csv", index=False)
    out = tmp_path / "fidelity.png"
    fidelity_figure(tmp_path / "fidelity.csv", out)
    check_png(out)
    (fig,) = kept_figures
    for ax, (column, label) in zip(fig.axes, panels.items(), strict=True):
        assert ax.get_ylabel() == label
        assert [t.get_text() for t in ax.get_xticklabels()] == order
        points = np.concatenate(
            [c.get_offsets() for c in ax.collections if isinstance(c, PathCollection)]
        )
        bars = ax.containers
        assert len(bars) == len(order)
        for i, variant in enumerate(order):
            values = np.array([row[column] for row in rows if row["variant"] == variant])
            shown = points[points[:, 0] == i, 1]
            np.testing.assert_allclose(np.sort(shown), np.sort(values))
            (centre,) = bars[i].lines[0].get_ydata()
            ((_, low), (_, high)) = bars[i].lines[2][0].get_segments()[0]
            std = np.std(values, ddof=1) if len(values) > 1 else 0.0
            np.testing.assert_allclose([centre, (low + high) / 2], np.mean(values))
            np.testing.assert_allclose((high - low) / 2, std, atol=1e-9)
        assert len(points) == len(rows)


@pytest.mark.parametrize(
    "call",
    [
        lambda d: figures.fig_3_1(d / "missing.npz", d / "out.png"),
        lambda d: figures.fig_3_3(d / "missing.csv", d / "out.png"),
        lambda d: figures.fig_a_1(d / "missing.csv", d / "out.png"),
    ],
)
def test_missing_input_raises_and_writes_nothing(tmp_path, call):
    with pytest.raises(FileNotFoundError):
        call(tmp_path)
    assert list(tmp_path.iterdir()) == []
