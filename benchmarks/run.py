"""Throughput of the heavy stages, as JSON lines: {"name", "value", "unit", ...}.

    python benchmarks/run.py            # the paper's sizes (MNIST MLP, T = 15, batch 512)
    python benchmarks/run.py --quick    # fewer repetitions, for a smoke run

Compute-bound figures carry ``fraction_of_peak``: achieved FLOP/s over the float32
matrix-product peak measured in the same run, on the same device. Runs on the GPU when
one is present (``--device`` to choose).
"""

from __future__ import annotations

import argparse
import json
import time

import torch

from infusion.estimators import draw_log_weights
from infusion.model import InfusionModel
from infusion.networks import POPULATION, set_batch_norm_mode
from infusion.objectives import denoising_loss
from infusion.parzen import log_likelihood as parzen_log_likelihood
from infusion.sampling import draw_samples
from infusion.settings import ModelSettings, SampleSettings
from infusion.training import resolve_device


def emit(name: str, value: float, unit: str, **extra) -> None:
    print(json.dumps({"name": name, "value": round(value, 4), "unit": unit, **extra}), flush=True)


def timed(fn, repeats: int, device: torch.device) -> float:
    """Seconds per call of fn, after one warm-up call."""
    fn()
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / repeats


def matmul_peak(device: torch.device, repeats: int) -> float:
    """float32 FLOP/s of a large square-ish matrix product: the yardstick for the rest."""
    n = 4096 if device.type == "cuda" else 1024
    a, b = torch.randn(n, 1200, device=device), torch.randn(1200, 1200, device=device)
    seconds = timed(lambda: a @ b, repeats * 4, device)
    return 2 * n * 1200 * 1200 / seconds


def mlp_flops_per_step(model: InfusionModel, rows: int) -> tuple[int, int]:
    """(forward, backward) FLOPs of one operator application on ``rows`` inputs.

    Backward computes weight gradients for every layer and input gradients for all but the
    first (its input z~ is a detached chain draw).
    """
    weights = [m.weight for m in model.operator.modules() if isinstance(m, torch.nn.Linear)]
    params = sum(w.numel() for w in weights)
    forward = 2 * rows * params
    return forward, 2 * forward - 2 * rows * weights[0].numel()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()
    device = resolve_device(args.device)
    repeats = 1 if args.quick else 5
    torch.manual_seed(0)
    peak = matmul_peak(device, repeats)
    emit("matmul_peak_fp32", peak / 1e9, "GFLOP/s", device=str(device))

    steps, batch = 15, 512
    model = InfusionModel(ModelSettings(steps=steps), (1, 28, 28)).to(device)
    optimizer = torch.optim.Adam(model.parameters())
    x = torch.rand(batch, model.dim, device=device)
    generator = torch.Generator(device).manual_seed(0)

    def train_step():
        loss = denoising_loss(model, x, generator)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    seconds = timed(train_step, repeats, device)
    forward, backward = mlp_flops_per_step(model, batch)
    flops = steps * (forward + backward) / seconds
    common = {"steps": steps, "batch": batch, "device": str(device)}
    emit("train_mlp_examples_per_s", batch / seconds, "examples/s", **common)
    emit("train_mlp_gflops", flops / 1e9, "GFLOP/s", fraction_of_peak=round(flops / peak, 3),
         **common)  # fmt: skip

    set_batch_norm_mode(model.operator, POPULATION)
    chains = (1024 if args.quick else 4096) if device.type == "cpu" else 65536
    points = torch.rand(4, model.dim, device=device)
    seconds = timed(
        lambda: draw_log_weights(model, points, chains // 4, generator, chains), repeats, device
    )
    flops = steps * mlp_flops_per_step(model, chains)[0] / seconds
    emit("evaluate_chain_steps_per_s", chains * steps / seconds, "chain-steps/s", **common)
    emit("evaluate_gflops", flops / 1e9, "GFLOP/s", fraction_of_peak=round(flops / peak, 3),
         **common)  # fmt: skip

    settings = SampleSettings(samples=chains, sampling_steps=30, batch=chains, device=str(device))
    seconds = timed(lambda: draw_samples(model, settings), repeats, device)
    emit("sample_chains_per_s", chains / seconds, "chains/s", sampling_steps=30,
         device=str(device))  # fmt: skip

    m = n = 10000 if not args.quick else 2000
    mu, pts = torch.rand(m, model.dim, device=device), torch.rand(n, model.dim, device=device)
    seconds = timed(lambda: parzen_log_likelihood(mu, pts, 0.17, 2000, device), 1, device)
    flops = 2 * m * n * model.dim / seconds
    emit("parzen_pairs_per_s", m * n / seconds, "pairs/s", samples=m, points=n)
    emit("parzen_gflops", flops / 1e9, "GFLOP/s", fraction_of_peak=round(flops / peak, 3))


if __name__ == "__main__":
    main()
