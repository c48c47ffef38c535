"""The one reading of a study config: loading, defaults, validation, and the study's questions.

A study is ``config.yaml`` with overlays (``--configfile``) merged as snakemake merges them
(:func:`load`), its left-out keys filled from the settings dataclasses and the section
``compute``, and checked against the schema shipped in this package with what the settings
say of each key written in (:mod:`infusion.config_schema`), so that a bad value stops with
one line naming the key.
``workflow/rules/common.smk`` and ``infusion cost`` ask it the same questions: the grid's
points and run folders, the final and constant-rate runs, the natural-image datasets and
their sections, and split sizes (from :mod:`infusion.data.registry`).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import jsonschema
import yaml

from infusion import settings as S
from infusion.config_schema import COMPUTE_KEYS, defaults, schema
from infusion.data.registry import dataset_spec
from infusion.process.proposals import parse_proposal
from infusion.rungs import check_ladder

# A training run's folder: its dataset, grid point and run tag (infusion.runs).
RUN = "results/runs/{dataset}/T{steps}-a{alpha}-w{omega}{tag}"

Point = tuple[int, float, float]  # (steps, alpha0, omega)


class ConfigError(ValueError):
    """An invalid study config; the message names the key or the file."""


# --- reading, defaults and validation ---------------------------------------------------


def merged(base: Mapping, overlay: Mapping) -> dict:
    """``overlay`` onto a copy of ``base`` exactly as snakemake's ``--configfile`` merges
    (``snakemake.utils.update_config``): a mapping is merged key by key into the mapping
    under the same key (into an empty one where there is none, or where the value there
    is not a mapping and the overlay's mapping is not empty); anything else, lists and
    null included, replaces the value."""

    def merge_into(config, overlay):
        for key, value in overlay.items():
            if not isinstance(config, Mapping):
                config = {}
            if isinstance(value, Mapping):
                config[key] = merge_into(config.get(key, {}), value)
            else:
                config[key] = value
        return config

    return merge_into(copy.deepcopy(dict(base)), overlay)


def read(path: str | Path) -> dict:
    """The mapping a YAML (or JSON) config file holds; :class:`ConfigError` naming the file
    when it is not one."""
    try:
        config = yaml.safe_load(Path(path).read_text())
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: not valid YAML ({' '.join(str(error).split())})") from None
    if not isinstance(config, dict):
        raise ConfigError(f"{path}: a config file holds keys at top level, got {config!r}")
    return config


def load(config_file: str | Path, overlays: Sequence[str | Path] = ()) -> dict:
    """``config_file`` with ``overlays`` merged as snakemake merges them (the overlays into
    each other in order, then the result onto the config file), defaults filled in and
    validated (:func:`validate_config`)."""
    overrides: dict = {}
    for overlay in overlays:
        overrides = merged(overrides, read(overlay))
    config = merged(read(config_file), overrides)
    validate_config(config)
    return config


def key_path(path) -> str:
    """['grid', 0, 'omega', 1] -> 'grid[0].omega[1]'."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text.lstrip(".") or "(top level)"


def validate_config(config: dict) -> None:
    """Fill the keys ``config`` leaves out with their defaults (in place, as snakemake's
    ``validate`` does; a stage's device, precision and compile with the section
    ``compute``'s, :data:`COMPUTE_KEYS`) and raise :class:`ConfigError` for the most
    relevant violation of the packaged schema, naming the key."""
    for section, values in defaults().items():
        entries = config.setdefault(section, {})
        if isinstance(entries, dict):
            for key, value in values.items():
                entries.setdefault(key, copy.deepcopy(value))
    fill_compute(config)
    validator = jsonschema.Draft202012Validator(schema())
    errors = list(validator.iter_errors(config))
    # a bad key of compute is each stage's too (fill_compute): it is named where it is set
    own = [e for e in errors if list(e.absolute_path)[:1] == ["compute"]]
    error = jsonschema.exceptions.best_match(own or errors)
    if error is not None:
        raise ConfigError(f"invalid config key '{key_path(error.absolute_path)}': {error.message}")
    check_proposals(config)
    try:
        check_ladder(config)
    except ValueError as error:
        raise ConfigError(str(error)) from None


def fill_compute(config: dict) -> None:
    """The device, precision and compile of every stage (:data:`COMPUTE_KEYS`) that its
    section leaves out: the section ``compute``'s (in place; the schema then checks them)."""
    compute = config["compute"]
    if isinstance(compute, dict):
        for section, keys in COMPUTE_KEYS.items():
            entries = config.get(section)
            if isinstance(entries, dict):
                for key in keys:
                    entries.setdefault(key, compute[key])


# The sections whose estimates are made under a proposal q (infusion.process.proposals)
PROPOSAL_SECTIONS = ("grid_evaluation", "evaluation", "convergence")


def check_proposals(config: dict) -> None:
    """Every section of :data:`PROPOSAL_SECTIONS` must name a proposal whose rates lie in
    [0, 1] for every model the study scores: each grid point and natural-image final model,
    under either rate indexing (the fidelity variants train both) and under the study's
    first rate (``model.first_rate``; both when the fidelity ablation runs), with the study's
    schedule kind (``model.schedule``), which must be linear where the cross-scoring runs;
    :class:`ConfigError` naming the key otherwise."""
    points = [
        *grid_points(config),
        *(final_point(config, name) for name in config.get("natural_images", {})),
    ]
    ablation = config.get("fidelity", {}).get("enabled", False)
    first_rates = S.FIRST_RATES if ablation else (config["model"]["first_rate"],)
    model = config["model"]
    models = [
        S.ModelSettings(**{**model, "steps": steps, "alpha0": alpha0, "omega": omega,
                           "rate_index": index, "first_rate": first})
        for steps, alpha0, omega in points
        for index in S.RATE_INDEXINGS
        for first in first_rates
    ]  # fmt: skip
    cross = ablation and config["cross_scoring"]["enabled"]
    if cross and model["schedule"] != "linear":
        raise ConfigError(
            f"invalid config key 'model.schedule': the cross-scoring (cross_scoring.enabled)"
            f" scores every variant under the others' chains, named as linear schedules; a"
            f" {model['schedule']!r} schedule has no such name: set cross_scoring.enabled"
            " to false"
        )
    for name in PROPOSAL_SECTIONS:
        key = f"invalid config key '{name}.proposal'"
        try:
            proposal = parse_proposal(config[name]["proposal"], key)
            for model in models:
                proposal.rates(model, key)
        except ValueError as error:
            raise ConfigError(str(error)) from None


# --- the grid and its named runs --------------------------------------------------------


def number(value) -> str:
    """How a rate or step count is spelled in paths: 0.01 -> '0.01', 0.0 -> '0'."""
    return f"{float(value):g}"


def run_folder(dataset: str, steps, alpha0, omega, tag: str = "") -> str:
    """:data:`RUN` of a dataset's grid point under a run tag."""
    return RUN.format(
        dataset=dataset, steps=int(steps), alpha=number(alpha0), omega=number(omega), tag=tag
    )


def panel_points(config: dict) -> list[tuple[str, Point]]:
    """[(panel, (steps, alpha0, omega))] of every combination of every panel of the grid
    (Fig A.1, Table A.1), in config order; a point shared by two panels is in both."""
    return [
        (panel["panel"], (int(panel["steps"]), float(alpha0), float(omega)))
        for panel in config["grid"]
        for alpha0 in panel["alpha0"]
        for omega in panel["omega"]
    ]


def grid_points(config: dict) -> list[Point]:
    """Distinct grid points (one run folder each), first appearance first: a point shared
    by panels is trained once."""
    points: dict[str, Point] = {}
    for _, point in panel_points(config):
        points.setdefault(run_folder(config["dataset"], *point), point)
    return list(points.values())


def panel_runs(config: dict) -> list[tuple[str, str]]:
    """[(panel, run folder)] of every point of every panel (first seed)."""
    return [(panel, run_folder(config["dataset"], *point)) for panel, point in panel_points(config)]


def grid_runs(config: dict) -> list[str]:
    """Run folders of the distinct grid points (first seed), in config order."""
    return [run_folder(config["dataset"], *point) for point in grid_points(config)]


def final_point(config: dict, dataset: str | None = None) -> Point:
    """The grid point of a dataset's final model: ``final`` for the study's dataset, its
    ``natural_images`` entry for a natural-image dataset (section 3.5)."""
    own = dataset in (None, config["dataset"])
    final = config["final"] if own else config["natural_images"][dataset]
    return int(final["steps"]), float(final["alpha0"]), float(final["omega"])


def final_run(config: dict, dataset: str | None = None) -> str:
    """Run folder of a dataset's final model (first seed)."""
    return run_folder(dataset or config["dataset"], *final_point(config, dataset))


def constant_run(config: dict) -> str:
    """Run folder of the constant-rate model of Fig A.2."""
    constant = config["constant_rate"]
    return run_folder(config["dataset"], constant["steps"], constant["alpha0"], 0.0)


def sampling_step_counts(config: dict) -> list[int]:
    """The sampling steps of the sampling-steps question (config ``sampling_steps``): each of
    its ``factors`` times the final model's steps T, rounded up, distinct, in increasing
    order; [] when it is not enabled. T = 15 and factors 1, 1.5, 2, 4: 15, 23, 30, 60."""
    question = config["sampling_steps"]
    if not question["enabled"]:
        return []
    steps = final_point(config)[0]
    # rounded first, so that a factor's float error (1.1 * 10 = 11.000000000000002) is not
    # rounded up to the next step
    return sorted({math.ceil(round(factor * steps, 9)) for factor in question["factors"]})


def check_named_points(config: dict) -> None:
    """``final`` and ``constant_rate`` must be trained by the grid: say which key is off."""
    runs = grid_runs(config)
    for key, run in (("final", final_run(config)), ("constant_rate", constant_run(config))):
        if run not in runs:
            raise ConfigError(
                f"config key '{key}' ({config[key]}) is not a point of the grid; "
                "add it to a panel of 'grid'"
            )


def objective_points(config: dict) -> list[tuple[str, Point]]:
    """[(label, point)] where the two training objectives are compared (config section
    ``lower_bound_training``): the final model's point ("final"), then, for each panel of
    ``lower_bound_training.optima`` that the grid has, the panel's point whose omega is
    nearest the optimum given (labelled by the panel). A point named twice is compared once,
    under both labels ("final, d"); a panel the grid lacks is left out."""
    labels: dict[Point, list[str]] = {final_point(config): ["final"]}
    points = panel_points(config)
    for panel, omega in config["lower_bound_training"]["optima"].items():
        candidates = [point for name, point in points if name == panel]
        if candidates:
            nearest = min(candidates, key=lambda point: abs(point[2] - omega))
            labels.setdefault(nearest, []).append(panel)
    return [(", ".join(names), point) for point, names in labels.items()]


def objective_sampling_steps(config: dict, steps: int) -> int:
    """Sampling steps of a ``steps``-step model of the objectives' comparison: as many per
    training step as the final model's (``sampling.sampling_steps`` / ``final.steps``; the
    paper samples its 15-step model for 30), at least one."""
    ratio = config["sampling"]["sampling_steps"] / final_point(config)[0]
    return max(1, round(ratio * int(steps)))


def cross_scoring_sizes(config: dict) -> dict[str, int]:
    """The test sizes of the cross-scoring's estimates (config ``cross_scoring``): examples,
    chains and repetitions, each the evaluation section's (``test_examples``, ``chains``,
    ``repetitions``) where the cross-scoring leaves it null."""
    cross, evaluation = config["cross_scoring"], config["evaluation"]
    sources = {"examples": "test_examples", "chains": "chains", "repetitions": "repetitions"}
    return {
        key: evaluation[source] if cross[key] is None else cross[key]
        for key, source in sources.items()
    }


# --- the natural-image part and the data ------------------------------------------------


def enabled_datasets(config: dict) -> list[str]:
    """The natural-image datasets the study runs, in the config's order.

    The entries of the config section ``natural_images`` whose key ``data.<name>.enabled`` is
    not false (a dataset without a ``data`` entry, e.g. shapes16, is enabled);
    ``data.tfd.enabled: false`` skips TFD, whose file is not public.
    """
    data = config["data"]
    return [
        name for name in config.get("natural_images", {}) if data.get(name, {}).get("enabled", True)
    ]


def natural_datasets(config: dict) -> list[str]:
    """The natural-image datasets the study trains a final model of: the enabled ones but
    the study's own ``dataset``, which the grid study covers (its sections, its ``final``)."""
    return [name for name in enabled_datasets(config) if name != config["dataset"]]


def section(config: dict, name: str, dataset: str | None = None) -> dict:
    """Config section ``name`` as the jobs of ``dataset`` see it: with the keys that
    ``natural_images.<dataset>.<name>`` replaces (none for the study's own dataset)."""
    entry = config["natural_images"].get(dataset, {}) if dataset != config["dataset"] else {}
    return config[name] | entry.get(name, {})


def natural_view(config: dict, dataset: str) -> dict:
    """The study as the jobs of natural-image ``dataset`` see it: its sections
    (:func:`section`) of model, training and sampling, its grid point as ``final``, and no
    grid (what the cost estimate costs for it)."""
    steps, alpha0, omega = final_point(config, dataset)
    view = {**config, "dataset": dataset, "grid": []}
    view["final"] = {"steps": steps, "alpha0": alpha0, "omega": omega}
    for name in ("model", "training", "sampling"):
        view[name] = section(config, name, dataset)
    return view


def split_sizes(dataset: str) -> Mapping[str, int] | None:
    """Examples of each split of a prepared dataset (the data registry's), ``None`` where
    they depend on a local file (TFD)."""
    return dataset_spec(dataset).sizes
