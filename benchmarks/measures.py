"""What the benchmarks measure with: the JSON line each figure is (:func:`emit`), the
fastest of repeated calls (:func:`timed`), the float32 matrix-product peak that
compute-bound figures are a fraction of (:class:`Yardstick`), and the operators' FLOPs per
step, counted from their layer sizes. Imported by ``benchmarks/run.py``."""

from __future__ import annotations

import json

import torch

from infusion.nets.model import InfusionModel
from infusion.runtime.timing import seconds_per_call


def timed(fn, repeats: int, device: torch.device) -> float:
    """Seconds of the fastest of ``repeats`` calls after a warm-up: on a machine shared with
    other jobs, the slower calls measure the others."""
    return seconds_per_call(fn, 1, device, rounds=repeats)


def emit(name: str, value: float, unit: str, **extra) -> None:
    print(json.dumps({"name": name, "value": round(value, 4), "unit": unit, **extra}), flush=True)


class Yardstick:
    """float32 FLOP/s of a large square-ish matrix product: the peak the rest is measured by.

    The speed of a virtual machine's cores wanders: over minutes (this project's 2-core
    machine read 99 and 146 GFLOP/s at the starts of two runs), and in bursts that a
    half-second product catches and a workload of several seconds does not (153 GFLOP/s
    beside a scoring pass whose own speed had not moved). So each compute-bound line is
    timed against yardstick rounds interleaved with its own calls, each round as long as
    one of those calls (at least 0.5 s), the fastest of each counted (:meth:`timed`).
    """

    def __init__(self, device: torch.device):
        self.device = device
        self.n = 4096 if device.type == "cuda" else 1024
        self.a = torch.randn(self.n, 1200, device=device)
        self.b = torch.randn(1200, 1200, device=device)
        self.product_seconds = seconds_per_call(self.product, 4, device)

    def product(self) -> torch.Tensor:
        return self.a @ self.b

    def flops_per_s(self, seconds: float = 0.5, rounds: int = 1) -> float:
        """The fastest of ``rounds`` rounds of products lasting about ``seconds`` each."""
        calls = max(1, round(seconds / self.product_seconds))
        per_call = seconds_per_call(self.product, calls, self.device, rounds, warm_up=False)
        return 2 * self.n * 1200 * 1200 / per_call

    def timed(self, fn, repeats: int) -> tuple[float, float]:
        """(seconds of the fastest of ``repeats`` calls of fn after a warm-up call, the
        fastest yardstick FLOP/s of the rounds run before each call, each round as long as
        the warm-up call, or 0.5 s)."""
        round_seconds = max(0.5, seconds_per_call(fn, 1, self.device, warm_up=False))
        seconds, peak = float("inf"), 0.0
        for _ in range(repeats):
            peak = max(peak, self.flops_per_s(round_seconds))
            seconds = min(seconds, seconds_per_call(fn, 1, self.device, warm_up=False))
        return seconds, peak


def emit_flops(name: str, flops: float, peak: float, **extra) -> None:
    """A compute-bound line: achieved GFLOP/s and its fraction of the adjacent peak."""
    emit(name, flops / 1e9, "GFLOP/s", fraction_of_peak=round(flops / peak, 3),
         peak_gflops=round(peak / 1e9, 1), **extra)  # fmt: skip


def mlp_flops_per_step(model: InfusionModel, rows: int) -> tuple[int, int]:
    """(forward, backward) FLOPs of one operator application on ``rows`` inputs.

    Backward computes weight gradients for every layer and input gradients for all but the
    first (its input z~ is a detached chain draw).
    """
    weights = [m.weight for m in model.operator.modules() if isinstance(m, torch.nn.Linear)]
    params = sum(w.numel() for w in weights)
    forward = 2 * rows * params
    return forward, 2 * forward - 2 * rows * weights[0].numel()


def conv_flops_per_step(model: InfusionModel, rows: int) -> tuple[int, int]:
    """(forward, backward) FLOPs of one conv operator application on ``rows`` inputs.

    Counted from the layer sizes: the fully connected layer does 2 * in * out per row; a
    transposed convolution from a to b channels with a k x k kernel on an s x s input
    scatters a b x k x k patch from every input value, 2 * a * b * k^2 * s^2 per row. The
    side is 4 after the fully connected layer and doubles at each transposed convolution;
    the two heads take the last map. Backward as for the MLP: weight gradients everywhere,
    input gradients everywhere but the first layer.
    """
    operator = model.operator
    first = 2 * rows * operator.dense.weight.numel()
    forward, side = first, 4
    for conv in operator.convs:
        forward += 2 * rows * conv.weight.numel() * side * side
        side *= 2
    for head in (operator.mean_head, operator.var_head):
        forward += 2 * rows * head.weight.numel() * side * side
    return forward, 2 * forward - first
