"""Figures: each function renders a readable PNG from small synthetic inputs, atomically."""

from __future__ import annotations

import matplotlib.image as mpimg
import numpy as np
import pandas as pd
import pytest

from infusion import figures

SHAPE = (1, 8, 8)
D = 64
RNG = np.random.default_rng(0)


def write_samples(path, steps=4, infusion_steps=3, shape=SHAPE, samples=20, chains=5):
    """A ``samples.npz`` in the ``infusion sample`` format, values slightly outside [0, 1]."""
    d = int(np.prod(shape))
    arrays = {
        "shape": np.array(shape),
        "means": RNG.uniform(0, 1, (samples, d)),
        "draws": RNG.uniform(-0.1, 1.1, (samples, d)),
        "chain_draws": RNG.uniform(-0.1, 1.1, (chains, steps + 1, d)),
        "chain_means": RNG.uniform(0, 1, (chains, steps, d)),
        "infusion_chains": RNG.uniform(0, 1, (chains, infusion_steps + 1, d)),
        "infusion_targets": RNG.uniform(0, 1, (chains, d)),
    }
    np.savez(path, **{k: v.astype(np.float32) if k != "shape" else v for k, v in arrays.items()})
    return path


def check_png(out, min_size=50):
    """The PNG exists, opens, has a plausible size, and no temporary file is left beside it."""
    image = mpimg.imread(out)
    assert image.ndim == 3 and min(image.shape[:2]) >= min_size
    assert [p.name for p in out.parent.iterdir() if p.name.startswith(".")] == []


def test_tile_separates_images_by_one_pixel_and_keeps_rgb():
    images = RNG.uniform(0, 1, (2, 3, 3, 4, 5))  # rows x cols x C x H x W
    canvas = figures._tile(images)
    assert canvas.shape == (2 * 5 - 1, 3 * 6 - 1, 3)
    np.testing.assert_array_equal(canvas[5:9, 6:11], images[1, 1].transpose(1, 2, 0))
    assert (canvas[4] == 1).all() and (canvas[:, 5] == 1).all()


# The gray of pictures a figure must not show, apart from :func:`distinct_grays`'s levels.
HIDDEN = 0.95


def distinct_grays(n: int) -> np.ndarray:
    """n gray levels at least 0.05 apart, none near black text, white or :data:`HIDDEN`."""
    return np.linspace(0.1, 0.85, n)


def cells(png, levels) -> list[tuple[float, float, int]]:
    """For each gray level, the median (row, column) and the count of the PNG's pixels drawn
    in it (matplotlib's gray map, within 1/255), read with PIL: where and how big its cell is."""
    from matplotlib import colormaps
    from PIL import Image

    rgb = np.asarray(Image.open(png).convert("RGB")).astype(int)
    found = []
    for level in levels:
        colour = np.round(np.asarray(colormaps["gray"](level)[:3]) * 255)
        ys, xs = np.nonzero((np.abs(rgb - colour) <= 1).all(axis=2))
        found.append((float(np.median(ys)), float(np.median(xs)), len(ys)))
    return found


def assert_laid_out(found, rows: int, cols: int):
    """Cells (row-major) in rows x cols, rows top to bottom, columns left to right, all of
    one size within 10%."""
    y, x, count = (np.array(v).reshape(rows, cols) for v in zip(*found, strict=True))
    assert (count > 0.9 * np.median(count)).all() and (count < 1.1 * np.median(count)).all()
    assert (np.diff(y, axis=0) > 0).all() and (np.ptp(y, axis=1) < 2).all()
    assert (np.diff(x, axis=1) > 0).all() and (np.ptp(x, axis=0) < 2).all()


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
    figures.sampling_chains(path, out, rows=rows)
    check_png(out)
    found = cells(out, levels.ravel())
    assert_laid_out(found, rows, steps + 1)
    assert cells(out, [HIDDEN])[0][2] < 0.1 * found[0][2]  # nor are rows past ``rows``


def test_infusion_chains_over_training_show_one_target_per_epoch(tmp_path):
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
    figures.infusion_chains_over_training(path, out, target_index=1)
    check_png(out)
    found = cells(out, codes / 255)
    assert_laid_out(found[:-1], epochs, steps + 1)
    target_y, target_x, target_count = found[-1]
    assert target_count > 0.9 * epochs * found[0][2]  # the target repeated on every row
    assert target_x > found[steps][1] + 1.5 * (found[1][1] - found[0][1])  # past a blank
    assert abs(target_y - found[(epochs // 2) * (steps + 1)][0]) < 2  # centred on the rows
    assert cells(out, [hidden / 255])[0][2] < 0.1 * found[0][2]  # nor is the other target


def test_training_curves(tmp_path):
    epochs = np.arange(6)
    metrics = pd.DataFrame(
        {
            "epoch": epochs,
            "loss": 1.0,
            "seconds": 2.0,
            "train_lower_bound": [-5000, 100, 200, 300, 350, 360],
            "valid_lower_bound": [-5000, 90, 190, 280, 330, 340],
            "valid_parzen": [np.nan, np.nan, 150, np.nan, np.nan, 210],
        }
    )
    metrics.to_csv(tmp_path / "metrics.csv", index=False)
    out = tmp_path / "fig3.3.png"
    figures.training_curves(tmp_path / "metrics.csv", out)
    check_png(out)


def test_grid_curves_with_missing_panel_and_diverging_run(tmp_path):
    rows = []
    for panel, steps in [("a", 1), ("b", 5), ("e", 10)]:
        for rate in (0.0, 0.05, 0.1):
            for epoch in range(4):
                value = -1e6 if (panel, rate) == ("b", 0.1) else 500 + 100 * epoch + 1000 * rate
                rows.append((panel, steps, rate, 0.0, rate, epoch, value + 10, value))
    columns = "panel steps alpha0 omega rate epoch train_lower_bound valid_lower_bound"
    pd.DataFrame(rows, columns=columns.split()).to_csv(tmp_path / "curves.csv", index=False)
    out = tmp_path / "figA.1.png"
    figures.grid_curves(tmp_path / "curves.csv", out)
    check_png(out)


def test_robust_ylim_ignores_a_diverging_minority():
    values = np.concatenate([np.linspace(500, 1500, 90), np.full(10, -1e6)])
    low, high = figures._robust_ylim(values)
    assert -1000 < low < 500 and high > 1500


def test_grid_means_show_each_run_s_first_means_grouped_by_panel(tmp_path):
    """Table A.1's pictures: one row per grid point, panel (a) above (b) whatever the file's
    order, each row its run's first ``per_row`` means; read back from the PNG."""
    per_row = 3
    levels = distinct_grays(2 * per_row).reshape(2, per_row)  # row 0: panel a, row 1: b
    rows = []
    for i, (panel, rate, paper, shown) in enumerate([("b", 0.01, 910.19, levels[1]),
                                                     ("a", 0.0, np.nan, levels[0])]):  # fmt: skip
        run = tmp_path / f"run{i}"
        run.mkdir()
        means = np.full((per_row + 2, D), HIDDEN)
        means[:per_row] = shown[:, None]
        np.savez(run / "samples.npz", shape=np.array(SHAPE), means=means)
        rows.append((panel, 5, rate, 0.0, rate, 3, 800.0, 790.0, paper, 790.0 - paper, run))
    columns = (
        "panel steps alpha0 omega rate best_epoch best_valid_lower_bound test_lower_bound "
        "paper_test_lower_bound difference run"
    )
    pd.DataFrame(rows, columns=columns.split()).to_csv(tmp_path / "grid.csv", index=False)
    out = tmp_path / "figs" / "tableA.1.png"
    figures.grid_means(tmp_path / "grid.csv", out, per_row=per_row)
    check_png(out)
    found = cells(out, levels.ravel())
    assert_laid_out(found, 2, per_row)
    assert cells(out, [HIDDEN])[0][2] < 0.1 * found[0][2]  # means past per_row not drawn


def test_constant_vs_increasing(tmp_path):
    constant = write_samples(tmp_path / "constant.npz", steps=4, infusion_steps=3)
    increasing = write_samples(tmp_path / "increasing.npz", steps=6, infusion_steps=5)
    out = tmp_path / "figA.2.png"
    figures.constant_vs_increasing(constant, increasing, out, rows=3)
    check_png(out)


def test_chains_of_rgb_images(tmp_path):
    samples = write_samples(tmp_path / "s.npz", steps=6, infusion_steps=5, shape=(3, 16, 16))
    out = tmp_path / "figA.3.png"
    figures.chains(samples, out, rows=3)
    check_png(out)
    blocks = figures._chain_blocks(samples, 3, "")
    infusion, sampling = (images for _, images, _ in blocks)
    assert infusion.shape == (3, 5 + 1 + 2, 3, 16, 16)  # T+1 states, a blank, the target
    assert sampling.shape == (3, 6 + 1, 3, 16, 16)  # z^(0), then 6 means
    with np.load(samples) as arrays:
        target = np.clip(arrays["infusion_targets"][1], 0, 1).reshape(3, 16, 16)
    np.testing.assert_array_equal(infusion[1, -1], target)


@pytest.mark.parametrize("block", [4096, 7, 1])
def test_nearest_training_images_matches_brute_force(block):
    queries = RNG.normal(size=(9, 20)).astype(np.float32)
    train = RNG.normal(size=(50, 20)).astype(np.float32)
    brute = ((queries[:, None] - train[None]) ** 2).sum(-1).argmin(1)
    np.testing.assert_array_equal(figures.nearest_training_images(queries, train, block), brute)


def test_nearest_training_images_finds_exact_copies():
    train = RNG.uniform(0, 1, (30, 16))
    np.testing.assert_array_equal(
        figures.nearest_training_images(train[[4, 17, 29]], train, block=8), [4, 17, 29]
    )


def test_nearest_neighbours_pair_each_sample_with_its_closest_training_image(tmp_path):
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
    figures.nearest_neighbours(tmp_path / "s.npz", tmp_path / "digits.npz", out, n=2)
    check_png(out)
    shown = np.stack([samples, np.round(partners * 256) / 256], axis=1)  # [sample, nearest]
    found = cells(out, shown.ravel())
    assert_laid_out(found, 2, 2)
    assert all(count < 0.1 * found[0][2] for *_, count in cells(out, [HIDDEN, *decoys]))


def test_rgb_samples_render(tmp_path):
    out = tmp_path / "fig3.1-rgb.png"
    figures.sampling_chains(write_samples(tmp_path / "s.npz", shape=(3, 6, 6)), out, rows=2)
    check_png(out)


@pytest.mark.parametrize(
    "call",
    [
        lambda d: figures.sampling_chains(d / "missing.npz", d / "out.png"),
        lambda d: figures.training_curves(d / "missing.csv", d / "out.png"),
        lambda d: figures.grid_curves(d / "missing.csv", d / "out.png"),
    ],
)
def test_missing_input_raises_and_writes_nothing(tmp_path, call):
    with pytest.raises(FileNotFoundError):
        call(tmp_path)
    assert list(tmp_path.iterdir()) == []
