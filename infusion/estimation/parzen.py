"""Parzen-window log-likelihood estimate (Breuleux et al. 2011; Goodfellow et al. 2014).

log p(x) = logmeanexp_j( -||x - mu_j||^2 / (2 sigma^2) ) - d log(sigma sqrt(2 pi)),
with mu_j the model's samples. Distances come from the matrix product
||x||^2 - 2 x.mu + ||mu||^2 in blocks, so memory stays at [block x block] and no
[N x M x d] tensor is ever formed.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import numpy as np
import torch

from infusion.data.registry import dequantize, load, split_of, to_unit_interval
from infusion.runtime.atomic import write_json
from infusion.runtime.reading import read_npz
from infusion.settings import PARZEN_TEST_POINTS, ParzenSettings

log = logging.getLogger(__name__)
# Fig 3.4's two kernel centres (ParzenSettings.chain_steps) -> their key in a samples file.
CENTRES = {"sampling": "means", "training": "training_steps_means"}


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


def estimate_file(
    samples_npz: str | Path,
    data_npz: str | Path,
    split: str,
    settings: ParzenSettings,
    out: str | Path,
) -> None:
    """Fig 3.4's Parzen estimate of the ``split`` points of the prepared dataset ``data_npz``
    under the samples file ``samples_npz`` (``infusion sample``), written atomically to the
    JSON file ``out``.

    Both kernel centres of :data:`CENTRES` are estimated (:func:`estimate`) at both test
    points (:func:`scored_points` dequantized or raw, ``PARZEN_TEST_POINTS``):
    ``by_test_points[points][centres]``. The headline is ``settings.dequantize_test``'s points
    (``by_chain_steps``: their estimates by centres) and of them ``settings.chain_steps``'s.
    """
    samples = read_npz(samples_npz, *CENTRES.values())
    data = load(Path(data_npz))
    by_points = {}
    for dequantized, points in PARZEN_TEST_POINTS.items():
        valid, scored = scored_points(data, split, settings, data_npz, dequantized)
        by_points[points] = {
            centres: estimate(
                samples[key], valid, scored, settings, f"{centres} centres, {points} points"
            )
            for centres, key in CENTRES.items()
        }
    estimates = by_points[PARZEN_TEST_POINTS[settings.dequantize_test]]
    write_json(
        out,
        {
            "split": split,
            "samples": len(samples["means"]),
            "chain_steps": settings.chain_steps,
            **estimates[settings.chain_steps],
            "by_chain_steps": estimates,
            "dequantize_test": settings.dequantize_test,
            "by_test_points": by_points,
        },
    )


def estimate_real_file(
    data_npz: str | Path,
    split: str,
    centres: int,
    settings: ParzenSettings,
    out: str | Path,
) -> None:
    """The Parzen estimate of real images (Theis, van den Oord and Bethge, 2016): the first
    ``centres`` training images of ``data_npz`` (``pixels / 256``; prepared datasets are
    stored shuffled) as kernel centres in place of a model's samples, the ``split`` points
    and sigma as :func:`estimate_file`'s; written atomically to the JSON file ``out``."""
    data = load(Path(data_npz))
    if not 1 <= centres <= len(data["train"]):
        raise ValueError(
            f"{data_npz}: {centres} kernel centres asked of its {len(data['train'])} "
            "training images"
        )
    valid, scored = scored_points(data, split, settings, data_npz, settings.dequantize_test)
    train = to_unit_interval(data["train"][:centres])
    result = estimate(train, valid, scored, settings, "training-image centres")
    write_json(out, {"split": split, "samples": centres, "centres": "train", **result})


def scored_points(
    data: dict[str, np.ndarray],
    split: str,
    settings: ParzenSettings,
    path: str | Path,
    dequantized: bool,
) -> tuple[np.ndarray | None, np.ndarray]:
    """(valid points, ``split`` points) of the prepared dataset ``data`` read from ``path``:
    the first ``settings.examples`` of each split (pixels / 256), ``dequantized`` with one
    generator seeded ``settings.seed``, the valid ones first; the valid points are drawn
    only when ``settings.sigma`` is 0 (sigma is chosen on them), else ``None``."""
    generator = torch.Generator().manual_seed(settings.seed)

    def points(name):
        images = split_of(data, name, path)[: settings.examples]
        images = torch.as_tensor(to_unit_interval(images))
        return (dequantize(images, generator) if dequantized else images).numpy()

    valid = points("valid") if settings.sigma == 0 else None
    return valid, points(split)


def estimate(centres, valid, scored, settings: ParzenSettings, name: str) -> dict:
    """Sigma, the validation scores of its candidates ({} when fixed), and the mean and
    standard error of the ``scored`` points' log densities under ``centres``.

    Sigma is ``settings.sigma`` or, when it is 0, the one of ``settings.sigma_grid`` with the
    highest mean log density of the ``valid`` points (:func:`choose_sigma`).
    """
    sigma, scores = settings.sigma, {}
    if sigma == 0:
        sigma, scores = choose_sigma(centres, valid, settings.sigma_grid, settings.batch)
        log.info("%s: sigma %.4g chosen on validation data", name, sigma)
    values = log_likelihood(centres, scored, sigma, settings.batch)
    return {"sigma": sigma, "validation_scores": scores, **summarise(values)}
