"""The compiled operator (``compile: default | reduce-overhead``) against eager float32.

Compilation changes floating-point rounding only: the random draws stay on the eager
generator. Stated tolerances: the operator's outputs within 1e-5 (absolute and relative);
losses, bounds and trained weights after two epochs within 1e-4 relative.
"""

import copy
import logging

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import population_log_weights, tiny_model
from torch._dynamo.utils import counters

from infusion.data.registry import dequantize, load, to_unit_interval
from infusion.nets.model import InfusionModel
from infusion.nets.networks import BATCH, POPULATION, set_batch_norm_mode
from infusion.runtime.compilation import compile_operator
from infusion.settings import EvalSettings, ModelSettings, SampleSettings, TrainSettings
from infusion.training.trainer import Trainer

OPERATOR_TOLERANCE = {"rtol": 1e-5, "atol": 1e-5}


@pytest.mark.parametrize("cls", [TrainSettings, EvalSettings, SampleSettings])
def test_an_unknown_compile_mode_names_the_field(cls):
    with pytest.raises(ValueError, match="compile must be one of"):
        cls(compile="fast")


def conv_model() -> InfusionModel:
    torch.manual_seed(0)
    return InfusionModel(ModelSettings(steps=3, network="conv", conv_channels=8), (3, 8, 8))


@pytest.mark.parametrize(
    ("build", "mode"),
    [(tiny_model, "default"), (tiny_model, "reduce-overhead"), (conv_model, "default")],
    ids=["mlp-default", "mlp-reduce-overhead", "conv-default"],
)
def test_the_compiled_operator_matches_eager(build, mode):
    """Every step (and one past T), two batch sizes, both batch-norm modes, with gradients."""
    eager = build()
    compiled = copy.deepcopy(eager)
    keys = list(compiled.state_dict())
    compile_operator(compiled, mode)
    assert list(compiled.state_dict()) == keys  # checkpoints and model.pt are unchanged
    graphs = counters["stats"]["unique_graphs"]
    generator = torch.Generator().manual_seed(1)
    for batch_norm_mode in (BATCH, POPULATION):
        set_batch_norm_mode(eager.operator, batch_norm_mode)
        set_batch_norm_mode(compiled.operator, batch_norm_mode)
        for rows in (5, 9):
            z = torch.rand(rows, eager.dim, generator=generator)
            for step in (1, 2, 3, 4):
                expected = eager.operator(z, step)
                got = compiled.operator(z, step)
                for a, b in zip(got, expected, strict=True):
                    torch.testing.assert_close(a, b, **OPERATOR_TOLERANCE)
    assert counters["stats"]["unique_graphs"] > graphs  # dynamo did capture the operator
    loss = sum(v.sum() for v in compiled.operator(z, 2))
    loss.backward()  # gradients flow through the compiled graph
    reference = sum(v.sum() for v in eager.operator(z, 2))
    reference.backward()
    for (name, p), q in zip(compiled.named_parameters(), eager.parameters(), strict=True):
        torch.testing.assert_close(p.grad, q.grad, rtol=1e-4, atol=1e-5, msg=name)


def test_compiled_training_and_scoring_match_eager(digits_npz, tmp_path, caplog):
    """Two epochs of denoising training, the curves, the kept weights and the test bound;
    also a run whose first epoch is eager and whose second resumes compiled from its
    checkpoint (a resume may change ``compile``)."""
    data = load(digits_npz)

    def train(mode, epochs=2, name=None):
        name = name or mode
        settings = TrainSettings(epochs=epochs, batch_size=64, curve_examples=200, compile=mode)
        model = Trainer(
            ModelSettings(steps=3, omega=0.1, hidden=32),
            settings,
            data,
            tmp_path / name,
            tmp_path / f"{name}.pt",
        ).run()
        return model, pd.read_csv(tmp_path / name / "metrics.csv")

    eager, eager_curves = train("none")
    train("none", epochs=1, name="switched")
    runs = [train("default")]
    with caplog.at_level(logging.INFO, logger="infusion.training.trainer"):
        runs.append(train("default", name="switched"))
    assert "resumed from" in caplog.text
    columns = ["loss", "train_lower_bound", "valid_lower_bound"]
    for compiled, compiled_curves in runs:
        assert len(compiled_curves) == 3  # epoch 0 (initialisation), 1, 2
        np.testing.assert_allclose(
            compiled_curves[columns].to_numpy()[1:], eager_curves[columns].to_numpy()[1:], rtol=1e-4
        )
        for (key, p), q in zip(
            compiled.state_dict().items(), eager.state_dict().values(), strict=True
        ):
            torch.testing.assert_close(p, q, rtol=1e-4, atol=1e-4, msg=key)

    x = torch.as_tensor(to_unit_interval(data["test"][:50]))
    bounds = []
    for model in (eager, compiled):
        set_batch_norm_mode(model.operator, POPULATION)
        generator = torch.Generator().manual_seed(3)
        bounds.append(
            population_log_weights(model, dequantize(x, generator), 8, generator, 64).total
        )
    torch.testing.assert_close(bounds[1], bounds[0], rtol=1e-4, atol=1e-3)


def test_the_forward_context_compiles_once_and_keeps_fp32_eager_by_default():
    """``computing`` compiles the operator on first entry only, refuses another mode
    afterwards, and with its defaults leaves the eager forward in place."""
    from infusion.runtime.context import computing

    eager = tiny_model()
    forward = eager.operator.forward
    with computing(eager):
        pass
    assert eager.operator.forward == forward  # bound methods of the same module compare equal
    assert "forward" not in vars(eager.operator)  # no wrapper installed

    compiled = tiny_model()
    with computing(compiled, "fp32", "default"):
        wrapped = vars(compiled.operator)["forward"]
    with computing(compiled, "fp32", "default"):
        assert vars(compiled.operator)["forward"] is wrapped  # not compiled a second time
    with pytest.raises(ValueError, match="compiled as 'default'"):
        with computing(compiled, "fp32", "reduce-overhead"):
            pass
