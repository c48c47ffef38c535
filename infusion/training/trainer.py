"""The training loop: infusion training with per-epoch curves, checkpoints and exact resume.

Outputs of a run (``out_dir``):
  model.pt      the model with the best validation lower bound (or the last epoch's:
                training.keep), with per-step batch-norm statistics over the whole training
                set (used by every test number)
  metrics.csv   one row per epoch (epoch 0 = initialisation): loss, train/valid lower bound
  chains.npz    ``chains`` [epochs x targets x T+1 x C x H x W] uint8: the infusion chains of
                fixed training targets after init and each of the first epochs (Fig 3.2),
                ``epochs`` [epochs], ``targets`` (their images)
  summary.json  settings, best and kept epochs, epochs run, bounds, timings
A run trains on the first ``training.train_size`` examples of the training split (0: all) and
stops early after ``training.patience`` epochs without a better validation bound (0: never).
The checkpoint (``checkpoint``) lives wherever the caller says, outside the declared outputs.
It records its run: every model and training setting and a digest of the training and
validation splits (infusion/training/run_record.py). The same run started again resumes
after the checkpoint's last completed epoch and on CPU ends bit-identical to an
uninterrupted run; so does a run that asks for more epochs, or another device or
compilation. Any other run (other settings or data, or fewer epochs than the checkpoint has
done) warns in one line naming what differs, moves the checkpoint aside to
``CHECKPOINT.stale`` and starts afresh, so that a rerun after a config edit needs no file
deleted by hand. A checkpoint that fails its checksum, or is of an older version
(infusion/training/checkpoints.py), is reported with a warning and training starts afresh; one
that needs more than tensors and plain data to load is refused unread and stops training.
SIGTERM abandons the current epoch and stops with :class:`TrainingStopped`
(infusion/training/stopping.py).
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import math
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from infusion.data.registry import dequantize, load, to_unit_interval
from infusion.estimation import parzen
from infusion.estimation.evaluation import fit_population_statistics, minibatch_lower_bound
from infusion.nets.model import InfusionModel, save_model
from infusion.nets.networks import BATCH, set_batch_norm_mode
from infusion.process.infusion_process import InfusionProcess
from infusion.runtime.atomic import atomic_path, write_json, write_npz
from infusion.runtime.context import computing
from infusion.runtime.device import resolve_device
from infusion.runtime.progress import Progress
from infusion.runtime.torch_files import one_line
from infusion.settings import ModelSettings, TrainSettings
from infusion.training.batches import epoch_batches, training_subset
from infusion.training.checkpoints import CorruptCheckpoint, read_checkpoint, write_checkpoint
from infusion.training.run_record import differences, is_run_record, run_record
from infusion.training.stopping import stop_on_sigterm

log = logging.getLogger("infusion.training.trainer")


def epoch_generator(device: torch.device, seed: int, epoch: int, stream: int) -> torch.Generator:
    """A generator that depends only on (seed, epoch, stream): per-epoch scoring draws are the
    same whether or not the run was resumed."""
    return torch.Generator(device).manual_seed(seed * 1_000_003 + epoch * 101 + stream)


def training_step(
    model, optimizer, objective, x, generator, precision: str = "fp32", compile: str = "none"
) -> float:
    """One optimisation step on the batch x: the objective's loss, its forward pass under
    ``precision`` with the operator compiled as ``compile`` says (the backward pass runs
    outside autocast), gradients and the optimizer's update. Returns the loss; a non-finite
    loss raises FloatingPointError before any update.
    """
    with computing(model, precision, compile):
        loss = objective(model, x, generator)
    value = float(loss.detach())
    if not math.isfinite(value):
        raise FloatingPointError(f"non-finite loss ({value})")
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return value


def to_images(states: torch.Tensor, shape) -> np.ndarray:
    """[... x d] floats in [0, 1] -> [... x C x H x W] uint8 pictures."""
    pixels = (states.clamp(0, 1) * 255).round().to(torch.uint8).cpu().numpy()
    return pixels.reshape(*pixels.shape[:-1], *shape)


class Trainer:
    """One grid point's training run. ``data`` holds uint8 arrays train/valid [N x C x H x W]."""

    def __init__(
        self,
        model_settings: ModelSettings,
        settings: TrainSettings,
        data: dict,
        out_dir: Path,
        checkpoint: Path,
    ):
        self.settings, self.out_dir, self.checkpoint = settings, Path(out_dir), Path(checkpoint)
        data = training_subset(data, settings.train_size)
        self.device = resolve_device(settings.device)
        self.shape = tuple(data["train"].shape[1:])
        self.run_record = run_record(model_settings, settings, data)
        self.x_train = torch.as_tensor(to_unit_interval(data["train"]), device=self.device)
        self.x_valid = torch.as_tensor(to_unit_interval(data["valid"]), device=self.device)
        picker = np.random.default_rng(settings.seed)
        n = self.x_train.shape[0]
        # Fig 3.2's chains are drawn inside a training-size batch, as in training (batch norm
        # sees a real minibatch); the first rows are the fixed targets.
        self.chain_batch = torch.as_tensor(
            picker.choice(n, size=min(settings.batch_size, n), replace=False), device=self.device
        )
        self.curve_rows = {
            "train": torch.as_tensor(
                picker.choice(n, min(settings.curve_examples, n), replace=False)
            ),
            "valid": torch.arange(min(settings.curve_examples, self.x_valid.shape[0])),
        }
        self.start_afresh(model_settings)

    def start_afresh(self, model_settings: ModelSettings) -> None:
        """The state before the first epoch: seeded weights, the prior, a new optimizer, the
        model's own infusion process and the loss of the training objective on it."""
        torch.manual_seed(self.settings.seed)
        self.process = InfusionProcess.of(model_settings, self.shape)
        self.objective = self.process.objective(self.settings.objective)
        self.model = InfusionModel(model_settings, self.shape).to(self.device)
        self.model.fit_prior(self.x_train)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=self.settings.lr)
        self.generator = torch.Generator(self.device).manual_seed(self.settings.seed)
        self.epoch, self.metrics, self.chains = 0, [], []
        self.best_valid, self.best_epoch, self.best_state = -float("inf"), -1, None

    def computing(self):
        """The context of the run's forward passes (``settings.precision``, ``compile``)."""
        return computing(self.model, self.settings.precision, self.settings.compile)

    # --- state -------------------------------------------------------------------------

    def state(self) -> dict:
        """The checkpoint's content: tensors and plain data only (read with weights_only)."""
        return {
            "epoch": self.epoch,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "generator": self.generator.get_state(),
            "metrics": self.metrics,
            "chains": [torch.from_numpy(images) for images in self.chains],
            "best": (self.best_valid, self.best_epoch, self.best_state),
            "run": self.run_record,
        }

    def restore(self, state: dict) -> None:
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.generator.set_state(state["generator"].cpu())
        self.epoch, self.metrics = state["epoch"], list(state["metrics"])
        self.chains = [images.cpu().numpy() for images in state["chains"]]
        self.best_valid, self.best_epoch, self.best_state = state["best"]

    def save_checkpoint(self) -> None:
        write_checkpoint(self.checkpoint, self.state())

    def resume(self) -> bool:
        """Load the checkpoint if it belongs to this run; returns whether training resumed.

        A corrupt checkpoint, or one of an older version, is reported and ignored: training
        starts afresh and overwrites it. One of another run (other settings or data, or more
        epochs done than asked for: :mod:`infusion.training.run_record`) is reported in one
        line naming what differs and moved aside to ``CHECKPOINT.stale``. One that needs more
        than tensors and plain data stops training (``UnsafeFile``), unread.
        """
        if not self.checkpoint.exists():
            return False
        try:
            state = read_checkpoint(self.checkpoint, self.device)
            if not (is_run_record(state.get("run")) and isinstance(state.get("epoch"), int)):
                raise CorruptCheckpoint(
                    f"checkpoint {self.checkpoint} records no run (of an older version, or "
                    "not written by infusion train)"
                )
        except CorruptCheckpoint as error:
            log.warning("%s; training starts afresh", error)
            return False
        stale = differences(state["run"], self.run_record, state["epoch"])
        if stale:
            aside = self.checkpoint.with_name(self.checkpoint.name + ".stale")
            os.replace(self.checkpoint, aside)
            log.warning(
                "checkpoint %s: %s; moved aside to %s, training starts afresh",
                self.checkpoint,
                ", ".join(stale),
                aside,
            )
            return False
        try:
            self.restore(state)
        except (KeyError, TypeError, ValueError, RuntimeError, AttributeError) as error:
            log.warning(
                "checkpoint %s does not fit its run (%s); training starts afresh",
                self.checkpoint,
                one_line(error),
            )
            self.start_afresh(self.model.settings)
            return False
        log.info("resumed from %s after epoch %d", self.checkpoint, self.epoch)
        return True

    # --- one epoch -----------------------------------------------------------------------

    def train_epoch(self) -> float:
        model, s = self.model, self.settings
        set_batch_norm_mode(model.operator, BATCH)
        n = self.x_train.shape[0]
        order = torch.randperm(n, generator=self.generator, device=self.device)
        batches = epoch_batches(order, s.batch_size, s.last_batch)
        progress = tqdm(
            batches, desc=f"epoch {self.epoch + 1}", leave=False, disable=not sys.stderr.isatty()
        )
        total = 0.0
        for i, rows in enumerate(progress):
            x = self.x_train[rows]
            if s.dequantize_targets:
                x = dequantize(x, self.generator)
            try:
                total += training_step(
                    model, self.optimizer, self.objective, x, self.generator, s.precision, s.compile
                )
            except FloatingPointError as error:
                raise FloatingPointError(
                    f"{error} at epoch {self.epoch + 1}, batch {i + 1}; try a lower learning "
                    "rate or a larger variance eps"
                ) from None
        return total / len(batches)

    def score(self, loss: float, seconds: float) -> dict:
        """Per-epoch row: train/valid one-chain lower bounds with minibatch statistics."""
        row = {"epoch": self.epoch, "loss": loss, "seconds": seconds}
        for stream, (split, x) in enumerate((("train", self.x_train), ("valid", self.x_valid))):
            g = epoch_generator(self.device, self.settings.seed, self.epoch, stream)
            points = dequantize(x[self.curve_rows[split].to(self.device)], g)
            with self.computing():
                row[f"{split}_lower_bound"] = minibatch_lower_bound(
                    self.process, self.model, points, self.settings.batch_size, g
                )
        row["valid_parzen"] = self.parzen_curve_point(points, g)
        return row

    def parzen_curve_point(self, valid_points: torch.Tensor, generator) -> float:
        """Parzen estimate of the valid points from fresh samples (Fig 3.3), every few epochs.

        The samples are one batch of model chains normalised by their own minibatch
        statistics, so no pass over the training set is needed mid-training.
        """
        every = self.settings.parzen_every
        if every <= 0 or self.epoch % every:
            return float("nan")
        set_batch_norm_mode(self.model.operator, BATCH)
        steps = self.process.steps
        with self.computing():  # the model's chains, not Parzen's distances
            means = self.process.sample(self.model, self.settings.parzen_samples, steps, generator)
        means = means[1][-1]
        values = parzen.log_likelihood(
            means, valid_points, self.settings.parzen_sigma, device=self.device
        )
        return float(values.mean())

    def snapshot_chains(self) -> None:
        if self.epoch > self.settings.chain_epochs:
            return
        g = epoch_generator(self.device, self.settings.seed, self.epoch, 2)
        set_batch_norm_mode(self.model.operator, BATCH)
        with self.computing():
            states = self.process.chain_states(self.model, self.x_train[self.chain_batch], g)
        targets = states[:, : self.settings.chain_targets].transpose(0, 1)  # [targets x T+1 x d]
        self.chains.append(to_images(targets, self.shape))

    # --- the run -------------------------------------------------------------------------

    def run(self) -> InfusionModel:
        s = self.settings
        if not self.resume():
            self.snapshot_chains()
            self.metrics.append(self.score(float("nan"), 0.0))
            self.save_checkpoint()
        progress = Progress(s.epochs, "epoch", done=self.epoch)
        with stop_on_sigterm(self.checkpoint) as sigterm:
            while self.epoch < s.epochs and not self.out_of_patience():
                with sigterm.interruptible():  # SIGTERM abandons the epoch
                    row = self.train_and_score_epoch()
                self.save_checkpoint()
                self.write_curves()
                log.info(
                    "epoch %d/%d, loss %.2f, train bound %.2f, valid bound %.2f, %s",
                    self.epoch,
                    s.epochs,
                    row["loss"],
                    row["train_lower_bound"],
                    row["valid_lower_bound"],
                    progress.report(self.epoch),
                )
        if self.epoch < s.epochs:
            log.info(
                "stopped after epoch %d: no better validation bound for %d epochs "
                "(training.patience; best at epoch %d)",
                self.epoch,
                s.patience,
                self.best_epoch,
            )
        return self.finish()

    def out_of_patience(self) -> bool:
        """Whether the early stop ends training: ``patience`` epochs have passed since the
        best validation bound (never with ``patience`` 0)."""
        patience = self.settings.patience
        return patience > 0 and self.epoch - max(self.best_epoch, 0) >= patience

    def train_and_score_epoch(self) -> dict:
        """One epoch of training, its curve row, chains and best model; returns the row."""
        start = time.perf_counter()
        loss = self.train_epoch()
        self.epoch += 1
        row = self.score(loss, time.perf_counter() - start)
        self.metrics.append(row)
        self.snapshot_chains()
        if row["valid_lower_bound"] > self.best_valid:
            self.best_valid, self.best_epoch = row["valid_lower_bound"], self.epoch
            self.best_state = copy.deepcopy(self.model.state_dict())
        return row

    def write_curves(self) -> None:
        import pandas as pd  # here: importing pandas costs a job ~0.4 s of start-up

        with atomic_path(self.out_dir / "metrics.csv") as tmp:
            pd.DataFrame(self.metrics).to_csv(tmp, index=False)

    def finish(self) -> InfusionModel:
        """Best model + population statistics -> model.pt; chains and summary."""
        s = self.settings
        self.write_curves()
        kept_epoch = self.best_epoch if s.keep == "best" else self.epoch
        if s.keep == "best":
            self.model.load_state_dict(self.best_state)
        g = epoch_generator(self.device, s.seed, self.epoch, 3)
        x = self.x_train
        if s.statistics_dequantize:  # its own stream: the chains' draws are those without
            x = dequantize(x, epoch_generator(self.device, s.seed, self.epoch, 4))
        with self.computing():
            fit_population_statistics(self.process, self.model, x, s.batch_size, g)
        save_model(
            self.model, self.out_dir / "model.pt", best_epoch=self.best_epoch, kept_epoch=kept_epoch
        )
        write_npz(
            self.out_dir / "chains.npz",
            chains=np.stack(self.chains),
            epochs=np.arange(len(self.chains)),
            targets=to_images(
                self.x_train[self.chain_batch[: self.settings.chain_targets]], self.shape
            ),
        )
        write_json(
            self.out_dir / "summary.json",
            {
                "model_settings": dataclasses.asdict(self.model.settings),
                "train_settings": dataclasses.asdict(self.settings),
                "best_epoch": self.best_epoch,
                "best_valid_lower_bound": self.best_valid,
                "kept_epoch": kept_epoch,  # model.pt's parameters: training.keep's epoch
                "epochs_run": self.epoch,  # fewer than epochs where training.patience stopped it
                "train_examples": int(self.x_train.shape[0]),
                "train_seconds": float(sum(r["seconds"] for r in self.metrics)),
                "device": str(self.device),
            },
        )
        return self.model


def train_file(
    data_path: str | Path,
    model_settings: ModelSettings,
    settings: TrainSettings,
    out_dir: str | Path,
    checkpoint: str | Path,
) -> InfusionModel:
    """Train one grid point on the prepared dataset ``data_path`` (see :class:`Trainer`):
    the run's files go to ``out_dir``, its checkpoint to ``checkpoint``."""
    trainer = Trainer(
        model_settings, settings, load(Path(data_path)), Path(out_dir), Path(checkpoint)
    )
    log.info("training on %s: %s; %s", trainer.device, model_settings, settings)
    return trainer.run()
