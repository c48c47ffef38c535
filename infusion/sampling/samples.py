"""Drawing samples from a trained model (Fig 3.1, 3.5 and the samples scored by Parzen)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch

from infusion.data.registry import load, split_of, to_unit_interval
from infusion.nets.model import InfusionModel, load_model
from infusion.nets.networks import POPULATION, set_batch_norm_mode
from infusion.process.infusion_process import InfusionProcess
from infusion.runtime.atomic import write_npz
from infusion.runtime.context import computing
from infusion.runtime.device import resolve_device
from infusion.runtime.progress import Progress
from infusion.settings import SampleSettings

log = logging.getLogger(__name__)


def sample_file(
    model_path: str | Path, data_path: str | Path | None, settings: SampleSettings, out: str | Path
) -> None:
    """:func:`draw_samples` of the model file ``model_path``, written atomically to the npz
    file ``out`` with the image ``shape``; with ``data_path`` (a prepared dataset), its first
    ``settings.infusion_targets`` test images seed the kept infusion chains."""
    model, _ = load_model(model_path, resolve_device(settings.device))
    targets = None
    if data_path:
        test = split_of(load(Path(data_path)), "test", data_path, (model_path, model.shape))
        test = test[: settings.infusion_targets]
        targets = torch.as_tensor(to_unit_interval(test))
    samples = draw_samples(model, settings, targets)
    write_npz(out, shape=np.array(model.shape), **samples)


def draw_samples(
    model: InfusionModel, settings: SampleSettings, targets: torch.Tensor | None = None
) -> dict[str, np.ndarray]:
    """:func:`sample_chains` at ``settings.precision``, with the operator compiled as
    ``settings.compile`` says (:func:`infusion.runtime.context.computing`)."""
    with computing(model, settings.precision, settings.compile):
        return sample_chains(model, settings, targets)


def sample_chains(
    model: InfusionModel, settings: SampleSettings, targets: torch.Tensor | None = None
) -> dict[str, np.ndarray]:
    """Run ``settings.samples`` model sampling chains of ``settings.sampling_steps`` steps.

    Batch norm uses the population statistics of the training set. Returns float32 arrays:
    ``means`` [S x d], the last step's means (what the figures and, by default, Parzen
    use); ``training_steps_means`` [S x d], the means after T steps, the model's training
    steps (what the authors' code gives Parzen; the last step's when fewer steps are run);
    ``draws`` [S x d], the last step's samples; ``chain_draws`` and
    ``chain_means`` [K x steps+1 x d] / [K x steps x d] for the first K = figure_chains chains.
    With ``targets`` [K2 x d], also ``infusion_chains`` [K2 x T+1 x d] (z~^(0..T-1) and the
    last step's mean, Fig A.2-A.4) and ``infusion_targets``.
    """
    device = model.prior_mean.device
    set_batch_norm_mode(model.operator, POPULATION)
    process = InfusionProcess.of(model.settings, model.shape)
    generator = torch.Generator(device).manual_seed(settings.seed)
    means, t_means, draws, chain_draws, chain_means = [], [], [], None, None
    step_t = min(process.steps, settings.sampling_steps)
    batches = -(-settings.samples // settings.batch)
    progress = Progress(batches, "batch")
    for start in range(0, settings.samples, settings.batch):
        n = min(settings.batch, settings.samples - start)
        z, m = process.sample(model, n, settings.sampling_steps, generator, settings.sampling_eps)
        done = start // settings.batch + 1
        log.info("batch %d/%d: %d samples, %s", done, batches, n, progress.report(done))
        means.append(m[-1].cpu())
        t_means.append(m[step_t - 1].cpu())
        draws.append(z[-1].cpu())
        if chain_draws is None:
            k = settings.figure_chains
            chain_draws = z[:, :k].transpose(0, 1).cpu()
            chain_means = m[:, :k].transpose(0, 1).cpu()
    out = {}
    if targets is not None:
        states = process.chain_states(model, targets.to(device), generator)
        out = {
            "infusion_chains": states.transpose(0, 1).cpu().numpy(),
            "infusion_targets": targets.cpu().numpy(),
        }
    return out | {
        "means": torch.cat(means).numpy(),
        "training_steps_means": torch.cat(t_means).numpy(),
        "draws": torch.cat(draws).numpy(),
        "chain_draws": chain_draws.numpy(),
        "chain_means": chain_means.numpy(),
    }
