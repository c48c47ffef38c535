"""Training: what the loss optimises, exact resume after a kill, and clear failures."""

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest
import torch

from infusion.data import dequantize, load, to_unit_interval
from infusion.estimators import draw_log_weights, lower_bound_and_importance
from infusion.settings import ModelSettings, TrainSettings
from infusion.training import Trainer


def factorial_gaussian_log_likelihood(x, mean, var, eps=1e-4, beta=0.1):
    """Mean over rows of sum_i log N(x_i; mean_i, clip(var_i, eps, beta + eps))."""
    var = np.clip(var, eps, beta + eps)
    return (-0.5 * (np.log(2 * np.pi * var) + (x - mean) ** 2 / var)).sum(1).mean()


@pytest.mark.parametrize("steps", [1, 2])
def test_without_infusion_the_bound_approaches_the_factorial_gaussian(digits_npz, tmp_path, steps):
    """alpha0 = omega = 0: z~ carries no information about x, so no model can beat the best
    factorial Gaussian whose variances lie in the operator's range [eps, beta + eps]."""
    data = load(digits_npz)
    model = Trainer(
        ModelSettings(steps=steps, alpha0=0.0, omega=0.0, hidden=32),
        TrainSettings(epochs=60, batch_size=64, curve_examples=300),
        data,
        tmp_path / "run",
        tmp_path / "checkpoint.pt",
    ).run()
    x = dequantize(
        torch.as_tensor(to_unit_interval(data["test"])), torch.Generator().manual_seed(5)
    )
    weights = draw_log_weights(model, x, 50, torch.Generator().manual_seed(6), 100_000)
    lower_bound = lower_bound_and_importance(weights.total)[0].mean().item()

    points = x.double().numpy()
    best_possible = factorial_gaussian_log_likelihood(points, points.mean(0), points.var(0))
    train = to_unit_interval(data["train"]).astype(np.float64) + 1 / 512  # mean dequantization
    train_fit = factorial_gaussian_log_likelihood(points, train.mean(0), train.var(0))
    assert lower_bound <= best_possible + 0.05
    assert lower_bound >= train_fit - 1.5


def train_command(data, folder, epochs):
    return [
        sys.executable,
        "-m",
        "infusion",
        "train",
        "--data",
        str(data),
        "--out",
        str(folder / "run"),
        "--checkpoint",
        str(folder / "checkpoint.pt"),
        "--steps",
        "3",
        "--omega",
        "0.1",
        "--hidden",
        "48",
        "--epochs",
        str(epochs),
        "--batch-size",
        "32",
        "--curve-examples",
        "300",
        "--device",
        "cpu",
    ]


def test_killed_training_resumes_to_the_same_model(digits_npz, tmp_path):
    epochs = 12
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    subprocess.run(train_command(digits_npz, whole, epochs), check=True, capture_output=True)

    process = subprocess.Popen(train_command(digits_npz, killed, epochs), stderr=subprocess.PIPE)
    metrics = killed / "run" / "metrics.csv"
    deadline = time.time() + 120
    while not (metrics.exists() and len(metrics.read_text().splitlines()) >= 4):
        assert time.time() < deadline and process.poll() is None, "training ended before the kill"
        time.sleep(0.01)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL
    assert not (killed / "run" / "model.pt").exists()

    resumed = subprocess.run(
        train_command(digits_npz, killed, epochs), check=True, capture_output=True, text=True
    )
    assert "resumed from" in resumed.stderr
    a = torch.load(whole / "run" / "model.pt", weights_only=False)["state"]
    b = torch.load(killed / "run" / "model.pt", weights_only=False)["state"]
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key
    curves = [
        pd.read_csv(f / "run" / "metrics.csv").drop(columns="seconds") for f in (whole, killed)
    ]
    pd.testing.assert_frame_equal(*curves)
    assert len(curves[0]) == epochs + 1
    chains = [np.load(f / "run" / "chains.npz")["chains"] for f in (whole, killed)]
    np.testing.assert_array_equal(*chains)


def test_training_outputs_and_curves(digits_npz, tmp_path):
    data = load(digits_npz)
    settings = TrainSettings(
        epochs=3,
        batch_size=64,
        curve_examples=200,
        chain_targets=3,
        chain_epochs=2,
        objective="lower_bound",
    )
    Trainer(
        ModelSettings(steps=4, omega=0.1, hidden=32),
        settings,
        data,
        tmp_path / "run",
        tmp_path / "checkpoint.pt",
    ).run()
    curves = pd.read_csv(tmp_path / "run" / "metrics.csv")
    assert list(curves.epoch) == [0, 1, 2, 3]
    assert np.isfinite(curves[["train_lower_bound", "valid_lower_bound"]].to_numpy()).all()
    assert curves.valid_lower_bound.iloc[-1] > curves.valid_lower_bound.iloc[0]
    chains = np.load(tmp_path / "run" / "chains.npz")
    assert chains["chains"].shape == (3, 3, 5, 1, 8, 8)  # epochs 0-2, targets, T + 1 rows
    assert chains["chains"].dtype == np.uint8 and chains["targets"].shape == (3, 1, 8, 8)


def test_non_finite_loss_stops_with_a_clear_message(digits_npz, tmp_path):
    data = load(digits_npz)
    trainer = Trainer(
        ModelSettings(steps=2, hidden=16),
        TrainSettings(epochs=1, batch_size=64, curve_examples=64, lr=1e30),
        data,
        tmp_path / "run",
        tmp_path / "c.pt",
    )
    with pytest.raises(FloatingPointError, match="non-finite loss .* epoch 1"):
        trainer.run()


def test_checkpoint_from_other_settings_is_refused(digits_npz, tmp_path):
    data = load(digits_npz)
    args = (data, tmp_path / "run", tmp_path / "c.pt")
    Trainer(
        ModelSettings(steps=2, hidden=16),
        TrainSettings(epochs=1, batch_size=64, curve_examples=64),
        *args,
    ).run()
    other = Trainer(
        ModelSettings(steps=3, hidden=16),
        TrainSettings(epochs=1, batch_size=64, curve_examples=64),
        *args,
    )
    with pytest.raises(ValueError, match="other settings"):
        other.run()


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("steps", 0, "steps"),
        ("omega", -0.1, "omega"),
        ("alpha0", 1.5, "alpha0"),
        ("network", "resnet", "network"),
    ],
)
def test_invalid_model_settings_name_the_field(field, value, message):
    with pytest.raises(ValueError, match=message):
        ModelSettings(**{field: value})


def test_corrupt_model_file_is_named(tmp_path):
    """(A corrupt checkpoint is not an error: tests/test_faults_files.py.)"""
    from infusion.model import load_model

    bad = tmp_path / "model.pt"
    bad.write_bytes(b"x")
    with pytest.raises(ValueError, match="model.pt cannot be read"):
        load_model(bad)
