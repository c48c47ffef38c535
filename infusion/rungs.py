"""The ladder's rungs as a study config gives them (config section ``ladder``, issue 22):
what a rung sets, and the checks every rung passes before any job runs
(:func:`infusion.study.validate_config` calls :func:`check_ladder`;
:func:`infusion.runs.ladder_runs` plans their runs).
"""

from __future__ import annotations

import dataclasses

from infusion import settings as S
from infusion.data.registry import dataset_spec
from infusion.process.proposals import parse_proposal

# The keys a rung may set besides model.* and training.* (training.seeds excepted)
RUNG_KEYS = ("dataset", "final.steps", "final.alpha0", "final.omega")


def rung_settings(config: dict, rung: dict) -> tuple[str, tuple[int, float, float], dict]:
    """(dataset, grid point, {(section, key): value} of the model and training keys it sets)
    of a ladder rung: the study's final model with the rung's ``set`` applied."""
    changes = dict(rung.get("set") or {})
    dataset = changes.pop("dataset", config["dataset"])
    final = {**config["final"]}
    values = {}
    for dotted, value in changes.items():
        section, key = dotted.split(".", 1)
        if section == "final":
            final[key] = value
        else:
            values[(section, key)] = value
    point = (int(final["steps"]), float(final["alpha0"]), float(final["omega"]))
    return dataset, point, values


def check_ladder(config: dict) -> None:
    """Every rung's ``set`` must name keys a run can change (:data:`RUNG_KEYS`, model.*,
    training.* but seeds) with values its settings accept, rung names must be distinct, and
    the common proposal must give rates in [0, 1] at every rung's grid point; ``ValueError``
    naming the key otherwise."""
    ladder = config.get("ladder", {})
    if not ladder.get("enabled"):
        return
    key = "config key 'ladder.proposal'"
    proposal = parse_proposal(ladder["proposal"], key)
    names = [rung["rung"] for rung in ladder["rungs"]]
    if len(set(names)) < len(names):
        raise ValueError(f"config key 'ladder.rungs': rung names repeat ({names})")
    for i, rung in enumerate(ladder["rungs"]):
        where = f"config key 'ladder.rungs[{i}].set'"
        for dotted in rung.get("set") or {}:
            section, _, name = dotted.partition(".")
            known = dotted in RUNG_KEYS or (
                section in ("model", "training") and name in config[section] and name != "seeds"
            )
            if not known:
                raise ValueError(
                    f"{where}: {dotted!r} is not a key a rung can set (dataset, final.steps, "
                    "final.alpha0, final.omega, model.<key>, training.<key>)"
                )
        dataset, (steps, alpha0, omega), values = rung_settings(config, rung)
        model = {**config["model"], **{k: v for (s, k), v in values.items() if s == "model"}}
        training = {k: v for k, v in config["training"].items() if k != "seeds"}
        training |= {k: v for (s, k), v in values.items() if s == "training"}
        try:
            dataset_spec(dataset)
            settings = S.ModelSettings(**model, steps=steps, alpha0=alpha0, omega=omega)
            S.TrainSettings(**training)
            for index in S.RATE_INDEXINGS:
                proposal.rates(dataclasses.replace(settings, rate_index=index), key)
        except (ValueError, KeyError, TypeError) as error:
            raise ValueError(f"{where}: {error}") from None
