"""Lower bound and importance sampling against exact log-likelihoods."""

import math

import numpy as np
import pytest
import torch
from conftest import population_log_weights, process_of, tiny_model
from reference import NoiseFeeder, NumpyMLP, infusion_chain, log_weight, paper_rates
from scipy import optimize, stats

from infusion.estimation.evaluation import fit_population_statistics
from infusion.process.infusion_process import isotropic_variance, lower_bound_and_importance


def toy_model(steps):
    """A 1-pixel model with broad variances (beta = 1) so that grids resolve its densities."""
    model = tiny_model(
        dim=1, steps=steps, alpha0=0.3, omega=0.2, hidden=8, beta=1.0, variance_eps=0.01
    ).double()
    model.fit_prior(torch.rand(1000, 1, dtype=torch.float64) * 0.6 + 0.2)
    fit_population_statistics(
        process_of(model),
        model,
        torch.rand(512, 1, dtype=torch.float64),
        512,
        torch.Generator().manual_seed(0),
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
    weights = population_log_weights(
        model, x, 20_000, torch.Generator().manual_seed(1), chain_batch
    )
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


def fed_log_weights(model, x, chains):
    """draw_log_weights on one pass with fed noise, and the numpy chains of that pass: every
    example's ``chains`` rows in order, population batch norm."""
    with NoiseFeeder(3) as feed:
        weights = population_log_weights(model, x, chains, torch.Generator().manual_seed(3), 4096)
    targets = np.repeat(x.double().numpy(), chains, axis=0)
    reference = infusion_chain(NumpyMLP.of(model), model.prior_mean.double().numpy(),
                               model.prior_var.double().numpy(), targets, feed.normals,
                               feed.masks, 1e-4, population=True)  # fmt: skip
    return weights, reference, targets


def fitted_model(dim, steps, alpha0, omega):
    model = tiny_model(dim=dim, steps=steps, alpha0=alpha0, omega=omega)
    model.fit_prior(torch.rand(100, dim, generator=torch.Generator().manual_seed(4)) * 0.8)
    fit_population_statistics(
        process_of(model), model, torch.rand(64, dim), 64, torch.Generator().manual_seed(0)
    )
    return model


def test_draw_log_weights_equals_the_numpy_bound_on_the_same_noise():
    """Every term of eq. 3.3.3: log p^(0)(z~0) - log q^(0)(z~0 | x), the steps' log p^(t) -
    log q^(t) with q the mixture at alpha^(t) = alpha0 + t omega, and log p^(T)(x | z~^(T-1)),
    recomputed in numpy from the weights on the noise the package drew."""
    model = fitted_model(dim=4, steps=3, alpha0=0.1, omega=0.3)  # rates 0.1, 0.4, 0.7
    x, chains = torch.rand(5, 4, generator=torch.Generator().manual_seed(5)), 7
    weights, reference, targets = fed_log_weights(model, x, chains)
    expected = log_weight(reference, targets, paper_rates(3, 0.1, 0.3), 1e-4)
    np.testing.assert_allclose(weights.total.reshape(-1).numpy(), expected, rtol=1e-5, atol=1e-3)
    last_mean = reference[-1][0]
    sse = ((targets - last_mean) ** 2).sum(1)
    np.testing.assert_allclose(weights.output_sse.reshape(-1).numpy(), sse, rtol=1e-5)


def test_isotropic_bound_and_its_variance_against_numpy_and_scipy():
    """Table 3.1's isotropic rows: the output density replaced by N(x; mean^(T), v I); the
    variance v is the maximiser of the mean isotropic bound, found here by scipy."""
    model = fitted_model(dim=5, steps=2, alpha0=0.2, omega=0.0)
    x, chains = torch.rand(6, 5, generator=torch.Generator().manual_seed(6)), 4
    weights, reference, targets = fed_log_weights(model, x, chains)
    rates, last_mean = [0.2, 0.2], reference[-1][0]

    def isotropic_bound(v):
        isotropic = [*reference[:-1], (last_mean, np.full_like(last_mean, v), None)]
        return log_weight(isotropic, targets, rates, 1e-4)

    for v in (0.003, 0.05):
        got = weights.isotropic_total(v).reshape(-1).numpy()
        np.testing.assert_allclose(got, isotropic_bound(v), rtol=1e-5, atol=1e-3)
    best = optimize.minimize_scalar(
        lambda log_v: -isotropic_bound(math.exp(log_v)).mean(),
        bounds=(math.log(1e-6), 0.0),
        method="bounded",
        options={"xatol": 1e-9},
    )
    assert isotropic_variance(weights) == pytest.approx(math.exp(best.x), rel=1e-4)


@pytest.mark.parametrize("mode", ["batch", "population"])
def test_the_process_leaves_the_batch_norm_mode_to_its_caller(mode):
    """Scoring k chains neither sets nor resets the network's batch-norm mode: the caller's
    (population statistics for test numbers, set by the scoring commands after loading)."""
    from infusion.nets.networks import batch_norms, set_batch_norm_mode

    model = tiny_model(dim=4, steps=3)
    set_batch_norm_mode(model.operator, mode)
    process_of(model).draw_log_weights(model, torch.rand(3, 4), 5, torch.Generator(), 64)
    assert {norm.mode for norm in batch_norms(model.operator)} == {mode}
