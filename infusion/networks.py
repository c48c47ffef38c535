"""Transition-operator networks: z^(t-1) -> (mean, variance) of p^(t)(z^(t) | z^(t-1)).

Weights are shared across steps; batch-norm parameters and statistics are not: each step has
its own (paper footnote 5). Networks are looked up by name in :data:`NETWORKS`, so other
architectures (convolutional operators for natural images) plug in beside the MLP.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

BATCH = "batch"  # normalise by the current minibatch (training, train/valid curves)
POPULATION = "population"  # normalise by statistics stored per step (test numbers, sampling)


class StepBatchNorm(nn.Module):
    """Batch norm with one set of parameters and statistics per step.

    ``mode`` is :data:`BATCH` or :data:`POPULATION`. While :meth:`accumulate` is active,
    batch-mode calls also add their batch sums to per-step accumulators, from which
    :meth:`finish_accumulation` sets the population statistics (appendix A.1: statistics
    over the whole training set). Steps past the last trained one reuse the last step's set.
    """

    def __init__(self, steps: int, width: int, eps: float):
        super().__init__()
        self.steps, self.eps, self.mode = steps, eps, BATCH
        self.weight = nn.Parameter(torch.ones(steps, width))
        self.bias = nn.Parameter(torch.zeros(steps, width))
        self.register_buffer("population_mean", torch.zeros(steps, width))
        self.register_buffer("population_var", torch.ones(steps, width))
        self._sums: torch.Tensor | None = None  # [steps, 3, width] float64: n, sum, sum of squares

    def forward(self, h: torch.Tensor, step: int) -> torch.Tensor:
        s = min(step, self.steps) - 1
        if self.mode == POPULATION:
            return F.batch_norm(
                h,
                self.population_mean[s],
                self.population_var[s],
                self.weight[s],
                self.bias[s],
                training=False,
                eps=self.eps,
            )
        if self._sums is not None:
            h64 = h.detach().double()
            self._sums[s, 0] += h.shape[0]
            self._sums[s, 1] += h64.sum(0)
            self._sums[s, 2] += (h64 * h64).sum(0)
        return F.batch_norm(
            h, None, None, self.weight[s], self.bias[s], training=True, eps=self.eps
        )

    def accumulate(self) -> None:
        self._sums = torch.zeros(
            self.steps, 3, self.weight.shape[1], dtype=torch.float64, device=self.weight.device
        )

    def finish_accumulation(self) -> None:
        n, total, squares = self._sums.unbind(1)
        if (n == 0).any():
            raise RuntimeError("population statistics: some steps saw no data")
        mean = total / n
        self.population_mean.copy_(mean)
        self.population_var.copy_((squares / n - mean * mean).clamp_min(0.0))
        self._sums = None


class MLPOperator(nn.Module):
    """MLP transition operator (paper section 3.5, MNIST and TFD).

    ``layers`` hidden layers of ``hidden`` units: linear (no bias) -> per-step batch norm ->
    ReLU, as in the authors' code; then two heads of ``dim`` units: mean = sigmoid(head1),
    variance = beta * sigmoid(head2) + eps. Glorot-uniform initialisation.
    """

    def __init__(
        self,
        dim: int,
        steps: int,
        hidden: int,
        layers: int,
        beta: float,
        variance_eps: float,
        bn_eps: float,
    ):
        super().__init__()
        widths = [dim] + [hidden] * layers
        self.linears = nn.ModuleList(
            nn.Linear(a, b, bias=False) for a, b in zip(widths[:-1], widths[1:], strict=True)
        )
        self.norms = nn.ModuleList(StepBatchNorm(steps, hidden, bn_eps) for _ in range(layers))
        self.mean_head = nn.Linear(hidden, dim)
        self.var_head = nn.Linear(hidden, dim)
        self.beta, self.variance_eps = beta, variance_eps
        for module in self.modules():
            if isinstance(module, nn.Linear):
                nn.init.xavier_uniform_(module.weight)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)

    def forward(self, z: torch.Tensor, step: int) -> tuple[torch.Tensor, torch.Tensor]:
        """z: [N x dim], step in 1..; returns mean and variance, each [N x dim]."""
        h = z
        for linear, norm in zip(self.linears, self.norms, strict=True):
            h = torch.relu(norm(linear(h), step))
        # The heads' outputs are cast to float32 (a no-op unless under bf16 autocast, see
        # infusion.precision), so the mean, the variance and its eps are float32 numbers.
        mean = torch.sigmoid(self.mean_head(h).float())
        var = self.beta * torch.sigmoid(self.var_head(h).float()) + self.variance_eps
        return mean, var


NETWORKS = {"mlp": MLPOperator}


def batch_norms(network: nn.Module) -> list[StepBatchNorm]:
    return [m for m in network.modules() if isinstance(m, StepBatchNorm)]


def set_batch_norm_mode(network: nn.Module, mode: str) -> None:
    if mode not in (BATCH, POPULATION):
        raise ValueError(f"unknown batch-norm mode {mode!r}")
    for norm in batch_norms(network):
        norm.mode = mode
