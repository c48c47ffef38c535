"""Selectable precision: bf16 stays close to fp32, tf32 on a CPU is fp32, bad names fail."""

import numpy as np
import pytest
import torch
from conftest import process_of

from infusion.data.registry import load
from infusion.nets.model import InfusionModel
from infusion.runtime.precision import precision_context
from infusion.settings import EvalSettings, ModelSettings, SampleSettings, TrainSettings
from infusion.training.trainer import Trainer

# bfloat16 keeps 8 bits of mantissa (relative rounding 2^-9 ~ 2e-3 per product). The loss and
# the log weights sum thousands of per-pixel float32 log densities whose inputs, the network's
# mean and variance, come from bf16 matrix products; rounding errors of both signs mostly
# cancel in those sums, so 1e-2 relative leaves a wide margin while still catching a
# precision bug (a bf16 variance eps or bf16 log densities would be off by far more).
BF16_RTOL = 1e-2


def small_model():
    torch.manual_seed(0)
    return InfusionModel(ModelSettings(steps=3, alpha0=0.0, omega=0.1, hidden=64), (1, 8, 8))


def loss_and_weights(model, x, precision):
    with torch.no_grad(), precision_context(precision, "cpu"):
        loss = process_of(model).denoising_loss(model, x, torch.Generator().manual_seed(1))
        weights = process_of(model).log_weights(model, x, torch.Generator().manual_seed(2)).total
    return loss, weights


def test_bf16_loss_and_log_weights_agree_with_fp32():
    model, x = small_model(), torch.rand(256, 64, generator=torch.Generator().manual_seed(3))
    loss32, w32 = loss_and_weights(model, x, "fp32")
    loss16, w16 = loss_and_weights(model, x, "bf16")
    assert loss16.dtype == w16.dtype == torch.float32  # densities and loss stay float32
    assert float(loss16) == pytest.approx(float(loss32), rel=BF16_RTOL)
    assert float(w16.mean()) == pytest.approx(float(w32.mean()), rel=BF16_RTOL)
    assert float(loss16) != float(loss32)  # bf16 really ran
    with torch.no_grad(), precision_context("bf16", "cpu"):
        mean, var = model.operator(x, 1)
    assert mean.dtype == var.dtype == torch.float32
    assert float(var.min()) >= model.settings.variance_eps


def test_tf32_on_cpu_equals_fp32_exactly():
    model, x = small_model(), torch.rand(256, 64, generator=torch.Generator().manual_seed(3))
    loss32, w32 = loss_and_weights(model, x, "fp32")
    loss_tf, w_tf = loss_and_weights(model, x, "tf32")
    assert float(loss_tf) == float(loss32)
    assert torch.equal(w_tf, w32)
    assert not torch.backends.cuda.matmul.allow_tf32  # restored after the context


@pytest.mark.parametrize("cls", [TrainSettings, EvalSettings, SampleSettings])
def test_unknown_precision_is_refused_naming_the_field(cls):
    with pytest.raises(ValueError, match="precision"):
        cls(precision="fp16")
    with pytest.raises(ValueError, match="precision"):
        precision_context("half", "cpu").__enter__()


def test_bf16_training_runs_on_cpu_in_bf16(digits_npz, tmp_path):
    """The setting reaches the training passes: bf16 curves differ from the fp32 run's on
    every row (bf16 products round at 2e-3) yet stay within BF16_RTOL of them."""
    data = {split: images[:256] for split, images in load(digits_npz).items()}
    curves = {}
    for precision in ("fp32", "bf16"):
        settings = TrainSettings(epochs=2, batch_size=64, curve_examples=100, precision=precision)
        out = tmp_path / precision
        Trainer(ModelSettings(steps=2, hidden=32), settings, data, out, out / "c.pt").run()
        curves[precision] = np.genfromtxt(out / "metrics.csv", delimiter=",", names=True)
    for column in ("loss", "train_lower_bound", "valid_lower_bound"):
        fp32, bf16 = (curves[p][column][1:] for p in ("fp32", "bf16"))
        assert np.isfinite(bf16).all()
        assert (bf16 != fp32).all(), column
        np.testing.assert_allclose(bf16, fp32, rtol=BF16_RTOL)
