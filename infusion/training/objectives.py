"""Training objectives: denoising (section 3.3.3.2) and the lower bound (section 3.3.4.1)."""

from __future__ import annotations

import torch

from infusion.nets.model import InfusionModel
from infusion.process.chains import walk_infusion_chain
from infusion.process.densities import gaussian_log_density
from infusion.process.log_weights import chain_log_weights
from infusion.settings import OBJECTIVES as OBJECTIVE_NAMES


def denoising_loss(
    model: InfusionModel, x: torch.Tensor, generator: torch.Generator
) -> torch.Tensor:
    """Negative of sum_t (t / T) log p^(t)(x | z~^(t-1)), averaged over the batch x [N x d].

    Denoising-based infusion training (section 3.3.3.2); the weights t / T are footnote 3's
    increasing learning-rate schedule, applied as loss weights as in the authors' code.
    The chain draws carry no gradient.
    """
    steps = model.settings.steps
    total = x.new_zeros(())
    for s in walk_infusion_chain(model, x, generator):
        if s.t > 0:
            log_p = gaussian_log_density(x, s.mean, s.var).sum(-1).mean()
            total = total + (s.t / steps) * log_p
    return -total


def lower_bound_loss(
    model: InfusionModel, x: torch.Tensor, generator: torch.Generator
) -> torch.Tensor:
    """Negative stochastic lower bound, reparameterised through the chain (section 3.3.4.1).

    The choice of infused pixels is a discrete draw and passes no gradient; the Gaussian
    draws do. Unlike denoising training, no per-step weights: this is the bound itself.
    """
    return -chain_log_weights(model, x, generator, reparameterize=True).total.mean()


# The loss of each name of infusion.settings.OBJECTIVES, in its order.
OBJECTIVES = dict(zip(OBJECTIVE_NAMES, (denoising_loss, lower_bound_loss), strict=True))
