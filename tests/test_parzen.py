"""The Parzen-window estimator against an explicit sum of Gaussian densities."""

import math

import numpy as np
import pytest
import torch
from scipy.special import logsumexp
from scipy.stats import multivariate_normal

from infusion.estimation import parzen


def explicit_parzen(samples, points, sigma):
    """log (1/M) sum_j N(x; mu_j, sigma^2 I), one scipy density at a time, in float64."""
    out = []
    for x in points:
        logs = [multivariate_normal.logpdf(x, mu, sigma**2) for mu in samples]
        out.append(logsumexp(logs) - math.log(len(samples)))
    return np.array(out)


@pytest.mark.parametrize("block", [1000, 7])  # one block, and many blocks of both operands
def test_parzen_matches_explicit_gaussian_mixture(block):
    rng = np.random.default_rng(0)
    samples = rng.uniform(0, 1, (53, 20))
    points = rng.uniform(0, 1, (31, 20))
    for sigma in (0.17, 0.5):
        got = parzen.log_likelihood(samples, points, sigma, block=block)
        np.testing.assert_allclose(got, explicit_parzen(samples, points, sigma), atol=2e-3)


def test_parzen_is_accurate_far_from_every_sample():
    # exp underflows for all kernels here; the log-sum-exp must still be exact
    samples = np.zeros((5, 784))
    points = np.full((2, 784), 0.9)
    got = parzen.log_likelihood(samples, points, 0.17, block=2)
    expected = -784 * 0.81 / (2 * 0.17**2) - 784 * math.log(0.17 * math.sqrt(2 * math.pi))
    np.testing.assert_allclose(got, expected, rtol=1e-6)


def test_sigma_is_chosen_on_validation_data():
    """Goodfellow et al.'s protocol: every sigma of logspace(-1, 0, 10) scored by the mean
    validation log density (numpy, broadcast over all pairs), the best one kept."""
    rng = np.random.default_rng(1)
    samples = rng.normal(0, 0.3, (400, 2))
    valid = rng.normal(0, 0.3, (300, 2))
    grid = np.logspace(-1, 0, 10)
    sigma, scores = parzen.choose_sigma(samples, valid, grid)
    squared = ((valid[:, None] - samples[None]) ** 2).sum(-1)  # [300 x 400]
    expected = {
        s: float(np.mean(logsumexp(-squared / (2 * s * s), axis=1) - math.log(400)
                         - 2 * math.log(s * math.sqrt(2 * math.pi))))
        for s in grid
    }  # fmt: skip
    assert list(scores) == pytest.approx(list(expected))
    assert list(scores.values()) == pytest.approx(list(expected.values()), abs=1e-3)
    assert sigma == pytest.approx(max(expected, key=expected.get))
    assert 0.1 < sigma < 0.5  # a broad kernel over-smooths, a narrow one overfits the samples


def test_summary_reports_standard_error():
    values = np.array([1.0, 2.0, 3.0, 4.0])
    summary = parzen.summarise(values)
    assert summary["mean"] == 2.5
    assert summary["stderr"] == pytest.approx(np.std(values, ddof=1) / 2)


def test_bad_inputs_are_rejected():
    with pytest.raises(ValueError, match="sigma"):
        parzen.log_likelihood(np.zeros((2, 3)), np.zeros((2, 3)), 0.0)
    with pytest.raises(ValueError, match="must be"):
        parzen.log_likelihood(np.zeros((2, 3)), np.zeros((2, 4)), 0.1)


def test_row_logsumexp_matches_scipy_across_the_underflow_range():
    """Rows spanning thousands of nats (most terms far below exp(-87) of the largest), rows
    of nearly equal terms, rows far below zero, and terms just around the cut: scipy's
    float64 logsumexp to 1e-6 (relative and absolute). A cut at -5 would fail the last row."""
    rng = np.random.default_rng(0)
    rows = np.stack([
        -rng.uniform(0, 3000, 500),
        -rng.uniform(0, 1e-3, 500),
        -5000.0 - rng.uniform(0, 200, 500),
        np.r_[0.0, -88.0, -87.0, np.full(497, -1e4)],
    ])  # fmt: skip
    got = parzen.logsumexp_rows_(torch.as_tensor(rows, dtype=torch.float32)).double().numpy()
    np.testing.assert_allclose(got, logsumexp(rows.astype(np.float32).astype(np.float64), axis=1),
                               rtol=1e-6, atol=1e-6)  # fmt: skip
