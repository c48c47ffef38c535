"""Per-pixel log densities in nats: the model's Gaussians and the infusion mixture.

All functions are elementwise: they take tensors of one shape (or broadcastable ones) and
return the log density of every element; callers sum over pixels.
"""

from __future__ import annotations

import math

import torch

LOG_2PI = math.log(2.0 * math.pi)


def gaussian_log_density(z: torch.Tensor, mean: torch.Tensor, var: torch.Tensor) -> torch.Tensor:
    """log N(z; mean, var), elementwise."""
    var = torch.as_tensor(var, dtype=z.dtype, device=z.device)
    return -0.5 * (LOG_2PI + torch.log(var) + (z - mean) ** 2 / var)


def infusion_log_density(
    z: torch.Tensor,
    mean: torch.Tensor,
    var: torch.Tensor,
    x: torch.Tensor,
    alpha: float,
    infusion_var: float,
) -> torch.Tensor:
    """log q(z | ., x) of the infusion mixture, elementwise (paper section 3.3.3.1).

    q = (1 - alpha) N(z; mean, var) + alpha N(z; x, infusion_var), where ``N(x, infusion_var)``
    is the paper's "delta" (a Gaussian with small variance, 1e-4 in the authors' code).
    ``alpha`` may be 0 or 1; the absent component then contributes nothing.
    """
    log_model = gaussian_log_density(z, mean, var)
    if alpha <= 0.0:
        return log_model
    log_target = gaussian_log_density(z, x, infusion_var)
    if alpha >= 1.0:
        return log_target
    return torch.logaddexp(log_model + math.log1p(-alpha), log_target + math.log(alpha))
