"""The tightest proposal q of a model, found on validation data (beyond the paper: issue 21).

Whatever q draws and scores the chains (:mod:`infusion.process.proposals`), the IS estimate
of log p(x) is a stochastic lower bound in expectation (Jensen), and the lower bound one
below it: the q whose estimate is highest is the tightest, the best estimate of log p(x).
Choosing it on validation images and scoring the test images under it is fair, as choosing
any hyperparameter on validation data is.

The candidates (:func:`candidate_proposals`) cover both rate indexings, schedules starting
at 0, at the model's alpha0 and at its omega (a first draw already infused), each with the
model's omega, and the rates of each scaled by ``SearchSettings.scales`` (a quarter to half
as much again by default): the model's own chain, lighter infusion (closer to p, which a
model that has learned to denoise may need less of) and heavier. :func:`search_proposals`
scores each on the same dequantized validation images with the same chain noise, so that
the comparison does not depend on the candidates' order.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from pathlib import Path
from typing import TypeVar

import numpy as np
import torch

from infusion.data.registry import dequantize, load, split_of, to_unit_interval
from infusion.nets.model import InfusionModel, load_model
from infusion.nets.networks import POPULATION, set_batch_norm_mode
from infusion.process.infusion_process import InfusionProcess, lower_bound_and_importance
from infusion.process.proposals import OWN, Proposal, parse_proposal
from infusion.runtime.atomic import write_json
from infusion.runtime.context import computing
from infusion.runtime.device import resolve_device
from infusion.runtime.progress import Progress
from infusion.runtime.reading import CorruptFile, read_json
from infusion.settings import (
    RATE_INDEXINGS,
    ConvergenceSettings,
    EvalSettings,
    ModelSettings,
    SearchSettings,
)

log = logging.getLogger(__name__)
Scored = TypeVar("Scored", EvalSettings, ConvergenceSettings)  # settings that name a proposal
FLAG = "--proposal-from"  # of infusion evaluate and infusion convergence


def candidate_proposals(model: ModelSettings, settings: SearchSettings) -> list[Proposal]:
    """``own`` first, then for each rate indexing, each alpha0 of {0, the model's alpha0,
    the model's omega} and each scale of ``settings.scales``, the schedule alpha0 + t omega
    (the model's omega) times the scale. Left out: a candidate whose rates leave [0, 1] for
    the model (logged), and one whose rates equal an earlier candidate's (``own`` first
    wins; e.g. the model's own schedule spelled out)."""
    proposals = [Proposal()]
    seen = [Proposal().rates(model)]
    for index in RATE_INDEXINGS:
        for alpha0 in dict.fromkeys((0.0, model.alpha0, model.omega)):
            for scale in settings.scales:
                proposal = Proposal(index, alpha0, model.omega, scale)
                try:
                    rates = proposal.rates(model, "proposal search")
                except ValueError as error:
                    log.info("candidate left out: %s", error)
                    continue
                if rates not in seen:
                    proposals.append(proposal)
                    seen.append(rates)
    return proposals


def search_proposals(
    model: InfusionModel, valid_pixels: np.ndarray, settings: SearchSettings
) -> dict:
    """Each candidate's mean validation lower bound and IS estimate with ``settings.chains``
    chains on the first ``settings.examples`` rows of ``valid_pixels`` (floats in [0, 1),
    not yet dequantized), and the name of the candidate of the highest IS (``best``; the
    first of equals).

    The points are dequantized once by a generator seeded with ``settings.seed``; every
    candidate's chains are drawn from that generator's state after the dequantization,
    restored for each: the same points and noise for all, in any order. A candidate's
    numbers are thus Table 3.1's estimates (``table_estimates``) of the validation images
    under it with that seed, one repetition and no isotropic estimate. The model normalises
    by its population statistics (the caller sets them).
    """
    device = model.prior_mean.device
    generator = torch.Generator(device).manual_seed(settings.seed)
    x = dequantize(torch.as_tensor(valid_pixels[: settings.examples], device=device), generator)
    after_dequantization = generator.get_state()
    candidates = candidate_proposals(model.settings, settings)
    progress = Progress(len(candidates), "proposal")
    records = []
    for i, proposal in enumerate(candidates):
        process = InfusionProcess.of(model.settings, model.shape, proposal)
        generator.set_state(after_dequantization)
        w = process.draw_log_weights(model, x, settings.chains, generator, settings.chain_batch)
        lower, importance = (float(e.double().mean()) for e in lower_bound_and_importance(w.total))
        records.append(
            {
                "proposal": proposal.name,
                "rates": list(process.rates),
                "lower_bound": lower,
                "importance": importance,
            }
        )
        log.info(
            "proposal %d/%d %s: lower bound %.2f, IS %.2f, %s",
            i + 1,
            len(candidates),
            proposal.name,
            lower,
            importance,
            progress.report(i + 1),
        )
    best = max(records, key=lambda r: -math.inf if math.isnan(r["importance"]) else r["importance"])
    if not math.isfinite(best["importance"]):
        raise FloatingPointError("no proposal gives a finite validation IS estimate")
    log.info("tightest proposal on validation: %s (IS %.2f)", best["proposal"], best["importance"])
    return {
        "candidates": records,
        "best": best["proposal"],
        "examples": len(x),
        "chains": settings.chains,
    }


def search_file(
    model_path: str | Path, data_path: str | Path, settings: SearchSettings, out: str | Path
) -> None:
    """:func:`search_proposals` of the model file ``model_path`` on the valid split of the
    prepared dataset ``data_path`` (population batch-norm statistics, at
    ``settings.precision``, compiled as ``settings.compile`` says), written atomically to the
    JSON file ``out`` with the settings."""
    model, _ = load_model(model_path, resolve_device(settings.device))
    set_batch_norm_mode(model.operator, POPULATION)
    valid = split_of(load(Path(data_path)), "valid", data_path, (model_path, model.shape))
    with computing(model, settings.precision, settings.compile):
        result = search_proposals(model, to_unit_interval(valid), settings)
    write_json(out, {"settings": dataclasses.asdict(settings), **result})


def with_proposal_from(settings: Scored, search: str | Path | None) -> tuple[Scored, dict]:
    """``settings`` with the proposal that ``--proposal-from`` names, the ``best`` of the
    search file ``search``, and the entries its output adds (``proposal_from``: the file);
    without ``search``, the settings as they are and none. ``ValueError`` naming the flag
    when the settings name a proposal of their own too, or when the file is missing,
    corrupt or names no proposal."""
    if search is None:
        return settings, {}
    if settings.proposal != OWN:
        raise ValueError(f"{FLAG} and --proposal {settings.proposal} name two proposals: give one")
    try:
        best = read_json(search, "best")["best"]
    except (FileNotFoundError, CorruptFile) as error:
        raise ValueError(f"{FLAG}: {error}") from None
    proposal = parse_proposal(best, f"{FLAG} {search}").name
    return dataclasses.replace(settings, proposal=proposal), {"proposal_from": str(search)}
