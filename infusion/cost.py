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
- sampling: every seed's final model's samples x sampling_steps, the first seed's grid
  points' samples x their steps (Fig A.1's sheets), plus their infusion chains;
- fidelity (``fidelity.enabled``): each ablation run's training, test estimates and samples;
- lower_bound_training (``lower_bound_training.enabled``): each run of the objectives'
  comparison the study does not train anyway, trained; each that is not a final model of the
  study's, its test estimates and samples (:func:`objective_stage`);
- convergence (``convergence.enabled``): examples x the largest k x repetitions x final steps;
- sampling_steps (``sampling_steps.enabled``): every seed's final model sampled for each
  step count of :func:`infusion.study.sampling_step_counts`.

Each natural-image dataset the workflow trains (``natural_images``, enabled, not the study's
own; TFD is left out, its sizes depend on the local file) adds two rows, its training and
its samples, costed as above with its own settings (:func:`infusion.study.natural_view`)
and rates timed on its own network: the conv operator on CIFAR-10 or CelebA images.

Each stage adds ``startup_s`` per job. Left out: Parzen estimates (Fig 3.3's curve, Fig
3.4, and those of the questions beyond the paper: each sampling-steps and objectives' sample
file's, parzen_trust's validation sigma and real-data estimates), the nearest-training-image
distances, Table 3.2's Inception forward passes, inpainting, the per-step batch-norm pass over
the training set after training, data preparation, figures and tables (minutes); and that a
grid point's rate depends on its steps (a 1-step model pays the per-batch overhead of Adam
over fewer example-steps than the final model). Hours are device-hours, one job at a time:
jobs that run side by side share the device.
"""

from __future__ import annotations

import dataclasses
import logging
import subprocess
import sys
import time
from dataclasses import dataclass

import pandas as pd

from infusion import study
from infusion.beyond import switches as fidelity
from infusion.runtime.atomic import atomic_path

log = logging.getLogger(__name__)

MAX_CPU_CHAIN_BATCH = 4096  # chains per timed pass on a CPU: the rate is flat beyond this
MAX_CPU_CONV_BATCH = 8  # conv examples or chains per timed pass on a CPU (seconds each)
RATE_COLUMNS = ("examples_per_s", "chain_steps_per_s", "startup_s", "device")


@dataclass
class Rates:
    """What :func:`estimate_cost` divides by (see the module doc)."""

    examples_per_s: float  # training example-steps per second
    chain_steps_per_s: float  # evaluation chain-steps per second
    startup_s: float = 0.0  # seconds of start-up per job
    device: str = "given"  # where the rates were measured ("given": by the caller)


def natural_datasets(config: dict) -> list[str]:
    """The natural-image datasets the workflow trains whose split sizes are known (TFD's
    depend on the local file, so it has no estimate)."""
    return [d for d in study.natural_datasets(config) if study.split_sizes(d) is not None]


def estimate_cost(
    config: dict, rates: Rates, natural_rates: dict[str, Rates] | None = None
) -> pd.DataFrame:
    """Hours of each stage of the study ``config`` (config.yaml's structure) at ``rates``, and
    of each natural-image dataset in ``natural_rates`` at its own; see the module doc.
    Columns ``stage, jobs, hours`` and each row's rates; the last row is the total."""
    for r in (rates, *(natural_rates or {}).values()):
        if r.examples_per_s <= 0 or r.chain_steps_per_s <= 0 or r.startup_s < 0:
            raise ValueError("examples_per_s and chain_steps_per_s must be > 0, startup_s >= 0")
    rows = [(*row, rates) for row in study_hours(config, rates)]
    for dataset, r in (natural_rates or {}).items():
        rows += [
            (f"{dataset} {stage}", jobs, h, r)
            for stage, jobs, h in study_hours(study.natural_view(config, dataset), r)
        ]
    table = pd.DataFrame(
        [
            (stage, jobs, h + jobs * r.startup_s / 3600, *(getattr(r, c) for c in RATE_COLUMNS))
            for stage, jobs, h, r in rows
        ],
        columns=["stage", "jobs", "hours", *RATE_COLUMNS],
    )
    total = {"stage": "total", "jobs": table.jobs.sum(), "hours": table.hours.sum()}
    return pd.concat([table, pd.DataFrame([total])], ignore_index=True)


def study_hours(config: dict, rates: Rates) -> list[tuple[str, int, float]]:
    """(stage, jobs, hours before start-up) of the stages train, grid_evaluation, evaluation
    and sampling of ``config``'s dataset (a natural-image study view has no grid and runs
    train and sampling only)."""
    sizes = study.split_sizes(config["dataset"])
    if sizes is None:
        raise ValueError(f"no split sizes known for dataset {config['dataset']!r}")
    final_steps = int(config["final"]["steps"])
    points = study.grid_points(config) or [(final_steps, 0.0, 0.0)]  # a natural study
    training = config["training"]

    def hours(example_steps: float = 0.0, chain_steps: float = 0.0) -> float:
        seconds = example_steps / rates.examples_per_s + chain_steps / rates.chain_steps_per_s
        return seconds / 3600

    curves = min(training["curve_examples"], sizes["train"]) + min(
        training["curve_examples"], sizes["valid"]
    )
    seeds = len(training["seeds"])  # every run is trained once per seed

    def train_hours(t: int) -> float:
        return hours(training["epochs"] * sizes["train"] * t, training["epochs"] * curves * t)

    train = seeds * sum(train_hours(t) for t, _, _ in points)

    def isotropic(section: dict) -> int:
        return section.get("isotropic_examples", 0) * section.get("isotropic_chains", 10)

    grid_eval = config["grid_evaluation"]
    per_point = grid_eval["examples"] * grid_eval["chains"] * grid_eval["repetitions"]
    grid_evaluation = seeds * sum(
        hours(chain_steps=(per_point + isotropic(grid_eval)) * t) for t, _, _ in points
    )

    evaluation = config["evaluation"]

    def split_hours(split: str, t: int) -> float:  # one of Table 3.1's estimates
        chains = evaluation[f"{split}_examples"] * evaluation["chains"] * evaluation["repetitions"]
        return hours(chain_steps=(chains + isotropic(evaluation)) * t)

    table = seeds * (split_hours("test", final_steps) + split_hours("train", final_steps))

    sampling, grid_sampling = config["sampling"], config["grid_sampling"]

    def sample_hours(t: int, sampling_steps: int) -> float:  # a sample file and its infusion
        return hours(
            chain_steps=sampling["samples"] * sampling_steps + sampling["infusion_targets"] * t
        )

    final_samples = sample_hours(final_steps, sampling["sampling_steps"])
    if not config["grid"]:  # a natural-image dataset: its one model's training and samples
        return [("train", 1, train), ("sampling", 1, final_samples)]
    sample = seeds * final_samples + sum(  # Fig A.1's sheets: the first seed's grid only
        hours(chain_steps=(grid_sampling["samples"] + grid_sampling["infusion_targets"]) * t)
        for t, _, _ in points
    )
    stages = [
        ("train", seeds * len(points), train),
        ("grid_evaluation", seeds * len(points), grid_evaluation),
        ("evaluation", 2 * seeds, table),
        ("sampling", seeds + len(points), sample),
    ]
    ablation = len(fidelity.ablation_tags(config))  # its extra runs: train, test estimates, samples
    if ablation:
        per_run = train_hours(final_steps) + split_hours("test", final_steps) + final_samples
        stages.append(("fidelity", 3 * ablation, ablation * per_run))
    if config["lower_bound_training"]["enabled"]:
        stages.append(objective_stage(config, train_hours, split_hours, sample_hours))
    question = config["convergence"]
    if question["enabled"]:  # one job: every repetition draws the largest k once
        chains = question["examples"] * max(question["chains"]) * question["repetitions"]
        stages.append(("convergence", 1, hours(chain_steps=chains * final_steps)))
    counts = study.sampling_step_counts(config)
    if counts:  # every seed's final model sampled for each step count
        stage_hours = seeds * sum(sample_hours(final_steps, n) for n in counts)
        stages.append(("sampling_steps", seeds * len(counts), stage_hours))
    return stages


def objective_stage(config, train_hours, split_hours, sample_hours) -> tuple[str, int, float]:
    """(stage, jobs, hours) of the objectives' comparison (``lower_bound_training``) beyond
    what the study runs anyway: each of its runs that is not one of the study's own is
    trained, and each that is not a final model of the study's own has its test estimates
    (Table 3.1's settings) and samples made; the trainings are costed at the denoising
    rate, which the lower bound's gradient (one more term per step) slightly exceeds."""
    final = study.final_point(config)
    own_tags = fidelity.seed_tags(config)
    own = {(point, tag) for point in study.grid_points(config) for tag in own_tags}
    jobs, total = 0, 0.0
    for _, point, _, _, tag in study.objective_runs(config):
        steps = point[0]
        if (point, tag) not in own:
            jobs, total = jobs + 1, total + train_hours(steps)
        if not (point == final and tag in own_tags):
            sampling_steps = study.objective_sampling_steps(config, steps)
            jobs += 2
            total += split_hours("test", steps) + sample_hours(steps, sampling_steps)
    return ("lower_bound_training", jobs, total)


def measure_startup(repeats: int = 1) -> float:
    """Seconds a fresh interpreter takes to import what a training job imports (best of
    ``repeats``): the start-up every job pays before it computes."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import infusion.cli, infusion.training.trainer"],
                       check=True)  # fmt: skip
        best = min(best, time.perf_counter() - start)
    return best


def measure_rates(
    config: dict, device: str = "auto", rounds: int = 3, startup_s: float | None = None
) -> Rates:
    """Rates of the study's own network on ``device``: training steps at the training batch
    size and evaluation passes at the final evaluation's chain batch, at the final model's
    steps, on random data, the fastest of ``rounds`` after a warm-up each; and
    :func:`measure_startup` unless ``startup_s`` is given. On a CPU the conv operator is
    timed on a few examples (``MAX_CPU_CONV_BATCH``), each taking seconds."""
    import torch

    from infusion.data.registry import DATASETS
    from infusion.estimation.estimators import draw_log_weights
    from infusion.nets.model import InfusionModel
    from infusion.runtime.device import resolve_device
    from infusion.runtime.timing import seconds_per_call
    from infusion.settings import ModelSettings
    from infusion.training.objectives import denoising_loss
    from infusion.training.trainer import training_step

    dev = resolve_device(device)
    steps, batch = int(config["final"]["steps"]), int(config["training"]["batch_size"])
    chains = int(config["evaluation"]["chain_batch"])
    settings = ModelSettings(**{**config["model"], "steps": steps})  # the study's own network
    if dev.type == "cpu":
        chains = min(chains, MAX_CPU_CHAIN_BATCH)
        if settings.network == "conv":
            batch, chains = min(batch, MAX_CPU_CONV_BATCH), min(chains, MAX_CPU_CONV_BATCH)
    torch.manual_seed(0)
    model = InfusionModel(settings, DATASETS[config["dataset"]].shape)
    model = model.to(dev)
    optimizer = torch.optim.Adam(model.parameters())
    generator = torch.Generator(dev).manual_seed(0)
    x = torch.rand(batch, model.dim, device=dev)

    def train_step():
        training_step(model, optimizer, denoising_loss, x, generator)

    examples_per_s = batch * steps / seconds_per_call(train_step, 1, dev, rounds)
    per_point = max(1, chains // 4)  # 4 examples, their chains in one pass
    points = torch.rand(4, model.dim, device=dev)
    evaluate = seconds_per_call(
        lambda: draw_log_weights(model, points, per_point, generator, chains), 1, dev, rounds
    )
    chain_steps_per_s = 4 * per_point * steps / evaluate
    startup = measure_startup() if startup_s is None else startup_s
    return Rates(examples_per_s, chain_steps_per_s, startup, str(dev))


def study_rates(
    config: dict,
    device: str = "auto",
    examples_per_s: float | None = None,
    chain_steps_per_s: float | None = None,
    startup_s: float | None = None,
) -> dict[str, Rates]:
    """{dataset: rates} of the study's network, then of each natural-image dataset's
    (:func:`natural_datasets`). Given rates stand for every network; with either of the
    first two left out, each network is timed on ``device`` (:func:`measure_rates`) and the
    given ones replace the measured."""
    natural = natural_datasets(config)
    if examples_per_s is not None and chain_steps_per_s is not None:
        startup = measure_startup() if startup_s is None else startup_s
        rates = Rates(examples_per_s, chain_steps_per_s, startup)
        return {config["dataset"]: rates} | dict.fromkeys(natural, rates)
    log.info("timing the study's network on %s (a few seconds)", device)
    measured = measure_rates(config, device, startup_s=startup_s)
    rates = {
        config["dataset"]: dataclasses.replace(
            measured,
            examples_per_s=examples_per_s or measured.examples_per_s,
            chain_steps_per_s=chain_steps_per_s or measured.chain_steps_per_s,
        )
    }
    for dataset in natural:
        log.info("timing the %s network on %s", dataset, device)
        view = study.natural_view(config, dataset)
        rates[dataset] = measure_rates(view, device, startup_s=measured.startup_s)
    return rates


def report_cost(
    config: dict,
    device: str = "auto",
    examples_per_s: float | None = None,
    chain_steps_per_s: float | None = None,
    startup_s: float | None = None,
    out: str | None = None,
) -> pd.DataFrame:
    """Print each network's rates (:func:`study_rates`) and the study's hours per stage
    (:func:`estimate_cost`); also write the table, with the rates, to the CSV ``out``."""
    rates = study_rates(config, device, examples_per_s, chain_steps_per_s, startup_s)
    for name, r in rates.items():
        print(
            f"rates of the {name} network: {r.examples_per_s:.0f} training example-steps/s, "
            f"{r.chain_steps_per_s:.0f} evaluation chain-steps/s, "
            f"{r.startup_s:.1f} s start-up per job"
        )
    own = rates.pop(config["dataset"])
    table = estimate_cost(config, own, rates)
    print(
        table[["stage", "jobs", "hours"]].to_string(index=False, float_format=lambda v: f"{v:.3g}")
    )
    if out:
        with atomic_path(out) as tmp:
            table.to_csv(tmp, index=False)
    return table
