"""The study's training runs and the tags that name them (part of the study interpreter).

A run is one :class:`TrainingRun`, made in one place (:func:`training_run`): its dataset,
grid point and seed, and the model and training keys it changes from the study's config.
The parts of the study that train (the grid under every seed, the natural-image final
models, the ablation, the ladder, the objectives' comparison) each list theirs, the ladder's
and the comparison's as subclasses that add what their tables need; :func:`training_runs`
lists them all once, and the rules' flags (:func:`run_tags`), the cost and the plan iterate
over them.

A run tag is the suffix of a run folder
(``results/runs/{dataset}/T{steps}-a{alpha}-w{omega}{tag}``):
empty for the study's own settings and first seed; otherwise ``_<key>-<value>`` for each
model or training key whose value differs from the study's (``_layers-1``;
``_objective-lower_bound`` for the lower-bound objective, issue 15's question 1), then
``_seed<N>`` for another seed. A key at the study's value names nothing, so a settings
field added at its default leaves every folder, and every finished run, as it was.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from infusion.rungs import rung_settings
from infusion.settings import OBJECTIVES
from infusion.study import (
    final_point,
    grid_points,
    natural_datasets,
    objective_points,
    objective_sampling_steps,
    run_folder,
)
from infusion.switches import TRAINED_SECTIONS, study_switches, study_variants, variant_values


def run_tag(config: dict, values: dict[tuple[str, str], object], seed: int) -> str:
    """The tag of a training run with the config's sections changed by ``values`` (only the
    model and training keys count: a scoring switch trains the same model), in their order,
    and trained with ``seed``; empty for the config's own settings and first seed."""
    parts = [
        f"_{key}-{str(value).lower()}"
        for (section, key), value in values.items()
        if section in TRAINED_SECTIONS and value != config[section][key]
    ]
    if seed != config["training"]["seeds"][0]:
        parts.append(f"_seed{seed}")
    return "".join(parts)


@dataclass(frozen=True)
class TrainingRun:
    """One training run of the study, the identity every part of the plan names a run by
    (made by :func:`training_run`): its dataset, grid point and seed, and the model and
    training keys it changes from the study's config; its tag (:func:`run_tag`) and its
    folder derive from them."""

    dataset: str
    point: tuple[int, float, float]
    seed: int
    tag: str
    # {(section, key): value} of the model and training keys it changes from the study's
    changes: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def folder(self) -> str:
        """The run's training folder (results/runs/...)."""
        return run_folder(self.dataset, *self.point, self.tag)

    @property
    def values(self) -> dict[tuple[str, str], object]:
        """The config values it trains with where they are not the study's: its changes and
        its seed (under ``("training", "seed")``)."""
        return {**self.changes, ("training", "seed"): self.seed}


def training_run(
    config: dict, dataset: str, point, values: dict[tuple[str, str], object], seed: int
) -> TrainingRun:
    """The run of ``dataset`` at ``point`` with the config changed by ``values`` (only its
    model and training keys that differ from the study's count) and trained with ``seed``."""
    changes = {
        (section, key): value
        for (section, key), value in values.items()
        if section in TRAINED_SECTIONS and value != config[section][key]
    }
    return TrainingRun(dataset, tuple(point), int(seed), run_tag(config, values, seed), changes)


def identity(run: TrainingRun) -> dict:
    """The fields of a training run, to make a run of a part of the study from."""
    return {f.name: getattr(run, f.name) for f in fields(TrainingRun)}


# Where the objectives' comparison scores its runs at points other than the final model's:
# results/beyond/lower-bound-training/<dataset>/<point><tag>/
OBJECTIVE_SCORES = "results/beyond/lower-bound-training"


@dataclass(frozen=True, kw_only=True)
class ObjectiveRun(TrainingRun):
    """One run of the objectives' comparison: a training run, its label (``final``, or the
    panel whose point it is), its training objective (``training.objective``) and whether
    its point is the study's final model."""

    label: str
    objective: str
    final: bool

    @property
    def scores(self) -> str:
        """The folder of the run's test estimates, samples and Parzen estimate: the final
        model's (results/final/<dataset><tag>, made by Table 3.1's and Fig 3.4's rules) at
        the final point, else under :data:`OBJECTIVE_SCORES`."""
        if self.final:
            return f"results/final/{self.dataset}{self.tag}"
        return self.folder.replace("results/runs", OBJECTIVE_SCORES, 1)

    def files(self) -> dict[str, str]:
        """What the comparison's table reads of the run, by name: its test estimates
        (``likelihood``), Parzen estimate (``parzen``), samples (``samples``) and training
        curves (``metrics``)."""
        return {
            "likelihood": f"{self.scores}/likelihood_test.json",
            "parzen": f"{self.scores}/parzen.json",
            "samples": f"{self.scores}/samples.npz",
            "metrics": f"{self.folder}/metrics.csv",
        }


def objective_runs(config: dict) -> list[ObjectiveRun]:
    """Every run of the objectives' comparison: each point of
    :func:`~infusion.study.objective_points` under each objective and training seed, in its
    table's order."""
    final, dataset = final_point(config), config["dataset"]
    return [
        ObjectiveRun(
            **identity(
                training_run(config, dataset, point, {("training", "objective"): objective}, seed)
            ),
            label=label,
            objective=objective,
            final=point == final,
        )  # fmt: skip
        for label, point in objective_points(config)
        for objective in OBJECTIVES
        for seed in config["training"]["seeds"]
    ]


def seed_tags(config: dict) -> list[str]:
    """The tags of the study's own runs, one per training seed (first: "")."""
    return [run_tag(config, {}, seed) for seed in config["training"]["seeds"]]


def training_runs(config: dict) -> list[TrainingRun]:
    """Every training the study runs, each once (by folder), in plan order: the grid's
    points under every training seed, each natural-image dataset's final model, the
    ablation's runs when ``fidelity.enabled``, the ladder's when ``ladder.enabled`` and each
    objective's when ``lower_bound_training.enabled``."""
    dataset, seeds = config["dataset"], config["training"]["seeds"]
    runs = [training_run(config, dataset, point, {}, seed)
            for point in grid_points(config) for seed in seeds]  # fmt: skip
    runs += [training_run(config, name, final_point(config, name), {}, seeds[0])
             for name in natural_datasets(config)]  # fmt: skip
    runs += ablation_runs(config)
    runs += ladder_runs(config)
    if config["lower_bound_training"]["enabled"]:
        runs += objective_runs(config)
    return list({run.folder: run for run in runs}.values())


def run_tags(config: dict) -> dict[str, dict[tuple[str, str], object]]:
    """Every run tag the study trains (:func:`training_runs`) -> the config values it
    changes, its seed under ``("training", "seed")``."""
    tags: dict[str, dict[tuple[str, str], object]] = {}
    for run in training_runs(config):
        tags.setdefault(run.tag, run.values)
    return tags


@dataclass(frozen=True, kw_only=True)
class AblationRun(TrainingRun):
    """One row of the ablation table: a training run of the final model and the fidelity
    ``variant`` it trains under (a variant that only changes the scoring shares the paper
    variant's run)."""

    variant: str


def ablation_runs(config: dict) -> list[AblationRun]:
    """Every row of the ablation table, variant by variant, seed by seed ([] when the
    ablation is off)."""
    if not config["fidelity"]["enabled"]:
        return []
    switches, dataset, final = study_switches(config), config["dataset"], final_point(config)
    return [
        AblationRun(
            **identity(
                training_run(config, dataset, final, variant_values(variant, switches), seed)
            ),
            variant=variant,
        )  # fmt: skip
        for variant in study_variants(config)
        for seed in config["fidelity"]["seeds"]
    ]


def ablation_tags(config: dict) -> list[str]:
    """The tags of the runs the ablation trains beyond the study's own seeds."""
    own = seed_tags(config)
    return list(dict.fromkeys(run.tag for run in ablation_runs(config) if run.tag not in own))


# --- the ladder toward the paper's scale (config section ladder, issue 22) -------------

# Where the ladder's runs are scored: results/beyond/ladder/<dataset>/<point><tag>/
LADDER_SCORES = "results/beyond/ladder"


@dataclass(frozen=True, kw_only=True)
class LadderRun(TrainingRun):
    """One training run of the ladder: a training run, its rung (name, factor, value) and
    the semantics it trains under (a fidelity variant: paper, the text's; code, the released
    code's)."""

    rung: str
    factor: str
    value: object
    semantics: str

    @property
    def scores(self) -> str:
        """The folder of the run's scores (under :data:`LADDER_SCORES`)."""
        return self.folder.replace("results/runs", LADDER_SCORES, 1)

    def files(self, proposal: str) -> dict[str, str]:
        """What the ladder's table reads of the run, by name: its training summary
        (``summary``), its test estimates under its own proposal (``own``) and under
        ``proposal`` (by that name), its Parzen estimate (``parzen``)."""
        return {
            "summary": f"{self.folder}/summary.json",
            "own": f"{self.scores}/proposals/own.json",
            proposal: f"{self.scores}/proposals/{proposal}.json",
            "parzen": f"{self.scores}/parzen.json",
        }


def ladder_view(config: dict, run: LadderRun) -> dict:
    """The study as a ladder run's training sees it: its dataset, its grid point as
    ``final``, no grid, its model and training sections with its changes and its seed (what
    ``infusion cost`` prices for it), and its sampling steps (as many per training step as
    the final model's)."""
    steps, alpha0, omega = run.point
    view = {**config, "dataset": run.dataset, "grid": []}
    view["final"] = {"steps": steps, "alpha0": alpha0, "omega": omega}
    for name in TRAINED_SECTIONS:
        changes = {k: v for (s, k), v in run.changes.items() if s == name}
        view[name] = {**config[name], **changes}
    view["training"]["seeds"] = [run.seed]
    view["sampling"] = {
        **config["sampling"],
        "sampling_steps": objective_sampling_steps(config, steps),
    }
    return view


def ladder_runs(config: dict) -> list[LadderRun]:
    """Every run of the ladder (config ``ladder``; [] when it is off), rung by rung in config
    order, then by semantics and seed (a rung's own ``seeds`` and ``semantics`` where it
    gives them, else the ladder's)."""
    ladder = config.get("ladder", {})
    if not ladder.get("enabled"):
        return []
    result, switches = [], study_switches(config)
    for rung in ladder["rungs"]:
        dataset, point, values = rung_settings(config, rung)
        for semantics in rung.get("semantics") or ladder["semantics"]:
            variant = {
                key: value
                for key, value in variant_values(semantics, switches).items()
                if key[0] in TRAINED_SECTIONS
            }
            trained = {**variant, **values}
            for seed in rung.get("seeds") or ladder["seeds"]:
                run = training_run(config, dataset, point, trained, seed)
                result.append(LadderRun(**identity(run), rung=rung["rung"], factor=rung["factor"],
                                        value=rung["value"], semantics=semantics))  # fmt: skip
    return result
