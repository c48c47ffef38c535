"""The infusion mixture density, the infusion rate, and the sampling chain."""

import dataclasses
import math

import numpy as np
import pytest
import torch
from conftest import process_of, tiny_model
from reference import NoiseFeeder, NumpyMLP, infusion_chain
from scipy import stats
from scipy.special import logsumexp

from infusion.nets.model import InfusionModel
from infusion.nets.networks import BATCH, POPULATION, set_batch_norm_mode
from infusion.process.densities import (
    gaussian_log_density,
    infusion_log_ratio_sum,
)
from infusion.process.infusion_process import InfusionProcess
from infusion.sampling.samples import sample_chains
from infusion.settings import ModelSettings, SampleSettings


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


def shared_mask_log_ratio(z, mean, var, x, alpha, infusion_var, channels):
    """Brute force, row by row and pixel by pixel: log p(z_pixel) - log q(z_pixel) with p the
    product of the pixel's channel Gaussians and q = (1 - alpha) p + alpha prod_c N(z_c; x_c,
    infusion_var); rows are [C x H*W] flattened."""
    rows, pixels = z.shape[0], z.shape[1] // channels
    out = np.zeros(rows)
    for row in range(rows):
        for pixel in range(pixels):
            at = [c * pixels + pixel for c in range(channels)]
            log_p = stats.norm.logpdf(z[row, at], mean[row, at], np.sqrt(var[row, at])).sum()
            log_target = stats.norm.logpdf(z[row, at], x[row, at], math.sqrt(infusion_var)).sum()
            with np.errstate(divide="ignore"):
                terms = [np.log1p(-alpha) + log_p, np.log(alpha) + log_target]
            out[row] += log_p - logsumexp(terms)
    return out


@pytest.mark.parametrize("alpha", [0.0, 0.03, 0.5, 1.0])
@pytest.mark.parametrize("grad", [False, True])
def test_the_shared_mask_log_ratio_is_a_mixture_per_pixel(alpha, grad):
    """channels = 3: the pixel's three channels infused together or not at all, so q is one
    two-component mixture of products per pixel (not a mixture per element), against the
    brute-force sum; 3 rows of 3 channels x 5 pixels, one target far from z."""
    rng = np.random.default_rng(4)
    z, mean, x = rng.uniform(-0.2, 1.2, (3, 3, 15))
    x[0, :5] = z[0, :5] + rng.uniform(0.5, 1.0, 5)  # channel 0 far: its pixels underflow
    x[1] = z[1] + rng.normal(0, 0.01, 15)  # near: the infusion component dominates
    var = rng.uniform(1e-4, 0.1, (3, 15))
    z_t, mean_t, var_t, x_t = (torch.tensor(a, requires_grad=grad) for a in (z, mean, var, x))
    got = infusion_log_ratio_sum(z_t, mean_t, var_t, x_t, alpha, 1e-4, channels=3)
    expected = shared_mask_log_ratio(z, mean, var, x, alpha, 1e-4, 3)
    np.testing.assert_allclose(got.detach().numpy(), expected, rtol=1e-9, atol=1e-9)
    if 0 < alpha < 1:  # and not the per-element mixture
        per_element = infusion_log_ratio_sum(*(torch.tensor(a) for a in (z, mean, var, x)),
                                             alpha, 1e-4)  # fmt: skip
        assert not np.allclose(per_element.numpy(), expected)
    if grad and 0 < alpha:
        assert torch.autograd.gradcheck(
            lambda *a: infusion_log_ratio_sum(*a, x_t, alpha, 1e-4, 3), (z_t, mean_t, var_t)
        )


def colour_model(channel_mask: str, channels: int = 3):
    torch.manual_seed(0)
    settings = ModelSettings(steps=3, alpha0=0.2, omega=0.2, hidden=16, channel_mask=channel_mask)
    return InfusionModel(settings, (channels, 4, 5))


def test_a_pixel_mask_is_shared_by_the_channels_at_the_rate_alpha():
    """3 channels of 20 pixels: each pixel's mask the same in its three channels, and the
    fraction of pixels infused within 5 standard errors of alpha at each step."""
    model = colour_model("pixel")
    x = torch.rand(3000, 60, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        walked = list(process_of(model).walk(model, x, torch.Generator().manual_seed(1)))
    for s in walked[:-1]:
        by_channel = s.infused.view(3000, 3, 20)
        assert torch.equal(by_channel, by_channel[:, :1].expand(-1, 3, -1)), s.t
        fraction, n = by_channel[:, 0].double().mean().item(), 3000 * 20
        assert abs(fraction - s.alpha) < 5 * math.sqrt(s.alpha * (1 - s.alpha) / n), s.t
    element_model = colour_model("element")
    element = list(
        process_of(element_model).walk(element_model, x, torch.Generator().manual_seed(1))
    )
    assert not torch.equal(element[1].infused.view(3000, 3, 20)[:, 0],
                           element[1].infused.view(3000, 3, 20)[:, 1])  # fmt: skip


def test_one_channel_draws_and_weights_are_the_same_under_either_mask():
    """On 1-channel images a pixel is an element: the same draws, bit for bit, and log q."""
    x = torch.rand(50, 20, generator=torch.Generator().manual_seed(0))
    walks, weights = {}, {}
    for mask in ("element", "pixel"):
        model = colour_model(mask, channels=1)
        with torch.no_grad():
            walks[mask] = list(process_of(model).walk(model, x, torch.Generator().manual_seed(1)))
            weights[mask] = (
                process_of(model).log_weights(model, x, torch.Generator().manual_seed(1)).total
            )
    for a, b in zip(walks["element"], walks["pixel"], strict=True):
        assert torch.equal(a.mean, b.mean) and (a.z is None or torch.equal(a.z, b.z))
        assert a.infused is None or torch.equal(a.infused, b.infused)
    assert torch.equal(weights["element"], weights["pixel"])


def test_the_bound_of_a_shared_mask_model_scores_q_per_pixel():
    """InfusionProcess.log_weights' chain term for a 3-channel pixel-mask model against the
    brute-force per-pixel mixture on the chain's own draws (same generator seed)."""
    model = colour_model("pixel").double()
    x = torch.rand(4, 60, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        walked = list(process_of(model).walk(model, x, torch.Generator().manual_seed(4)))
        weights = process_of(model).log_weights(model, x, torch.Generator().manual_seed(4))
    expected = np.zeros(4)
    for s in walked[:-1]:
        z = s.z.numpy()
        mean = np.broadcast_to(s.mean.numpy(), z.shape)
        var = np.broadcast_to(s.var.numpy(), z.shape)
        expected += shared_mask_log_ratio(z, mean, var, x.numpy(), s.alpha, 1e-4, 3)
    np.testing.assert_allclose(weights.chain.numpy(), expected, rtol=1e-7)


def test_gaussian_log_density_matches_scipy():
    z, mean, var = torch.tensor([[0.3, -1.0], [0.1, 0.5], [0.02, 2.0]], dtype=torch.float64)
    expected = stats.norm.logpdf(z.numpy(), mean.numpy(), np.sqrt(var.numpy()))
    np.testing.assert_allclose(gaussian_log_density(z, mean, var).numpy(), expected, rtol=1e-6)


def test_infusion_rate_schedule_is_increasing_and_clipped():
    assert list(process_of(tiny_model(steps=5, alpha0=0.1, omega=0.3)).rates) == pytest.approx(
        [0.1, 0.4, 0.7, 1.0, 1.0]
    )
    assert list(process_of(tiny_model(steps=4, alpha0=0.0, omega=0.01)).rates) == pytest.approx(
        [0.0, 0.01, 0.02, 0.03]
    )


def test_infuse_draws_the_two_component_mixture():
    """Per pixel: with probability alpha a draw from N(x, 1e-4), else one from N(mean, var).
    The infused fraction within 5 standard errors of alpha; each component's standardised
    draws pass a Kolmogorov-Smirnov test against N(0, 1)."""
    n, alpha = 200_000, 0.3
    generator = torch.Generator().manual_seed(0)
    mean, x = torch.rand(n, generator=generator), torch.rand(n, generator=generator)
    var = torch.rand(n, generator=generator) * 0.1 + 1e-4
    z, infused = InfusionProcess((alpha,), 1e-4).infuse(mean, var, x, alpha, generator)
    assert abs(infused.double().mean().item() - alpha) < 5 * math.sqrt(alpha * (1 - alpha) / n)
    from_target = ((z - x) / 0.01)[infused].double().numpy()
    from_model = ((z - mean) / var.sqrt())[~infused].double().numpy()
    for standardised in (from_target, from_model):
        assert stats.kstest(standardised, "norm").pvalue > 1e-3


def randomised_batch_norms(model, seed=5):
    """Give every step its own random batch-norm parameters and population statistics."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for norm in model.operator.norms:
            for tensor in (norm.weight, norm.bias, norm.population_mean):
                tensor.copy_(torch.randn(tensor.shape, generator=generator))
            norm.population_var.copy_(torch.rand(norm.population_var.shape, generator=generator))
    return model


@pytest.mark.parametrize("mode", [BATCH, POPULATION])
def test_mlp_operator_matches_a_numpy_forward_pass_at_every_step(mode):
    """Every step t = 1..T (and T + 1, which reuses step T's batch norm) against the
    layer-by-layer definition relu((W h - m_t) / sqrt(v_t + eps) * gamma_t + beta_t), with m_t,
    v_t the batch's moments or step t's population statistics; mean = sigmoid(head1),
    var = beta * sigmoid(head2) + eps. Each step has different batch-norm parameters."""
    model = randomised_batch_norms(tiny_model(dim=6, steps=3))
    set_batch_norm_mode(model.operator, mode)
    mlp = NumpyMLP.of(model)
    z = torch.rand(7, 6, generator=torch.Generator().manual_seed(6))
    for step in (1, 2, 3, 4):
        expected_mean, expected_var = mlp(z.double().numpy(), step, population=mode == POPULATION)
        with torch.no_grad():
            mean, var = model.operator(z, step)
        np.testing.assert_allclose(mean.numpy(), expected_mean, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(var.numpy(), expected_var, rtol=1e-5, atol=1e-7)


def test_infusion_chain_matches_the_numpy_chain_on_the_same_noise():
    """z~^(0) from the prior, z~^(t) from p^(t)(. | z~^(t-1)) or from N(x, 1e-4) where the
    mask says, and the operator's output at every step, against the numpy chain."""
    model = randomised_batch_norms(tiny_model(dim=5, steps=3, alpha0=0.2, omega=0.2))
    model.fit_prior(torch.rand(100, 5, generator=torch.Generator().manual_seed(1)) * 0.7)
    x = torch.rand(9, 5, generator=torch.Generator().manual_seed(2))
    with NoiseFeeder(3) as feed, torch.no_grad():
        steps = list(process_of(model).walk(model, x, torch.Generator().manual_seed(0)))
    expected = infusion_chain(NumpyMLP.of(model), model.prior_mean.double().numpy(),
                              model.prior_var.double().numpy(), x.double().numpy(),
                              feed.normals, feed.masks, 1e-4, population=False)  # fmt: skip
    assert [s.t for s in steps] == [0, 1, 2, 3] and len(feed.masks) == 3
    for s, (mean, var, z) in zip(steps, expected, strict=True):
        np.testing.assert_allclose(
            np.broadcast_to(s.mean.numpy(), mean.shape), mean, rtol=1e-5, atol=1e-6
        )
        np.testing.assert_allclose(
            np.broadcast_to(s.var.numpy(), var.shape), var, rtol=1e-5, atol=1e-7
        )
        if z is not None:
            np.testing.assert_allclose(s.z.numpy(), z, rtol=1e-5, atol=1e-6)
            np.testing.assert_array_equal(s.infused.numpy(), feed.masks[s.t])


@pytest.mark.parametrize("sampling_eps", [1e-5, 3e-3])
def test_samples_follow_the_model_with_the_sampling_eps_for_more_steps_than_trained(sampling_eps):
    """Fig 3.1's chains: z^(0) ~ p^(0), then ``sampling_steps`` (5 > T = 2) draws from
    N(sigmoid(head1), beta * sigmoid(head2) + sampling_eps), population batch norm, steps past
    T with step T's. beta = 1e-3, so that an eps of 1e-4 kept besides shows."""
    model = randomised_batch_norms(tiny_model(dim=4, steps=2, beta=1e-3))
    model.fit_prior(torch.rand(100, 4, generator=torch.Generator().manual_seed(1)))
    settings = SampleSettings(samples=6, sampling_steps=5, figure_chains=6, batch=6,
                              sampling_eps=sampling_eps, device="cpu")  # fmt: skip
    with NoiseFeeder(4) as feed:
        out = sample_chains(model, settings)
    mlp = dataclasses.replace(NumpyMLP.of(model), variance_eps=sampling_eps)
    mu0, var0 = model.prior_mean.double().numpy(), model.prior_var.double().numpy()
    z = mu0 + np.sqrt(var0) * feed.normals[0]
    draws, means = [z], []
    for t in range(1, 6):
        mean, var = mlp(z, t, population=True)
        z = mean + np.sqrt(var) * feed.normals[t]
        draws.append(z)
        means.append(mean)
    assert len(feed.normals) == 6
    np.testing.assert_allclose(out["chain_draws"], np.stack(draws, 1), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out["chain_means"], np.stack(means, 1), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out["means"], means[-1], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out["draws"], draws[-1], rtol=1e-5, atol=1e-6)


def test_sampling_chain_shapes_and_clamping():
    model = tiny_model(dim=6, steps=3)
    set_batch_norm_mode(model.operator, POPULATION)
    mask = torch.tensor([True, True, False, False, True, False])
    values = torch.rand(7, 6)
    draws, means = process_of(model).sample(
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
