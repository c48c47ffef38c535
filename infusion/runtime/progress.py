"""A job's progress in its log: time per unit, time elapsed and an estimate of the time
left, for logs that are not a terminal (tqdm is off under Snakemake)."""

from __future__ import annotations

import time
from collections.abc import Callable

from infusion.runtime.units import duration


class Progress:
    """A job of ``total`` equal units (epochs, repetitions, batches), ``done`` of them
    finished before it started (a resumed run). The time left is the mean time per unit
    finished here times the units left."""

    def __init__(
        self, total: int, unit: str, done: int = 0, clock: Callable[[], float] = time.perf_counter
    ):
        self.total, self.unit, self.first, self.clock = total, unit, done, clock
        self.start = clock()

    def report(self, done: int) -> str:
        """``0.4 s/epoch, 11 s elapsed, 1.2 s left`` after ``done`` of the units."""
        elapsed = self.clock() - self.start
        per_unit = elapsed / max(1, done - self.first)
        left = per_unit * max(0, self.total - done)
        return (
            f"{duration(per_unit)}/{self.unit}, {duration(elapsed)} elapsed, {duration(left)} left"
        )
