"""Bernoulli masks and the positions of their successes (infusion.process.draws)."""

import math

import numpy as np
import pytest
import torch
from scipy import stats

from infusion.process import draws
from infusion.process.draws import bernoulli_mask, bernoulli_positions


def assert_bernoulli_positions(positions: torch.Tensor, n: int, p: float) -> None:
    """positions are the successes of n i.i.d. Bernoulli(p) trials: strictly increasing in
    [0, n), as many as a binomial count allows, gaps geometric (chi-square against scipy's
    geom) and successes spread evenly over ten blocks of the range."""
    pos = positions.numpy()
    assert positions.dtype == torch.long and np.all(np.diff(pos) > 0)
    assert pos[0] >= 0 and pos[-1] < n
    assert abs(len(pos) - n * p) < 5 * math.sqrt(n * p * (1 - p))
    gaps = np.diff(pos, prepend=-1)
    edges = np.unique(stats.geom.ppf(np.linspace(0, 0.99, 12)[1:], p))  # equal-mass bins
    observed = np.histogram(gaps, bins=[1, *edges[1:], np.inf])[0]
    cdf = stats.geom.cdf(np.array([0, *edges[1:] - 1, np.inf]), p)
    expected = np.diff(cdf) * len(gaps)
    assert stats.chisquare(observed, expected * observed.sum() / expected.sum()).pvalue > 1e-4
    blocks = np.bincount(pos * 10 // n, minlength=10)
    assert stats.chisquare(blocks).pvalue > 1e-4


@pytest.mark.parametrize("p", [0.003, 0.07, 0.25, 0.5])
def test_bernoulli_positions_are_geometric_gaps(p):
    n = 300_000
    positions = bernoulli_positions(n, p, torch.Generator().manual_seed(3))
    assert_bernoulli_positions(positions, n, p)


def test_bernoulli_positions_draws_more_rounds_until_the_end(monkeypatch):
    """With no spare draws a round falls short about half the time: the rounds must join."""
    monkeypatch.setattr(draws, "SPARE_DEVIATIONS", 0.0)
    generator = torch.Generator().manual_seed(4)
    n = 20_000
    joined = torch.cat([bernoulli_positions(n, 0.05, generator) + i * n for i in range(20)])
    assert_bernoulli_positions(joined, 20 * n, 0.05)


def test_bernoulli_positions_edge_rates():
    generator = torch.Generator().manual_seed(0)
    assert bernoulli_positions(100, 0.0, generator).numel() == 0
    assert torch.equal(bernoulli_positions(100, 1.0, generator), torch.arange(100))


@pytest.mark.parametrize("p", [0.0, 0.01, 0.2, 0.4, 0.8, 0.97, 1.0])
def test_bernoulli_mask_has_the_rate_everywhere(p):
    """Sparse (rare outcome <= 0.25: 0.01, 0.2, 0.8, 0.97) and dense (0.4) masks alike."""
    mask = bernoulli_mask((500, 300), p, torch.Generator().manual_seed(5))
    assert mask.shape == (500, 300) and mask.dtype == torch.bool
    if p in (0.0, 1.0):
        assert bool(mask.all()) == (p == 1.0) and bool(mask.any()) == (p == 1.0)
        return
    assert abs(mask.float().mean().item() - p) < 5 * math.sqrt(p * (1 - p) / mask.numel())
    rows = mask.sum(1).numpy().astype(float)  # binomial(300, p) per row: its variance
    assert rows.var(ddof=1) == pytest.approx(300 * p * (1 - p), rel=0.25)  # 4 sd of 500 rows
    columns = mask.sum(0).numpy()
    assert stats.chisquare(columns).pvalue > 1e-4
