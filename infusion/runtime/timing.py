"""Timing of a call on a device (benchmarks and the cost estimate): wall clock, or on a CPU
the calling thread's CPU time, which other jobs on the machine do not move."""

from __future__ import annotations

import contextlib
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch


def round_seconds(
    fn: Callable[[], object],
    repeats: int,
    device: torch.device,
    rounds: int = 1,
    clock: Callable[[], float] = time.perf_counter,
) -> list[float]:
    """Seconds per call of each of ``rounds`` rounds of ``repeats`` calls of ``fn``, waiting
    for the GPU at the end of each round."""
    seconds = []
    for _ in range(rounds):
        start = clock()
        for _ in range(repeats):
            fn()
        if device.type == "cuda":
            torch.cuda.synchronize()
        seconds.append((clock() - start) / repeats)
    return seconds


def seconds_per_call(
    fn: Callable[[], object],
    repeats: int,
    device: torch.device,
    rounds: int = 1,
    warm_up: bool = True,
) -> float:
    """Seconds per call of ``fn``, after one warm-up call (unless not ``warm_up``): ``rounds``
    rounds of ``repeats`` calls each, the fastest round counted (on a machine shared with
    other jobs the slower rounds measure the others)."""
    if warm_up:
        round_seconds(fn, 1, device)
    return min(round_seconds(fn, repeats, device, rounds))


@dataclass(frozen=True)
class Timing:
    """Seconds per call: the fastest and the median of ``rounds`` timed calls."""

    best: float
    median: float
    rounds: int


def timed_calls(
    fn: Callable[[], object],
    device: torch.device,
    budget_s: float,
    min_rounds: int = 3,
    max_rounds: int = 9,
    clock: Callable[[], float] = time.perf_counter,
) -> Timing:
    """One warm-up call of ``fn``, then as many single timed calls as fit in about
    ``budget_s`` seconds at the warm-up's pace, at least ``min_rounds`` and at most
    ``max_rounds``: the fastest of them is the call's time on an idle device, the median
    says how far the load of other jobs moved the rest."""
    (warm,) = round_seconds(fn, 1, device, clock=clock)
    rounds = max(min_rounds, min(max_rounds, int(budget_s / max(warm, 1e-9))))
    seconds = round_seconds(fn, 1, device, rounds, clock)
    return Timing(min(seconds), statistics.median(seconds), rounds)


@contextlib.contextmanager
def load_independent_clock(device: torch.device) -> Iterator[Callable[[], float]]:
    """The clock a timing on ``device`` reads. On a CPU: torch runs on one thread meanwhile
    and the clock is that thread's CPU time (``time.thread_time``), so jobs running beside
    the timing, which take the wall clock's seconds, do not move it; what is timed is then
    one core's seconds. On a GPU: the wall clock (the calls wait for the device)."""
    if device.type != "cpu":
        yield time.perf_counter
        return
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield time.thread_time
    finally:
        torch.set_num_threads(threads)
