"""Independent float64 numpy references, written from the paper's equations (section 3.3,
footnote 4, appendix A) and the design brief's method page, not from the package's code.

:class:`NumpyMLP` is the transition operator read off a trained or random MLP's weights;
:func:`infusion_chain` and :func:`log_weight` are q(z~ | x) and l = log p(z~, x) - log q(z~ | x);
:class:`NoiseFeeder` replaces the package's random draws by numpy ones that the test keeps, so
that a reference can recompute a chain with the very noise the package used.
:func:`inception_score` and :func:`softmax` are Salimans et al. (2016)'s Inception score on
class probabilities, the definition torch-fidelity's numbers are checked against.
"""

from __future__ import annotations

from collections import defaultdict
from contextlib import ExitStack
from dataclasses import dataclass
from unittest import mock

import numpy as np
import torch

from infusion.process import infusion_process


def sigmoid(a: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-a))


def normal_logpdf(z, mean, var):
    """log N(z; mean, var), elementwise."""
    return -0.5 * (np.log(2 * np.pi * var) + (z - mean) ** 2 / var)


def mixture_logpdf(z, mean, var, x, alpha, infusion_var):
    """log[(1 - alpha) N(z; mean, var) + alpha N(z; x, infusion_var)], 0 < alpha < 1."""
    return np.logaddexp(
        np.log1p(-alpha) + normal_logpdf(z, mean, var),
        np.log(alpha) + normal_logpdf(z, x, infusion_var),
    )


def as_numpy(tensor: torch.Tensor) -> np.ndarray:
    return tensor.detach().double().cpu().numpy().copy()


@dataclass
class NumpyMLP:
    """The MLP operator of section 3.5: per hidden layer h <- relu(BN_t(W h)), one batch norm
    per step t (footnote 5); mean = sigmoid(head1), var = beta * sigmoid(head2) + eps.

    ``gamma``, ``shift``, ``population_mean``, ``population_var``: per layer, [steps x width].
    """

    weights: list[np.ndarray]
    gamma: list[np.ndarray]
    shift: list[np.ndarray]
    population_mean: list[np.ndarray]
    population_var: list[np.ndarray]
    mean_head: tuple[np.ndarray, np.ndarray]
    var_head: tuple[np.ndarray, np.ndarray]
    beta: float
    variance_eps: float
    bn_eps: float

    @classmethod
    def of(cls, model) -> NumpyMLP:
        op, s = model.operator, model.settings
        return cls(
            weights=[as_numpy(linear.weight) for linear in op.linears],
            gamma=[as_numpy(norm.weight) for norm in op.norms],
            shift=[as_numpy(norm.bias) for norm in op.norms],
            population_mean=[as_numpy(norm.population_mean) for norm in op.norms],
            population_var=[as_numpy(norm.population_var) for norm in op.norms],
            mean_head=(as_numpy(op.mean_head.weight), as_numpy(op.mean_head.bias)),
            var_head=(as_numpy(op.var_head.weight), as_numpy(op.var_head.bias)),
            beta=s.beta,
            variance_eps=s.variance_eps,
            bn_eps=s.bn_eps,
        )

    @property
    def steps(self) -> int:
        return self.gamma[0].shape[0]

    def __call__(self, z, step: int, population: bool = False, record=None):
        """(mean, var) of p^(step)(. | z), z [N x d]. Batch mode normalises by the batch's
        mean and biased variance; ``record[(step, layer)]`` collects pre-normalisation
        activations. Steps past T use step T's batch norm."""
        s = min(step, self.steps) - 1
        h = z
        for layer, weight in enumerate(self.weights):
            a = h @ weight.T
            if record is not None:
                record[(s + 1, layer)].append(a)
            if population:
                m, v = self.population_mean[layer][s], self.population_var[layer][s]
            else:
                m, v = a.mean(0), a.var(0)
            normalised = (a - m) / np.sqrt(v + self.bn_eps)
            h = np.maximum(normalised * self.gamma[layer][s] + self.shift[layer][s], 0.0)
        mean = sigmoid(h @ self.mean_head[0].T + self.mean_head[1])
        var = self.beta * sigmoid(h @ self.var_head[0].T + self.var_head[1]) + self.variance_eps
        return mean, var


def paper_rates(steps: int, alpha0: float, omega: float) -> list[float]:
    """alpha^(t) = alpha^(0) + t omega for the draws z~^(0..T-1), clipped to [0, 1]."""
    return [min(max(alpha0 + t * omega, 0.0), 1.0) for t in range(steps)]


def infusion_chain(mlp, prior_mean, prior_var, x, noises, masks, infusion_var, population):
    """q(z~ | x) with given noise: z~^(t) = x + sqrt(infusion_var) n_t where mask_t, else
    mean_t + sqrt(var_t) n_t, with (mean_0, var_0) the prior and (mean_t, var_t) =
    p^(t)(. | z~^(t-1)). Returns T + 1 triples (mean, var, z), z None at t = T."""
    steps = len(noises)
    mean, var = np.broadcast_to(prior_mean, x.shape), np.broadcast_to(prior_var, x.shape)
    out = []
    for t in range(steps):
        z = np.where(
            masks[t], x + np.sqrt(infusion_var) * noises[t], mean + np.sqrt(var) * noises[t]
        )
        out.append((mean, var, z))
        mean, var = mlp(z, t + 1, population)
    out.append((mean, var, None))
    return out


def log_weight(chain, x, rates, infusion_var):
    """Per row: sum_{t<T} [log p^(t)(z~t) - log q^(t)(z~t | x)] + log p^(T)(x | z~^(T-1)),
    pixel sums of eq. 3.3.3's terms (p^(0) the prior)."""
    total = np.zeros(len(x))
    for (mean, var, z), alpha in zip(chain[:-1], rates, strict=True):
        total += (
            normal_logpdf(z, mean, var) - mixture_logpdf(z, mean, var, x, alpha, infusion_var)
        ).sum(1)
    mean, var, _ = chain[-1]
    return total + normal_logpdf(x, mean, var).sum(1)


class NoiseFeeder:
    """While active, ``torch.randn`` and the chains' Bernoulli masks return draws from a
    numpy generator; ``normals`` and ``masks`` keep them, in order, as float64 / bool arrays.

    A mask is ``uniform < p`` with the p the package asks for; ``uniforms`` keeps the
    uniforms, so that a reference can make the masks of the rates it expects instead. The
    normals are rounded to the dtype asked for, and kept as rounded.
    """

    def __init__(self, seed: int):
        self.rng = np.random.default_rng(seed)
        self.normals: list[np.ndarray] = []
        self.masks: list[np.ndarray] = []
        self.uniforms: list[np.ndarray] = []
        self._stack = ExitStack()

    def randn(self, *shape, generator=None, device=None, dtype=None):
        if len(shape) == 1 and not isinstance(shape[0], int):
            shape = tuple(shape[0])
        draw = torch.from_numpy(self.rng.standard_normal(shape))
        draw = draw.to(dtype or torch.get_default_dtype())
        self.normals.append(as_numpy(draw))
        return draw

    def bernoulli(self, shape, p, generator=None, device="cpu"):
        uniform = self.rng.random(tuple(shape))
        mask = uniform < p
        self.uniforms.append(uniform)
        self.masks.append(mask)
        return torch.from_numpy(mask)

    def __enter__(self) -> NoiseFeeder:
        self._stack.enter_context(mock.patch.object(torch, "randn", self.randn))
        self._stack.enter_context(
            mock.patch.object(infusion_process, "bernoulli_mask", self.bernoulli)
        )
        return self

    def __exit__(self, *exc) -> None:
        self._stack.close()


def pooled_moments(record) -> dict:
    """Mean and biased variance of every (step, layer)'s recorded activations, pooled."""
    pooled = {}
    for key, parts in record.items():
        a = np.concatenate(parts)
        pooled[key] = (a.mean(0), a.var(0))
    return pooled


def new_record():
    return defaultdict(list)


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax of ``logits`` [N x K] in float64 (Inception's class probabilities)."""
    z = np.asarray(logits, dtype=np.float64)
    z = np.exp(z - z.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


def inception_score(probabilities: np.ndarray, splits: int = 10) -> tuple[float, float]:
    """Inception score of class probabilities ``probabilities`` [N x K] (rows sum to 1).

    The N rows are cut into ``splits`` consecutive, unshuffled chunks; chunk i holds rows
    ``i*N//splits`` to ``(i+1)*N//splits - 1`` (torch-fidelity's convention with
    ``samples_shuffle=False``). Each chunk scores exp(mean_x KL(p(y|x) || p(y))), with p(y) the
    chunk's mean row and 0 log 0 = 0. Returns the mean and the (population, ddof=0) standard
    deviation of the chunk scores, as Salimans et al.'s code and torch-fidelity report them.
    """
    from scipy.special import xlogy

    p = np.asarray(probabilities, dtype=np.float64)
    if p.ndim != 2:
        raise ValueError(f"probabilities must be [N x K], got shape {p.shape}")
    n = len(p)
    if not 1 <= splits <= n:
        raise ValueError(f"splits must lie in [1, N = {n}], got {splits}")
    if (p < 0).any() or not np.allclose(p.sum(axis=1), 1.0, atol=1e-6):
        raise ValueError("probabilities must be non-negative rows summing to 1")
    scores = []
    for i in range(splits):
        chunk = p[i * n // splits : (i + 1) * n // splits]
        marginal = chunk.mean(axis=0)
        kl = (xlogy(chunk, chunk) - xlogy(chunk, marginal)).sum(axis=1)  # 0 log 0 = 0
        scores.append(float(np.exp(kl.mean())))
    return float(np.mean(scores)), float(np.std(scores))
