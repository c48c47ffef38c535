"""The per-chain log weight l = log p(z~, x) - log q(z~ | x) that every estimator and the
lower-bound objective use (eq. 3.3.3, footnote 4)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from infusion.nets.model import InfusionModel
from infusion.process.chains import mask_channels, walk_infusion_chain
from infusion.process.densities import gaussian_log_density, infusion_log_ratio_sum


@dataclass
class LogWeights:
    """Per-chain parts of l = log p(z~, x) - log q(z~ | x), each [N].

    ``chain``: log p^(0)(z~0) - log q^(0)(z~0 | x) + sum_{t<T} [log p^(t) - log q^(t)];
    ``output``: log p^(T)(x | z~^(T-1)); ``output_sse``: ||x - mean^(T)||^2, which with
    ``chain`` gives l for any isotropic output variance (Table 3.1's isotropic rows).
    """

    chain: torch.Tensor
    output: torch.Tensor
    output_sse: torch.Tensor
    dim: int

    @property
    def total(self) -> torch.Tensor:
        return self.chain + self.output

    def isotropic_total(self, var: float) -> torch.Tensor:
        """l with the output replaced by N(x; mean^(T), var * I)."""
        return (
            self.chain - 0.5 * self.dim * math.log(2 * math.pi * var) - self.output_sse / (2 * var)
        )


def chain_log_weights(
    model: InfusionModel,
    x: torch.Tensor,
    generator: torch.Generator,
    reparameterize: bool = False,
    rates: Sequence[float] | None = None,
) -> LogWeights:
    """Draw one infusion chain per row of x [N x d] and score it (eq. 3.3.3, footnote 4).

    ``rates``: q's (a proposal's, :mod:`infusion.process.proposals`), for the draws and for
    log q alike; None: the model's own training chain. log p is the model's either way.
    log q is a mixture per element, or per pixel when the model's mask is shared by a
    pixel's channels (:func:`~infusion.process.chains.mask_channels`).
    """
    infusion_var, channels = model.settings.infusion_var, mask_channels(model)
    chain = x.new_zeros(x.shape[0])
    for s in walk_infusion_chain(model, x, generator, reparameterize, rates):
        if s.z is not None:
            chain = chain + infusion_log_ratio_sum(
                s.z, s.mean, s.var, x, s.alpha, infusion_var, channels
            )
        else:
            output = gaussian_log_density(x, s.mean, s.var).sum(-1)
            output_sse = ((x - s.mean) ** 2).sum(-1)
    return LogWeights(chain, output, output_sse, x.shape[1])
