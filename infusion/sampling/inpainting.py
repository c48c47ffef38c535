"""Inpainting (Fig 3.6): the top half of test images clamped through the model sampling chain,
the bottom half started from the prior, several completions per image."""

from __future__ import annotations

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
from infusion.settings import InpaintSettings


def top_half_mask(shape: tuple[int, int, int]) -> torch.Tensor:
    """[C*H*W] bool, true on the rows 0..H//2-1 of every channel of a (C, H, W) image."""
    channels, height, width = shape
    rows = torch.arange(height) < height // 2  # [H]
    return rows[None, :, None].expand(channels, height, width).reshape(-1)


def inpaint(
    model: InfusionModel, images: torch.Tensor, settings: InpaintSettings
) -> dict[str, np.ndarray]:
    """Complete the bottom half of ``images`` [n x d] (pixels / 256) ``completions`` times.

    Each image is repeated ``settings.completions`` times; the sampling chain of
    ``settings.sampling_steps`` steps starts from the prior and holds the top half at the
    image's pixels at every step (batch norm with training-set statistics). Returns float32
    ``images`` [n x d], ``starts`` [n x k x d] (the chains' z^(0): the top half clamped, the
    bottom half from the prior), ``completions`` [n x k x d] (the last step's means) and
    ``mask`` [d] bool (the clamped pixels).
    """
    device = model.prior_mean.device
    set_batch_norm_mode(model.operator, POPULATION)
    generator = torch.Generator(device).manual_seed(settings.seed)
    mask = top_half_mask(model.shape).to(device)
    n, k = len(images), settings.completions
    values = images.to(device).repeat_interleave(k, dim=0)  # [n*k x d]
    process = InfusionProcess.of(model.settings, model.shape)
    with computing(model, settings.precision, settings.compile):
        draws, means = process.sample(
            model, n * k, settings.sampling_steps, generator, settings.sampling_eps, mask, values
        )
    return {
        "images": images.cpu().numpy().astype(np.float32),
        "starts": draws[0].reshape(n, k, -1).float().cpu().numpy(),
        "completions": means[-1].reshape(n, k, -1).float().cpu().numpy(),
        "mask": mask.cpu().numpy(),
    }


def inpaint_file(
    model_path: str | Path, data_path: str | Path, settings: InpaintSettings, out: str | Path
) -> None:
    """:func:`inpaint` of the model file ``model_path`` on the first ``settings.images`` test
    images of the prepared dataset ``data_path``, written atomically to the npz file ``out``
    with the image ``shape``."""
    model, _ = load_model(model_path, resolve_device(settings.device))
    test = split_of(load(Path(data_path)), "test", data_path, (model_path, model.shape))
    test = test[: settings.images]
    result = inpaint(model, torch.as_tensor(to_unit_interval(test)), settings)
    write_npz(out, shape=np.array(model.shape), **result)
