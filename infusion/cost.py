"""What a study costs before it runs: device-hours per stage from three measured rates.

The model is deliberately simple. Every stage is a count of operator applications (an
example or chain through one step of the network) divided by a rate, plus a fixed start-up
per job:

- ``examples_per_s``: training example-steps per second (forward, backward and Adam): the
  examples of a training step times its chain steps, over its seconds;
- ``chain_steps_per_s``: evaluation chain-steps per second (forward only, no gradient);
- ``startup_s``: seconds before a job computes anything (the interpreter, ``import torch``
  and the package; about 4.5 s on a 2-core CPU, almost all of it torch).

The rates are measured on the study's own networks (:mod:`infusion.throughput`), or given.
Per stage:

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
- proposal_search (``proposal_search.enabled``): every seed's final model, its search
  (validation examples x chains x final steps x its candidates, those of
  ``infusion.estimation.proposal_search.candidate_proposals``) and its test estimates under
  the best (as evaluation's on test);
- cross_scoring (``cross_scoring.enabled`` with the ablation): each cell (a trained run under
  a proposal), Table 3.1's test estimate at the cross-scoring's sizes, and the proposal
  search of each trained run that is not one of the study's seeds (for its tightest cell);
- convergence (``convergence.enabled``): examples x the largest k x repetitions x final steps,
  once more under the tightest proposal with ``convergence.tightest``;
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
from pathlib import Path

import pandas as pd

from infusion import runs, study
from infusion.beyond.cross_scoring import TIGHTEST, cross_runs
from infusion.runtime.atomic import atomic_path
from infusion.runtime.device import describe_device
from infusion.runtime.units import hours_text
from infusion.settings import ModelSettings, SearchSettings
from infusion.throughput import RATE_COLUMNS, Rates, rates_text, study_rates

log = logging.getLogger(__name__)


def estimate_cost(
    config: dict,
    rates: Rates,
    natural_rates: dict[str, Rates] | None = None,
    ladder_rates: dict[str, Rates] | None = None,
) -> pd.DataFrame:
    """Hours of each stage of the study ``config`` (config.yaml's structure) at ``rates``, of
    each natural-image dataset in ``natural_rates`` at its own, and of the ladder's runs at
    ``ladder_rates`` (by run folder: :func:`ladder_hours`); see the module doc.
    Columns ``stage, jobs, hours`` and each row's rates; the last row is the total."""
    for r in (rates, *(natural_rates or {}).values()):
        if r.examples_per_s <= 0 or r.chain_steps_per_s <= 0 or r.startup_s < 0:
            raise ValueError("examples_per_s and chain_steps_per_s must be > 0, startup_s >= 0")
    rows = [(*row, rates) for row in study_hours(config, rates)]
    if ladder_rates:
        rows.append((*ladder_hours(config, ladder_rates), rates))
    for dataset, r in (natural_rates or {}).items():
        view = study.natural_view(config, dataset)
        rows += [(f"{dataset} {stage}", *row, r) for stage, *row in study_hours(view, r)]
    table = pd.DataFrame(
        [
            (stage, jobs, h + jobs * r.startup_s / 3600, longest + r.startup_s / 3600,
             *(getattr(r, c) for c in RATE_COLUMNS))
            for stage, jobs, h, longest, r in rows
        ],
        columns=["stage", "jobs", "hours", "longest_job_hours", *RATE_COLUMNS],
    )  # fmt: skip
    total = {
        "stage": "total",
        "jobs": table.jobs.sum(),
        "hours": table.hours.sum(),
        "longest_job_hours": table.longest_job_hours.max(),
    }
    return pd.concat([table, pd.DataFrame([total])], ignore_index=True)


def study_hours(config: dict, rates: Rates) -> list[tuple[str, int, float, float]]:
    """(stage, jobs, hours, hours of its longest job; both before start-up) of the stages
    train, grid_evaluation, evaluation and sampling of ``config``'s dataset (a natural-image
    study view has no grid and runs train and sampling only)."""
    sizes = study.split_sizes(config["dataset"])
    if sizes is None:
        raise ValueError(f"no split sizes known for dataset {config['dataset']!r}")
    final_steps = int(config["final"]["steps"])
    points = study.grid_points(config) or [(final_steps, 0.0, 0.0)]  # a natural study
    training = config["training"]

    def hours(example_steps: float = 0.0, chain_steps: float = 0.0) -> float:
        seconds = example_steps / rates.examples_per_s + chain_steps / rates.chain_steps_per_s
        return seconds / 3600

    examples = training.get("train_size") or sizes["train"]  # training.train_size; 0: all
    curves = min(training["curve_examples"], examples) + min(
        training["curve_examples"], sizes["valid"]
    )
    seeds = len(training["seeds"])  # every run is trained once per seed

    def train_hours(t: int) -> float:
        return hours(training["epochs"] * examples * t, training["epochs"] * curves * t)

    train = seeds * sum(train_hours(t) for t, _, _ in points)
    longest_train = max(train_hours(t) for t, _, _ in points)

    def isotropic(section: dict) -> int:
        return section.get("isotropic_examples", 0) * section.get("isotropic_chains", 10)

    grid_eval = config["grid_evaluation"]
    per_point = grid_eval["examples"] * grid_eval["chains"] * grid_eval["repetitions"]
    point_evaluations = [
        hours(chain_steps=(per_point + isotropic(grid_eval)) * t) for t, _, _ in points
    ]
    grid_evaluation = seeds * sum(point_evaluations)

    evaluation = config["evaluation"]

    def split_hours(split: str, t: int) -> float:  # one of Table 3.1's estimates
        chains = evaluation[f"{split}_examples"] * evaluation["chains"] * evaluation["repetitions"]
        return hours(chain_steps=(chains + isotropic(evaluation)) * t)

    splits = [split_hours(split, final_steps) for split in ("test", "train")]
    table = seeds * sum(splits)

    sampling, grid_sampling = config["sampling"], config["grid_sampling"]

    def sample_hours(t: int, sampling_steps: int) -> float:  # a sample file and its infusion
        return hours(
            chain_steps=sampling["samples"] * sampling_steps + sampling["infusion_targets"] * t
        )

    final_samples = sample_hours(final_steps, sampling["sampling_steps"])
    if not config["grid"]:  # a natural-image dataset: its one model's training and samples
        return [("train", 1, train, train), ("sampling", 1, final_samples, final_samples)]
    sheets = [  # Fig A.1's sheets: the first seed's grid only
        hours(chain_steps=(grid_sampling["samples"] + grid_sampling["infusion_targets"]) * t)
        for t, _, _ in points
    ]
    stages = [
        ("train", seeds * len(points), train, longest_train),
        ("grid_evaluation", seeds * len(points), grid_evaluation, max(point_evaluations)),
        ("evaluation", 2 * seeds, table, max(splits)),
        ("sampling", seeds + len(points), seeds * final_samples + sum(sheets),
         max(final_samples, *sheets)),
    ]  # fmt: skip
    ablation = len(runs.ablation_tags(config))  # its extra runs: train, test estimates, samples
    if ablation:
        run = (train_hours(final_steps), split_hours("test", final_steps), final_samples)
        stages.append(("fidelity", 3 * ablation, ablation * sum(run), max(run)))
    if config["lower_bound_training"]["enabled"]:
        stages.append(objective_stage(config, train_hours, split_hours, sample_hours))
    cells = cross_runs(config)
    if cells:  # each cell: Table 3.1's test estimate at the cross-scoring's sizes
        cross = study.cross_scoring_sizes(config)
        chains = cross["examples"] * cross["chains"] * cross["repetitions"]
        cell = hours(chain_steps=(chains + isotropic(evaluation)) * final_steps)
        own = set(runs.seed_tags(config))
        searched = {tag for *_, tag, column, _ in cells if column == TIGHTEST} - own
        search = search_hours(config, sizes["valid"], hours) if searched else 0.0
        stages.append(("cross_scoring", len(cells) + len(searched),
                       len(cells) * cell + len(searched) * search, max(cell, search)))  # fmt: skip
    question = config["convergence"]
    if question["enabled"]:  # a job a proposal: each repetition draws the largest k once
        chains = question["examples"] * max(question["chains"]) * question["repetitions"]
        job = hours(chain_steps=chains * final_steps)
        jobs = 1 + (question["tightest"] and config["proposal_search"]["enabled"])
        stages.append(("convergence", jobs, jobs * job, job))
    if config["proposal_search"]["enabled"]:
        search, tightest = search_hours(config, sizes["valid"], hours), splits[0]
        stages.append(
            ("proposal_search", 2 * seeds, seeds * (search + tightest), max(search, tightest))
        )
    counts = study.sampling_step_counts(config)
    if counts:  # every seed's final model sampled for each step count
        files = [sample_hours(final_steps, n) for n in counts]
        stages.append(("sampling_steps", seeds * len(counts), seeds * sum(files), max(files)))
    return stages


def ladder_hours(config: dict, ladder_rates: dict[str, Rates]) -> tuple[str, int, float, float]:
    """(stage, jobs, hours, longest job's hours) of the ladder (config ``ladder``): each of
    its runs that the study does not train anyway (its own seeds' grid, the ablation's runs)
    trained, each scored on test under its own
    and the common proposal at the cross-scoring's sizes and sampled, at the rates of its
    own network (``ladder_rates``, by run folder) and with its own settings
    (:func:`infusion.runs.ladder_view`)."""
    trained = [*runs.seed_tags(config), *runs.ablation_tags(config)]  # priced elsewhere
    own = {study.run_folder(config["dataset"], *point, tag) for point in study.grid_points(config)
           for tag in trained}  # fmt: skip
    cross = study.cross_scoring_sizes(config)
    cell = cross["examples"] * cross["chains"] * cross["repetitions"]
    cell += config["evaluation"].get("isotropic_examples", 0) * config["evaluation"].get(
        "isotropic_chains", 10
    )
    job_hours = []
    for run in runs.ladder_runs(config):
        r = ladder_rates[run.folder]
        view = runs.ladder_view(config, run)
        (_, _, train, _), (_, _, samples, _) = study_hours(view, r)
        if run.folder not in own:
            job_hours.append(train)
        scores = 2 * cell * run.point[0] / r.chain_steps_per_s / 3600
        job_hours += [scores / 2, scores / 2, samples]
    return ("ladder", len(job_hours), sum(job_hours), max(job_hours, default=0.0))


def search_hours(config: dict, valid: int, hours) -> float:
    """Hours of the final model's proposal search (config ``proposal_search``) on ``valid``
    validation images at most: every candidate's chains through every step."""
    from infusion.estimation.proposal_search import candidate_proposals

    section = {k: v for k, v in config["proposal_search"].items() if k != "enabled"}
    steps, alpha0, omega = study.final_point(config)
    model = ModelSettings(**{**config["model"], "steps": steps, "alpha0": alpha0, "omega": omega})
    candidates = len(candidate_proposals(model, SearchSettings(**section)))
    return hours(
        chain_steps=min(section["examples"], valid) * section["chains"] * candidates * steps
    )


def objective_stage(
    config, train_hours, split_hours, sample_hours
) -> tuple[str, int, float, float]:
    """(stage, jobs, hours, longest job's hours) of the objectives' comparison
    (``lower_bound_training``) beyond what the study runs anyway: each of its runs that is
    not one of the study's own is trained, and each that is not a final model of the
    study's own has its test estimates (Table 3.1's settings) and samples made; the
    trainings are costed at the denoising rate, which the lower bound's gradient (one more
    term per step) slightly exceeds."""
    final = study.final_point(config)
    own_tags = runs.seed_tags(config)
    own = {(point, tag) for point in study.grid_points(config) for tag in own_tags}
    job_hours = []
    for run in runs.objective_runs(config):
        point, tag = run.point, run.tag
        steps = point[0]
        if (point, tag) not in own:
            job_hours.append(train_hours(steps))
        if not (point == final and tag in own_tags):
            sampling_steps = study.objective_sampling_steps(config, steps)
            job_hours += [split_hours("test", steps), sample_hours(steps, sampling_steps)]
    return ("lower_bound_training", len(job_hours), sum(job_hours), max(job_hours, default=0.0))


def wall_clock_hours(table: pd.DataFrame, gpus: int, jobs_per_gpu: int) -> float:
    """Hours until the last job of ``table`` (:func:`estimate_cost`) ends on ``gpus``
    devices running ``jobs_per_gpu`` jobs each, every job at the timed rate: the total over
    the ``gpus x jobs_per_gpu`` slots, but no less than the longest single job. Every stage
    priced runs in a rule that takes a GPU (``resources: gpu=1``); the rules that do not
    (Parzen, figures, tables) run beside them on the CPUs and are not priced. That a job
    waits for the model it scores is left out, so this is a lower bound."""
    if gpus < 1 or jobs_per_gpu < 1:
        raise ValueError(f"--gpus {gpus} and resources.jobs_per_gpu {jobs_per_gpu} must be >= 1")
    total = table.set_index("stage").loc["total"]
    return max(total.hours / (gpus * jobs_per_gpu), total.longest_job_hours)


def gpu_warning(config: dict, device: str) -> str | None:
    """The warning when the study's training asks for a GPU (``training.device`` not cpu:
    its train rule takes ``resources: gpu=1`` and runs on CUDA) but the rates were timed on
    the CPU ``device``; None otherwise."""
    wanted = config["training"]["device"]
    if device != "cpu" or wanted == "cpu":
        return None
    return (
        f"warning: the study trains on a GPU (training.device: {wanted}, resources gpu=1) "
        "but these rates were timed on the CPU: the hours below are CPU core-hours, and a "
        "GPU's will be far smaller"
    )


def hours_unit(device: str) -> str:
    """What the hours of rates timed on ``device`` are: on a CPU one core's
    (:func:`~infusion.throughput.measure_rates`), elsewhere the device's."""
    return "core-hours on cpu" if device == "cpu" else f"hours on {device}"


def table_text(table: pd.DataFrame, device: str) -> str:
    """The table's stages, jobs and hours (on ``device``: :func:`hours_unit`) in readable
    units."""
    shown = pd.DataFrame(
        {
            "stage": table.stage,
            "jobs": table.jobs.map(lambda n: f"{int(n):,}"),
            hours_unit(device): table.hours.map(hours_text),
        }
    )
    return shown.to_string(index=False)


def report_cost(
    config: dict,
    device: str = "auto",
    examples_per_s: float | None = None,
    chain_steps_per_s: float | None = None,
    startup_s: float | None = None,
    out: str | None = None,
    gpus: int | None = None,
    cache: Path | None = None,
) -> pd.DataFrame:
    """Print the GPU warning (:func:`gpu_warning`), the device, each network's rates
    (:func:`~infusion.throughput.study_rates`), the study's hours per stage
    (:func:`estimate_cost`) and, with ``gpus``, the wall clock on that many
    (:func:`wall_clock_hours`); also write the table, with the rates, to the CSV ``out``."""
    rates = study_rates(config, device, examples_per_s, chain_steps_per_s, startup_s, cache)
    own = rates[config["dataset"]]
    warning = gpu_warning(config, own.device)
    if warning:
        print(warning)
    if own.device != "given":
        from infusion.runtime.device import resolve_device

        where = resolve_device(device)
        clock = "one thread's CPU time: " if where.type == "cpu" else ""
        print(f"timed on {describe_device(where)} ({clock}{hours_unit(own.device)})")
    ladder = {run.folder: rates.pop(run.folder) for run in runs.ladder_runs(config)}
    for name, r in rates.items():
        print(rates_text(name, r))
    shown = {dataclasses.astuple(own): None}  # a network's rates once, named by its first run
    for folder, r in ladder.items():
        shown.setdefault(dataclasses.astuple(r), folder)
    del shown[dataclasses.astuple(own)]
    for r, folder in shown.items():
        print(rates_text(f"ladder's {folder.removeprefix('results/runs/')}", Rates(*r)))
    del rates[config["dataset"]]
    table = estimate_cost(config, own, rates, ladder)
    print(table_text(table, own.device))
    if gpus is not None:
        slots = int(config["resources"]["jobs_per_gpu"])
        wall = wall_clock_hours(table, gpus, slots)
        print(
            f"wall clock on {gpus} device(s), {slots} job(s) each (resources.jobs_per_gpu), "
            f"at these rates: {hours_text(wall)}"
        )
    if out:
        with atomic_path(out) as tmp:
            table.to_csv(tmp, index=False)
    return table
