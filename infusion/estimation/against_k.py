"""The lower bound and the IS estimate against the number of chains k (issue 15, question 3).

Each repetition dequantizes the test images afresh and draws max(k) infusion chains per
image once, exactly as Table 3.1's :func:`~infusion.estimation.evaluation.table_estimates`
draws its k chains (same generator, same order); every k is scored on the first k chains
of those draws (prefixes). So the largest k of a repetition is Table 3.1's estimate with
that k and seed, and within a repetition the curve changes only by the chains added.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from infusion.data.registry import dequantize, load, split_of, to_unit_interval
from infusion.estimation.proposal_search import with_proposal_from
from infusion.nets.model import InfusionModel, load_model
from infusion.nets.networks import POPULATION, set_batch_norm_mode
from infusion.process.infusion_process import InfusionProcess, lower_bound_and_importance
from infusion.process.proposals import parse_proposal
from infusion.runtime.atomic import write_json
from infusion.runtime.context import computing
from infusion.runtime.device import resolve_device
from infusion.runtime.progress import Progress
from infusion.settings import ConvergenceSettings

log = logging.getLogger(__name__)
ESTIMATORS = ("lower_bound", "importance")  # the order of lower_bound_and_importance


def prefix_estimates(log_w: torch.Tensor, chains: Sequence[int]) -> dict[str, list[float]]:
    """log_w [N x K] -> {estimator: [mean over the N rows of the estimate from the first k
    chains, for each k of ``chains``]}; every k must be at most K."""
    if max(chains) > log_w.shape[1]:
        raise ValueError(f"k = {max(chains)} chains asked of {log_w.shape[1]} drawn")
    curves = {name: [] for name in ESTIMATORS}
    for k in chains:
        estimates = lower_bound_and_importance(log_w[:, :k])
        for name, estimate in zip(ESTIMATORS, estimates, strict=True):
            curves[name].append(float(estimate.double().mean()))
    return curves


def chain_convergence(
    model: InfusionModel, pixels: np.ndarray, settings: ConvergenceSettings
) -> list[dict]:
    """One record (proposal, chains, estimator, repetition, value) per k, estimator and
    repetition, on the first ``settings.examples`` rows of ``pixels`` (floats in [0, 1), not
    dequantized), every chain drawn and scored by the proposal ``settings.proposal``; the model
    normalises by its population statistics (the caller sets them)."""
    proposal = parse_proposal(settings.proposal)
    process = InfusionProcess.of(model.settings, model.shape, proposal)
    device = model.prior_mean.device
    generator = torch.Generator(device).manual_seed(settings.seed)
    x = torch.as_tensor(pixels[: settings.examples], device=device)
    chains = sorted(settings.chains)
    records = []
    progress = Progress(settings.repetitions, "repetition")
    for rep in range(settings.repetitions):
        w = process.draw_log_weights(
            model, dequantize(x, generator), chains[-1], generator, settings.chain_batch
        )
        curves = prefix_estimates(w.total, chains)
        for name, values in curves.items():
            records += [
                {
                    "proposal": proposal.name,
                    "chains": k,
                    "estimator": name,
                    "repetition": rep,
                    "value": value,
                }
                for k, value in zip(chains, values, strict=True)
            ]
        log.info(
            "repetition %d/%d: k = %d, lower bound %.2f, IS %.2f, %s",
            rep + 1,
            settings.repetitions,
            chains[-1],
            curves["lower_bound"][-1],
            curves["importance"][-1],
            progress.report(rep + 1),
        )
    return records


def convergence_file(
    model_path: str | Path,
    data_path: str | Path,
    settings: ConvergenceSettings,
    out: str | Path,
    proposal_from: str | Path | None = None,
) -> None:
    """:func:`chain_convergence` of the model file ``model_path`` on the test split of the
    prepared dataset ``data_path``, written atomically to the JSON file ``out`` with the
    settings; with ``proposal_from`` (a search file of ``infusion search-proposal``), under
    its best proposal, the file named in the output
    (:func:`~infusion.estimation.proposal_search.with_proposal_from`)."""
    settings, chosen = with_proposal_from(settings, proposal_from)
    model, _ = load_model(model_path, resolve_device(settings.device))
    set_batch_norm_mode(model.operator, POPULATION)
    test = split_of(load(Path(data_path)), "test", data_path, (model_path, model.shape))
    pixels = to_unit_interval(test)
    with computing(model, settings.precision, settings.compile):
        records = chain_convergence(model, pixels, settings)
    examples = min(settings.examples, len(pixels))
    write_json(
        out,
        {
            "settings": dataclasses.asdict(settings),
            "examples": examples,
            "estimates": records,
            **chosen,
        },
    )
