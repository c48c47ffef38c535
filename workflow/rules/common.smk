"""Helpers shared by the rules: paths and CLI flags. The config is read by infusion.study
(validation against its packaged schema, defaults, the grid and its named runs)."""

import os
import re
import shlex

from infusion import config_schema, study
from infusion.beyond.cross_scoring import TIGHTEST, cross_runs
from infusion.runs import (
    LADDER_SCORES,
    OBJECTIVE_SCORES,
    ablation_runs,
    ladder_runs,
    objective_runs,
    run_tags,
    seed_tags,
)
from infusion.paper.artifacts import beyond_outputs
from infusion.estimation.inception import (
    WEIGHTS_FILE,
    WEIGHTS_SHA256_PREFIX,
    WEIGHTS_URL,
)

study.validate_config(config)  # fills in the defaults of keys left out
study.check_named_points(config)

DATASET = config["dataset"]
DOWNLOADS = "results/downloads"
# The natural-image datasets the study runs: enabled in `data`, not the study's own.
NATURAL_DATASETS = study.natural_datasets(config)
# A run folder's tag: empty for the study's settings and first seed, else the training seed
# and fidelity switches it changes (infusion/runs.py, infusion/switches.py); each tag -> the values it changes.
RUN_TAGS = run_tags(config)
SEED_TAGS = seed_tags(config)
RUN = study.RUN
INCEPTION_DOWNLOAD = f"{DOWNLOADS}/inception/{WEIGHTS_FILE}"


wildcard_constraints:
    dataset=r"[a-z0-9]+",
    steps=r"\d+",
    alpha=r"[0-9.e-]+",
    omega=r"[0-9.e-]+",
    split=r"test|train",
    proposal=r"[a-z0-9.-]+",
    proposal_choice="|_tightest",
    tag="(?:" + "|".join(re.escape(tag) for tag in RUN_TAGS) + ")",


def panel_runs():
    """[(panel, run folder)] for every point of every panel of the grid (Fig A.1, Table A.1)."""
    return study.panel_runs(config)


def grid_runs():
    """Distinct run folders of the grid (first seed), in config order."""
    return study.grid_runs(config)


def grid_files(name, tags=("",)):
    """One file of every distinct grid run under each tag, e.g. grid_files("summary.json")."""
    return [f"{run}{tag}/{name}" for run in grid_runs() for tag in tags]


def seed_runs(run):
    """A run folder under every training seed, first seed first, comma-separated."""
    return ",".join(f"{run}{tag}" for tag in SEED_TAGS)


def final_file(name, dataset=DATASET, tag=""):
    """A file of a dataset's final run (input functions take wildcards: see the rules)."""
    return f"{study.final_run(config, dataset)}{tag}/{name}"


def final_seed_files(name):
    """results/final/<dataset><tag>/<name> of the study's final model under every seed."""
    return [f"results/final/{DATASET}{tag}/{name}" for tag in SEED_TAGS]


def output_dataset(name):
    """The natural-image dataset that output `name` (e.g. figA.3) is made from, or None when
    config natural_outputs leaves it out or its dataset is not run."""
    dataset = config.get("natural_outputs", {}).get(name)
    return dataset if dataset in NATURAL_DATASETS else None


def natural_file(output, name):
    """File `name` of results/final/<dataset>/ of the dataset that `output` is made from."""
    return f"results/final/{output_dataset(output)}/{name}"


def natural_outputs():
    """Every output of the natural-image part: each dataset's final model and Fig 3.5, and
    the outputs of natural_outputs whose dataset runs."""
    figures = [name for name in ("figA.3", "figA.4", "fig3.6") if output_dataset(name)]
    tables = ["table3.2"] if output_dataset("table3.2") else []
    return [
        *(final_file("model.pt", dataset) for dataset in NATURAL_DATASETS),
        *(f"results/figures/fig3.5-{dataset}.png" for dataset in NATURAL_DATASETS),
        *(f"results/figures/{name}.png" for name in figures),
        *(f"results/tables/{name}.csv" for name in tables),
    ]


def inception_weights():
    """The Inception weights file: config inception.weights, else the fetched copy."""
    return config["inception"]["weights"] or INCEPTION_DOWNLOAD


def inception_sha256():
    """The leading SHA-256 digits the weights must have: config, else the official file's."""
    return config["inception"]["weights_sha256"] or WEIGHTS_SHA256_PREFIX


def inception_md5_flag():
    """--md5 with config inception.weights_md5 for the fetch, nothing when it is null."""
    md5 = config["inception"]["weights_md5"]
    return f"--md5 {md5}" if md5 else ""


def check_inception_weights():
    """A configured copy of the Inception weights that is missing stops the planning, naming
    the file to place there (inception.weights is null by default: no check then)."""
    path = config["inception"]["weights"]
    if output_dataset("table3.2") and path and not os.path.exists(path):
        raise ValueError(
            f"config key 'inception.weights': {path} not found. Place {WEIGHTS_FILE} (from"
            f" {WEIGHTS_URL}) there, or set it to null to download it."
        )


check_inception_weights()


def constant_file(name):
    """A file of the constant-rate run of Fig A.2."""
    return f"{study.constant_run(config)}/{name}"


def section(name, dataset=None):
    """Config section `name` with the keys that natural_images.<dataset>.<name> replaces."""
    return study.section(config, name, dataset)


# {section: {key: its flag's default}} of the keys the settings dataclasses back
# (infusion.study), a stage's device, precision and compile those of the section compute
DEFAULTS = {
    section: {**config_schema.defaults()["compute"], **values}
    for section, values in config_schema.defaults().items()
}


def train_flags(wildcards):
    """The model and training flags of a run: its dataset's sections, changed by its tag.
    A key at its default is left to the command's default, so that a new settings field
    does not change the params of finished trainings (snakemake would rerun them)."""
    changed = RUN_TAGS[wildcards.tag]
    return " ".join(
        flags(
            name,
            omit=(
                "seeds",
                *(
                    key
                    for key, value in section(name, wildcards.dataset).items()
                    if key in DEFAULTS[name]
                    and DEFAULTS[name][key] == value
                    and (name, key) not in changed
                ),
            ),
            dataset=wildcards.dataset,
            **{
                key: value
                for (section, key), value in changed.items()
                if section == name
            },
        )
        for name in ("model", "training")
    )


def flags(name, omit=(), dataset=None, **overrides):
    """CLI flags from a config section: {'batch_size': 512} -> '--batch-size 512'.

    With `dataset`, the section as that dataset's natural_images entry changes it.
    """
    values = {
        k: v for k, v in section(name, dataset).items() if k not in omit
    } | overrides
    parts = []
    for key, value in values.items():
        items = value if isinstance(value, list) else [value]
        option = key.replace("_", "-")
        parts.append(f"--{option} {' '.join(str(v) for v in items)}")
    return " ".join(parts)


def evaluation_flags(split, omit=()):
    """The flags of Table 3.1's estimates on `split` (config evaluation), but `omit`."""
    return flags(
        "evaluation",
        omit=("test_examples", "train_examples", *omit),
        examples=config["evaluation"][f"{split}_examples"],
    )


def tightest_flags(files):
    """--tightest and Table 3.1's estimates under the tightest proposal (config
    proposal_search), after a space; none when there are none (table_3_1's shell line then
    is the one it was before the search)."""
    return f" --tightest {' '.join(map(shlex.quote, files))}" if files else ""


def optional_flag(files, flag):
    """--<flag> and the file of an optional input (a part the study may not run, [] then),
    after a space; none without it."""
    return f" --{flag} {shlex.quote(files[0])}" if files else ""


def data_settings(dataset):
    """The config's `data` entry of `dataset` (urls, path), {} for datasets that need none."""
    return config["data"].get(dataset, {})


def local_source(wildcards):
    """prepare_data's input: the dataset's local file or folder where it exists, else [].

    A missing local file (TFD, CelebA) does not stop the planning: prepare_data, a localrule
    run first, checks the source before any work and stops with a message naming the file,
    the path and the config key (infusion.data.registry.source_for).
    """
    path = data_settings(wildcards.dataset).get("path")
    return [path] if path and os.path.exists(path) else []


def source_flags(wildcards):
    """--url, --path, --md5 and --content-md5 flags of `infusion prepare` from the config's
    `data` entry."""
    settings = data_settings(wildcards.dataset)
    flags = [f"--url {shlex.quote(url)}" for url in settings.get("urls") or []]
    if settings.get("path"):
        flags.append(f"--path {shlex.quote(settings['path'])}")
    for key in ("md5", "content_md5"):
        for filename, md5 in (settings.get(key) or {}).items():
            option = key.replace("_", "-")
            flags.append(f"--{option} {shlex.quote(f'{filename}={md5}')}")
    return " ".join(flags)


def resource(rule_name, key):
    return config["resources"][rule_name][key]


def fidelity_files(name):
    """results/final/<dataset><tag>/<name> of every run of the fidelity table, in its order."""
    return [f"results/final/{DATASET}{run.tag}/{name}" for run in ablation_runs(config)]


# The cells of the cross-scoring (infusion/beyond/cross_scoring.py): (variant, seed, tag,
# column, the variant's own schedule); [] when it is off.
CROSS_RUNS = cross_runs(config)


def cross_files():
    """results/final/<dataset><tag>/proposals/<column>.json of every cell, in table order."""
    return [
        f"results/final/{DATASET}{tag}/proposals/{column}.json"
        for _, _, tag, column, _ in CROSS_RUNS
    ]


def cross_column(position):
    """One field of every cell of the cross-scoring, space-separated (the artifact's flags)."""
    return " ".join(str(cell[position]) for cell in CROSS_RUNS)


def cross_flags(wildcards, input):
    """The evaluation flags of a cross-scoring cell: Table 3.1's test settings with the
    cross-scoring's sizes, under the column's schedule or the search's tightest proposal.
    """
    sizes = study.cross_scoring_sizes(config)
    settings = flags(
        "evaluation", omit=("test_examples", "train_examples", "proposal"), **sizes
    )
    if wildcards.proposal == TIGHTEST:
        return f"{settings} --proposal-from {shlex.quote(input.search[0])}"
    return f"{settings} --proposal {shlex.quote(wildcards.proposal)}"


# Scored files of the objectives' comparison's points other than the final model's
OBJECTIVE_RUN = RUN.replace("results/runs/", f"{OBJECTIVE_SCORES}/", 1)


def objective_files():
    """What the objectives' comparison's table reads of every run
    (infusion.runs.ObjectiveRun.files)."""
    return [path for run in objective_runs(config) for path in run.files().values()]


def ladder_files():
    """What the ladder's table reads of every run (infusion.runs.LadderRun.files)."""
    proposal = config["ladder"]["proposal"]
    return [
        path for run in ladder_runs(config) for path in run.files(proposal).values()
    ]


def convergence_files():
    """The convergence question's estimates: under convergence.proposal, then under the
    tightest proposal on validation when convergence.tightest (and proposal_search runs).
    """
    tightest = (
        config["convergence"]["tightest"] and config["proposal_search"]["enabled"]
    )
    suffixes = ["", *(["_tightest"] if tightest else [])]
    return [f"results/final/{DATASET}/convergence{suffix}.json" for suffix in suffixes]


def convergence_flags(wildcards, input):
    """The convergence flags: the config section's, the proposal the tightest found on
    validation for convergence_tightest.json."""
    settings = flags("convergence", omit=("enabled", "tightest", "proposal"))
    if wildcards.proposal_choice:
        return f"{settings} --proposal-from {shlex.quote(input.search[0])}"
    return f"{settings} --proposal {shlex.quote(config['convergence']['proposal'])}"


# The sampling steps of the sampling-steps question ([] when it is off).
SAMPLING_STEPS = study.sampling_step_counts(config)


def sampling_steps_files(name):
    """<name> of every (training seed, step count) run of the sampling-steps question, seed
    by seed, steps increasing."""
    return [
        f"results/final/{DATASET}{tag}/sampling_steps/{steps}/{name}"
        for tag in SEED_TAGS
        for steps in SAMPLING_STEPS
    ]


def all_outputs():
    figures = [
        "fig3.1",
        "fig3.2",
        "fig3.3",
        f"fig3.5-{DATASET}",
        "figA.1",
        "figA.2",
        "tableA.1",
    ]
    tables = [
        "tableA.1",
        "table3.1",
        "fig3.4",
        "runtimes",
        "cost",
        "claims",
        "scorecard",
    ]
    return [
        *(f"results/figures/{name}.png" for name in figures),
        *(f"results/tables/{name}.csv" for name in tables),
        "results/report/front_page.rst",
        *natural_outputs(),
        *(
            ["results/tables/fidelity.csv", "results/figures/fidelity.png"]
            if config["fidelity"]["enabled"]
            else []
        ),
        *(beyond_outputs("proposals") if CROSS_RUNS else []),
        *(
            path
            for artifact_id, section in (
                ("verdicts", "verdicts"),
                ("convergence", "convergence"),
                ("lower-bound-training", "lower_bound_training"),
                ("sampling-steps", "sampling_steps"),
                ("parzen-trust", "parzen_trust"),
                ("ladder", "ladder"),
            )
            if config[section]["enabled"]
            for path in beyond_outputs(artifact_id)
        ),
        *(["results/tables/beyond/gap.csv"] if config["ladder"]["enabled"] else []),
    ]


# Shell lines


def infusion_shell(command, threads=False, gpu=False):
    """A rule's shell line: `infusion COMMAND`, its output and errors into the rule's log.

    threads=True puts the job's threads first (--threads {threads}); gpu=True also its GPU
    slots per device (--gpu-slots, config resources.jobs_per_gpu), for the jobs that take a
    GPU (resources: gpu=1).
    """
    options = []
    if threads or gpu:
        options.append("--threads {threads}")
    if gpu:
        options.append(f"--gpu-slots {config['resources']['jobs_per_gpu']}")
    return " ".join(["infusion", *options, command, "> {log:q} 2>&1"])


# Files of a run (RUN, or one run folder) kept outside its folder


def run_file(folder, suffix, run=RUN):
    """<folder>/<dataset>/T<steps>-a<alpha>-w<omega><tag><suffix>: its log, its checkpoint."""
    return f"{folder}/{run.removeprefix('results/runs/')}{suffix}"


def run_benchmark(rule_name, run=RUN):
    """results/benchmarks/<rule>/<dataset>-T<steps>-a<alpha>-w<omega><tag>.tsv"""
    dataset, point = run.removeprefix("results/runs/").split("/")
    return f"results/benchmarks/{rule_name}/{dataset}-{point}.tsv"
