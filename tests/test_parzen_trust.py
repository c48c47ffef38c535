"""How much Parzen can be trusted: the real-data estimate against ``parzen.log_likelihood``
on the same arrays, the validation-chosen sigma against a brute-force scan (scipy), and the
table and figure against their input files and the published numbers."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
import torch
from scipy.special import logsumexp
from test_figures import check_png

from infusion import published
from infusion.cli import main
from infusion.data.registry import dequantize
from infusion.estimation import parzen

SHAPE = (1, 4, 4)
GRID = [0.05, 0.1, 0.2, 0.4, 0.8]
RNG = np.random.default_rng(3)


@pytest.fixture
def dataset(tmp_path):
    """A prepared dataset of smooth 4x4 images (a shared pattern plus noise), so that sigma
    has an interior optimum."""
    pattern = RNG.uniform(40, 200, SHAPE)

    def images(n):
        return np.clip(pattern + RNG.normal(0, 30, (n, *SHAPE)), 0, 255).astype(np.uint8)

    splits = {"train": images(60), "valid": images(25), "test": images(25)}
    np.savez(tmp_path / "data.npz", **splits)
    return tmp_path / "data.npz", splits


def scored_points(splits, examples, seed, chosen):
    """The points `infusion parzen` scores: the first `examples` of valid (when sigma is
    chosen) then of test, dequantized in that order by one generator seeded `seed`."""
    generator = torch.Generator().manual_seed(seed)
    points = {}
    for split in ("valid", "test") if chosen else ("test",):
        images = torch.as_tensor(splits[split][:examples].reshape(examples, -1) / np.float32(256))
        points[split] = dequantize(images, generator).numpy()
    return points


def brute_force_scores(centres, points, grid):
    """Mean log density of `points` under the Gaussian mixture on `centres`, per sigma."""
    squared = ((points[:, None].astype(np.float64) - centres[None]) ** 2).sum(-1)
    d = centres.shape[1]
    return {
        s: float(np.mean(logsumexp(-squared / (2 * s * s), axis=1) - math.log(len(centres))
                         - d * math.log(s * math.sqrt(2 * math.pi))))
        for s in grid
    }  # fmt: skip


def run_parzen(tmp_path, data, *flags):
    out = tmp_path / "parzen.json"
    main(["parzen", "--data", str(data), "--out", str(out), "--examples", "20", "--seed", "5",
          "--sigma-grid", *map(str, GRID), *flags])  # fmt: skip
    return json.loads(out.read_text())


def test_real_data_parzen_is_log_likelihood_of_training_images_on_the_test_points(
    tmp_path, dataset
):
    data, splits = dataset
    result = run_parzen(tmp_path, data, "--real-centres", "40", "--sigma", "0.17")
    centres = splits["train"][:40].reshape(40, -1) / 256.0
    test = scored_points(splits, 20, 5, chosen=False)["test"]
    expected = parzen.log_likelihood(centres, test, 0.17)
    assert result["mean"] == pytest.approx(expected.mean(), rel=1e-12)
    assert result["stderr"] == pytest.approx(expected.std(ddof=1) / math.sqrt(20), rel=1e-9)
    assert (result["samples"], result["n"], result["split"]) == (40, 20, "test")
    assert (result["sigma"], result["validation_scores"]) == (0.17, {})


@pytest.mark.parametrize("centres", ["real", "samples"])
def test_sigma_chosen_on_validation_data_is_the_best_of_a_brute_force_scan(
    tmp_path, dataset, centres
):
    """--sigma 0: every candidate scored on the valid points, the best one kept and used on
    the test points, for real images and for a samples file alike."""
    data, splits = dataset
    if centres == "real":
        kernels = splits["train"][:40].reshape(40, -1) / 256.0
        flags = ["--real-centres", "40"]
    else:
        kernels = RNG.uniform(0, 1, (30, 16)).astype(np.float32)
        np.savez(tmp_path / "samples.npz", means=kernels, training_steps_means=kernels)
        flags = ["--samples", str(tmp_path / "samples.npz")]
    result = run_parzen(tmp_path, data, *flags, "--sigma", "0")
    points = scored_points(splits, 20, 5, chosen=True)
    scan = brute_force_scores(kernels, points["valid"], GRID)
    best = max(scan, key=scan.get)
    if centres == "real":  # smooth images: an interior optimum
        assert GRID[0] < best < GRID[-1]
    assert result["sigma"] == best
    scores = {float(s): v for s, v in result["validation_scores"].items()}
    assert list(scores) == GRID
    assert list(scores.values()) == pytest.approx(list(scan.values()), abs=1e-3)
    test_scan = brute_force_scores(kernels, points["test"], [best])
    assert result["mean"] == pytest.approx(test_scan[best], abs=1e-3)


def test_more_real_centres_than_training_images_stop_with_one_line(tmp_path, dataset, caplog):
    data, _ = dataset
    with pytest.raises(SystemExit):
        run_parzen(tmp_path, data, "--real-centres", "61")
    assert "61 kernel centres asked of its 60 training images" in caplog.text
    assert str(data) in caplog.text


def write_estimate(path, mean, sigma, chosen, samples=30):
    scores = {"0.1": mean - 5, str(sigma): mean} if chosen else {}
    record = {"split": "test", "sigma": sigma, "validation_scores": scores, "mean": mean,
              "stderr": 1.5, "n": 20, "samples": samples}  # fmt: skip
    path.write_text(json.dumps(record))
    return str(path)


def make_table(tmp_path):
    inputs = {
        "fixed": [write_estimate(tmp_path / f"f{s}.json", 100 + s, 0.17, False) for s in (0, 1)],
        "chosen": [
            write_estimate(tmp_path / f"c{s}.json", 120 + s, sigma, True)
            for s, sigma in ((0, 0.2154), (1, 0.2783))
        ],
        "real_fixed": write_estimate(tmp_path / "rf.json", 150, 0.17, False),
        "real_chosen": write_estimate(tmp_path / "rc.json", 170, 0.1292, True),
    }
    out, figure = tmp_path / "parzen-trust.csv", tmp_path / "parzen-trust.png"
    main(["artifact", "parzen-trust", "--fixed", *inputs["fixed"], "--chosen", *inputs["chosen"],
          "--seed", "0", "1", "--real-fixed", inputs["real_fixed"],
          "--real-chosen", inputs["real_chosen"], "--out", str(out),
          "--figure-out", str(figure)])  # fmt: skip
    return pd.read_csv(out), figure


def test_table_sets_this_study_and_real_data_beside_the_published_baselines(
    tmp_path,
):
    table, _ = make_table(tmp_path)
    baselines = table[table.kernel_centres == "published"]
    assert list(zip(baselines.model, baselines["mean"], baselines.stderr, strict=True)) == list(
        published.FIG_3_4
    )
    assert baselines.set_index("model").sigma.dropna().to_dict() == {"Infusion training": 0.17}
    ours = table[table.kernel_centres != "published"]
    expected = [
        ("model samples", "fixed", 0, 0.17, 100.0), ("model samples", "fixed", 1, 0.17, 101.0),
        ("model samples", "validation", 0, 0.2154, 120.0),
        ("model samples", "validation", 1, 0.2783, 121.0),
        ("training images", "fixed", None, 0.17, 150.0),
        ("training images", "validation", None, 0.1292, 170.0),
    ]  # fmt: skip
    found = [
        (
            r.kernel_centres,
            r.sigma_choice,
            None if pd.isna(r.seed) else int(r.seed),
            r.sigma,
            r.mean,
        )
        for r in ours.itertuples()
    ]
    assert found == expected
    assert (ours.centres == 30).all() and (ours.points == 20).all()


def test_figure_draws_every_row_and_the_real_data_ceiling(tmp_path, kept_figures):
    table, figure = make_table(tmp_path)
    check_png(figure, min_size=300)
    (fig,) = kept_figures
    (ax,) = fig.axes
    labels = [t.get_text() for t in ax.get_yticklabels()]
    names = [name for name, _, _ in published.FIG_3_4]
    assert labels == [*names[:-1], "Infusion training (the paper)"] + [
        "this study's samples, sigma = 0.17", "this study's samples, sigma chosen: 0.215, 0.278",
        "real training images, sigma = 0.17", "real training images, sigma chosen: 0.129",
    ]  # fmt: skip
    drawn = sorted(x for line in ax.lines if line.get_marker() == "o" for x in line.get_xdata())
    assert drawn == sorted(table["mean"])
    (ceiling,) = [line.get_xdata()[0] for line in ax.lines if line.get_linestyle() == "--"]
    assert ceiling == 150.0
