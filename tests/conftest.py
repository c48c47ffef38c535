"""Shared fixtures: tiny models, the prepared `digits` dataset, the tiny study's results,
random Inception weights, the figures a test draws."""

from __future__ import annotations

import dataclasses
from unittest import mock

import pytest
import torch
from workflow_runs import TINY, snakemake, workflow_copy

from infusion.data.registry import prepare
from infusion.estimation import inception
from infusion.nets.model import InfusionModel
from infusion.nets.networks import POPULATION, set_batch_norm_mode
from infusion.process.infusion_process import InfusionProcess
from infusion.settings import ModelSettings


def tiny_model(dim: int = 4, steps: int = 3, alpha0: float = 0.1, omega: float = 0.2, **kw):
    """An untrained MLP model on [dim] pixels with a random but fixed initialisation."""
    torch.manual_seed(0)
    settings = ModelSettings(
        steps=steps, alpha0=alpha0, omega=omega, hidden=kw.pop("hidden", 16), **kw
    )
    return InfusionModel(settings, (1, 1, dim))


def process_of(model, rates=None):
    """The infusion process of ``model``: its own training chain, or one of ``rates``."""
    process = InfusionProcess.of(model.settings, model.shape)
    return process if rates is None else dataclasses.replace(process, rates=tuple(rates))


def population_log_weights(model, x, chains, generator, chain_batch, rates=None):
    """k chains a row of x scored as test numbers are: the model in population batch-norm
    mode (the caller's to set), under its own chain or one of ``rates``."""
    set_batch_norm_mode(model.operator, POPULATION)
    return process_of(model, rates).draw_log_weights(model, x, chains, generator, chain_batch)


class FakeClock:
    """A clock that reads the given times, one a call (timings tested without waiting)."""

    def __init__(self, *times):
        self.times = list(times)

    def __call__(self):
        return self.times.pop(0)


@pytest.fixture
def kept_figures(monkeypatch):
    """The matplotlib figures the code closes during a test, kept open to be read back."""
    import matplotlib.pyplot as plt

    close = plt.close
    kept = []
    monkeypatch.setattr(plt, "close", kept.append)
    yield kept
    for fig in kept:
        close(fig)


@pytest.fixture(scope="session")
def digits_npz(tmp_path_factory):
    """scikit-learn's 8x8 digits prepared once per test session."""
    folder = tmp_path_factory.mktemp("data")
    return prepare("digits", folder / "digits.npz", folder / "cache")


@pytest.fixture(scope="session")
def tiny_study(tmp_path_factory):
    """The tiny study run end to end on this machine, with its HTML report: its results/.

    It runs in a folder whose name holds a space and a non-ASCII letter, so that every test
    of its results also checks that the workflow's shell lines quote their paths."""
    folder = workflow_copy(tmp_path_factory.mktemp("tiny study é"))
    snakemake(folder, "--cores", "2", "--configfile", TINY)
    snakemake(folder, "--configfile", TINY, "--report", "results/report.html")
    return folder / "results"


@pytest.fixture(scope="session")
def random_weights(tmp_path_factory):
    """A weights file of torch-fidelity's inception-v3-compat with random values.

    The last layer is scaled so that random images get visibly different logits.
    """
    from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

    torch.manual_seed(0)
    module = "torch_fidelity.feature_extractor_inceptionv3"
    with (
        mock.patch(f"{module}.load_state_dict_from_url", return_value={}),
        mock.patch.object(FeatureExtractorInceptionV3, "load_state_dict"),
    ):
        net = FeatureExtractorInceptionV3(inception.FEATURE_EXTRACTOR, ["2048"])
    probe = torch.randint(0, 256, (3, 3, 8, 8), dtype=torch.uint8)
    with torch.no_grad():
        (features,) = net(probe)
        spread = (features - features.mean(0)).norm(dim=1).mean()
        net.fc.weight.copy_(torch.randn_like(net.fc.weight) * 3 / spread)
    path = tmp_path_factory.mktemp("inception") / "random-inception.pth"
    torch.save(net.state_dict(), path)
    return path


def pytest_terminal_summary(terminalreporter):
    """The fault-injection suite's table of trials and failures (tests/fault_ledger.py)."""
    from fault_ledger import LEDGER, summary_lines

    if LEDGER:
        terminalreporter.section("fault injection")
        for line in summary_lines():
            terminalreporter.write_line(line)
