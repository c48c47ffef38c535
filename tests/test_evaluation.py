"""Scoring on data: the prior, population batch-norm statistics and Table 3.1's test points."""

import numpy as np
import torch
from conftest import process_of, tiny_model
from reference import NoiseFeeder, NumpyMLP, infusion_chain, new_record, pooled_moments

from infusion.data.registry import to_unit_interval
from infusion.estimation import evaluation
from infusion.process.infusion_process import InfusionProcess
from infusion.settings import EvalSettings


def test_prior_is_the_training_set_moments_plus_the_code_s_epsilon():
    """p^(0): per-pixel mean and (biased) variance of the training set, + 1e-5 (authors' code)."""
    x = np.random.default_rng(0).beta(0.5, 0.5, (50, 6))
    model = tiny_model(dim=6)
    model.fit_prior(torch.as_tensor(x, dtype=torch.float32))
    x32 = x.astype(np.float32).astype(np.float64)
    np.testing.assert_allclose(model.prior_mean.numpy(), x32.mean(0), rtol=1e-6)
    np.testing.assert_allclose(model.prior_var.numpy(), x32.var(0) + 1e-5, rtol=1e-6)


def test_population_statistics_pool_every_step_over_the_whole_training_set():
    """Appendix A.1: the chain run once over the training set in minibatches (normalised by
    minibatch statistics); each step's statistics are the mean and biased variance of its
    pre-normalisation activations over all batches, recomputed in numpy on the same noise."""
    model = tiny_model(dim=4, steps=3, alpha0=0.2, omega=0.2, hidden=8)
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for norm in model.operator.norms:  # steps that differ, so a step mix-up shows
            norm.weight.copy_(torch.rand(norm.weight.shape, generator=generator) + 0.5)
            norm.bias.copy_(torch.randn(norm.bias.shape, generator=generator))
    x_train = torch.rand(96, 4, generator=generator)
    model.fit_prior(x_train)
    with NoiseFeeder(2) as feed:
        evaluation.fit_population_statistics(
            process_of(model), model, x_train, 32, torch.Generator()
        )
    mlp, record, steps = NumpyMLP.of(model), new_record(), 3
    for i, batch in enumerate(np.split(x_train.double().numpy(), 3)):  # 3 batches of 32
        infusion_chain(
            lambda z, t, population: mlp(z, t, population, record),
            model.prior_mean.double().numpy(),
            model.prior_var.double().numpy(),
            batch,
            feed.normals[i * steps : (i + 1) * steps],
            feed.masks[i * steps : (i + 1) * steps],
            1e-4,
            population=False,
        )
    moments = pooled_moments(record)
    assert sorted(moments) == [(t, layer) for t in (1, 2, 3) for layer in (0, 1)]
    for (t, layer), (mean, var) in moments.items():
        norm = model.operator.norms[layer]
        np.testing.assert_allclose(norm.population_mean[t - 1].numpy(), mean, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(norm.population_var[t - 1].numpy(), var, rtol=1e-4, atol=1e-5)


def test_table_points_are_dequantized_afresh_in_every_repetition(monkeypatch):
    """Section 3.5.1: the points scored are pixels / 256 + U(0, 1/256), new noise each
    repetition, for the test points and the validation points fixing the isotropic variance.
    The noise's mean lies within 5 standard errors of 1/512."""
    scored = []
    real = InfusionProcess.draw_log_weights

    def spy(process, model, x, *args):
        scored.append(x.double().numpy())
        return real(process, model, x, *args)

    monkeypatch.setattr(InfusionProcess, "draw_log_weights", spy)
    rng = np.random.default_rng(3)
    test, valid = (rng.integers(0, 256, (n, 1, 2, 2), dtype=np.uint8) for n in (300, 200))
    settings = EvalSettings(examples=300, chains=2, repetitions=3, isotropic_examples=200,
                            isotropic_chains=2, chain_batch=4096, device="cpu")  # fmt: skip
    evaluation.table_estimates(
        tiny_model(dim=4), to_unit_interval(test), to_unit_interval(valid), settings
    )
    assert len(scored) == 1 + 3
    noises = [scored[0] - valid.reshape(200, 4) / 256]
    noises += [points - test.reshape(300, 4) / 256 for points in scored[1:]]
    for noise in noises:
        assert noise.min() >= -1e-7 and noise.max() < 1 / 256 + 1e-7
        standard_error = 1 / 256 / np.sqrt(12 * noise.size)
        assert abs(noise.mean() - 1 / 512) < 5 * standard_error
    assert not np.allclose(noises[1], noises[2])
