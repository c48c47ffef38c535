"""Training: what the loss optimises, exact resume after a kill, a checkpoint resumed only by
its own run, and clear failures."""

import json
import logging
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import population_log_weights, process_of

from infusion.data.registry import dequantize, load, to_unit_interval
from infusion.process.infusion_process import lower_bound_and_importance
from infusion.settings import ModelSettings, TrainSettings
from infusion.training.checkpoints import read_checkpoint, write_checkpoint
from infusion.training.run_record import differences, run_record
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
    weights = population_log_weights(model, x, 50, torch.Generator().manual_seed(6), 100_000)
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


def same_model(folder_a, folder_b) -> bool:
    """model.pt of two runs: equal state dicts, and the same best epoch in summary.json."""
    a, b = (torch.load(f / "run" / "model.pt", weights_only=True) for f in (folder_a, folder_b))
    best = [json.loads((f / "run" / "summary.json").read_text())["best_epoch"]
            for f in (folder_a, folder_b)]  # fmt: skip
    return (
        a["state"].keys() == b["state"].keys()
        and all(torch.equal(a["state"][k], b["state"][k]) for k in a["state"])
        and best[0] == best[1] == a["best_epoch"] == b["best_epoch"]
    )


def warnings_of(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


def test_a_checkpoint_is_resumed_only_by_its_own_run(digits_npz, tmp_path, caplog):
    """3 epochs, then 2 with the same checkpoint: the 2-epoch run's model, not the 3-epoch
    one. Then other data (the digits inverted) with that checkpoint: a fresh run on it."""
    from infusion.cli import main

    inverted = tmp_path / "inverted.npz"
    np.savez(inverted, **{split: 255 - images for split, images in load(digits_npz).items()})

    def train(data, folder, epochs, checkpoint):
        smaller = ["--hidden", "16", "--batch-size", "64", "--curve-examples", "100"]
        argv = train_command(data, folder, epochs)[3:] + smaller
        argv[argv.index("--checkpoint") + 1] = str(checkpoint)
        caplog.clear()
        main(argv)  # returns: exit status 0
        return warnings_of(caplog)

    shared = tmp_path / "shared.pt"
    assert train(digits_npz, tmp_path / "three", 3, shared) == []
    warned = train(digits_npz, tmp_path / "two", 2, shared)
    assert train(digits_npz, tmp_path / "fresh-two", 2, tmp_path / "fresh-two.pt") == []
    assert same_model(tmp_path / "two", tmp_path / "fresh-two")
    assert not same_model(tmp_path / "two", tmp_path / "three")
    assert len(warned) == 1 and "epochs 3 -> 2 (3 done)" in warned[0], warned
    assert str(shared) in warned[0] and "starts afresh" in warned[0]
    assert (tmp_path / "shared.pt.stale").exists()

    warned = train(inverted, tmp_path / "other", 2, shared)
    assert train(inverted, tmp_path / "fresh-other", 2, tmp_path / "fresh-other.pt") == []
    assert same_model(tmp_path / "other", tmp_path / "fresh-other")
    assert len(warned) == 1 and "data train split differs" in warned[0], warned
    assert "data valid split differs" in warned[0] and str(shared) in warned[0]


def test_run_differences_name_each_setting_and_let_epochs_grow():
    settings = ModelSettings(steps=2), TrainSettings(epochs=4, lr=1e-3)
    data = {"train": np.zeros((4, 1, 2, 2), np.uint8), "valid": np.ones((2, 1, 2, 2), np.uint8)}
    saved = run_record(*settings, data)
    assert differences(saved, run_record(*settings, data), epochs_done=4) == []
    assert differences(saved, saved, epochs_done=5) == ["epochs 4 -> 4 (5 done)"]
    longer = TrainSettings(epochs=9, lr=1e-3, device="cpu", compile="default")
    assert differences(saved, run_record(settings[0], longer, data), epochs_done=4) == []
    other = ModelSettings(steps=3), TrainSettings(epochs=4, lr=2e-3)
    assert differences(saved, run_record(*other, data), epochs_done=1) == [
        "steps 2 -> 3", "lr 0.001 -> 0.002"]  # fmt: skip
    # a checkpoint written before a setting existed: its default, the code's behaviour then
    older = {**saved, "train": {k: v for k, v in saved["train"].items() if k != "keep"}}
    assert differences(older, run_record(*settings, data), epochs_done=4) == []
    last = TrainSettings(epochs=4, lr=1e-3, keep="last")
    assert differences(older, run_record(settings[0], last, data), 4) == ["keep best -> last"]
    one_pixel = {**data, "valid": data["valid"].copy()}
    one_pixel["valid"][1, 0, 1, 1] = 0
    reshaped = {**data, "train": data["train"].reshape(4, 1, 1, 4)}  # the same bytes
    for changed, split in ((one_pixel, "valid"), (reshaped, "train")):
        assert differences(saved, run_record(*settings, changed), 1) == [
            f"data {split} split differs"]  # fmt: skip


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


def test_a_model_file_of_other_content_is_named(tmp_path):
    from conftest import tiny_model

    from infusion.nets.model import load_model, save_model

    model = tiny_model()
    save_model(model, tmp_path / "good.pt")
    good = torch.load(tmp_path / "good.pt", weights_only=True)
    wrong_state = {**good, "state": {k: v[:1] for k, v in good["state"].items()}}
    cases = {
        "a list": [1, 2],
        "no state": {k: v for k, v in good.items() if k != "state"},
        "no settings": {k: v for k, v in good.items() if k != "model_settings"},
        "an unknown setting": {**good, "model_settings": {"colour": 1}},
        "a bad setting": {**good, "model_settings": {"steps": 0}},
        "weights of other shapes": wrong_state,
    }
    for what, payload in cases.items():
        path = tmp_path / f"{what}.pt"
        torch.save(payload, path)
        with pytest.raises(ValueError) as error:
            load_model(path)
        message = str(error.value)
        assert str(path) in message and "not a model saved by infusion train" in message, what
        assert "\n" not in message, what
    loaded, _ = load_model(tmp_path / "good.pt")
    assert all(torch.equal(v, loaded.state_dict()[k]) for k, v in model.state_dict().items())


def test_a_checkpoint_of_other_content_is_named_and_training_starts_afresh(
    digits_npz, tmp_path, caplog
):
    """Right checksum, wrong content: no state, a state of an older version (numpy arrays,
    no run record), a state whose weights do not fit. Each is named in a warning and the
    run's model equals a fresh one's."""
    data = load(digits_npz)
    reference = small_run(data, tmp_path / "fresh", 1).state()
    no_run = {k: v for k, v in reference.items() if k != "run"}
    cases = {
        "a list": [1, 2],
        "no run": no_run,
        "an older version": {**no_run, "settings": (), "chains": [np.zeros(3, np.uint8)]},
        "weights that do not fit": {**reference, "model": {"operator.x": torch.zeros(1)}},
        "a generator state that does not fit": {**reference, "generator": torch.zeros(3)},
    }
    for what, state in cases.items():
        folder = tmp_path / what.replace(" ", "-")
        folder.mkdir()
        write_checkpoint(folder / "checkpoint.pt", state)
        caplog.clear()
        small_run(data, folder, 1)
        warned = warnings_of(caplog)
        assert len(warned) == 1 and str(folder / "checkpoint.pt") in warned[0], (what, warned)
        assert "starts afresh" in warned[0], (what, warned)
        assert same_model(folder, tmp_path / "fresh"), what


def small_run(data, folder, epochs, **train_settings):
    """A 2-step, 16-unit run on 256 training digits; returns the Trainer after run()."""
    trainer = Trainer(
        ModelSettings(steps=2, omega=0.1, hidden=16),
        TrainSettings(
            epochs=epochs, batch_size=64, curve_examples=64, chain_epochs=1, **train_settings
        ),  # fmt: skip
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


def scripted_valid_bounds(monkeypatch) -> list[float]:
    """Make every epoch's valid lower bound a scripted value peaking at epoch 2 of 4."""
    valid_by_epoch = [0.0, 1.0, 5.0, 2.0, 3.0]
    real_score = Trainer.score

    def scripted_score(self, loss, seconds):
        return real_score(self, loss, seconds) | {"valid_lower_bound": valid_by_epoch[self.epoch]}

    monkeypatch.setattr(Trainer, "score", scripted_score)
    return valid_by_epoch


def test_the_model_kept_is_the_best_validation_epoch(digits_npz, tmp_path, monkeypatch):
    """Appendix A.1: valid bounds scripted to peak at epoch 2 of 4; model.pt must hold the
    weights of a separate run stopped after 2 epochs, not those of epoch 4."""
    valid_by_epoch = scripted_valid_bounds(monkeypatch)
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


def test_keep_last_keeps_the_last_epochs_model(digits_npz, tmp_path, monkeypatch):
    """training.keep: last (the authors' run.py): valid bounds scripted to peak at epoch 2 of
    4, model.pt holds the weights of epoch 4, those of the checkpoint written after it (and
    not the best run's), and summary.json says which epoch was kept."""
    scripted_valid_bounds(monkeypatch)
    data = load(digits_npz)
    small_run(data, tmp_path / "last", 4, keep="last")
    small_run(data, tmp_path / "best", 4)
    last, best = trained_parameters(tmp_path / "last"), trained_parameters(tmp_path / "best")
    after_four = read_checkpoint(tmp_path / "last" / "checkpoint.pt", "cpu")["model"]
    assert last.keys() <= after_four.keys()
    for key in last:
        assert torch.equal(last[key], after_four[key]), key
    assert any(not torch.equal(last[key], best[key]) for key in last)
    summaries = {run: json.loads((tmp_path / run / "run" / "summary.json").read_text())
                 for run in ("last", "best")}  # fmt: skip
    assert (summaries["last"]["kept_epoch"], summaries["last"]["best_epoch"]) == (4, 2)
    assert (summaries["best"]["kept_epoch"], summaries["best"]["best_epoch"]) == (2, 2)


def expected_stop(valid_by_epoch, epochs, patience):
    """The epoch training.patience stops at, by brute force: the first epoch e at which no
    epoch of the last `patience` (e - patience + 1 .. e) beat the best before them."""
    for e in range(1, epochs + 1):
        best = max(range(1, e + 1), key=lambda k: (valid_by_epoch[k], -k))
        if patience and e - best >= patience:
            return e
    return epochs


@pytest.mark.parametrize("patience", [0, 1, 2, 3])
def test_patience_stops_after_epochs_without_a_better_validation_bound(
    digits_npz, tmp_path, monkeypatch, patience
):
    """training.patience: valid bounds scripted to peak at epoch 2 and to come back above it
    at epoch 6 only; the run stops where no better bound came for `patience` epochs (0:
    all 6 epochs), its curves end there, summary.json says so, and the model kept is the
    best epoch's (a separate 2-epoch run's weights)."""
    valid_by_epoch = [0.0, 1.0, 5.0, 2.0, 3.0, 4.0, 6.0]
    real_score = Trainer.score

    def scripted_score(self, loss, seconds):
        return real_score(self, loss, seconds) | {"valid_lower_bound": valid_by_epoch[self.epoch]}

    monkeypatch.setattr(Trainer, "score", scripted_score)
    data = load(digits_npz)
    small_run(data, tmp_path / "run", 6, patience=patience)
    stop = expected_stop(valid_by_epoch, 6, patience)
    assert stop == {0: 6, 1: 3, 2: 4, 3: 5}[patience]
    summary = json.loads((tmp_path / "run" / "run" / "summary.json").read_text())
    assert summary["epochs_run"] == stop
    metrics = pd.read_csv(tmp_path / "run" / "run" / "metrics.csv")
    assert metrics.epoch.tolist() == list(range(stop + 1))
    assert summary["best_epoch"] == (6 if stop == 6 else 2)
    if stop < 6:
        small_run(data, tmp_path / "two", 2)
        kept, after_two = trained_parameters(tmp_path / "run"), trained_parameters(tmp_path / "two")
        for key in kept:
            assert torch.equal(kept[key], after_two[key]), key


def test_train_size_trains_on_the_first_examples_of_the_training_split(digits_npz, tmp_path):
    """training.train_size: the trainer's training set is the first N training images (as
    read here from the npz by the test), summary.json counts them, and more
    than the split holds stops with a message naming the key."""
    data = load(digits_npz)
    trainer = small_run(data, tmp_path / "subset", 1, train_size=100)
    expected = torch.as_tensor(to_unit_interval(data["train"][:256][:100]))
    assert torch.equal(trainer.x_train, expected)
    summary = json.loads((tmp_path / "subset" / "run" / "summary.json").read_text())
    assert summary["train_examples"] == 100 and summary["train_settings"]["train_size"] == 100
    whole = small_run(data, tmp_path / "whole", 1)
    assert whole.x_train.shape[0] == 256
    with pytest.raises(ValueError, match="train_size 300 exceeds the 256 examples"):
        small_run(data, tmp_path / "too-many", 1, train_size=300)


def population_statistics(model) -> dict:
    return {k: v for k, v in model.state_dict().items() if "population" in k}


def test_statistics_dequantize_fits_batch_norm_on_the_dequantized_training_set(
    digits_npz, tmp_path
):
    """training.statistics_dequantize: the kept model's batch-norm statistics are those of the
    statistics pass over x_train + u / 256, u ~ U(0, 1) drawn here from the trainer's fourth
    stream of the last epoch (the chain draws its third, as without the switch)."""
    from infusion.estimation.evaluation import fit_population_statistics
    from infusion.nets.model import load_model
    from infusion.training.trainer import epoch_generator

    data = load(digits_npz)
    on = small_run(data, tmp_path / "on", 2, keep="last", statistics_dequantize=True)
    off = small_run(data, tmp_path / "off", 2, keep="last")
    model, _ = load_model(tmp_path / "on" / "run" / "model.pt")
    state = read_checkpoint(tmp_path / "on" / "checkpoint.pt", "cpu")["model"]
    model.load_state_dict(state)  # the last epoch's model, before its statistics pass
    x = on.x_train.double()
    u = torch.rand(x.shape, generator=epoch_generator(torch.device("cpu"), 0, 2, 4))
    points = (x + u.double() / 256).float()
    fit_population_statistics(
        process_of(model), model, points, 64, epoch_generator(torch.device("cpu"), 0, 2, 3)
    )
    expected = population_statistics(model)
    for key, value in population_statistics(on.model).items():
        torch.testing.assert_close(value, expected[key], rtol=1e-6, atol=1e-7, msg=key)
        assert not torch.allclose(value, population_statistics(off.model)[key]), key


def test_epoch_batches_drop_or_keep_the_ragged_rest():
    """10 rows in batches of 4: drop gives 2 (floor), keep 3 (ceil) covering every row once;
    9 rows: keep drops the lone ninth (batch norm needs two examples)."""
    from infusion.training.batches import epoch_batches

    order = torch.randperm(10, generator=torch.Generator().manual_seed(0))
    dropped, kept = (epoch_batches(order, 4, mode) for mode in ("drop", "keep"))
    assert [len(b) for b in dropped] == [4, 4] and [len(b) for b in kept] == [4, 4, 2]
    assert torch.equal(torch.cat(kept), order)
    assert torch.equal(torch.cat(dropped), order[:8])
    assert [len(b) for b in epoch_batches(order[:9], 4, "keep")] == [4, 4]
    assert [len(b) for b in epoch_batches(order[:8], 4, "keep")] == [4, 4]


@pytest.mark.parametrize("last_batch", ["drop", "keep"])
def test_an_epoch_takes_floor_or_ceil_steps(digits_npz, tmp_path, last_batch):
    """One epoch on 250 digits in batches of 64: floor(250 / 64) = 3 optimizer steps of 64
    (drop) or ceil = 4, the last of 58, every training example seen exactly once (keep)."""
    data = load(digits_npz)
    trainer = Trainer(
        ModelSettings(steps=2, hidden=8),
        TrainSettings(epochs=1, batch_size=64, curve_examples=50, last_batch=last_batch),
        {split: images[:250] for split, images in data.items()},
        tmp_path, tmp_path / "ckpt.pt",
    )  # fmt: skip
    seen, real_step = [], trainer.optimizer.step

    def objective(model, x, generator):
        seen.append(x.clone())
        return sum(p.sum() for p in model.parameters()) * 0.0

    steps = []
    trainer.objective = objective
    trainer.optimizer.step = lambda *a, **k: (steps.append(1), real_step(*a, **k))[1]
    trainer.train_epoch()
    expected = [64, 64, 64] if last_batch == "drop" else [64, 64, 64, 58]
    assert [len(x) for x in seen] == expected and len(steps) == len(expected)
    if last_batch == "keep":
        rows = sorted(map(tuple, torch.cat(seen).numpy().tolist()))
        assert rows == sorted(map(tuple, trainer.x_train.numpy().tolist()))


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
