"""The rates a cost estimate divides by (:mod:`infusion.cost`): measured on the study's own
networks, or given.

:func:`measure_rates` times the study's own network (its width, layers and pixel count) at
the study's own batch sizes (the training ``batch_size``, fewer conv examples on a CPU; the
final evaluation's ``chain_batch``, at most ``MAX_CPU_CHAIN_BATCH`` on a CPU): training
steps of 3 chain steps and the optimizer's update alone, which give a step's fixed part and
its part per example-step (:func:`step_rate`) and so the rate at the final model's steps,
and evaluation passes of 3 steps, each the fastest of several short calls, on random data;
on a CPU in one thread's CPU time, so that other jobs on the machine do not move the rates
(the hours are then core-hours). Networks of one shape share a timing, and
``results/cost/rates.json`` keeps them for later runs on the same device
(:func:`cache_key`). So small networks and small batches, which spend their time in per-call
overhead rather than arithmetic, are timed as they will run.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import resource
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from infusion import runs, study
from infusion.runtime.atomic import write_json
from infusion.runtime.device import describe_device
from infusion.runtime.units import significant
from infusion.settings import ModelSettings

log = logging.getLogger(__name__)

MAX_CPU_CHAIN_BATCH = 1024  # chains per timed pass on a CPU: the rate is flat beyond this
MAX_CPU_CONV_BATCH = 4  # conv examples or chains per timed pass on a CPU (seconds each)
ROUND_BUDGET_S = 0.5  # CPU (GPU: wall) seconds of timed calls per measurement, >= MIN_ROUNDS calls
MIN_ROUNDS = 3  # timed calls at the least (a CelebA training step takes 2 s on a CPU)
RATE_COLUMNS = (
    "examples_per_s",
    "chain_steps_per_s",
    "startup_s",
    "device",
    "examples_per_s_median",
    "chain_steps_per_s_median",
)


@dataclass
class Rates:
    """What :func:`estimate_cost` divides by (see the module doc)."""

    examples_per_s: float  # training example-steps per second
    chain_steps_per_s: float  # evaluation chain-steps per second
    startup_s: float = 0.0  # seconds of start-up per job
    device: str = "given"  # where the rates were measured ("given": by the caller)
    examples_per_s_median: float | None = None  # the same from the median timings
    chain_steps_per_s_median: float | None = None


def natural_datasets(config: dict) -> list[str]:
    """The natural-image datasets the workflow trains whose split sizes are known (TFD's
    depend on the local file, so it has no estimate)."""
    return [d for d in study.natural_datasets(config) if study.split_sizes(d) is not None]


def measure_startup(repeats: int = 1) -> float:
    """Seconds a fresh interpreter takes to import what a training job imports (best of
    ``repeats``): the start-up every job pays before it computes. Counted in the child's CPU
    time (user and system), which other jobs on the machine do not move."""
    best = float("inf")
    for _ in range(repeats):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run([sys.executable, "-c", "import infusion.cli, infusion.training.trainer"],
                       check=True)  # fmt: skip
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        best = min(best, cpu)
    return best


def step_rate(update: float, three: float, timed_batch: int, steps: int, batch: int) -> float:
    """Training example-steps per second of a step of ``steps`` chain steps on ``batch``
    examples, from the seconds of the optimizer's update alone (``update``: Adam over the
    parameters, whatever the batch) and of a whole 3-step training step (``three``) on
    ``timed_batch`` examples: a step costs the update plus a part per example-step, the rest
    of ``three``. Where noise makes the update no faster than the step, the whole step counts
    per example-step."""
    per_example_step = (three - update) / (3 * timed_batch)
    if per_example_step <= 0:
        update, per_example_step = 0.0, three / (3 * timed_batch)
    return steps * batch / (update + steps * batch * per_example_step)


def timed_sizes(config: dict, device) -> tuple[ModelSettings, int, int]:
    """The study's network and the batch and chain batch its rates are timed at: the
    study's own, fewer on a CPU (``MAX_CPU_CHAIN_BATCH``, ``MAX_CPU_CONV_BATCH``)."""
    batch = int(config["training"]["batch_size"])
    chains = int(config["evaluation"]["chain_batch"])
    settings = ModelSettings(**{**config["model"], "steps": int(config["final"]["steps"])})
    if device.type == "cpu":
        chains = min(chains, MAX_CPU_CHAIN_BATCH)
        if settings.network == "conv":
            batch, chains = min(batch, MAX_CPU_CONV_BATCH), min(chains, MAX_CPU_CONV_BATCH)
    return settings, batch, chains


def measure_rates(config: dict, device: str = "auto", startup_s: float | None = None) -> Rates:
    """Rates of the study's own network (:func:`timed_sizes`) on ``device``, on random data:
    training steps of 3 chain steps and the optimizer's update alone (:func:`step_rate`,
    extrapolated to the study's steps and batch) and evaluation passes of 3 steps, each the
    fastest of several calls after a warm-up (:func:`infusion.runtime.timing.timed_calls`,
    the median kept beside it); and :func:`measure_startup` unless ``startup_s`` is given.
    On a CPU every timing is one thread's CPU time
    (:func:`infusion.runtime.timing.load_independent_clock`): the rates are one core's,
    whatever else the machine runs."""
    import torch

    from infusion.data.registry import DATASETS
    from infusion.nets.model import InfusionModel
    from infusion.nets.networks import POPULATION, set_batch_norm_mode
    from infusion.process.infusion_process import InfusionProcess
    from infusion.runtime.device import resolve_device
    from infusion.runtime.timing import load_independent_clock, timed_calls
    from infusion.training.trainer import training_step

    dev = resolve_device(device)
    settings, batch, chains = timed_sizes(config, dev)
    name, shape = config["dataset"], DATASETS[config["dataset"]].shape
    generator = torch.Generator(dev).manual_seed(0)
    torch.manual_seed(0)
    model = InfusionModel(dataclasses.replace(settings, steps=3), shape).to(dev)
    process = InfusionProcess.of(model.settings, shape)
    x = torch.rand(batch, model.dim, device=dev)
    per_point = max(1, chains // 4)  # 4 examples, their chains in one pass
    points = torch.rand(4, model.dim, device=dev)
    optimizer = torch.optim.Adam(model.parameters())
    with load_independent_clock(dev) as clock:
        log.info("timing %s: training steps of 3 chain steps, %d examples", name, batch)
        step = timed_calls(
            lambda: training_step(model, optimizer, process.denoising_loss, x, generator),
            dev,
            ROUND_BUDGET_S,
            MIN_ROUNDS,
            clock=clock,
        )
        log.info("timing %s: the optimizer's update alone", name)
        update = timed_calls(optimizer.step, dev, ROUND_BUDGET_S, MIN_ROUNDS, clock=clock)
        log.info("timing %s: evaluation passes of 3 chain steps, %d chains", name, 4 * per_point)
        set_batch_norm_mode(model.operator, POPULATION)  # as test numbers are scored
        evaluate = timed_calls(
            lambda: process.draw_log_weights(model, points, per_point, generator, chains),
            dev,
            ROUND_BUDGET_S,
            MIN_ROUNDS,
            clock=clock,
        )

    def rates(field: str) -> float:
        return step_rate(
            getattr(update, field),
            getattr(step, field),
            batch,
            settings.steps,
            int(config["training"]["batch_size"]),
        )

    startup = measure_startup() if startup_s is None else startup_s
    return Rates(
        rates("best"),
        4 * per_point * 3 / evaluate.best,
        startup,
        str(dev),
        examples_per_s_median=rates("median"),
        chain_steps_per_s_median=4 * per_point * 3 / evaluate.median,
    )


def cache_key(config: dict, device) -> str:
    """What a network's rates depend on: the device (its model and threads), the torch
    version, the dataset's image shape, the network's settings and the timed sizes."""
    import torch

    from infusion.data.registry import DATASETS

    settings, batch, chains = timed_sizes(config, device)
    network = {
        "device": describe_device(device),
        "torch": torch.__version__,
        "shape": list(DATASETS[config["dataset"]].shape),
        "model": dataclasses.asdict(settings),
        "batch": int(config["training"]["batch_size"]),
        "timed_batch": batch,
        "chain_batch": chains,
    }
    return json.dumps(network, sort_keys=True)


def read_cache(cache: Path | None) -> dict:
    """The rates measured before, by :func:`cache_key`: the JSON file ``cache``; {} where
    it is None or absent."""
    if cache is None or not cache.exists():
        return {}
    try:
        return json.loads(cache.read_text())
    except json.JSONDecodeError as error:
        raise ValueError(f"{cache}: not a rates cache ({error}); remove it") from None


def known_rates(config: dict, device: str, known: dict, startup_s: float | None = None) -> Rates:
    """:func:`measure_rates` of ``config``'s network, taken from ``known`` where it holds
    a timing of the same device, torch and network (:func:`cache_key`), and added to it
    otherwise."""
    from infusion.runtime.device import resolve_device

    key = cache_key(config, resolve_device(device))
    if key in known:
        log.info("rates of the %s network: timed before on the same device", config["dataset"])
    else:
        known[key] = dataclasses.asdict(measure_rates(config, device, startup_s))
    return Rates(**{**known[key], **({} if startup_s is None else {"startup_s": startup_s})})


def study_rates(
    config: dict,
    device: str = "auto",
    examples_per_s: float | None = None,
    chain_steps_per_s: float | None = None,
    startup_s: float | None = None,
    cache: Path | None = None,
) -> dict[str, Rates]:
    """{dataset: rates} of the study's network, then of each natural-image dataset's
    (:func:`natural_datasets`), then {run folder: rates} of each ladder run's network.
    Given rates stand for every network; with either of the first two left out, each
    network is timed on ``device`` once per shape
    (:func:`known_rates`), or read from the JSON file ``cache`` and added to it, and the
    given ones replace the measured."""
    natural = natural_datasets(config)
    if examples_per_s is not None and chain_steps_per_s is not None:
        startup = measure_startup() if startup_s is None else startup_s
        rates = Rates(examples_per_s, chain_steps_per_s, startup)
        ladder = [run.folder for run in runs.ladder_runs(config)]
        return {config["dataset"]: rates} | dict.fromkeys([*natural, *ladder], rates)
    known = read_cache(cache)
    measured = known_rates(config, device, known, startup_s)
    rates = {
        config["dataset"]: dataclasses.replace(
            measured,
            examples_per_s=examples_per_s or measured.examples_per_s,
            chain_steps_per_s=chain_steps_per_s or measured.chain_steps_per_s,
        )
    }
    for dataset in natural:
        view = study.natural_view(config, dataset)
        rates[dataset] = known_rates(view, device, known, measured.startup_s)
    for run in runs.ladder_runs(config):  # each network timed once (known_rates)
        view = runs.ladder_view(config, run)
        rates[run.folder] = known_rates(view, device, known, measured.startup_s)
    if cache is not None:
        write_json(cache, known)
    return rates


def rates_text(name: str, r: Rates) -> str:
    """One network's rates, and the median of the timings beside the fastest."""
    spread = ""
    if r.examples_per_s_median is not None:
        spread = (
            f" (fastest of several timings; median {significant(r.examples_per_s_median)} "
            f"and {significant(r.chain_steps_per_s_median)})"
        )
    return (
        f"rates of the {name} network: {significant(r.examples_per_s)} training "
        f"example-steps/s, {significant(r.chain_steps_per_s)} evaluation chain-steps/s"
        f"{spread}, {significant(r.startup_s, 2)} s start-up per job"
    )
