"""One judging rule for the paper's claims (:mod:`infusion.paper.claims`) and the verdicts
on its numbers (:mod:`infusion.paper.verdicts`): a number with its noise, and a comparison
decided only beyond that noise.

A :class:`Measured` number is a centre (the seed mean with two or more training seeds, the
one run's value otherwise) and its noise: the std over training seeds (ddof 1) and the
estimate's own error (Table 3.1's std over repetitions, Fig 3.4's standard error, Table
3.2's std over splits), in quadrature. A number of a trained model has a known noise only
with two or more seeds: one run says nothing of how far another seed would land, whatever
its estimate's error. A number of no training (a published number with its error, a score
of real images) has its error alone.

A comparison of ``a`` against ``b`` with ``stds`` (config ``verdicts.stds``):

- **holds** when ``a - b`` lies beyond ``+stds`` times their noises in quadrature;
- **fails** when it lies beyond ``-stds`` times them;
- **undecided** between, or when either noise is unknown.

Equivalence ("similar", :func:`equivalent`) is two one-sided tests against a margin fixed
before the run: holds when ``|a - b| + stds x noise < margin``, fails when
``|a - b| - stds x noise > margin``, undecided between. An absence of a difference is never
read as a similarity.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

HOLDS, FAILS, UNDECIDED, NOT_RUN = "holds", "fails", "undecided", "not run"
VERDICTS = (HOLDS, FAILS, UNDECIDED, NOT_RUN)


def _known(value) -> bool:
    return value is not None and not pd.isna(value)


@dataclass(frozen=True)
class Measured:
    """A number as a verdict compares it: ``centre``, the std over ``seeds`` training seeds
    (``seed_std``, NaN with fewer than two), the estimate's ``error`` (NaN where its table
    carries none) and whether it is a trained model's (``trained``: its noise needs two or
    more seeds)."""

    centre: float
    seeds: int = 1
    seed_std: float = math.nan
    error: float = math.nan
    trained: bool = True

    @property
    def noise(self) -> float:
        """The seed std and the error in quadrature (a missing error counts 0); NaN where
        the noise is unknown (a trained model's number from fewer than two seeds)."""
        several = self.seeds >= 2 and _known(self.seed_std)
        if self.trained and not several:
            return math.nan
        spread = self.seed_std if several else 0.0
        return math.hypot(spread, self.error if _known(self.error) else 0.0)

    @property
    def source(self) -> str:
        """What the noise is made of, in words ("seed std over 2 seeds", "...")."""
        parts = []
        if self.trained:
            if self.seeds < 2 or not _known(self.seed_std):
                return "one training seed: spread unknown"
            parts.append(f"seed std over {self.seeds} seeds")
        if _known(self.error):
            parts.append("estimate error")
        return " and ".join(parts) or "none"


def measured(seeds, seed_mean, value, seed_std=math.nan, error=math.nan) -> Measured:
    """A trained model's number from a table's seed columns: the seed mean with two or more
    seeds, ``value`` (the first seed's) otherwise."""
    count = int(seeds) if _known(seeds) else 1
    several = count >= 2
    return Measured(
        centre=float(seed_mean if several else value),
        seeds=count,
        seed_std=float(seed_std) if several and _known(seed_std) else math.nan,
        error=float(error) if _known(error) else math.nan,
    )


def published(value, error=math.nan) -> Measured:
    """A number no training of ours made (the paper's, a baseline's, a real-data score)."""
    return Measured(centre=float(value), error=float(error), trained=False)


def noise(a: Measured, b: Measured) -> float:
    """The noises of ``a`` and ``b`` in quadrature (NaN if either is unknown)."""
    return math.hypot(a.noise, b.noise)


def exceeds(a: Measured, b: Measured, stds: float, margin: float = 0.0) -> str:
    """Whether ``a`` exceeds ``b`` by more than ``margin``: holds, fails or undecided, as
    the module doc defines them."""
    if math.isnan(a.centre) or math.isnan(b.centre):
        return NOT_RUN
    tolerance = stds * noise(a, b)
    if math.isnan(tolerance):
        return UNDECIDED
    difference = a.centre - b.centre - margin
    if difference > tolerance:
        return HOLDS
    if difference < -tolerance:
        return FAILS
    return UNDECIDED


def equivalent(a: Measured, b: Measured, margin: float, stds: float) -> str:
    """Whether ``a`` and ``b`` are within ``margin`` of each other (two one-sided tests)."""
    if math.isnan(a.centre) or math.isnan(b.centre):
        return NOT_RUN
    tolerance = stds * noise(a, b)
    if math.isnan(tolerance):
        return UNDECIDED
    distance = abs(a.centre - b.centre)
    if distance + tolerance < margin:
        return HOLDS
    if distance - tolerance > margin:
        return FAILS
    return UNDECIDED


def both(*verdicts: str) -> str:
    """A conjunction: fails if any part fails, holds if every part holds, else undecided
    (not run if any part is)."""
    if FAILS in verdicts:
        return FAILS
    if NOT_RUN in verdicts:
        return NOT_RUN
    return HOLDS if all(v == HOLDS for v in verdicts) else UNDECIDED


def every(verdicts: Iterable[str]) -> str:
    """A claim over every case: fails if one fails, holds if all hold, else undecided; not
    run without a case."""
    verdicts = [v for v in verdicts if v != NOT_RUN]
    if not verdicts:
        return NOT_RUN
    if FAILS in verdicts:
        return FAILS
    return HOLDS if all(v == HOLDS for v in verdicts) else UNDECIDED


def some(verdicts: Iterable[str]) -> str:
    """A claim that some case shows: holds if one holds, fails if all fail, else undecided;
    not run without a case."""
    verdicts = [v for v in verdicts if v != NOT_RUN]
    if not verdicts:
        return NOT_RUN
    if HOLDS in verdicts:
        return HOLDS
    return FAILS if all(v == FAILS for v in verdicts) else UNDECIDED


def sources(*numbers: Measured) -> str:
    """The noises a verdict was decided against, each once, in words."""
    return "; ".join(dict.fromkeys(n.source for n in numbers))
