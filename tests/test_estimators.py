"""Lower bound and importance sampling against exact log-likelihoods."""

import math

import numpy as np
import pytest
import torch
from conftest import tiny_model
from scipy import stats

from infusion.chains import walk_infusion_chain
from infusion.estimators import draw_log_weights, isotropic_variance, lower_bound_and_importance
from infusion.evaluation import fit_population_statistics


def toy_model(steps):
    """A 1-pixel model with broad variances (beta = 1) so that grids resolve its densities."""
    model = tiny_model(
        dim=1, steps=steps, alpha0=0.3, omega=0.2, hidden=8, beta=1.0, variance_eps=0.01
    ).double()
    model.fit_prior(torch.rand(1000, 1, dtype=torch.float64) * 0.6 + 0.2)
    fit_population_statistics(
        model, torch.rand(512, 1, dtype=torch.float64), 512, torch.Generator().manual_seed(0)
    )
    return model


def exact_log_likelihood(model, x: float) -> float:
    """log p(x) by numerical integration over z^(0) (and z^(1) when T = 2) on dense grids."""
    op = model.operator
    mu0, sd0 = model.prior_mean.item(), model.prior_var.sqrt().item()
    z0 = np.linspace(mu0 - 10 * sd0, mu0 + 10 * sd0, 4001)
    p0 = stats.norm.pdf(z0, mu0, sd0)
    with torch.no_grad():
        m1, v1 = (a.numpy()[:, 0] for a in op(torch.tensor(z0)[:, None], 1))
        if model.settings.steps == 1:
            integrand = p0 * stats.norm.pdf(x, m1, np.sqrt(v1))
            return math.log(np.trapezoid(integrand, z0))
        z1 = np.linspace(-4.0, 5.0, 3001)
        m2, v2 = (a.numpy()[:, 0] for a in op(torch.tensor(z1)[:, None], 2))
    p1 = stats.norm.pdf(z1[None, :], m1[:, None], np.sqrt(v1)[:, None])  # [z0 x z1]
    inner = np.trapezoid(p1 * stats.norm.pdf(x, m2, np.sqrt(v2))[None, :], z1, axis=1)
    return math.log(np.trapezoid(p0 * inner, z0))


@pytest.mark.parametrize("steps", [1, 2])
@pytest.mark.parametrize("chain_batch", [100_000, 3_000])
def test_importance_sampling_matches_numerical_integration(steps, chain_batch):
    model = toy_model(steps)
    points = [0.05, 0.4, 0.8]
    x = torch.tensor(points, dtype=torch.float64)[:, None]
    weights = draw_log_weights(model, x, 20_000, torch.Generator().manual_seed(1), chain_batch)
    assert weights.chain.shape == (3, 20_000)
    lower, importance = lower_bound_and_importance(weights.total)
    for i, point in enumerate(points):
        exact = exact_log_likelihood(model, point)
        assert importance[i].item() == pytest.approx(exact, abs=0.02), (point, exact)
        assert lower[i].item() <= importance[i].item()
        assert lower[i].item() < exact - 1e-3  # a strict bound here: q differs from the posterior


def test_lower_bound_never_exceeds_importance_estimate_on_same_draws():
    log_w = torch.randn(50, 7, dtype=torch.float64) * 30
    lower, importance = lower_bound_and_importance(log_w)
    assert (lower <= importance + 1e-12).all()
    expected = torch.tensor([np.log(np.mean(np.exp(row))) for row in log_w.numpy()])
    torch.testing.assert_close(importance, expected)


def test_isotropic_variance_maximises_the_isotropic_lower_bound():
    model = tiny_model(dim=5, steps=2)
    fit_population_statistics(model, torch.rand(64, 5), 64, torch.Generator().manual_seed(0))
    weights = draw_log_weights(model, torch.rand(20, 5), 30, torch.Generator().manual_seed(2), 256)
    best = isotropic_variance(weights)

    def bound(v):
        return weights.isotropic_total(v).mean().item()

    assert bound(best) > bound(best * 1.1) and bound(best) > bound(best / 1.1)
    # with a variance equal to every pixel's model variance, isotropic == diagonal output
    direct = weights.chain - 0.5 * 5 * math.log(2 * math.pi * 0.3) - weights.output_sse / 0.6
    torch.testing.assert_close(weights.isotropic_total(0.3), direct)


def test_draw_log_weights_equals_a_plain_reference_computation():
    """The optimised path (batched passes, fused in-place densities) against a plain one:
    the same chain draws, scored pixel by pixel in float64 with scipy."""
    model = tiny_model(dim=4, steps=3, alpha0=0.1, omega=0.3)  # rates 0.1, 0.4, 0.7
    fit_population_statistics(model, torch.rand(64, 4), 64, torch.Generator().manual_seed(0))
    x, chains = torch.rand(5, 4), 7
    weights = draw_log_weights(model, x, chains, torch.Generator().manual_seed(3), 4096)

    targets = x.repeat_interleave(chains, 0)  # one pass: every example's chains, in order
    with torch.no_grad():
        steps = list(walk_infusion_chain(model, targets, torch.Generator().manual_seed(3)))
    xs = targets.double().numpy()
    expected = np.zeros(len(xs))
    for s in steps[:-1]:  # log p(z~t) - log q(z~t | x) per pixel, then summed
        z = s.z.double().numpy()
        mean, sd = np.broadcast_to(s.mean.double().numpy(), z.shape), s.var.double().sqrt()
        sd = np.broadcast_to(sd.numpy(), z.shape)
        log_p = stats.norm.logpdf(z, mean, sd)
        q = (1 - s.alpha) * np.exp(log_p) + s.alpha * stats.norm.pdf(z, xs, 0.01)
        expected += (log_p - np.log(q)).sum(1)
    last = steps[-1]
    output = stats.norm.logpdf(xs, last.mean.double().numpy(), last.var.double().sqrt().numpy())
    expected += output.sum(1)
    np.testing.assert_allclose(weights.total.reshape(-1).numpy(), expected, rtol=1e-5, atol=1e-3)
    sse = ((xs - last.mean.double().numpy()) ** 2).sum(1)
    np.testing.assert_allclose(weights.output_sse.reshape(-1).numpy(), sse, rtol=1e-5)
