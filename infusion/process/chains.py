"""The infusion chain q(z~ | x) and the model sampling chain p (paper sections 3.3.2-3.3.3).

Functions take the model as an argument and return plain tensors; no training or I/O here.
Indexing follows the paper: z^(0) is drawn from the prior (or q^(0)), step t = 1..T applies
the transition operator p^(t) to z^(t-1).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import torch

from infusion.nets.model import InfusionModel
from infusion.process.draws import bernoulli_mask
from infusion.process.proposals import model_rates


def infusion_rates(model: InfusionModel) -> list[float]:
    """The rates of the T infused draws z~^(0..T-1) of the model's own infusion process, the
    one it was trained with (:func:`~infusion.process.proposals.model_rates`)."""
    return model_rates(model.settings)


def mask_channels(model: InfusionModel) -> int:
    """How many channels share each draw of the infusion mask: the image's channels C under
    ``channel_mask: pixel`` (one draw per pixel), else 1 (one per element)."""
    return model.shape[0] if model.settings.channel_mask == "pixel" else 1


def infuse(
    mean: torch.Tensor,
    var: torch.Tensor,
    x: torch.Tensor,
    alpha: float,
    infusion_var: float,
    generator: torch.Generator,
    channels: int = 1,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Draw z ~ (1 - alpha) N(mean, var) + alpha N(x, infusion_var), per pixel.

    Returns the draw [... x d] and the boolean mask of elements taken from the target x. The
    mask has one Bernoulli(alpha) draw per element (``channels`` = 1) or, rows of x being
    images [C x H x W] flattened, one per pixel shared by its ``channels`` = C channels
    (:func:`mask_channels`).
    Both components are written as location + scale * noise, so gradients reach ``mean``
    and ``var`` (reparameterisation) when they require them.
    """
    noise = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
    if channels == 1:
        infused = bernoulli_mask(x.shape, alpha, generator, x.device)
    else:  # [... x 1 x H*W] drawn, the same for each channel
        *rows, d = x.shape
        pixels = bernoulli_mask((*rows, 1, d // channels), alpha, generator, x.device)
        infused = pixels.expand(*rows, channels, d // channels).reshape(x.shape)
    z = torch.where(
        infused,
        torch.add(x, noise, alpha=infusion_var**0.5),
        torch.addcmul(mean, var.sqrt(), noise),
    )
    return z, infused


@dataclass
class ChainStep:
    """One step of an infusion chain.

    ``mean``, ``var``: the model's p^(t) for this step ([d] for the prior at t = 0, else
    [N x d]); ``z``: z~^(t) drawn from q^(t) ([N x d]; None at t = T, where the chain ends
    on the target); ``infused``: mask of the pixels of z taken from the target; ``alpha``:
    the infusion rate of the draw.
    """

    t: int
    mean: torch.Tensor
    var: torch.Tensor
    z: torch.Tensor | None
    infused: torch.Tensor | None
    alpha: float


def walk_infusion_chain(
    model: InfusionModel,
    x: torch.Tensor,
    generator: torch.Generator,
    reparameterize: bool = False,
    rates: Sequence[float] | None = None,
) -> Iterator[ChainStep]:
    """Run q(z~^(0), ..., z~^(T-1) | x) for a batch of targets x [N x d], step by step.

    Yields T + 1 :class:`ChainStep`: t = 0 (the prior and z~^(0)), then t = 1..T, each with
    the operator's output on z~^(t-1). Draws are detached from the graph unless
    ``reparameterize`` (lower-bound training, section 3.3.4.1). ``rates``: q's T rates (a
    :class:`~infusion.process.proposals.Proposal`'s); None: the model's own
    (:func:`infusion_rates`). The operator p is the model's either way.
    """
    steps, infusion_var = model.settings.steps, model.settings.infusion_var
    rates = infusion_rates(model) if rates is None else list(rates)
    if len(rates) != steps:
        raise ValueError(f"{len(rates)} infusion rates given for a {steps}-step chain")
    channels = mask_channels(model)
    mean, var = model.prior_mean, model.prior_var
    z, infused = infuse(mean, var, x, rates[0], infusion_var, generator, channels)
    yield ChainStep(0, mean, var, z, infused, rates[0])
    for t in range(1, steps + 1):
        mean, var = model.operator(z, t)
        if t < steps:
            z, infused = infuse(mean, var, x, rates[t], infusion_var, generator, channels)
            if not reparameterize:
                z = z.detach()
            yield ChainStep(t, mean, var, z, infused, rates[t])
        else:
            yield ChainStep(t, mean, var, None, None, 0.0)


def infusion_chain_states(
    model: InfusionModel, x: torch.Tensor, generator: torch.Generator
) -> torch.Tensor:
    """The chain as pictures: [T + 1 x N x d], rows z~^(0..T-1) and the last step's mean."""
    with torch.no_grad():
        states = [
            s.z if s.z is not None else s.mean for s in walk_infusion_chain(model, x, generator)
        ]
    return torch.stack(states)


def sampling_chain(
    model: InfusionModel,
    n: int,
    steps: int,
    generator: torch.Generator,
    sampling_eps: float | None = None,
    clamp_mask: torch.Tensor | None = None,
    clamp_values: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Draw n chains z^(0) ~ p^(0), z^(t) ~ p^(t)(. | z^(t-1)) for t = 1..steps.

    ``steps`` may exceed the training T (the paper samples MNIST with 30 steps for a 15-step
    model); later steps reuse the last step's batch norm. ``sampling_eps`` replaces the
    variance head's eps while sampling (1e-5 in the authors' code). ``clamp_mask`` ([d] bool)
    with ``clamp_values`` ([n x d]) holds those pixels fixed at every step (inpainting).

    Returns the draws [steps + 1 x n x d] and the step means [steps x n x d].
    """
    device = model.prior_mean.device
    shape = (n, model.dim)
    draws, means = [], []

    def clamp(z):
        return z if clamp_mask is None else torch.where(clamp_mask, clamp_values, z)

    with torch.no_grad():
        noise = torch.randn(shape, generator=generator, device=device)
        z = clamp(model.prior_mean + model.prior_var.sqrt() * noise)
        draws.append(z)
        for t in range(1, steps + 1):
            mean, var = model.operator(z, t)
            if sampling_eps is not None:
                var = var - model.settings.variance_eps + sampling_eps
            noise = torch.randn(shape, generator=generator, device=device)
            z = clamp(mean + var.sqrt() * noise)
            draws.append(z)
            means.append(clamp(mean))
    return torch.stack(draws), torch.stack(means)
