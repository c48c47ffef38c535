"""The study's training runs and the tags that name them (part of the study interpreter).

A run tag is the suffix of a run folder
(``results/runs/{dataset}/T{steps}-a{alpha}-w{omega}{tag}``):
empty for the study's own settings and first seed; otherwise ``_<key>-<value>`` for each
training switch whose value differs from the study's (``_layers-1``; ``_objective-lower_bound``
for the lower-bound objective, issue 15's question 1), then ``_seed<N>`` for another seed.
"""

from __future__ import annotations

from infusion.settings import OBJECTIVES
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


def seed_tags(config: dict) -> list[str]:
    """The tags of the study's own runs, one per training seed (first: "")."""
    return [run_tag(config, {}, seed) for seed in config["training"]["seeds"]]


def run_tags(config: dict) -> dict[str, dict[tuple[str, str], object]]:
    """Every run tag the study trains -> the config values it changes (its seed under
    ``("training", "seed")``): the study's own seeds, the ablation's runs when
    ``fidelity.enabled``, and each objective's runs over the study's seeds when
    ``lower_bound_training.enabled``."""
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
