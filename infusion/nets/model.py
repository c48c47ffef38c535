"""The generative model: a factorial Gaussian prior p^(0) and a transition operator."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import torch
from torch import nn

from infusion.nets.networks import NETWORKS
from infusion.runtime.atomic import write_torch
from infusion.settings import ModelSettings

PRIOR_VAR_EPS = 1e-5  # added to the prior's per-pixel variance (authors' code)


class InfusionModel(nn.Module):
    """p(z^(0), ..., z^(T)) = p^(0)(z^(0)) prod_t p^(t)(z^(t) | z^(t-1)).

    ``prior_mean`` and ``prior_var`` ([dim]) are the per-pixel moments of the training set;
    ``operator(z, step)`` returns the mean and variance of step ``step`` (1-based).
    """

    def __init__(self, settings: ModelSettings, shape: tuple[int, int, int]):
        super().__init__()
        self.settings, self.shape = settings, tuple(shape)
        dim = shape[0] * shape[1] * shape[2]
        self.register_buffer("prior_mean", torch.full((dim,), 0.5))
        self.register_buffer("prior_var", torch.full((dim,), 0.25))
        self.operator = NETWORKS[settings.network].from_settings(settings, self.shape)

    @property
    def dim(self) -> int:
        return self.prior_mean.numel()

    def fit_prior(self, x_train: torch.Tensor) -> None:
        """Set p^(0) to the per-pixel mean and variance of ``x_train`` [N x dim] (section 3.5)."""
        x64 = x_train.double()
        self.prior_mean.copy_(x64.mean(0))
        self.prior_var.copy_(x64.var(0, unbiased=False) + PRIOR_VAR_EPS)


def save_model(model: InfusionModel, path: str | Path, **extra) -> None:
    """Write the weights with everything needed to rebuild the model, atomically."""
    payload = {
        "model_settings": dataclasses.asdict(model.settings),
        "shape": model.shape,
        "state": model.state_dict(),
        **extra,
    }
    write_torch(path, payload)


def load_model(path: str | Path, device: str | torch.device = "cpu") -> tuple[InfusionModel, dict]:
    """Rebuild a model saved by :func:`save_model`; returns it and the whole payload."""
    payload = read_torch_file(path, device)
    try:
        model = InfusionModel(ModelSettings(**payload["model_settings"]), payload["shape"])
        model.load_state_dict(payload["state"])
    except (KeyError, TypeError, RuntimeError) as error:
        raise ValueError(f"{path} is not a model saved by infusion train: {error}") from error
    return model.to(device), payload


def read_torch_file(path: str | Path, device: str | torch.device = "cpu") -> dict:
    """torch.load a model or checkpoint file, naming the file when it is unreadable."""
    try:
        payload = torch.load(path, map_location=device, weights_only=False)
    except FileNotFoundError:
        raise
    except Exception as error:  # truncated, corrupt or foreign files raise many kinds
        raise ValueError(f"{path} cannot be read as a model or checkpoint: {error}") from error
    if not isinstance(payload, dict):
        raise ValueError(f"{path} is not a model or checkpoint written by infusion")
    return payload
