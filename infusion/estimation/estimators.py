"""Likelihood estimators from k infusion chains per example (paper footnote 4).

Given l_1..l_k = log p(z~, x) - log q(z~ | x) for k chains of one example:
lower bound = mean(l); importance-sampling estimate = logsumexp(l) - log k.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from infusion.nets.model import InfusionModel
from infusion.nets.networks import POPULATION, set_batch_norm_mode
from infusion.process.log_weights import LogWeights, chain_log_weights


def lower_bound_and_importance(log_w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """log_w: [N x k] -> (lower bound [N], importance-sampling estimate [N]), in nats."""
    k = log_w.shape[1]
    return log_w.mean(1), torch.logsumexp(log_w, 1) - math.log(k)


def draw_log_weights(
    model: InfusionModel,
    x: torch.Tensor,
    chains: int,
    generator: torch.Generator,
    chain_batch: int,
    rates: Sequence[float] | None = None,
) -> LogWeights:
    """Score ``chains`` infusion chains for every row of x [N x d]; fields become [N x k].

    Examples and chains are batched together, at most ``chain_batch`` chains per forward
    pass: several examples per pass when k is small, one example over several passes when
    k is large. Batch norm uses the stored population statistics, so a pass's composition
    does not change any chain's value. ``rates``: the infusion rates of the proposal q
    that draws and scores the chains (:meth:`infusion.process.proposals.Proposal.rates`);
    None: the model's own.
    """
    set_batch_norm_mode(model.operator, POPULATION)
    n = x.shape[0]
    per_pass = max(1, chain_batch // chains)  # examples per pass
    chunk = min(chains, chain_batch)  # chains per example per pass
    rows = []
    with torch.no_grad():
        for start in range(0, n, per_pass):
            group = x[start : start + per_pass]  # [b x d]
            parts = []
            for first in range(0, chains, chunk):
                kc = min(chunk, chains - first)
                w = chain_log_weights(model, group.repeat_interleave(kc, 0), generator, rates=rates)
                parts.append(
                    torch.stack([w.chain, w.output, w.output_sse]).view(3, group.shape[0], kc)
                )
            rows.append(torch.cat(parts, 2))  # [3 x b x k]
    chain, output, sse = torch.cat(rows, 1)  # each [N x k]
    return LogWeights(chain, output, sse, x.shape[1])


def isotropic_variance(weights: LogWeights) -> float:
    """The single output variance that maximises the lower bound of ``weights``' examples.

    The isotropic lower bound is mean[chain - d/2 log(2 pi v) - sse / (2v)], maximised in
    closed form at v = mean(sse) / d: the mean squared error of the last step's mean.
    """
    return float(weights.output_sse.double().mean() / weights.dim)
