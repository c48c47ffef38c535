"""How many sampling steps: the step counts, the table against a brute-force nearest-image
search (scipy) and the Parzen files, and the figure's drawn data."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PathCollection
from scipy.spatial.distance import cdist
from test_figures import assert_legends_outside_data, check_png

from infusion import study
from infusion.cli import main
from infusion.paper import drawing

SHAPE = (1, 4, 4)
RNG = np.random.default_rng(0)


@pytest.mark.parametrize(
    ("steps", "factors", "expected"),
    [
        (15, [1, 1.5, 2, 4], [15, 23, 30, 60]),  # the paper's model: 22.5 rounded up
        (10, [1.1, 0.5, 1], [5, 10, 11]),  # 1.1 * 10 is 11.000000000000002 in floats
        (3, [1, 1.2, 1.5], [3, 4, 5]),  # distinct: 3.6 and 4.5 both rounded up
    ],
)
def test_step_counts_are_the_factors_times_t_rounded_up(steps, factors, expected):
    config = {
        "dataset": "digits",
        "final": {"steps": steps, "alpha0": 0.0, "omega": 0.1},
        "sampling_steps": {"enabled": True, "factors": factors},
    }
    assert study.sampling_step_counts(config) == expected
    config["sampling_steps"]["enabled"] = False
    assert study.sampling_step_counts(config) == []


def write_dataset(path, train=40, held_out=12):
    splits = {
        name: RNG.integers(0, 256, (n, *SHAPE), dtype=np.uint8)
        for name, n in (("train", train), ("valid", held_out), ("test", held_out))
    }
    np.savez(path, **splits)
    return splits


def write_run(folder, steps, seed, samples=9):
    """A samples file (random means, one of them a copy of training image 3 when given) and
    its Parzen file, whose headline centres are the training steps' (not to be read)."""
    folder.mkdir(parents=True)
    means = RNG.uniform(0, 1, (samples, 16)).astype(np.float32)
    np.savez(folder / "samples.npz", shape=np.array(SHAPE), means=means)
    sampling = {"sigma": 0.17, "mean": 100.0 + steps + seed, "stderr": 0.5 + seed, "n": 12}
    record = {
        "split": "test", "samples": samples, "chain_steps": "training", "mean": -1.0,
        "by_chain_steps": {"sampling": sampling, "training": {**sampling, "mean": -1.0}},
    }  # fmt: skip
    (folder / "parzen.json").write_text(json.dumps(record))
    return means, sampling


def make_runs(tmp_path, steps=(5, 3, 8), seeds=(0, 4)):
    """Runs of every (seed, steps), steps given out of order, through the command line."""
    data = write_dataset(tmp_path / "data.npz")
    runs = {
        (seed, n): write_run(tmp_path / f"s{seed}" / str(n), n, seed)
        for seed in seeds
        for n in steps
    }
    files = {
        name: [str(tmp_path / f"s{s}" / str(n) / name) for s, n in runs]
        for name in ("samples.npz", "parzen.json")
    }
    out, figure = tmp_path / "sampling-steps.csv", tmp_path / "sampling-steps.png"
    main(["artifact", "sampling-steps", "--samples", *files["samples.npz"],
          "--parzen", *files["parzen.json"], "--data", str(tmp_path / "data.npz"),
          "--steps", *(str(n) for _, n in runs), "--seed", *(str(s) for s, _ in runs),
          "--training-steps", "3", "--out", str(out), "--figure-out", str(figure)])  # fmt: skip
    return data, runs, pd.read_csv(out), figure


def test_table_rows_against_brute_force_distances_and_the_parzen_files(tmp_path):
    data, runs, table, _ = make_runs(tmp_path)
    assert list(zip(table.seed, table.steps, strict=True)) == sorted(runs)  # seed, then steps
    train = data["train"].reshape(40, -1) / 256.0
    test = data["test"][:9].reshape(9, -1) / 256.0  # as many test images as samples
    reference = cdist(test, train).min(axis=1).mean()
    for row in table.itertuples():
        means, sampling = runs[(row.seed, row.steps)]
        distances = cdist(means.astype(np.float64), train).min(axis=1)
        assert row.nearest_distance == pytest.approx(distances.mean(), rel=1e-9)
        assert row.nearest_distance_std == pytest.approx(distances.std(ddof=1), rel=1e-9)
        assert row.test_nearest_distance == pytest.approx(reference, rel=1e-9)
        assert (row.parzen, row.parzen_stderr, row.sigma) == (
            sampling["mean"],
            sampling["stderr"],
            sampling["sigma"],
        )  # the last step's centres, not the file's headline
        assert row.factor == pytest.approx(row.steps / 3)
        assert (row.samples, row.test_images) == (9, 9)


def test_a_sample_copied_from_the_training_set_is_at_distance_zero(tmp_path):
    data = write_dataset(tmp_path / "data.npz")
    means, _ = write_run(tmp_path / "run", 3, 0, samples=2)
    copy = data["train"][7].reshape(-1) / 256.0
    np.savez(tmp_path / "run/samples.npz", shape=np.array(SHAPE), means=np.stack([copy, means[1]]))
    main(["artifact", "sampling-steps", "--samples", str(tmp_path / "run/samples.npz"),
          "--parzen", str(tmp_path / "run/parzen.json"), "--data", str(tmp_path / "data.npz"),
          "--steps", "3", "--seed", "0", "--training-steps", "3",
          "--out", str(tmp_path / "t.csv"), "--figure-out", str(tmp_path / "f.png")])  # fmt: skip
    train = data["train"].reshape(40, -1) / 256.0
    expected = (0.0 + cdist(means[1:].astype(np.float64), train).min()) / 2
    assert pd.read_csv(tmp_path / "t.csv").nearest_distance[0] == pytest.approx(expected)


def test_figure_draws_the_table_against_the_steps_and_a_sheet_per_step_count(
    tmp_path, kept_figures
):
    """Top: every row as a point at (steps, value) and the mean over seeds as a line, the
    test images' distance as a horizontal line; below, the first seed's samples at each
    step count, steps increasing, as tiled pictures (9 samples: one sheet of 6)."""
    _, runs, table, figure = make_runs(tmp_path)
    check_png(figure, min_size=300)
    (fig,) = kept_figures
    parzen_ax, distance_ax, *sheets = fig.axes
    assert_legends_outside_data(fig)
    for ax, column in ((parzen_ax, "parzen"), (distance_ax, "nearest_distance")):
        points = np.concatenate(
            [c.get_offsets() for c in ax.collections if isinstance(c, PathCollection)]
        )
        np.testing.assert_allclose(
            sorted(map(tuple, points)), sorted(zip(table.steps, table[column], strict=True))
        )
        mean = table.groupby("steps")[column].mean()
        line = ax.lines[0]
        np.testing.assert_allclose(line.get_xdata(), mean.index)
        np.testing.assert_allclose(line.get_ydata(), mean.to_numpy())
    (level,) = {
        tuple(line.get_ydata()) for line in distance_ax.lines if line.get_linestyle() == "--"
    }
    assert level[0] == pytest.approx(table.test_nearest_distance[0])
    assert [ax.get_title() for ax in sheets] == [
        "3 steps (1 T)",
        "5 steps (1.67 T)",
        "8 steps (2.67 T)",
    ]
    for ax, steps in zip(sheets, (3, 5, 8), strict=True):
        means, _ = runs[(0, steps)]
        expected = drawing.tile(drawing.pictures(means[:6], SHAPE).reshape(1, 6, *SHAPE))
        np.testing.assert_allclose(ax.images[0].get_array(), expected[..., 0])


def test_mismatched_inputs_stop_with_one_line(tmp_path, caplog):
    write_dataset(tmp_path / "data.npz")
    write_run(tmp_path / "run", 3, 0)
    with pytest.raises(SystemExit):
        main(["artifact", "sampling-steps", "--samples", str(tmp_path / "run/samples.npz"),
              "--parzen", str(tmp_path / "run/parzen.json"), "--data",
              str(tmp_path / "data.npz"), "--steps", "3", "5", "--seed", "0",
              "--training-steps", "3", "--out", str(tmp_path / "t.csv"),
              "--figure-out", str(tmp_path / "f.png")])  # fmt: skip
    assert "one samples file, parzen file, steps and seed a run" in caplog.text
