"""The training objectives against numpy recomputations of the same chains (fed noise)."""

import dataclasses

import numpy as np
import pytest
import torch
from conftest import process_of, tiny_model
from reference import NoiseFeeder, NumpyMLP, infusion_chain, log_weight, normal_logpdf, paper_rates

INFUSION_VAR = 1e-4


def model_and_targets(steps=3, alpha0=0.2, omega=0.15, dim=4, n=16):
    model = tiny_model(dim=dim, steps=steps, alpha0=alpha0, omega=omega, hidden=8)
    generator = torch.Generator().manual_seed(7)
    model.fit_prior(torch.rand(200, dim, generator=generator) * 0.8)
    return model, torch.rand(n, dim, generator=generator)


def reference_chain(model, x, feed, mlp=None):
    """The numpy chain of ``model`` (batch-mode batch norm, as in training) on feed's noise."""
    return infusion_chain(
        mlp or NumpyMLP.of(model),
        model.prior_mean.double().numpy(),
        model.prior_var.double().numpy(),
        x.double().numpy(),
        feed.normals,
        feed.masks,
        INFUSION_VAR,
        population=False,
    )


def test_denoising_loss_weights_each_step_by_t_over_T():
    """-sum_t (t / T) mean_n sum_i log N(x; mean_t, var_t) on the same chain (footnote 3)."""
    model, x = model_and_targets(steps=3)
    with NoiseFeeder(0) as feed:
        loss = process_of(model).denoising_loss(model, x, torch.Generator().manual_seed(0))
    chain = reference_chain(model, x, feed)
    x64, steps = x.double().numpy(), 3
    expected = -sum(
        t / steps * normal_logpdf(x64, mean, var).sum(1).mean()
        for t, (mean, var, _) in enumerate(chain)
        if t > 0
    )
    assert loss.item() == pytest.approx(expected, rel=1e-5)


def parameter_fields(model):
    """(NumpyMLP field, layer index or None, torch parameter) for every trainable parameter."""
    op = model.operator
    fields = []
    for i, (linear, norm) in enumerate(zip(op.linears, op.norms, strict=True)):
        fields += [
            ("weights", i, linear.weight),
            ("gamma", i, norm.weight),
            ("shift", i, norm.bias),
        ]
    for name, head in (("mean_head", op.mean_head), ("var_head", op.var_head)):
        fields += [(name, 0, head.weight), (name, 1, head.bias)]
    return fields


def moved(mlp, fields, directions, eps):
    """A copy of mlp with every parameter moved by eps times its direction."""
    values = {name: list(getattr(mlp, name)) for name, _, _ in fields}
    for (name, index, _), direction in zip(fields, directions, strict=True):
        values[name][index] = values[name][index] + eps * direction
    values = {name: v if name in ("weights", "gamma", "shift") else tuple(v)
              for name, v in values.items()}  # fmt: skip
    return dataclasses.replace(mlp, **values)


def test_lower_bound_gradient_flows_through_the_reparameterised_draws():
    """The loss and its directional derivative along a random direction of all parameters:
    autograd against central differences of the numpy bound, noise and masks held fixed
    (section 3.3.4.1: the Gaussian draws z~ = mean + sd * n carry the gradient)."""
    model, x = model_and_targets(steps=3, alpha0=0.3, omega=0.1)
    with NoiseFeeder(1) as feed:
        loss = process_of(model).lower_bound_loss(model, x, torch.Generator().manual_seed(1))
    loss.backward()
    x64, rates = x.double().numpy(), paper_rates(3, 0.3, 0.1)
    mlp, fields = NumpyMLP.of(model), parameter_fields(model)
    rng = np.random.default_rng(2)
    directions = [rng.standard_normal(tuple(p.shape)) for _, _, p in fields]

    def numpy_loss(eps):
        chain = reference_chain(model, x, feed, moved(mlp, fields, directions, eps))
        return -log_weight(chain, x64, rates, INFUSION_VAR).mean()

    assert loss.item() == pytest.approx(numpy_loss(0.0), rel=1e-5)
    h = 1e-5
    numeric = (numpy_loss(h) - numpy_loss(-h)) / (2 * h)
    autograd = sum(
        float((p.grad.double() * torch.from_numpy(d)).sum())
        for (_, _, p), d in zip(fields, directions, strict=True)
    )
    assert autograd == pytest.approx(numeric, rel=1e-3)
