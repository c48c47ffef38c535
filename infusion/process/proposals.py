"""Infusion-rate schedules, and the proposal q(z~ | x) that scores a model.

A model's lower bound and IS estimate (footnote 4) weigh chains drawn from an infusion
chain q; the model p (prior and transition operator) is the same whatever q is. The paper
scores a model with its own training chain, but any q whose rates lie in [0, 1] gives a
valid bound (each q^(t) is a mixture with weight 1 - alpha on p^(t) and alpha on N(x,
infusion_var), so it covers p's support, also at alpha = 1) and an unbiased IS estimate of
p(x). A :class:`Proposal` names such a q by its rates; its ``name`` is how it is spelled in
configs, on the command line and in every output that holds an estimate.

Torch-free, so that the study config can check a proposal before any work.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from infusion.schedules import SCHEDULES, first_rate
from infusion.settings import OWN, ModelSettings

# Which alpha^(t) draws z~^(t), by rate indexing (keys are settings.RATE_INDEXINGS): paper
# alpha^(t); code alpha^(max(t - 1, 0)) (the authors' run.py draws each step before adding
# omega)
INDEX_SHIFTS = {"paper": 0, "code": 1}
_NUMBER = r"(\d+(?:\.\d*)?|\.\d+)"
_NAME = re.compile(rf"(?:(own)|(paper|code)-a{_NUMBER}-w{_NUMBER})(?:-x{_NUMBER})?")
FORMS = "own, own-x<scale>, paper-a<alpha0>-w<omega> or code-a<alpha0>-w<omega>[-x<scale>]"


def indexed(alphas: list[float], rate_index: str) -> list[float]:
    """The rates of the T infused draws z~^(0..T-1) from a schedule's alpha^(0..T-1) under a
    rate indexing, clipped to [0, 1] (footnote 2): ``paper`` draws z~^(t) at alpha^(t)
    (section 3.3.2); ``code`` draws z~^(0) and z~^(1) at alpha^(0) and z~^(t) at
    alpha^(t-1) after."""
    shift = INDEX_SHIFTS[rate_index]
    return [min(max(alphas[max(t - shift, 0)], 0.0), 1.0) for t in range(len(alphas))]


def schedule_rates(steps: int, alpha0: float, omega: float, rate_index: str) -> list[float]:
    """The rates of the T infused draws of the linear schedule alpha0 + t * omega under a
    rate indexing (:func:`indexed`)."""
    return indexed([alpha0 + t * omega for t in range(steps)], rate_index)


def model_rates(model: ModelSettings) -> list[float]:
    """The rates of the T infused draws z~^(0..T-1) of a model's own infusion process, the
    one it was trained with: its schedule's kind (:data:`infusion.schedules.SCHEDULES`, from
    its steps, rates and the kind's own fields) under its rate indexing (:func:`indexed`)."""
    return indexed(SCHEDULES[model.schedule](model), model.rate_index)


def spelled(value: float) -> str:
    """A number as a proposal's name spells it: shortest round-trip, positional (0.1, 0, 1e-05
    as 0.00001), so that the name has no sign and parses back to the same float."""
    return np.format_float_positional(float(value), trim="-")


@dataclass(frozen=True)
class Proposal:
    """The infusion chain q that scores a model: its rates, the model's own or a schedule's,
    each times ``scale``.

    ``rate_index``: :data:`OWN` (the model's own rates, :func:`model_rates`) or a rate
    indexing (``paper``, ``code``) of the schedule ``alpha0 + t * omega`` (clipped to [0, 1]
    as footnote 2 clips the model's own).
    """

    rate_index: str = OWN
    alpha0: float = 0.0
    omega: float = 0.0
    scale: float = 1.0

    def __post_init__(self):
        if self.rate_index != OWN and self.rate_index not in INDEX_SHIFTS:
            raise ValueError(f"rate index must be {OWN} or one of {tuple(INDEX_SHIFTS)}")
        if self.rate_index == OWN and (self.alpha0, self.omega) != (0.0, 0.0):
            raise ValueError(f"{OWN} takes the model's alpha0 and omega, not its own")
        for key in ("alpha0", "omega"):
            if not 0.0 <= getattr(self, key) <= 1.0:
                raise ValueError(f"{key} {getattr(self, key):g} leaves [0, 1]")
        if self.scale < 0.0:
            raise ValueError(f"scale {self.scale:g} is negative")

    @property
    def name(self) -> str:
        """own, own-x0.5, paper-a0-w0.1, code-a0.01-w0.1-x2 (:func:`parse_proposal` reads it)."""
        base = OWN
        if self.rate_index != OWN:
            base = f"{self.rate_index}-a{spelled(self.alpha0)}-w{spelled(self.omega)}"
        return base if self.scale == 1.0 else f"{base}-x{spelled(self.scale)}"

    def rates(self, model: ModelSettings, key: str = "--proposal") -> list[float]:
        """q's rates of the draws z~^(0..T-1) for a model of these settings (its steps T, and
        its schedule when the proposal is the model's own); ``ValueError`` naming ``key`` (the
        flag or config key the proposal came from) when a scaled rate passes 1."""
        if self.rate_index == OWN:
            base = model_rates(model)
        else:
            base = schedule_rates(model.steps, self.alpha0, self.omega, self.rate_index)
        rates = base if self.scale == 1.0 else [self.scale * rate for rate in base]
        for t, rate in enumerate(rates):
            if rate > 1.0:
                raise ValueError(
                    f"{key}: proposal {self.name!r}: rate {rate:g} of z~({t}) leaves [0, 1]"
                    f" for a model of {model.steps} steps, alpha0 {model.alpha0:g}, omega"
                    f" {model.omega:g}, schedule {model.schedule}, first_rate"
                    f" {model.first_rate} and rate_index {model.rate_index}"
                )
        return rates


def own_schedule(model: ModelSettings) -> Proposal:
    """The model's own training chain as a schedule that scores any model: its rate indexing,
    first rate (:func:`first_rate`) and omega (``paper-a0-w0.1``); its rates are those of
    :data:`OWN` for this model, and under it another model is scored by this model's chain.
    ``ValueError`` for a model of another kind than the linear schedule, which no such name
    spells."""
    if model.schedule != "linear":
        raise ValueError(
            f"a model of schedule {model.schedule!r} has no proposal name; the named schedules"
            " (paper|code-a<alpha0>-w<omega>) are linear"
        )
    return Proposal(model.rate_index, first_rate(model), model.omega)


def parse_proposal(text: str, key: str = "--proposal") -> Proposal:
    """The :class:`Proposal` that ``text`` names (its forms: :data:`FORMS`); ``ValueError``
    naming ``key`` (the flag or config key it came from) when it names none."""
    match = _NAME.fullmatch(str(text))
    if match is None:
        raise ValueError(f"{key}: {text!r} names no proposal; expected {FORMS}")
    own, index, alpha0, omega, scale = match.groups()
    try:
        if own:
            return Proposal(scale=float(scale or 1.0))
        return Proposal(index, float(alpha0), float(omega), float(scale or 1.0))
    except ValueError as error:
        raise ValueError(f"{key}: proposal {text!r}: {error}") from None
