"""Parzen-window log-likelihood estimate (Breuleux et al. 2011; Goodfellow et al. 2014).

log p(x) = logmeanexp_j( -||x - mu_j||^2 / (2 sigma^2) ) - d log(sigma sqrt(2 pi)),
with mu_j the model's samples. Distances come from the matrix product
||x||^2 - 2 x.mu + ||mu||^2 in blocks, so memory stays at [block x block] and no
[N x M x d] tensor is ever formed.
"""

from __future__ import annotations

import math

import numpy as np
import torch


def log_likelihood(
    samples: np.ndarray | torch.Tensor,
    points: np.ndarray | torch.Tensor,
    sigma: float,
    block: int = 1000,
    device: str | torch.device = "cpu",
) -> np.ndarray:
    """Per-point Parzen log densities in nats.

    samples: [M x d] kernel centres; points: [N x d]; returns float64 [N].
    """
    if sigma <= 0:
        raise ValueError(f"sigma must be positive, got {sigma}")
    mu = torch.as_tensor(samples, dtype=torch.float32, device=device)
    x = torch.as_tensor(points, dtype=torch.float32, device=device)
    if mu.ndim != 2 or x.ndim != 2 or mu.shape[1] != x.shape[1]:
        raise ValueError(
            f"samples {tuple(mu.shape)} and points {tuple(x.shape)} must be [M x d], [N x d]"
        )
    centre = mu.mean(0)  # distances are shift-invariant; centring keeps float32 accurate
    mu, x = mu - centre, x - centre
    scale = -0.5 / sigma**2
    scaled_mu_sq = scale * (mu * mu).sum(1)
    out = torch.empty(x.shape[0], dtype=torch.float64)
    for start in range(0, x.shape[0], block):
        xb = x[start : start + block]
        scaled_xb_sq = scale * (xb * xb).sum(1, keepdim=True)
        acc = torch.full((xb.shape[0],), -math.inf, dtype=torch.float64, device=device)
        for first in range(0, mu.shape[0], block):
            # scale * ||x - mu||^2 in one product and two in-place passes; clamped at 0
            # (a distance is never negative; rounding can make it so).
            logits = torch.addmm(
                scaled_mu_sq[first : first + block],
                xb,
                mu[first : first + block].T,
                alpha=-2 * scale,
            )
            logits.add_(scaled_xb_sq).clamp_max_(0.0)
            acc = torch.logaddexp(acc, logsumexp_rows_(logits).double())
        out[start : start + block] = acc.cpu()
    d = x.shape[1]
    return (out - math.log(mu.shape[0]) - d * math.log(sigma * math.sqrt(2 * math.pi))).numpy()


# exp(x) for x below this is under 1e-38: smaller than float32 can add to a sum whose largest
# term is exp(0) = 1, and computed on the CPU's slow underflow path (ten times slower here).
SMALLEST_EXPONENT = -87.0


def logsumexp_rows_(logits: torch.Tensor) -> torch.Tensor:
    """log sum_j exp(logits[i, j]) for every row i, overwriting ``logits``.

    Terms more than 87 nats below their row's largest are counted as exp(-87) times it:
    the sum changes by under n * 1e-38 of itself, nothing in float32, and the exponentials
    never take the underflow path that made them most of a Parzen estimate's time.
    """
    top = logits.amax(1, keepdim=True)
    terms = logits.sub_(top).clamp_min_(SMALLEST_EXPONENT).exp_()
    return terms.sum(1).log_().add_(top.squeeze(1))


def choose_sigma(
    samples, valid_points, grid, block: int = 1000, device="cpu"
) -> tuple[float, dict]:
    """The sigma of ``grid`` with the highest mean log-likelihood on validation points.

    Returns it and the mean log-likelihood of every candidate.
    """
    scores = {
        float(s): float(log_likelihood(samples, valid_points, s, block, device).mean())
        for s in grid
    }
    return max(scores, key=scores.get), scores


def summarise(values: np.ndarray) -> dict:
    """Mean and standard error (std / sqrt(N)), as Parzen tables report them."""
    return {
        "mean": float(values.mean()),
        "stderr": float(values.std(ddof=1) / math.sqrt(len(values))) if len(values) > 1 else 0.0,
        "n": len(values),
    }
