"""The convolutional transition operator (CIFAR-10, CelebA) and inpainting by clamping."""

import dataclasses
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F
import yaml
from conftest import process_of

from infusion import settings
from infusion.cli import build_parser
from infusion.estimation.evaluation import fit_population_statistics
from infusion.flags import from_arguments
from infusion.nets import networks
from infusion.nets.model import InfusionModel, load_model, save_model
from infusion.nets.networks import BATCH, POPULATION, StepBatchNorm, set_batch_norm_mode
from infusion.settings import ModelSettings, TrainSettings
from infusion.training.trainer import Trainer

CONFIG = Path(__file__).resolve().parent.parent / "config.yaml"


def conv_model(shape=(3, 16, 16), steps=3, channels=8, **kw) -> InfusionModel:
    """An untrained conv model with cheap widths and a fixed initialisation."""
    torch.manual_seed(0)
    model_settings = ModelSettings(
        steps=steps, alpha0=0.1, omega=0.2, network="conv", conv_channels=channels, **kw
    )
    return InfusionModel(model_settings, shape)


def randomise_population_statistics(model: InfusionModel, seed: int) -> None:
    """Different per-step batch-norm statistics and parameters in every layer."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for norm in networks.batch_norms(model.operator):
            norm.population_mean.copy_(torch.randn(norm.population_mean.shape, generator=g))
            norm.population_var.copy_(torch.rand(norm.population_var.shape, generator=g) + 0.5)
            norm.weight.copy_(torch.rand(norm.weight.shape, generator=g) + 0.5)
            norm.bias.copy_(torch.randn(norm.bias.shape, generator=g))


def test_settings_list_every_network():
    assert settings.NETWORKS == tuple(networks.NETWORKS)


def test_config_model_keys_become_the_model_settings_through_the_command_line():
    """config.yaml's model section -> flags (as workflow/rules/common.smk writes them) ->
    `infusion train`'s parser -> ModelSettings; its defaults are config.yaml's values."""
    model = yaml.safe_load(CONFIG.read_text())["model"]
    grid_point = {"steps", "alpha0", "omega"}  # come from the train rule's wildcards
    assert set(model) == {f.name for f in dataclasses.fields(ModelSettings)} - grid_point
    assert ModelSettings(**model) == ModelSettings()
    chosen = model | {"network": "conv", "conv_channels": 64, "conv_kernel": 3}
    argv = ["train", "--data", "d.npz", "--out", "run", "--checkpoint", "c.pt"]
    for key, value in chosen.items():
        argv += [f"--{key.replace('_', '-')}", str(value)]
    parsed = from_arguments(ModelSettings, build_parser().parse_args(argv))
    assert parsed == ModelSettings(**chosen)


@pytest.mark.parametrize("side, transposed", [(16, 2), (32, 3), (64, 4)])
def test_every_step_gives_means_in_unit_interval_and_bounded_variances(side, transposed):
    beta, eps = 0.3, 0.01
    model = conv_model((3, side, side), steps=3, beta=beta, variance_eps=eps)
    # log2(side / 4) transposed convolutions: the hidden ones and the heads' layer
    convs = [m for m in model.operator.modules() if isinstance(m, torch.nn.ConvTranspose2d)]
    assert len(convs) - 1 == transposed
    z = torch.rand(6, 3 * side * side, generator=torch.Generator().manual_seed(1))
    for mode in (BATCH, POPULATION):
        set_batch_norm_mode(model.operator, mode)
        for step in range(1, 5):  # step 4 is past T = 3: reuses step 3's batch norm
            mean, var = model.operator(z, step)
            assert mean.shape == var.shape == (6, 3 * side * side)
            assert mean.dtype == var.dtype == torch.float32
            assert ((mean > 0) & (mean < 1)).all()
            assert ((var >= eps) & (var <= beta + eps)).all()
            assert mean.std() > 1e-3 and var.std() > 1e-4  # per-pixel, not one constant


def manual_forward(model: InfusionModel, z: torch.Tensor, step: int):
    """The conv operator in population mode, written out with functional ops and the
    normalisation (h - mean_t) / sqrt(var_t + eps) * gamma_t + beta_t by hand."""
    op, s = model.operator, min(step, model.settings.steps) - 1
    c, height, width = model.shape

    def normalise(h, norm):
        view = (1, -1) + (1,) * (h.dim() - 2)  # per feature, or per channel of a map
        mean, var = norm.population_mean[s].view(view), norm.population_var[s].view(view)
        gamma, beta = norm.weight[s].view(view), norm.bias[s].view(view)
        return (h - mean) / torch.sqrt(var + norm.eps) * gamma + beta

    kernel = model.settings.conv_kernel
    pad, extra = (kernel - 1) // 2, kernel % 2

    def up(h, conv):
        return F.conv_transpose2d(h, conv.weight, conv.bias, 2, pad, extra)

    h = torch.relu(normalise(z @ op.dense.weight.T, op.dense_norm))
    h = h.reshape(z.shape[0], model.settings.conv_channels, 4, 4)
    for conv, norm in zip(op.convs, op.norms, strict=True):
        h = torch.relu(normalise(up(h, conv), norm))
    mean = torch.sigmoid(up(h, op.mean_head))
    var = model.settings.beta * torch.sigmoid(up(h, op.var_head)) + model.settings.variance_eps
    assert mean.shape == (z.shape[0], c, height, width)
    return mean.reshape(z.shape[0], -1), var.reshape(z.shape[0], -1)


@pytest.mark.parametrize("kernel", [5, 4, 3])
def test_population_mode_normalises_step_t_by_step_t_statistics(kernel):
    model = conv_model((3, 32, 32), steps=3, conv_kernel=kernel)
    randomise_population_statistics(model, seed=2)
    set_batch_norm_mode(model.operator, POPULATION)
    z = torch.rand(5, model.dim, generator=torch.Generator().manual_seed(3))
    outputs = []
    with torch.no_grad():
        for step in (1, 2, 3, 5):
            mean, var = model.operator(z, step)
            expected_mean, expected_var = manual_forward(model, z, step)
            torch.testing.assert_close(mean, expected_mean, rtol=1e-5, atol=1e-6)
            torch.testing.assert_close(var, expected_var, rtol=1e-5, atol=1e-6)
            outputs.append(mean)
    assert not torch.allclose(outputs[0], outputs[1])  # the steps' statistics differ
    assert torch.equal(outputs[2], outputs[3])  # step 5 > T reuses step 3's


def test_training_one_step_changes_only_that_steps_batch_norm():
    model = conv_model((3, 16, 16), steps=3)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    z = torch.rand(8, model.dim, generator=torch.Generator().manual_seed(4))
    mean, var = model.operator(z, 2)
    (mean.sum() + var.sum()).backward()
    optimizer.step()
    after = model.state_dict()
    norms = {name for name, m in model.operator.named_modules() if isinstance(m, StepBatchNorm)}
    assert len(norms) == 2  # the dense layer's and one hidden transposed convolution's
    for key, value in after.items():
        module, _, field = key.removeprefix("operator.").rpartition(".")
        if module in norms and field in ("weight", "bias"):
            assert torch.equal(value[[0, 2]], before[key][[0, 2]]), key
            assert not torch.equal(value[1], before[key][1]), key
        elif key.startswith("operator.") and module not in norms:  # shared weights
            assert not torch.equal(value, before[key]), key


def batch_norm_reference(h: torch.Tensor, norm: StepBatchNorm, s: int) -> torch.Tensor:
    """Minibatch normalisation of h ([N x F] or [N x C x H x W]) with step s's parameters."""
    dims = [0, *range(2, h.dim())]
    view = (1, -1) + (1,) * (h.dim() - 2)
    mean, var = h.mean(dims, keepdim=True), h.var(dims, unbiased=False, keepdim=True)
    return (h - mean) / torch.sqrt(var + norm.eps) * norm.weight[s].view(view) + norm.bias[s].view(
        view
    )


def test_accumulated_statistics_are_per_step_and_pooled_over_batches_and_positions():
    """Each step's population statistics are the mean and variance of that step's own
    pre-normalisation activations only, pooled over batches (and over positions for maps)."""
    model = conv_model((3, 16, 16), steps=3)
    randomise_population_statistics(model, seed=5)  # distinct gamma / beta per step
    op = model.operator
    g = torch.Generator().manual_seed(6)
    batches = {  # step -> its batches: different data, different sizes, different scales
        1: [torch.rand(7, model.dim, generator=g), torch.rand(5, model.dim, generator=g)],
        2: [3 * torch.rand(6, model.dim, generator=g)],
        3: [torch.rand(9, model.dim, generator=g) - 1],
    }
    set_batch_norm_mode(op, BATCH)
    for norm in networks.batch_norms(op):
        norm.accumulate()
    with torch.no_grad():
        for step, zs in batches.items():
            for z in zs:
                op(z, step)
    for norm in networks.batch_norms(op):
        norm.finish_accumulation()

    for step, zs in batches.items():
        s = step - 1
        dense, conv = [], []  # the two layers' pre-normalisation activations, by hand
        for z in zs:
            h = (z @ op.dense.weight.T).detach()
            dense.append(h)
            h = torch.relu(batch_norm_reference(h, op.dense_norm, s)).reshape(len(z), -1, 4, 4)
            conv.append(F.conv_transpose2d(h, op.convs[0].weight, None, 2, 2, 1).detach())
        for norm, h, dims in ((op.dense_norm, dense, 0), (op.norms[0], conv, (0, 2, 3))):
            h = torch.cat(h).double()
            torch.testing.assert_close(norm.population_mean[s], h.mean(dims).float())
            torch.testing.assert_close(
                norm.population_var[s], h.var(dims, unbiased=False).float(), rtol=1e-4, atol=1e-6
            )


def test_a_step_without_data_fails_the_population_pass():
    model = conv_model((3, 16, 16), steps=3)
    for norm in networks.batch_norms(model.operator):
        norm.accumulate()
    model.operator(torch.rand(4, model.dim), 1)
    with pytest.raises(RuntimeError, match="some steps saw no data"):
        networks.batch_norms(model.operator)[0].finish_accumulation()


def test_population_pass_over_one_batch_reproduces_minibatch_normalisation():
    """With the training set as one batch, the pass of evaluation.fit_population_statistics
    stores each step's batch statistics: population mode then gives minibatch mode's chain."""
    model = conv_model((3, 16, 16), steps=3)
    x = torch.rand(40, model.dim, generator=torch.Generator().manual_seed(7))
    fit_population_statistics(
        process_of(model), model, x, batch_size=40, generator=torch.Generator().manual_seed(8)
    )
    assert all(n.mode == POPULATION for n in networks.batch_norms(model.operator))
    means = {}
    for mode in (BATCH, POPULATION):
        set_batch_norm_mode(model.operator, mode)
        with torch.no_grad():
            loss = process_of(model).denoising_loss(model, x, torch.Generator().manual_seed(8))
        means[mode] = float(loss)
    assert means[POPULATION] == pytest.approx(means[BATCH], rel=1e-4)
    stats = networks.batch_norms(model.operator)[1].population_mean
    assert not torch.allclose(stats[0], stats[1])  # steps see different chain states


@pytest.mark.parametrize(
    "shape", [(1, 28, 28), (3, 32, 16), (3, 4, 4), (3, 48, 48), (3, 2, 2), (1, 8, 9)]
)
def test_unsupported_shapes_fail_naming_the_shape(shape):
    with pytest.raises(ValueError, match=re.escape(f"got shape (C, H, W) = {shape}")):
        conv_model(shape)


def test_too_few_channels_and_bad_settings_fail_clearly():
    with pytest.raises(ValueError, match="4 channels cannot be halved 3 times"):
        conv_model((3, 64, 64), channels=4)
    conv_model((3, 64, 64), channels=8)  # 8, 4, 2, 1: enough
    with pytest.raises(ValueError, match="conv_kernel"):
        ModelSettings(network="conv", conv_kernel=0)
    with pytest.raises(ValueError, match="network must be one of"):
        ModelSettings(network="unet")


def test_save_and_load_round_trip_bit_exactly(tmp_path):
    model = conv_model((3, 32, 32), steps=4)
    randomise_population_statistics(model, seed=9)
    save_model(model, tmp_path / "model.pt", best_epoch=3)
    loaded, payload = load_model(tmp_path / "model.pt")
    assert payload["best_epoch"] == 3 and loaded.settings == model.settings
    assert loaded.state_dict().keys() == model.state_dict().keys()
    for key, value in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value), key
    z = torch.rand(3, model.dim)
    for m in (model, loaded):
        set_batch_norm_mode(m.operator, POPULATION)
    with torch.no_grad():
        for step in (1, 4):
            for a, b in zip(model.operator(z, step), loaded.operator(z, step), strict=True):
                assert torch.equal(a, b)


def smooth_images(n: int, seed: int) -> np.ndarray:
    """[n x 3 x 16 x 16] uint8: random blends of a few fixed smooth patterns, plus noise."""
    rng = np.random.default_rng(seed)
    grid = np.linspace(0, 2 * math.pi, 16)
    patterns = np.stack(
        [np.sin(a * grid[:, None] + b * grid[None, :]) for a, b in ((1, 0), (0, 1), (1, 1))]
    )  # [3 x 16 x 16]
    weights = rng.uniform(-1, 1, (n, 3, 3))  # per image, per colour channel, per pattern
    images = 0.5 + 0.25 * np.einsum("ncp,phw->nchw", weights, patterns)
    images += rng.normal(0, 0.03, images.shape)
    return (np.clip(images, 0, 1) * 255).astype(np.uint8)


def test_a_tiny_conv_model_trains_and_its_loss_decreases(tmp_path):
    data = {"train": smooth_images(256, 10), "valid": smooth_images(64, 11)}
    model = Trainer(
        ModelSettings(steps=2, alpha0=0.0, omega=0.3, network="conv", conv_channels=16),
        TrainSettings(epochs=4, batch_size=32, curve_examples=64, chain_epochs=1, device="cpu"),
        data,
        tmp_path / "run",
        tmp_path / "checkpoint.pt",
    ).run()
    metrics = pd.read_csv(tmp_path / "run" / "metrics.csv")
    losses = metrics["loss"].to_numpy()[1:]  # epoch 0 is the initialisation (no loss)
    assert np.isfinite(losses).all() and losses[-1] < losses[0]
    assert metrics["valid_lower_bound"].iloc[-1] > metrics["valid_lower_bound"].iloc[0]
    loaded, _ = load_model(tmp_path / "run" / "model.pt")
    for key, value in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value), key
    assert not torch.equal(
        loaded.operator.norms[0].population_mean[0], loaded.operator.norms[0].population_mean[1]
    )


def top_half_mask(shape) -> torch.Tensor:
    """[C*H*W] bool: the top half of every channel."""
    channels, height, width = shape
    mask = torch.zeros(shape, dtype=torch.bool)
    mask[:, : height // 2, :] = True
    return mask.flatten()


@pytest.mark.parametrize("network", ["conv", "mlp"])
def test_inpainting_keeps_the_clamped_half_exactly_and_fills_the_other(network):
    shape = (3, 16, 16)
    torch.manual_seed(0)
    model = InfusionModel(
        ModelSettings(steps=3, network=network, hidden=32, conv_channels=8), shape
    )
    randomise_population_statistics(model, seed=12)
    set_batch_norm_mode(model.operator, POPULATION)
    images = torch.as_tensor(smooth_images(5, 13), dtype=torch.float32).flatten(1) / 256
    mask = top_half_mask(shape)
    draws, means = process_of(model).sample(
        model, 5, steps=6, generator=torch.Generator().manual_seed(14), clamp_mask=mask,
        clamp_values=images,
    )  # fmt: skip
    assert draws.shape == (7, 5, model.dim) and means.shape == (6, 5, model.dim)
    for states in (draws, means):
        for state in states:  # every step, bit for bit
            assert torch.equal(state[:, mask], images[:, mask])
    for t in range(1, 7):  # the free half is redrawn at every step, and is not the image
        assert (draws[t][:, ~mask] != draws[t - 1][:, ~mask]).float().mean() > 0.99
        assert not torch.allclose(means[t - 1][:, ~mask], images[:, ~mask], atol=1e-3)
