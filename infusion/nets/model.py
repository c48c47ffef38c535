"""The generative model: a factorial Gaussian prior p^(0) and a transition operator."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import torch
from torch import nn

from infusion.nets.networks import NETWORKS
from infusion.runtime.atomic import write_torch
from infusion.runtime.torch_files import one_line, read_data
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
    """Rebuild a model saved by :func:`save_model`; returns it and the whole payload.

    The file is read as data (:func:`infusion.runtime.torch_files.read_data`); one that needs
    more, or holds something else than a model, stops with ValueError naming it.
    """
    payload = read_data(path, str(path), device)
    try:
        if not isinstance(payload, dict):
            raise TypeError(f"it holds a {type(payload).__name__}, not a dict")
        model = InfusionModel(ModelSettings(**payload["model_settings"]), payload["shape"])
        model.load_state_dict(payload["state"])
    except KeyError as error:
        raise ValueError(f"{path} is not a model saved by infusion train: no {error}") from None
    except (TypeError, ValueError, RuntimeError, IndexError, AttributeError) as error:
        raise ValueError(
            f"{path} is not a model saved by infusion train: {one_line(error)}"
        ) from error
    return model.to(device), payload
