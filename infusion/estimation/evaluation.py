"""Scoring a model on data: training curves, population batch-norm statistics, Table 3.1."""

from __future__ import annotations

import dataclasses
import logging
import math
from pathlib import Path

import numpy as np
import torch

from infusion.data.registry import dequantize, load, split_of, to_unit_interval
from infusion.estimation.proposal_search import with_proposal_from
from infusion.nets.model import InfusionModel, load_model
from infusion.nets.networks import BATCH, POPULATION, batch_norms, set_batch_norm_mode
from infusion.process.infusion_process import (
    InfusionProcess,
    isotropic_variance,
    lower_bound_and_importance,
)
from infusion.process.proposals import parse_proposal
from infusion.runtime.atomic import write_json
from infusion.runtime.context import computing
from infusion.runtime.device import resolve_device
from infusion.runtime.progress import Progress
from infusion.settings import EvalSettings

log = logging.getLogger("infusion.estimation.evaluation")


def even_batches(x: torch.Tensor, batch_size: int) -> tuple[torch.Tensor, ...]:
    """Split x into ceil(N / batch_size) nearly equal batches (no tiny last batch for BN)."""
    return torch.tensor_split(x, max(1, math.ceil(x.shape[0] / batch_size)))


def minibatch_lower_bound(
    process: InfusionProcess,
    model: InfusionModel,
    x: torch.Tensor,
    batch_size: int,
    generator: torch.Generator,
) -> float:
    """Mean one-chain lower bound over x [N x d] under ``process`` (the model's own), with
    minibatch batch-norm statistics.

    This is how the paper's training curves (Fig 3.3, A.1) score train and valid data.
    """
    set_batch_norm_mode(model.operator, BATCH)
    total = 0.0
    with torch.no_grad():
        for batch in even_batches(x, batch_size):
            total += float(process.log_weights(model, batch, generator).total.sum())
    return total / x.shape[0]


def fit_population_statistics(
    process: InfusionProcess,
    model: InfusionModel,
    x_train: torch.Tensor,
    batch_size: int,
    generator: torch.Generator,
) -> None:
    """Set every step's batch-norm statistics to those of the whole training set (A.1).

    The infusion chain of ``process`` (the model's own) is run once over x_train in
    training-size minibatches, normalising
    by minibatch statistics as in training, while the pre-normalisation activations of each
    step are pooled. The model is left in population mode.
    """
    norms = batch_norms(model.operator)
    set_batch_norm_mode(model.operator, BATCH)
    for norm in norms:
        norm.accumulate()
    with torch.no_grad():
        for batch in even_batches(x_train, batch_size):
            for _ in process.walk(model, batch, generator):
                pass
    for norm in norms:
        norm.finish_accumulation()
    set_batch_norm_mode(model.operator, POPULATION)


def evaluate_file(
    model_path: str | Path,
    data_path: str | Path,
    settings: EvalSettings,
    out: str | Path,
    proposal_from: str | Path | None = None,
) -> None:
    """Table 3.1's estimates of the model file ``model_path`` on the ``settings.split`` of the
    prepared dataset ``data_path`` (the isotropic variance fixed on its valid split), written
    atomically to the JSON file ``out`` with the settings; with ``proposal_from`` (a search
    file of ``infusion search-proposal``), under its best proposal, the file named in the
    output (:func:`~infusion.estimation.proposal_search.with_proposal_from`)."""
    settings, chosen = with_proposal_from(settings, proposal_from)
    model, _ = load_model(model_path, resolve_device(settings.device))
    set_batch_norm_mode(model.operator, POPULATION)
    data = load(Path(data_path))
    scored, valid = (
        to_unit_interval(split_of(data, split, data_path, (model_path, model.shape)))
        for split in (settings.split, "valid")
    )
    with computing(model, settings.precision, settings.compile):
        table = table_estimates(model, scored, valid, settings)
    write_json(out, {"settings": dataclasses.asdict(settings), **table, **chosen})


def table_estimates(
    model: InfusionModel,
    pixels: np.ndarray,
    valid_pixels: np.ndarray,
    settings: EvalSettings,
) -> dict:
    """Table 3.1 for one split: lower bound and IS estimates, diagonal and isotropic output.

    ``pixels`` and ``valid_pixels`` are float arrays in [0, 1) [N x d] (not yet dequantized);
    the model normalises by its population statistics (the caller sets them: A.1).
    Each repetition dequantizes the points afresh and draws ``settings.chains`` chains per
    example; the result holds, per estimator, the mean and sample std over repetitions and
    the per-repetition values, plus the isotropic variance (chosen on validation data;
    ``settings.isotropic_examples = 0`` skips the isotropic estimators) and the name of the
    proposal q that drew and scored every chain (``settings.proposal``; a proposal whose
    rates leave [0, 1] for this model stops here, before any draw).
    """
    proposal = parse_proposal(settings.proposal)
    process = InfusionProcess.of(model.settings, model.shape, proposal)
    device = model.prior_mean.device
    generator = torch.Generator(device).manual_seed(settings.seed)
    iso_var = None
    if settings.isotropic_examples > 0:
        valid = torch.as_tensor(valid_pixels[: settings.isotropic_examples], device=device)
        valid_weights = process.draw_log_weights(
            model,
            dequantize(valid, generator),
            settings.isotropic_chains,
            generator,
            settings.chain_batch,
        )
        iso_var = isotropic_variance(valid_weights)
        log.info("isotropic output variance %.5g (%d validation examples)", iso_var, len(valid))

    x = torch.as_tensor(pixels[: settings.examples], device=device)
    per_rep = {"lower_bound": [], "importance": []}
    if iso_var is not None:
        per_rep |= {"iso_lower_bound": [], "iso_importance": []}
    progress = Progress(settings.repetitions, "repetition")
    for rep in range(settings.repetitions):
        w = process.draw_log_weights(
            model, dequantize(x, generator), settings.chains, generator, settings.chain_batch
        )
        estimates = list(lower_bound_and_importance(w.total))
        if iso_var is not None:
            estimates += lower_bound_and_importance(w.isotropic_total(iso_var))
        for key, value in zip(per_rep, estimates, strict=True):
            per_rep[key].append(float(value.double().mean()))
        log.info(
            "repetition %d/%d: lower bound %.2f, IS %.2f, %s",
            rep + 1,
            settings.repetitions,
            per_rep["lower_bound"][-1],
            per_rep["importance"][-1],
            progress.report(rep + 1),
        )
    summary = {
        key: {
            "mean": float(np.mean(v)),
            "std": float(np.std(v, ddof=1)) if len(v) > 1 else 0.0,
            "values": v,
        }
        for key, v in per_rep.items()
    }
    return {
        "proposal": proposal.name,
        "examples": len(x),
        "chains": settings.chains,
        "isotropic_var": iso_var,
        **summary,
    }
