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

from infusion.data.registry import dequantize, load, to_unit_interval
from infusion.estimation.estimators import draw_log_weights, lower_bound_and_importance
from infusion.settings import ModelSettings, TrainSettings
from infusion.training.trainer import Trainer


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
    from infusion.nets.model import load_model

    bad = tmp_path / "model.pt"
    bad.write_bytes(b"x")
    with pytest.raises(ValueError, match="model.pt cannot be read"):
        load_model(bad)


def small_run(data, folder, epochs):
    """A 2-step, 16-unit run on 256 training digits; returns the Trainer after run()."""
    trainer = Trainer(
        ModelSettings(steps=2, omega=0.1, hidden=16),
        TrainSettings(epochs=epochs, batch_size=64, curve_examples=64, chain_epochs=1),
        {split: images[:256] for split, images in data.items()},
        folder / "run",
        folder / "checkpoint.pt",
    )
    trainer.run()
    return trainer


def trained_parameters(folder) -> dict:
    """model.pt's weights and batch-norm parameters (not its population statistics)."""
    state = torch.load(folder / "run" / "model.pt", weights_only=False)["state"]
    return {k: v for k, v in state.items() if "population" not in k}


def test_the_model_kept_is_the_best_validation_epoch(digits_npz, tmp_path, monkeypatch):
    """Appendix A.1: valid bounds scripted to peak at epoch 2 of 4; model.pt must hold the
    weights of a separate run stopped after 2 epochs, not those of epoch 4."""
    valid_by_epoch = [0.0, 1.0, 5.0, 2.0, 3.0]
    real_score = Trainer.score

    def scripted_score(self, loss, seconds):
        return real_score(self, loss, seconds) | {"valid_lower_bound": valid_by_epoch[self.epoch]}

    monkeypatch.setattr(Trainer, "score", scripted_score)
    data = load(digits_npz)
    small_run(data, tmp_path / "four", 4)
    small_run(data, tmp_path / "two", 2)
    best, after_two = trained_parameters(tmp_path / "four"), trained_parameters(tmp_path / "two")
    assert best.keys() == after_two.keys()
    for key in best:
        assert torch.equal(best[key], after_two[key]), key
    saved = torch.load(tmp_path / "four" / "run" / "model.pt", weights_only=False)
    assert saved["best_epoch"] == 2
    assert pd.read_csv(tmp_path / "four" / "run" / "metrics.csv").valid_lower_bound.tolist() == (
        valid_by_epoch
    )


def test_a_run_stopped_after_an_epoch_resumes_to_the_uninterrupted_result(
    digits_npz, tmp_path, monkeypatch
):
    """Stopped by an error during epoch 3 (after epoch 2's checkpoint), then started again:
    model, curves and chains equal those of a run never stopped. No timing involved."""
    data = load(digits_npz)
    small_run(data, tmp_path / "whole", 4)
    real_epoch = Trainer.train_epoch

    def failing_epoch(self):
        if self.epoch == 2:
            raise KeyboardInterrupt
        return real_epoch(self)

    with monkeypatch.context() as patch:
        patch.setattr(Trainer, "train_epoch", failing_epoch)
        with pytest.raises(KeyboardInterrupt):
            small_run(data, tmp_path / "stopped", 4)
    assert not (tmp_path / "stopped" / "run" / "model.pt").exists()
    assert small_run(data, tmp_path / "stopped", 4).epoch == 4
    a, b = (torch.load(f / "run" / "model.pt", weights_only=False) for f in
            (tmp_path / "whole", tmp_path / "stopped"))  # fmt: skip
    assert a["state"].keys() == b["state"].keys() and a["best_epoch"] == b["best_epoch"]
    for key in a["state"]:
        assert torch.equal(a["state"][key], b["state"][key]), key
    curves = [pd.read_csv(tmp_path / f / "run" / "metrics.csv").drop(columns="seconds")
              for f in ("whole", "stopped")]  # fmt: skip
    pd.testing.assert_frame_equal(*curves)
    chains = [np.load(tmp_path / f / "run" / "chains.npz")["chains"] for f in ("whole", "stopped")]
    np.testing.assert_array_equal(*chains)
