"""The kinds of infusion-rate schedule of a model's own infusion chain, by the name that
``ModelSettings.schedule`` gives (its choices are :data:`SCHEDULES`' keys).

A kind is one function here, from a model's settings to its rates alpha^(0..T-1) before
clipping to [0, 1] and before the rate indexing picks the rate that draws each z~^(t)
(:func:`infusion.process.proposals.model_rates` does both, for every kind), plus the
settings fields it reads (:class:`infusion.settings.ModelSettings`, with their defaults and
comments: the fields are the flags, the config keys and the schema's entries). Nothing else
names a kind: a new one is a function added to :data:`SCHEDULES` and its fields.

Free of torch and of the package's other modules, so that the settings can list the kinds.
"""

from __future__ import annotations


def first_rate(model) -> float:
    """A model's alpha^(0) under its ``first_rate``: its alpha0 (``alpha0``, the paper's
    grid) or omega (``growth``: run.py's released hyperparameters give ``infuse_rate``,
    alpha0, the value of ``infuse_rate_growth``, omega: 0.02 both)."""
    return model.omega if model.first_rate == "growth" else model.alpha0


def linear(model) -> list[float]:
    """The paper's: alpha^(t) = alpha^(0) + t omega (section 3.3.2's alpha^(t) = alpha^(t-1)
    + omega), alpha^(0) by :func:`first_rate`."""
    start = first_rate(model)
    return [start + t * model.omega for t in range(model.steps)]


# Each kind's name -> its function (settings -> alpha^(0..T-1), unclipped), the paper's first
SCHEDULES = {"linear": linear}
