"""The infusion mixture density, the infusion rate, and the sampling chain."""

import math

import numpy as np
import pytest
import torch
from conftest import tiny_model
from scipy import stats

from infusion.chains import (
    infusion_rate,
    infusion_rates,
    sampling_chain,
    walk_infusion_chain,
)
from infusion.densities import gaussian_log_density, infusion_log_density, infusion_log_ratio_sum
from infusion.networks import POPULATION, set_batch_norm_mode


@pytest.mark.parametrize("alpha", [0.0, 0.03, 0.5, 1.0])
def test_infusion_log_density_matches_brute_force(alpha):
    rng = np.random.default_rng(1)
    z, mean, x = rng.uniform(-0.2, 1.2, (3, 50))
    var = rng.uniform(1e-4, 0.1, 50)
    got = infusion_log_density(*(torch.tensor(a) for a in (z, mean, var, x)), alpha, 1e-4)
    with np.errstate(divide="ignore"):
        log_weights = np.log([1 - alpha, alpha])
    for i in range(50):
        model_term = log_weights[0] + stats.norm.logpdf(z[i], mean[i], math.sqrt(var[i]))
        target_term = log_weights[1] + stats.norm.logpdf(z[i], x[i], 0.01)
        expected = np.logaddexp(model_term, target_term)
        assert got[i].item() == pytest.approx(expected, rel=1e-9, abs=1e-9)


@pytest.mark.parametrize("alpha", [0.0, 0.03, 0.5, 1.0])
@pytest.mark.parametrize("grad", [False, True])
def test_infusion_log_ratio_sum_is_log_p_minus_log_q(alpha, grad):
    """The fused ratio's row sums against scipy's pixel by pixel, with and without
    autograd; targets far from z (the infusion component underflows) included."""
    rng = np.random.default_rng(2)
    z, mean, x = rng.uniform(-0.2, 1.2, (3, 3, 20))
    x[0] = z[0] + rng.uniform(0.5, 1.0, 20)  # N(z; x, 1e-4) ~ exp(-1250) or less
    var = rng.uniform(1e-4, 0.1, (3, 20))
    z_t, mean_t, var_t, x_t = (torch.tensor(a, requires_grad=grad) for a in (z, mean, var, x))
    got = infusion_log_ratio_sum(z_t, mean_t, var_t, x_t, alpha, 1e-4)
    with np.errstate(divide="ignore"):
        log_weights = np.log([1 - alpha, alpha])
    assert got.shape == (3,)
    for row in range(3):
        expected = 0.0
        for i in range(20):
            log_p = stats.norm.logpdf(z[row, i], mean[row, i], math.sqrt(var[row, i]))
            log_target = stats.norm.logpdf(z[row, i], x[row, i], 0.01)
            expected += log_p - np.logaddexp(log_weights[0] + log_p, log_weights[1] + log_target)
        assert got[row].item() == pytest.approx(expected, rel=1e-9, abs=1e-9)
    if grad and 0 < alpha:  # gradients reach z, mean and var (lower-bound training)
        inputs = (z_t, mean_t, var_t)
        assert torch.autograd.gradcheck(
            lambda *a: infusion_log_ratio_sum(*a, x_t, alpha, 1e-4), inputs
        )


def test_gaussian_log_density_matches_scipy():
    z, mean, var = torch.tensor([[0.3, -1.0], [0.1, 0.5], [0.02, 2.0]], dtype=torch.float64)
    expected = stats.norm.logpdf(z.numpy(), mean.numpy(), np.sqrt(var.numpy()))
    np.testing.assert_allclose(gaussian_log_density(z, mean, var).numpy(), expected, rtol=1e-6)


def test_infusion_rate_schedule_is_increasing_and_clipped():
    assert [infusion_rate(t, 0.1, 0.3) for t in range(5)] == pytest.approx(
        [0.1, 0.4, 0.7, 1.0, 1.0]
    )
    assert infusion_rates(tiny_model(steps=4, alpha0=0.0, omega=0.01)) == pytest.approx(
        [0.0, 0.01, 0.02, 0.03]
    )


def test_fraction_of_infused_pixels_matches_alpha():
    model = tiny_model(dim=50, steps=5, alpha0=0.05, omega=0.15)
    x = torch.rand(2000, 50)
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        steps = [s for s in walk_infusion_chain(model, x, generator) if s.z is not None]
    assert len(steps) == 5
    for s in steps:
        n = s.infused.numel()
        fraction = s.infused.float().mean().item()
        sd = math.sqrt(s.alpha * (1 - s.alpha) / n)
        assert abs(fraction - s.alpha) < 5 * sd + 1e-12, (s.t, fraction, s.alpha)
        # infused pixels lie within a few infusion standard deviations of the target
        assert (s.z[s.infused] - x[s.infused]).abs().max() < 0.01 * 6


def test_sampling_chain_shapes_and_clamping():
    model = tiny_model(dim=6, steps=3)
    set_batch_norm_mode(model.operator, POPULATION)
    mask = torch.tensor([True, True, False, False, True, False])
    values = torch.rand(7, 6)
    draws, means = sampling_chain(
        model,
        7,
        steps=8,
        generator=torch.Generator().manual_seed(0),
        clamp_mask=mask,
        clamp_values=values,
    )
    assert draws.shape == (9, 7, 6) and means.shape == (8, 7, 6)
    for states in (draws, means):
        assert torch.equal(states[:, :, mask], values[:, mask].expand(states.shape[0], -1, -1))
    assert not torch.equal(draws[-1][:, ~mask], draws[-2][:, ~mask])


def test_batch_norm_has_separate_parameters_per_step():
    model = tiny_model(dim=4, steps=3)
    norm = model.operator.norms[0]
    assert norm.weight.shape == (3, 16) and norm.population_mean.shape == (3, 16)
    with torch.no_grad():
        norm.bias[1] += 5.0  # change step 2 only
    set_batch_norm_mode(model.operator, POPULATION)
    z = torch.rand(5, 4)
    before = model.operator(z, 1)[0].clone()
    with torch.no_grad():
        norm.bias[1] -= 5.0
    assert torch.equal(before, model.operator(z, 1)[0])


def test_mlp_population_mode_matches_a_numpy_forward_pass():
    """The MLP folds its population batch norm into the matrix product; the result must be
    the layer-by-layer definition: relu((W h - mean) / sqrt(var + eps) * gamma + beta)."""
    model = tiny_model(dim=6, steps=3)
    op = model.operator
    generator = torch.Generator().manual_seed(5)
    with torch.no_grad():
        for norm in op.norms:
            for tensor in (norm.weight, norm.bias, norm.population_mean):
                tensor.copy_(torch.randn(tensor.shape, generator=generator))
            norm.population_var.copy_(torch.rand(norm.population_var.shape, generator=generator))
    set_batch_norm_mode(op, POPULATION)
    z = torch.rand(7, 6, generator=generator)
    for step in (1, 3, 5):  # 5 > T: the last step's statistics
        s = min(step, 3) - 1
        h = z.double().numpy()
        for linear, norm in zip(op.linears, op.norms, strict=True):
            a = h @ linear.weight.double().detach().numpy().T
            mean, var = norm.population_mean[s].double(), norm.population_var[s].double()
            a = (a - mean.numpy()) / np.sqrt(var.numpy() + norm.eps)
            h = np.maximum(a * norm.weight[s].double().detach().numpy()
                           + norm.bias[s].double().detach().numpy(), 0.0)  # fmt: skip
        logits = [h @ head.weight.double().detach().numpy().T + head.bias.double().detach().numpy()
                  for head in (op.mean_head, op.var_head)]  # fmt: skip
        expected_mean = 1 / (1 + np.exp(-logits[0]))
        expected_var = op.beta / (1 + np.exp(-logits[1])) + op.variance_eps
        with torch.no_grad():
            mean, var = op(z, step)
        np.testing.assert_allclose(mean.numpy(), expected_mean, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(var.numpy(), expected_var, rtol=1e-5, atol=1e-7)
