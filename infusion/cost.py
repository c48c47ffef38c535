"""What a study costs before it runs: device-hours per stage from three measured rates.

The model is deliberately simple. Every stage is a count of operator applications (an
example or chain through one step of the network) divided by a rate, plus a fixed start-up
per job:

- ``examples_per_s``: training example-steps per second (forward, backward and Adam): the
  examples of a training step times its chain steps, over its seconds;
- ``chain_steps_per_s``: evaluation chain-steps per second (forward only, no gradient);
- ``startup_s``: seconds before a job computes anything (the interpreter, ``import torch``
  and the package; about 4.5 s on a 2-core CPU, almost all of it torch).

:func:`measure_rates` times the study's own network (its width, layers and pixel count) at
the study's own batch sizes (the training ``batch_size``; the final evaluation's
``chain_batch``) and at the final model's steps, with the threads a job gets, on random
data. So small networks and small batches, which spend their time in per-call overhead
rather than arithmetic, are timed as they will run. Per stage:

- train: for every distinct grid point, epochs x (train examples x steps at the training
  rate + the per-epoch curves: train and valid ``curve_examples`` x steps, one chain each,
  at the evaluation rate);
- grid_evaluation: every distinct grid point, examples x chains x repetitions x steps
  (+ isotropic_examples x isotropic_chains x steps);
- evaluation: Table 3.1 for test and train, examples x chains x repetitions x final steps
  (+ the isotropic term);
- sampling: the final model's samples x sampling_steps, every grid point's samples x its
  steps, plus their infusion chains.

Each stage adds ``startup_s`` per job. Left out: Parzen estimates (Fig 3.3's curve and Fig
3.4), the per-step batch-norm pass over the training set after training, data preparation,
figures and tables (minutes); and that a grid point's rate depends on its steps (a 1-step
model pays the per-batch overhead of Adam over fewer example-steps than the final model).
Hours are device-hours, one job at a time: jobs that run side by side share the device.
"""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass

import pandas as pd

SPLIT_SIZES = {  # train / valid / test examples of each prepared dataset (infusion.data)
    "mnist": {"train": 50000, "valid": 10000, "test": 10000},
    "mnist5k": {"train": 4000, "valid": 500, "test": 500},
    "digits": {"train": 1197, "valid": 300, "test": 300},
    "shapes16": {"train": 500, "valid": 100, "test": 100},
    "cifar10": {"train": 45000, "valid": 5000, "test": 10000},
    "celeba": {"train": 162770, "valid": 19867, "test": 19962},
}  # TFD's sizes depend on the local file, so it has no estimate
MAX_CPU_CHAIN_BATCH = 4096  # chains per timed pass on a CPU: the rate is flat beyond this


@dataclass
class Rates:
    """What :func:`estimate_cost` divides by (see the module doc)."""

    examples_per_s: float  # training example-steps per second
    chain_steps_per_s: float  # evaluation chain-steps per second
    startup_s: float = 0.0  # seconds of start-up per job
    device: str = "given"  # where the rates were measured ("given": by the caller)


def merge_config(base: dict, overlay: dict) -> dict:
    """``overlay`` onto ``base`` as snakemake's ``--configfile`` does: dicts are merged
    recursively, anything else (lists included) is replaced."""
    merged = dict(base)
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_config(merged[key], value)
        else:
            merged[key] = value
    return merged


def grid_points(config: dict) -> list[tuple[int, float, float]]:
    """Distinct (steps, alpha0, omega) of the grid: a point shared by panels is trained once."""
    points = (
        (int(panel["steps"]), float(alpha0), float(omega))
        for panel in config["grid"]
        for alpha0 in panel["alpha0"]
        for omega in panel["omega"]
    )
    return list(dict.fromkeys(points))


def estimate_cost(config: dict, rates: Rates) -> pd.DataFrame:
    """Hours of each stage of the study ``config`` (config.yaml's structure); see the module
    doc for the model. Columns ``stage, jobs, hours``; the last row is the total."""
    if rates.examples_per_s <= 0 or rates.chain_steps_per_s <= 0 or rates.startup_s < 0:
        raise ValueError("examples_per_s and chain_steps_per_s must be > 0, startup_s >= 0")
    if config["dataset"] not in SPLIT_SIZES:
        raise ValueError(f"no split sizes known for dataset {config['dataset']!r}")
    sizes = SPLIT_SIZES[config["dataset"]]
    points = grid_points(config)
    training = config["training"]

    def hours(example_steps: float = 0.0, chain_steps: float = 0.0) -> float:
        seconds = example_steps / rates.examples_per_s + chain_steps / rates.chain_steps_per_s
        return seconds / 3600

    curves = min(training["curve_examples"], sizes["train"]) + min(
        training["curve_examples"], sizes["valid"]
    )
    train = sum(
        hours(training["epochs"] * sizes["train"] * t, training["epochs"] * curves * t)
        for t, _, _ in points
    )

    def isotropic(section: dict) -> int:
        return section.get("isotropic_examples", 0) * section.get("isotropic_chains", 10)

    grid_eval = config["grid_evaluation"]
    per_point = grid_eval["examples"] * grid_eval["chains"] * grid_eval["repetitions"]
    grid_evaluation = sum(
        hours(chain_steps=(per_point + isotropic(grid_eval)) * t) for t, _, _ in points
    )

    evaluation = config["evaluation"]
    final_steps = int(config["final"]["steps"])
    table = sum(
        hours(
            chain_steps=(
                evaluation[f"{split}_examples"] * evaluation["chains"] * evaluation["repetitions"]
                + isotropic(evaluation)
            )
            * final_steps
        )
        for split in ("test", "train")
    )

    sampling, grid_sampling = config["sampling"], config["grid_sampling"]
    sample = hours(
        chain_steps=sampling["samples"] * sampling["sampling_steps"]
        + sampling["infusion_targets"] * final_steps
    ) + sum(
        hours(chain_steps=(grid_sampling["samples"] + grid_sampling["infusion_targets"]) * t)
        for t, _, _ in points
    )

    rows = [
        ("train", len(points), train),
        ("grid_evaluation", len(points), grid_evaluation),
        ("evaluation", 2, table),
        ("sampling", 1 + len(points), sample),
    ]
    rows = [(stage, jobs, h + jobs * rates.startup_s / 3600) for stage, jobs, h in rows]
    rows.append(("total", sum(r[1] for r in rows), sum(r[2] for r in rows)))
    return pd.DataFrame(rows, columns=["stage", "jobs", "hours"])


def measure_startup(repeats: int = 1) -> float:
    """Seconds a fresh interpreter takes to import what a training job imports (best of
    ``repeats``): the start-up every job pays before it computes."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import infusion.cli, infusion.training"],
                       check=True)  # fmt: skip
        best = min(best, time.perf_counter() - start)
    return best


def measure_rates(config: dict, device: str = "auto", rounds: int = 3) -> Rates:
    """Rates of the study's own network on ``device``: training steps at the training batch
    size and evaluation passes at the final evaluation's chain batch, at the final model's
    steps, on random data, the fastest of ``rounds`` after a warm-up each; and
    :func:`measure_startup`."""
    import torch

    from infusion.data import DATASETS
    from infusion.estimators import draw_log_weights
    from infusion.model import InfusionModel
    from infusion.objectives import denoising_loss
    from infusion.settings import ModelSettings
    from infusion.timing import seconds_per_call
    from infusion.training import resolve_device

    dev = resolve_device(device)
    steps, batch = int(config["final"]["steps"]), int(config["training"]["batch_size"])
    chains = int(config["evaluation"]["chain_batch"])
    if dev.type == "cpu":
        chains = min(chains, MAX_CPU_CHAIN_BATCH)
    torch.manual_seed(0)
    settings = ModelSettings(**{**config["model"], "steps": steps})  # the study's own network
    model = InfusionModel(settings, DATASETS[config["dataset"]].shape)
    model = model.to(dev)
    optimizer = torch.optim.Adam(model.parameters())
    generator = torch.Generator(dev).manual_seed(0)
    x = torch.rand(batch, model.dim, device=dev)

    def train_step():
        loss = denoising_loss(model, x, generator)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    examples_per_s = batch * steps / seconds_per_call(train_step, 1, dev, rounds)
    per_point = max(1, chains // 4)  # 4 examples, their chains in one pass
    points = torch.rand(4, model.dim, device=dev)
    evaluate = seconds_per_call(
        lambda: draw_log_weights(model, points, per_point, generator, chains), 1, dev, rounds
    )
    chain_steps_per_s = 4 * per_point * steps / evaluate
    return Rates(examples_per_s, chain_steps_per_s, measure_startup(), str(dev))
