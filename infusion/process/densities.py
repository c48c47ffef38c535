"""Per-pixel log densities in nats: the model's Gaussians and the infusion mixture's ratio
to them.

They take tensors of one shape (or broadcastable ones): the Gaussian's log density is
elementwise, the ratio is summed over each row's pixels.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

LOG_2PI = math.log(2.0 * math.pi)


def gaussian_log_density(z: torch.Tensor, mean: torch.Tensor, var: torch.Tensor) -> torch.Tensor:
    """log N(z; mean, var), elementwise."""
    var = torch.as_tensor(var, dtype=z.dtype, device=z.device)
    return -0.5 * (LOG_2PI + torch.log(var) + (z - mean) ** 2 / var)


def infusion_log_ratio_sum(
    z: torch.Tensor,
    mean: torch.Tensor,
    var: torch.Tensor,
    x: torch.Tensor,
    alpha: float,
    infusion_var: float,
    channels: int = 1,
) -> torch.Tensor:
    """sum over the last dimension of log N(z; mean, var) - log q(z | ., x): one number per
    row (the inner loop of the lower bound). q is the infusion mixture of section 3.3.3.1,
    (1 - alpha) N(z; mean, var) + alpha N(z; x, infusion_var), whose ``N(x, infusion_var)``
    is the paper's "delta" (a Gaussian of small variance, 1e-4 in the authors' code);
    ``alpha`` may be 0 or 1.

    The difference of the two densities in a third of their passes over memory. With
    d = (z - mean)^2 / var + log var - (z - x)^2 / infusion_var,
    u = (d - log infusion_var) / 2 = log N(z; x, infusion_var) - log N(z; mean, var) and, per
    pixel, log N - log q = -log(1 - alpha) - softplus(u + log(alpha / (1 - alpha))); -u at
    alpha = 1, 0 at alpha = 0. The softplus is taken of d + 2 log(alpha / (1 - alpha)) -
    log infusion_var with beta = 1/2 (twice the one above), and the constant terms are
    applied to the row sums. Without gradients to record, d is built in place in one
    temporary.

    ``channels`` > 1: rows are images [C x H x W] flattened whose infusion mask is shared by
    a pixel's C channels (``channel_mask: pixel``). q is then a mixture per pixel, not per
    element: q(z_p) = (1 - alpha) prod_c N(z_c; mean_c, var_c) + alpha prod_c N(z_c; x_c,
    infusion_var), whose u is the sum of its channels' (its d summed, minus C log
    infusion_var); 1: a mixture per element.
    """
    if alpha <= 0.0:
        return z.new_zeros(z.shape[:-1])
    record = torch.is_grad_enabled() and any(t.requires_grad for t in (z, mean, var))
    if record:
        d = (
            torch.addcdiv(torch.log(var), (z - mean).square(), var)
            - (z - x).square() / infusion_var
        )
    else:
        d = torch.addcdiv(torch.log(var), (z - mean).square_(), var)
        d.sub_((z - x).square_(), alpha=1.0 / infusion_var)
    elements, log_iv = z.shape[-1], math.log(infusion_var)
    if alpha >= 1.0:
        return d.sum(-1).sub(elements * log_iv).mul(-0.5)
    if channels > 1:  # one mixture a pixel: u is its channels' sum
        d = d.unflatten(-1, (channels, -1)).sum(-2)
    twice_shift = 2.0 * (math.log(alpha) - math.log1p(-alpha)) - channels * log_iv
    d = d + twice_shift if record else d.add_(twice_shift)
    return F.softplus(d, beta=0.5).sum(-1).mul(-0.5).sub(d.shape[-1] * math.log1p(-alpha))
