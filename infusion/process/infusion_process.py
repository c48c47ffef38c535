"""The infusion process as one object (paper sections 3.3.2-3.3.4 and footnote 4).

:class:`InfusionProcess` holds, side by side, all that the paper defines on a model p (its
factorial Gaussian prior p^(0) and transition operator p^(t),
:class:`~infusion.nets.model.InfusionModel`, passed in to every method):

- its schedule: the rates of the T infused draws z~^(0..T-1), computed once from the model's
  settings under either rate indexing, or from any proposal q
  (:mod:`infusion.process.proposals`);
- the infusion draw q^(t) (:meth:`~InfusionProcess.infuse`), the infusion chain q(z~ | x)
  (:meth:`~InfusionProcess.walk`) and the model's sampling chain
  (:meth:`~InfusionProcess.sample`);
- the per-chain log weight l = log p(z~, x) - log q(z~ | x)
  (:meth:`~InfusionProcess.log_weights`; k chains an example:
  :meth:`~InfusionProcess.draw_log_weights`);
- the lower bound and the IS estimate from k chains (:func:`lower_bound_and_importance`);
- the chain terms of the training objectives (:meth:`~InfusionProcess.objective`).

The caller sets the network's batch-norm mode (:func:`infusion.nets.networks.set_batch_norm_mode`):
minibatch statistics while training, the population's for test numbers and samples. No
training loop and no I/O here. Indexing follows the paper: z^(0) is drawn from the prior (or
q^(0)), step t = 1..T applies the operator p^(t) to z^(t-1).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch

from infusion.nets.model import InfusionModel
from infusion.process.densities import gaussian_log_density, infusion_log_ratio_sum
from infusion.process.draws import bernoulli_mask
from infusion.process.proposals import Proposal
from infusion.settings import OBJECTIVES, ModelSettings


@dataclass
class ChainStep:
    """One step of an infusion chain.

    ``mean``, ``var``: the model's p^(t) for this step ([d] for the prior at t = 0, else
    [N x d]); ``z``: z~^(t) drawn from q^(t) ([N x d]; None at t = T, where the chain ends
    on the target); ``infused``: mask of the pixels of z taken from the target; ``alpha``:
    the infusion rate of the draw.
    """

    t: int
    mean: torch.Tensor
    var: torch.Tensor
    z: torch.Tensor | None
    infused: torch.Tensor | None
    alpha: float


@dataclass
class LogWeights:
    """Per-chain parts of l = log p(z~, x) - log q(z~ | x), each [N] (or [N x k]).

    ``chain``: log p^(0)(z~0) - log q^(0)(z~0 | x) + sum_{t<T} [log p^(t) - log q^(t)];
    ``output``: log p^(T)(x | z~^(T-1)); ``output_sse``: ||x - mean^(T)||^2, which with
    ``chain`` gives l for any isotropic output variance (Table 3.1's isotropic rows).
    """

    chain: torch.Tensor
    output: torch.Tensor
    output_sse: torch.Tensor
    dim: int

    @property
    def total(self) -> torch.Tensor:
        return self.chain + self.output

    def isotropic_total(self, var: float) -> torch.Tensor:
        """l with the output replaced by N(x; mean^(T), var * I)."""
        return (
            self.chain - 0.5 * self.dim * math.log(2 * math.pi * var) - self.output_sse / (2 * var)
        )


def lower_bound_and_importance(log_w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """log_w: [N x k] -> (lower bound [N], importance-sampling estimate [N]), in nats:
    mean(l) and logsumexp(l) - log k over an example's k chains (footnote 4)."""
    k = log_w.shape[1]
    return log_w.mean(1), torch.logsumexp(log_w, 1) - math.log(k)


def isotropic_variance(weights: LogWeights) -> float:
    """The single output variance that maximises the lower bound of ``weights``' examples.

    The isotropic lower bound is mean[chain - d/2 log(2 pi v) - sse / (2v)], maximised in
    closed form at v = mean(sse) / d: the mean squared error of the last step's mean.
    """
    return float(weights.output_sse.double().mean() / weights.dim)


@dataclass(frozen=True)
class InfusionProcess:
    """The infusion chain q(z~ | x) of one schedule, with what is computed on it.

    ``rates``: q's rates of the T infused draws z~^(0..T-1); ``infusion_var``: the variance
    of the infusion component N(x, infusion_var) (the paper's "delta"); ``channels``: how
    many channels share each draw of the infusion mask (the image's C under ``channel_mask:
    pixel``, one draw a pixel; else 1, one an element); ``variance_eps``: the eps of the
    operator's variance head, which :meth:`sample`'s ``sampling_eps`` replaces.
    """

    rates: tuple[float, ...]
    infusion_var: float
    channels: int = 1
    variance_eps: float = 0.0

    @classmethod
    def of(
        cls,
        settings: ModelSettings,
        shape: tuple[int, int, int],
        proposal: Proposal | None = None,
        key: str = "--proposal",
    ) -> InfusionProcess:
        """The process of a model of ``settings`` on images of ``shape`` [C x H x W]: its own
        training chain, or the chain of ``proposal`` (its rates at the model's T steps;
        ``ValueError`` naming ``key``, the flag or config key it came from, when a rate
        leaves [0, 1]). log p is the model's either way."""
        rates = (proposal or Proposal()).rates(settings, key)
        channels = shape[0] if settings.channel_mask == "pixel" else 1
        return cls(tuple(rates), settings.infusion_var, channels, settings.variance_eps)

    @property
    def steps(self) -> int:
        """T, the number of the operator's steps."""
        return len(self.rates)

    # --- drawing ----------------------------------------------------------------------

    def infuse(
        self,
        mean: torch.Tensor,
        var: torch.Tensor,
        x: torch.Tensor,
        alpha: float,
        generator: torch.Generator,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Draw z ~ (1 - alpha) N(mean, var) + alpha N(x, infusion_var), per pixel.

        Returns the draw [... x d] and the boolean mask of elements taken from the target x.
        The mask has one Bernoulli(alpha) draw per element (``channels`` = 1) or, rows of x
        being images [C x H x W] flattened, one per pixel shared by its C channels. Both
        components are written as location + scale * noise, so gradients reach ``mean`` and
        ``var`` (reparameterisation) when they require them.
        """
        noise = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
        if self.channels == 1:
            infused = bernoulli_mask(x.shape, alpha, generator, x.device)
        else:  # [... x 1 x H*W] drawn, the same for each channel
            *rows, d = x.shape
            pixels = bernoulli_mask((*rows, 1, d // self.channels), alpha, generator, x.device)
            infused = pixels.expand(*rows, self.channels, d // self.channels).reshape(x.shape)
        z = torch.where(
            infused,
            torch.add(x, noise, alpha=self.infusion_var**0.5),
            torch.addcmul(mean, var.sqrt(), noise),
        )
        return z, infused

    def walk(
        self,
        model: InfusionModel,
        x: torch.Tensor,
        generator: torch.Generator,
        reparameterize: bool = False,
    ) -> Iterator[ChainStep]:
        """Run q(z~^(0), ..., z~^(T-1) | x) for a batch of targets x [N x d], step by step.

        Yields T + 1 :class:`ChainStep`: t = 0 (the prior and z~^(0)), then t = 1..T, each
        with the operator's output on z~^(t-1). Draws are detached from the graph unless
        ``reparameterize`` (lower-bound training, section 3.3.4.1).
        """
        mean, var = model.prior_mean, model.prior_var
        z, infused = self.infuse(mean, var, x, self.rates[0], generator)
        yield ChainStep(0, mean, var, z, infused, self.rates[0])
        for t in range(1, self.steps + 1):
            mean, var = model.operator(z, t)
            if t < self.steps:
                z, infused = self.infuse(mean, var, x, self.rates[t], generator)
                if not reparameterize:
                    z = z.detach()
                yield ChainStep(t, mean, var, z, infused, self.rates[t])
            else:
                yield ChainStep(t, mean, var, None, None, 0.0)

    def chain_states(
        self, model: InfusionModel, x: torch.Tensor, generator: torch.Generator
    ) -> torch.Tensor:
        """The chain as pictures: [T + 1 x N x d], rows z~^(0..T-1) and the last step's
        mean (Fig 3.2)."""
        with torch.no_grad():
            states = [s.z if s.z is not None else s.mean for s in self.walk(model, x, generator)]
        return torch.stack(states)

    def sample(
        self,
        model: InfusionModel,
        n: int,
        steps: int,
        generator: torch.Generator,
        sampling_eps: float | None = None,
        clamp_mask: torch.Tensor | None = None,
        clamp_values: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Draw n chains z^(0) ~ p^(0), z^(t) ~ p^(t)(. | z^(t-1)) for t = 1..steps.

        ``steps`` may exceed the training T (the paper samples MNIST with 30 steps for a
        15-step model); later steps reuse the last step's batch norm. ``sampling_eps``
        replaces the variance head's eps while sampling (1e-5 in the authors' code).
        ``clamp_mask`` ([d] bool) with ``clamp_values`` ([n x d]) holds those pixels fixed at
        every step (inpainting).

        Returns the draws [steps + 1 x n x d] and the step means [steps x n x d].
        """
        device = model.prior_mean.device
        shape = (n, model.dim)
        draws, means = [], []

        def clamp(z):
            return z if clamp_mask is None else torch.where(clamp_mask, clamp_values, z)

        with torch.no_grad():
            noise = torch.randn(shape, generator=generator, device=device)
            z = clamp(model.prior_mean + model.prior_var.sqrt() * noise)
            draws.append(z)
            for t in range(1, steps + 1):
                mean, var = model.operator(z, t)
                if sampling_eps is not None:
                    var = var - self.variance_eps + sampling_eps
                noise = torch.randn(shape, generator=generator, device=device)
                z = clamp(mean + var.sqrt() * noise)
                draws.append(z)
                means.append(clamp(mean))
        return torch.stack(draws), torch.stack(means)

    # --- scoring ----------------------------------------------------------------------

    def log_weights(
        self,
        model: InfusionModel,
        x: torch.Tensor,
        generator: torch.Generator,
        reparameterize: bool = False,
    ) -> LogWeights:
        """Draw one chain per row of x [N x d] and score it (eq. 3.3.3, footnote 4): q's
        draws and log q, the model's log p. log q is a mixture per element, or per pixel when
        the mask is shared by a pixel's channels."""
        chain = x.new_zeros(x.shape[0])
        for s in self.walk(model, x, generator, reparameterize):
            if s.z is not None:
                chain = chain + infusion_log_ratio_sum(
                    s.z, s.mean, s.var, x, s.alpha, self.infusion_var, self.channels
                )
            else:
                output = gaussian_log_density(x, s.mean, s.var).sum(-1)
                output_sse = ((x - s.mean) ** 2).sum(-1)
        return LogWeights(chain, output, output_sse, x.shape[1])

    def draw_log_weights(
        self,
        model: InfusionModel,
        x: torch.Tensor,
        chains: int,
        generator: torch.Generator,
        chain_batch: int,
    ) -> LogWeights:
        """Score ``chains`` chains for every row of x [N x d]; fields become [N x k].

        Examples and chains are batched together, at most ``chain_batch`` chains per forward
        pass: several examples per pass when k is small, one example over several passes
        when k is large. The model must normalise by its population statistics (the
        caller's to set), so that a pass's composition does not change any chain's value.
        """
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
                    w = self.log_weights(model, group.repeat_interleave(kc, 0), generator)
                    parts.append(
                        torch.stack([w.chain, w.output, w.output_sse]).view(3, group.shape[0], kc)
                    )
                rows.append(torch.cat(parts, 2))  # [3 x b x k]
        chain, output, sse = torch.cat(rows, 1)  # each [N x k]
        return LogWeights(chain, output, sse, x.shape[1])

    # --- training ---------------------------------------------------------------------

    def denoising_loss(
        self, model: InfusionModel, x: torch.Tensor, generator: torch.Generator
    ) -> torch.Tensor:
        """Negative of sum_t (t / T) log p^(t)(x | z~^(t-1)), averaged over the batch x.

        Denoising-based infusion training (section 3.3.3.2); the weights t / T are footnote
        3's increasing learning-rate schedule, applied as loss weights as in the authors'
        code. The chain draws carry no gradient.
        """
        total = x.new_zeros(())
        for s in self.walk(model, x, generator):
            if s.t > 0:
                log_p = gaussian_log_density(x, s.mean, s.var).sum(-1).mean()
                total = total + (s.t / self.steps) * log_p
        return -total

    def lower_bound_loss(
        self, model: InfusionModel, x: torch.Tensor, generator: torch.Generator
    ) -> torch.Tensor:
        """Negative stochastic lower bound, reparameterised through the chain (section
        3.3.4.1). The choice of infused pixels is a discrete draw and passes no gradient;
        the Gaussian draws do. Unlike denoising training, no per-step weights."""
        return -self.log_weights(model, x, generator, reparameterize=True).total.mean()

    def objective(
        self, name: str
    ) -> Callable[[InfusionModel, torch.Tensor, torch.Generator], torch.Tensor]:
        """The loss of the training objective ``name`` (:data:`infusion.settings.OBJECTIVES`:
        denoising, lower_bound) on this process."""
        losses = (self.denoising_loss, self.lower_bound_loss)
        return dict(zip(OBJECTIVES, losses, strict=True))[name]
