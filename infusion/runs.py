"""The study's training runs and the tags that name them (part of the study interpreter).

A run tag is the suffix of a run folder
(``results/runs/{dataset}/T{steps}-a{alpha}-w{omega}{tag}``):
empty for the study's own settings and first seed; otherwise ``_<key>-<value>`` for each
training switch whose value differs from the study's (``_layers-1``; ``_objective-lower_bound``
for the lower-bound objective, issue 15's question 1), then ``_seed<N>`` for another seed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from infusion.rungs import rung_settings
from infusion.settings import OBJECTIVES
from infusion.study import final_point, objective_points, objective_sampling_steps, run_folder
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


def objective_tag(config: dict, objective: str, seed: int) -> str:
    """The tag of a run trained with ``objective`` (``training.objective``) and ``seed``:
    ``_objective-lower_bound`` for the lower bound in a denoising study."""
    return run_tag(config, {("training", "objective"): objective}, seed)


# Where the objectives' comparison scores its runs at points other than the final model's:
# results/beyond/lower-bound-training/<dataset>/<point><tag>/
OBJECTIVE_SCORES = "results/beyond/lower-bound-training"


@dataclass(frozen=True)
class ObjectiveRun:
    """One run of the objectives' comparison: its label (``final``, or the panel whose point
    it is), grid point, training objective (``training.objective``), seed and run tag, its
    dataset, and whether its point is the study's final model."""

    label: str
    point: tuple[int, float, float]
    objective: str
    seed: int
    tag: str
    dataset: str
    final: bool

    @property
    def folder(self) -> str:
        """The run's training folder (results/runs/...)."""
        return run_folder(self.dataset, *self.point, self.tag)

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
    final = final_point(config)
    return [
        ObjectiveRun(
            label,
            point,
            objective,
            seed,
            objective_tag(config, objective, seed),
            config["dataset"],
            point == final,
        )  # fmt: skip
        for label, point in objective_points(config)
        for objective in OBJECTIVES
        for seed in config["training"]["seeds"]
    ]


def seed_tags(config: dict) -> list[str]:
    """The tags of the study's own runs, one per training seed (first: "")."""
    return [run_tag(config, {}, seed) for seed in config["training"]["seeds"]]


def run_tags(config: dict) -> dict[str, dict[tuple[str, str], object]]:
    """Every run tag the study trains -> the config values it changes (its seed under
    ``("training", "seed")``): the study's own seeds, the ablation's runs when
    ``fidelity.enabled``, the ladder's when ``ladder.enabled``, and each objective's runs over
    the study's seeds when ``lower_bound_training.enabled``."""
    tags = {
        tag: {("training", "seed"): seed}
        for tag, seed in zip(seed_tags(config), config["training"]["seeds"], strict=True)
    }
    if config["fidelity"]["enabled"]:
        switches = study_switches(config)
        for variant in study_variants(config):
            values = variant_values(variant, switches)
            for seed in config["fidelity"]["seeds"]:
                trained = {
                    (section, key): value
                    for (section, key), value in values.items()
                    if section in TRAINED_SECTIONS and value != config[section][key]
                }
                tags.setdefault(
                    run_tag(config, values, seed), trained | {("training", "seed"): seed}
                )
    for run in ladder_runs(config):
        tags.setdefault(run.tag, run.changes | {("training", "seed"): run.seed})
    if config["lower_bound_training"]["enabled"]:
        for objective in OBJECTIVES:
            for seed in config["training"]["seeds"]:
                tags.setdefault(
                    objective_tag(config, objective, seed),
                    {("training", "objective"): objective, ("training", "seed"): seed},
                )
    return tags


def ablation_runs(config: dict) -> list[tuple[str, int, str]]:
    """(variant, seed, run tag) of every row of the ablation table, in table order."""
    switches = study_switches(config)
    return [
        (variant, seed, run_tag(config, variant_values(variant, switches), seed))
        for variant in study_variants(config)
        for seed in config["fidelity"]["seeds"]
    ]


def ablation_tags(config: dict) -> list[str]:
    """The tags of the runs the ablation trains beyond the study's own seeds."""
    if not config["fidelity"]["enabled"]:
        return []
    own = seed_tags(config)
    return list(dict.fromkeys(tag for *_, tag in ablation_runs(config) if tag not in own))


# --- the ladder toward the paper's scale (config section ladder, issue 22) -------------

# Where the ladder's runs are scored: results/beyond/ladder/<dataset>/<point><tag>/
LADDER_SCORES = "results/beyond/ladder"


@dataclass(frozen=True)
class LadderRun:
    """One training run of the ladder: its rung (name, factor, value), the semantics it
    trains under (a fidelity variant: paper, the text's; code, the released code's), its
    seed, and where it lives (dataset, grid point, run tag)."""

    rung: str
    factor: str
    value: object
    semantics: str
    seed: int
    dataset: str
    point: tuple[int, float, float]
    tag: str
    # {(section, key): value} of the model and training keys it changes from the study's
    changes: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def folder(self) -> str:
        """The run's training folder (results/runs/...)."""
        return run_folder(self.dataset, *self.point, self.tag)

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
        view[name] = {**config[name], **{k: v for (s, k), v in run.changes.items() if s == name}}
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
                changed = {
                    key: value for key, value in trained.items() if value != config[key[0]][key[1]]
                }
                result.append(
                    LadderRun(
                        rung["rung"], rung["factor"], rung["value"], semantics, int(seed),
                        dataset, point, run_tag(config, trained, seed), changed,
                    )
                )  # fmt: skip
    return result
