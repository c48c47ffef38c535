"""Transition-operator networks: z^(t-1) -> (mean, variance) of p^(t)(z^(t) | z^(t-1)).

Weights are shared across steps; batch-norm parameters and statistics are not: each step has
its own (paper footnote 5). Networks are looked up by name in :data:`NETWORKS` and built
from the model settings and the image shape (C, H, W) by their ``from_settings``; all take and
return flat images [N x C*H*W]: the MLP (MNIST, TFD) and the convolutional operator (CIFAR-10,
CelebA).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from infusion.settings import NETWORKS as NETWORK_NAMES
from infusion.settings import ModelSettings

BATCH = "batch"  # normalise by the current minibatch (training, train/valid curves)
POPULATION = "population"  # normalise by statistics stored per step (test numbers, sampling)


class StepBatchNorm(nn.Module):
    """Batch norm with one set of parameters and statistics per step.

    Normalises each of ``width`` features of [N x width] inputs (a dense layer's units), or
    each of ``width`` channels of [N x width x H x W] maps, pooling batch and positions (a
    convolution's outputs). ``mode`` is :data:`BATCH` or :data:`POPULATION`. While
    :meth:`accumulate` is active, batch-mode calls also add their batch sums to per-step
    accumulators, from which :meth:`finish_accumulation` sets the population statistics
    (appendix A.1: statistics over the whole training set). Steps past the last trained one
    reuse the last step's set.
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
            pooled = [0, *range(2, h.dim())]  # every dimension but the feature / channel one
            self._sums[s, 0] += h.numel() // h.shape[1]
            self._sums[s, 1] += h64.sum(pooled)
            self._sums[s, 2] += (h64 * h64).sum(pooled)
        return F.batch_norm(
            h, None, None, self.weight[s], self.bias[s], training=True, eps=self.eps
        )

    def population_affine(self, step: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Step ``step``'s population-mode normalisation as h * scale + shift, per feature."""
        s = min(step, self.steps) - 1
        scale = self.weight[s] * torch.rsqrt(self.population_var[s] + self.eps)
        return scale, self.bias[s] - self.population_mean[s] * scale

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
        glorot_init(self)

    @classmethod
    def from_settings(cls, settings: ModelSettings, shape: tuple[int, int, int]):
        return cls(
            dim=shape[0] * shape[1] * shape[2],
            steps=settings.steps,
            hidden=settings.hidden,
            layers=settings.layers,
            beta=settings.beta,
            variance_eps=settings.variance_eps,
            bn_eps=settings.bn_eps,
        )

    def forward(self, z: torch.Tensor, step: int) -> tuple[torch.Tensor, torch.Tensor]:
        """z: [N x dim], step in 1..; returns mean and variance, each [N x dim]."""
        h = z
        for linear, norm in zip(self.linears, self.norms, strict=True):
            if norm.mode == POPULATION:  # the normalisation folded into the product: one pass
                scale, shift = norm.population_affine(step)
                h = torch.addmm(shift, h, linear.weight.t() * scale)
            else:
                h = norm(linear(h), step)
            h = h.relu_()  # in place: neither the product nor batch norm needs its output
        return gaussian_heads(self.mean_head(h), self.var_head(h), self.beta, self.variance_eps)


def glorot_init(network: nn.Module) -> None:
    """Glorot-uniform weights and zero biases for every dense and (transposed) convolution
    layer (the authors' code); batch-norm parameters keep their own init."""
    for module in network.modules():
        if isinstance(module, nn.Linear | nn.Conv2d | nn.ConvTranspose2d):
            nn.init.xavier_uniform_(module.weight)
            if module.bias is not None:
                nn.init.zeros_(module.bias)


def gaussian_heads(
    mean_logits: torch.Tensor, var_logits: torch.Tensor, beta: float, variance_eps: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """mean = sigmoid(head1), variance = beta * sigmoid(head2) + eps (paper section 3.5).

    The heads' outputs are cast to float32 (a no-op unless under bf16 autocast, see
    infusion.runtime.precision), so the mean, the variance and its eps are float32 numbers. The
    sigmoids overwrite the heads' outputs, which no backward pass needs.
    """
    mean = mean_logits.float().sigmoid_()
    var = var_logits.float().sigmoid_().mul(beta).add_(variance_eps)
    return mean, var


def upsamplings(shape: tuple[int, int, int]) -> int:
    """k for images of shape (C, 4 * 2^k, 4 * 2^k) with k >= 1; a ValueError for any other."""
    _, height, width = shape
    k = (height // 4).bit_length() - 1
    if height != width or k < 1 or height != 4 * 2**k:
        raise ValueError(
            "the conv operator takes square images of side 4 * 2^k (8, 16, 32, 64, ...); "
            f"got shape (C, H, W) = {tuple(shape)}"
        )
    return k


class ConvOperator(nn.Module):
    """Convolutional transition operator (paper section 3.5, CIFAR-10 and CelebA).

    The generator of Salimans et al. (2016) taking the image in place of its noise vector:
    the flat image goes straight into its one fully connected layer (no conv encoder).
    Images (C, H, W) with H = W = 4 * 2^k get k stride-2 transposed convolutions in all
    (32 x 32: three, as for CIFAR-10; 64 x 64: four, as for CelebA); as in that generator,
    whose last transposed convolution outputs the image, the last one is the output layer,
    here doubled into the two heads::

        z [N x C*H*W] -> linear (no bias) -> per-step batch norm per unit -> ReLU
          -> [N x c x 4 x 4], c = ``channels``
          -> k - 1 times: transposed conv (stride 2, no bias) -> per-step batch norm per
             channel -> ReLU; side doubles, channels halve: [N x c / 2^(k-1) x H/2 x W/2]
          -> two transposed convs (stride 2) to [N x C x H x W]: mean and variance heads

    ``kernel`` is the transposed convolutions' kernel side. Glorot-uniform initialisation
    and zero biases (heads only), as the MLP's.
    """

    def __init__(
        self,
        shape: tuple[int, int, int],
        steps: int,
        channels: int,
        kernel: int,
        beta: float,
        variance_eps: float,
        bn_eps: float,
    ):
        super().__init__()
        k = upsamplings(shape)
        widths = [channels // 2**i for i in range(k)]  # 4 x 4, 8 x 8, ..., H/2 x W/2 maps
        if widths[-1] < 1:
            raise ValueError(
                f"{channels} channels cannot be halved {k - 1} times for {shape[1]} x "
                f"{shape[2]} images; use at least {2 ** (k - 1)}"
            )
        self.channels = channels
        self.dense = nn.Linear(shape[0] * shape[1] * shape[2], channels * 16, bias=False)
        self.dense_norm = StepBatchNorm(steps, channels * 16, bn_eps)
        self.convs = nn.ModuleList(
            upsampling(a, b, kernel, bias=False)
            for a, b in zip(widths[:-1], widths[1:], strict=True)
        )
        self.norms = nn.ModuleList(StepBatchNorm(steps, b, bn_eps) for b in widths[1:])
        self.mean_head = upsampling(widths[-1], shape[0], kernel, bias=True)
        self.var_head = upsampling(widths[-1], shape[0], kernel, bias=True)
        self.beta, self.variance_eps = beta, variance_eps
        glorot_init(self)

    @classmethod
    def from_settings(cls, settings: ModelSettings, shape: tuple[int, int, int]):
        return cls(
            shape=shape,
            steps=settings.steps,
            channels=settings.conv_channels,
            kernel=settings.conv_kernel,
            beta=settings.beta,
            variance_eps=settings.variance_eps,
            bn_eps=settings.bn_eps,
        )

    def forward(self, z: torch.Tensor, step: int) -> tuple[torch.Tensor, torch.Tensor]:
        """z: [N x C*H*W], step in 1..; returns mean and variance, each [N x C*H*W]."""
        h = torch.relu(self.dense_norm(self.dense(z), step))  # [N x c*16]
        h = h.view(-1, self.channels, 4, 4)  # [N x c x 4 x 4]
        for conv, norm in zip(self.convs, self.norms, strict=True):
            h = torch.relu(norm(conv(h), step))  # side doubles, channels halve
        mean, var = gaussian_heads(
            self.mean_head(h), self.var_head(h), self.beta, self.variance_eps
        )  # each [N x C x H x W]
        return mean.flatten(1), var.flatten(1)  # [N x C*H*W], the pixel order of the data


def upsampling(a: int, b: int, kernel: int, bias: bool) -> nn.ConvTranspose2d:
    """Transposed convolution from a to b channels that exactly doubles height and width."""
    return nn.ConvTranspose2d(
        a, b, kernel, stride=2, padding=(kernel - 1) // 2, output_padding=kernel % 2, bias=bias
    )


# The operator of each name of infusion.settings.NETWORKS, in its order.
NETWORKS = dict(zip(NETWORK_NAMES, (MLPOperator, ConvOperator), strict=True))


def batch_norms(network: nn.Module) -> list[StepBatchNorm]:
    return [m for m in network.modules() if isinstance(m, StepBatchNorm)]


def set_batch_norm_mode(network: nn.Module, mode: str) -> None:
    if mode not in (BATCH, POPULATION):
        raise ValueError(f"unknown batch-norm mode {mode!r}")
    for norm in batch_norms(network):
        norm.mode = mode
