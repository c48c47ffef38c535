"""Throughput of the heavy stages, as JSON lines: {"name", "value", "unit", ...}.

    python benchmarks/run.py            # the paper's sizes (MNIST MLP, T = 15, batch 512;
                                        # CIFAR-10 and CelebA conv operators)
    python benchmarks/run.py --quick    # fewer repetitions and small conv sizes: a smoke run

Compute-bound figures carry ``fraction_of_peak``: achieved FLOP/s over the float32
matrix-product peak measured on the same device, in rounds interleaved with the workload's
own calls (``peak_gflops``, the fastest of them). Runs on the GPU when
one is present (``--device`` to choose).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import yaml
from measures import Yardstick, conv_flops_per_step, emit, emit_flops, mlp_flops_per_step, timed

from infusion.estimation.evaluation import minibatch_lower_bound
from infusion.estimation.parzen import log_likelihood as parzen_log_likelihood
from infusion.nets.model import InfusionModel
from infusion.nets.networks import BATCH, POPULATION, set_batch_norm_mode
from infusion.process.infusion_process import InfusionProcess
from infusion.runtime.allocator import keep_freed_memory
from infusion.runtime.compilation import compile_operator
from infusion.runtime.device import resolve_device
from infusion.runtime.precision import precision_context
from infusion.sampling.samples import draw_samples
from infusion.settings import ModelSettings, SampleSettings
from infusion.training.trainer import training_step

# The conv operators of the paper (section 3.5): image shape and training steps T.
CONV_DATASETS = {"cifar10": ((3, 32, 32), 20), "celeba": ((3, 64, 64), 15)}


def conv_training(device: torch.device, repeats: int, quick: bool, yardstick: Yardstick) -> None:
    """Training throughput of the CIFAR-10 and CelebA conv operators at config.yaml's widths
    and the paper's steps, batch 512 on a GPU; on a CPU, where a step of batch 32 takes tens
    of seconds, batch 32 and one timed step after the warm-up. ``quick``: 2 steps, batch 8,
    32 channels."""
    model_config = yaml.safe_load((REPO / "config.yaml").read_text())["model"]
    channels = 32 if quick else model_config["conv_channels"]
    kernel = model_config["conv_kernel"]
    batch = 8 if quick else (512 if device.type == "cuda" else 32)
    repeats = repeats if device.type == "cuda" else 1
    for name, (shape, steps) in CONV_DATASETS.items():
        steps = 2 if quick else steps
        settings = ModelSettings(
            steps=steps, network="conv", conv_channels=channels, conv_kernel=kernel
        )
        model = InfusionModel(settings, shape).to(device)
        loss = InfusionProcess.of(settings, shape).denoising_loss
        optimizer = torch.optim.Adam(model.parameters())
        x = torch.rand(batch, model.dim, device=device)
        generator = torch.Generator(device).manual_seed(0)

        def train_step(model=model, optimizer=optimizer, x=x, generator=generator, loss=loss):
            training_step(model, optimizer, loss, x, generator)

        seconds, peak = yardstick.timed(train_step, repeats)
        forward, backward = conv_flops_per_step(model, batch)
        flops = steps * (forward + backward) / seconds
        common = {
            "shape": list(shape),
            "steps": steps,
            "batch": batch,
            "conv_channels": channels,
            "conv_kernel": kernel,
            "device": str(device),
        }
        emit(f"train_conv_{name}_examples_per_s", batch / seconds, "examples/s", **common)
        emit_flops(f"train_conv_{name}_gflops", flops, peak, **common)


def lower_bound_precision_effect(model: InfusionModel, device: torch.device, n: int) -> None:
    """Mean one-chain lower bound (minibatch statistics) of the same random points with the
    same seed under bf16 minus under fp32: what bf16 does to the reported numbers."""
    points = torch.rand(n, model.dim, generator=torch.Generator().manual_seed(7)).to(device)
    bounds = {}
    for precision in ("fp32", "bf16"):
        generator = torch.Generator(device).manual_seed(8)
        with precision_context(precision, device):
            process = InfusionProcess.of(model.settings, model.shape)
            bounds[precision] = minibatch_lower_bound(process, model, points, 256, generator)
    emit("lower_bound_fp32_vs_bf16", bounds["bf16"] - bounds["fp32"], "nats",
         fp32=round(bounds["fp32"], 4), examples=n, what="bf16 minus fp32")  # fmt: skip


REPO = Path(__file__).resolve().parent.parent


def slope(sizes: list[int], seconds: list[float]) -> float:
    """Log-log slope of time against size: 1 is linear, 2 quadratic."""
    return float(np.polyfit(np.log(sizes), np.log(seconds), 1)[0])


def scaling(device: torch.device, repeats: int) -> None:
    """Training cost against T and examples, evaluation against chains, Parzen against
    samples: a slope near 1 means linear, no hidden quadratic step."""
    x = torch.rand(4096, 784, device=device)
    g = torch.Generator(device).manual_seed(0)
    repeats = max(repeats, 2)

    def train_seconds(steps, examples, batch=256):
        model = InfusionModel(ModelSettings(steps=steps, hidden=256), (1, 28, 28)).to(device)
        loss = InfusionProcess.of(model.settings, model.shape).denoising_loss

        def epoch():
            for start in range(0, examples, batch):
                loss(model, x[start : start + batch], g).backward()

        return timed(epoch, repeats, device)

    steps = [2, 4, 8]
    times = [train_seconds(t, 512) for t in steps]
    emit("scaling_train_vs_steps", slope(steps, times), "log-log slope", sizes=steps)
    examples = [512, 1024, 2048]
    times = [train_seconds(4, n) for n in examples]
    emit("scaling_train_vs_examples", slope(examples, times), "log-log slope", sizes=examples)
    model = InfusionModel(ModelSettings(steps=4, hidden=256), (1, 28, 28)).to(device)
    process = InfusionProcess.of(model.settings, model.shape)
    set_batch_norm_mode(model.operator, POPULATION)
    chains = [1024, 2048, 4096]
    times = [
        timed(lambda k=k: process.draw_log_weights(model, x[:4], k, g, 4096), repeats, device)
        for k in chains
    ]
    emit("scaling_evaluate_vs_chains", slope(chains, times), "log-log slope", sizes=chains)
    counts = [1000, 2000, 4000]
    times = [
        timed(lambda m=m: parzen_log_likelihood(x[:m], x[:1000], 0.17, 1000, device), 1, device)
        for m in counts
    ]
    emit("scaling_parzen_vs_samples", slope(counts, times), "log-log slope", sizes=counts)


def workflow_overhead() -> None:
    """Planning time of the paper study and of a 1,000-point grid; one job's start-up."""
    with tempfile.TemporaryDirectory() as folder:
        for name in ("Snakefile", "config.yaml", "workflow"):
            source = REPO / name
            (shutil.copytree if source.is_dir() else shutil.copy)(source, Path(folder) / name)
        omegas = [i / 1000 for i in range(1000)]
        big = {
            "grid": [{"panel": "b", "steps": 5, "alpha0": [0.0], "omega": omegas}],
            "final": {"steps": 5, "alpha0": 0.0, "omega": 0.001},
            "constant_rate": {"steps": 5, "alpha0": 0.0},
        }
        (Path(folder) / "big.json").write_text(json.dumps(big))
        for name, extra in (
            ("plan_paper_study_s", []),
            ("plan_1000_points_s", ["--configfile", "big.json"]),
        ):
            start = time.perf_counter()
            subprocess.run(["snakemake", "-n", "--quiet", *extra], cwd=folder, check=True,
                           capture_output=True)  # fmt: skip
            emit(name, time.perf_counter() - start, "s")
    # Snakemake's own start-up, before it reads our Snakefile: its executor plugins load at
    # import (the SLURM plugin asks sacct/squeue for their status; with SLURM's client tools
    # installed but no controller to answer, that waits for their time-outs).
    import_snakemake = [sys.executable, "-c", "import snakemake.cli"]
    emit("snakemake_import_s", best_seconds(import_snakemake), "s",
         what="python + import snakemake.cli, part of every plan")  # fmt: skip
    job_startup()


def best_seconds(command: list[str], repeats: int = 3, **kwargs) -> float:
    """Fastest of ``repeats`` runs of a command (the slower ones measure other jobs)."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True, **kwargs)
        best = min(best, time.perf_counter() - start)
    return best


def job_startup() -> None:
    """What a job costs before it computes: the interpreter, ``import torch``, our code on
    top of them, and three real commands (``--help``; a table job and a training job's
    imports, each without torch or with it)."""
    python = [sys.executable, "-c"]
    bare = best_seconds([*python, "pass"])
    torch_only = best_seconds([*python, "import torch"])
    job = best_seconds([*python, "import infusion.training.trainer, infusion.cli"])
    emit("startup_python_s", bare, "s", what="the interpreter alone")
    emit("startup_torch_s", torch_only, "s", what="python + import torch")
    emit("job_startup_s", job, "s", what="python + torch + infusion (a training job)",
         infusion_over_torch_s=round(job - torch_only, 4))  # fmt: skip
    emit("startup_cli_help_s", best_seconds([sys.executable, "-m", "infusion", "--help"]), "s")
    with tempfile.TemporaryDirectory() as folder:
        tsv = Path(folder) / "train" / "job.tsv"
        tsv.parent.mkdir()
        tsv.write_text("s\th:m:s\tmax_rss\n4.59\t0:00:04\t559.74\n")
        command = [sys.executable, "-m", "infusion", "artifact", "runtimes", "--benchmarks",
                   str(tsv), "--out", str(Path(folder) / "runtimes.csv")]  # fmt: skip
        emit("startup_table_job_s", best_seconds(command), "s",
             what="infusion artifact runtimes (pandas, matplotlib)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--skip-workflow", action="store_true", help="no snakemake timings")
    args = parser.parse_args()
    device = resolve_device(args.device)
    keep_freed_memory()  # as every `infusion` job does
    repeats = 1 if args.quick else 5
    torch.manual_seed(0)
    yardstick = Yardstick(device)
    emit("matmul_peak_fp32", yardstick.flops_per_s(rounds=2 * repeats) / 1e9, "GFLOP/s",
         device=str(device))  # fmt: skip

    steps, batch = 15, 512
    model = InfusionModel(ModelSettings(steps=steps), (1, 28, 28)).to(device)
    process = InfusionProcess.of(model.settings, model.shape)
    optimizer = torch.optim.Adam(model.parameters())
    x = torch.rand(batch, model.dim, device=device)
    generator = torch.Generator(device).manual_seed(0)

    def train_step(precision="fp32", rows=batch, compile="none"):
        training_step(
            model, optimizer, process.denoising_loss, x[:rows], generator, precision, compile
        )

    seconds, peak = yardstick.timed(train_step, repeats)
    forward, backward = mlp_flops_per_step(model, batch)
    flops = steps * (forward + backward) / seconds
    common = {"steps": steps, "batch": batch, "device": str(device)}
    emit("train_mlp_examples_per_s", batch / seconds, "examples/s", **common)
    emit_flops("train_mlp_gflops", flops, peak, **common)
    # CPUs without native bfloat16 (no AVX512-BF16 / AMX) emulate it, many times slower than
    # float32: the quick run times a smaller batch.
    rows = 64 if args.quick else batch
    seconds = timed(lambda: train_step("bf16", rows), repeats, device)
    emit("train_mlp_bf16_examples_per_s", rows / seconds, "examples/s", precision="bf16",
         **(common | {"batch": rows}))  # fmt: skip
    lower_bound_precision_effect(model, device, 256 if args.quick else 4096)

    set_batch_norm_mode(model.operator, POPULATION)
    chains = (1024 if args.quick else 4096) if device.type == "cpu" else 65536
    points = torch.rand(4, model.dim, device=device)
    scoring = common | {"batch": chains}  # chains per pass (4 points x chains / 4)
    seconds, peak = yardstick.timed(
        lambda: process.draw_log_weights(model, points, chains // 4, generator, chains), repeats
    )
    flops = steps * mlp_flops_per_step(model, chains)[0] / seconds
    emit("evaluate_chain_steps_per_s", chains * steps / seconds, "chain-steps/s", **scoring)
    emit_flops("evaluate_gflops", flops, peak, **scoring)

    settings = SampleSettings(samples=chains, sampling_steps=30, batch=chains, device=str(device))
    seconds = timed(lambda: draw_samples(model, settings), repeats, device)
    emit("sample_chains_per_s", chains / seconds, "chains/s", sampling_steps=30,
         device=str(device))  # fmt: skip

    def evaluate(seed):
        return process.draw_log_weights(
            model, points, chains // 4, torch.Generator(device).manual_seed(seed), chains
        )

    # The same scoring and training step with the operator compiled (compile: default),
    # scoring first: the training steps change the weights.
    eager_bound = float(evaluate(9).total.mean())
    compile_operator(model, "default")
    start = time.perf_counter()
    compiled_bound = float(evaluate(9).total.mean())
    compile_seconds = time.perf_counter() - start
    seconds, peak = yardstick.timed(lambda: evaluate(0), repeats)
    flops = steps * mlp_flops_per_step(model, chains)[0] / seconds
    emit("evaluate_compiled_chain_steps_per_s", chains * steps / seconds, "chain-steps/s",
         **scoring, compile_seconds=round(compile_seconds, 2))  # fmt: skip
    emit_flops("evaluate_compiled_gflops", flops, peak, **scoring)
    set_batch_norm_mode(model.operator, BATCH)
    start = time.perf_counter()
    train_step(compile="default")
    compile_seconds = time.perf_counter() - start
    seconds, peak = yardstick.timed(lambda: train_step(compile="default"), repeats)
    flops = steps * (forward + backward) / seconds
    emit("train_mlp_compiled_examples_per_s", batch / seconds, "examples/s", **common,
         compile_seconds=round(compile_seconds, 2))  # fmt: skip
    emit_flops("train_mlp_compiled_gflops", flops, peak, **common)
    emit("lower_bound_compiled_vs_eager", compiled_bound - eager_bound, "nats",
         eager=round(eager_bound, 4), chains=chains,
         what="compiled minus eager, same draws")  # fmt: skip

    m = n = 10000 if not args.quick else 2000
    mu, pts = torch.rand(m, model.dim, device=device), torch.rand(n, model.dim, device=device)
    seconds, peak = yardstick.timed(
        lambda: parzen_log_likelihood(mu, pts, 0.17, 2000, device), repeats
    )
    flops = 2 * m * n * model.dim / seconds
    emit("parzen_pairs_per_s", m * n / seconds, "pairs/s", samples=m, points=n)
    emit_flops("parzen_gflops", flops, peak)

    conv_training(device, repeats, args.quick, yardstick)
    scaling(device, repeats)
    if not args.skip_workflow:
        workflow_overhead()


if __name__ == "__main__":
    main()
