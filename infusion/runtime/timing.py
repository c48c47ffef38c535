"""Wall-clock timing of a call on a device (benchmarks and the cost estimate)."""

from __future__ import annotations

import time
from collections.abc import Callable

import torch


def seconds_per_call(
    fn: Callable[[], object],
    repeats: int,
    device: torch.device,
    rounds: int = 1,
    warm_up: bool = True,
) -> float:
    """Seconds per call of ``fn``, after one warm-up call (unless not ``warm_up``): ``rounds``
    rounds of ``repeats`` calls each, the fastest round counted (on a machine shared with
    other jobs the slower rounds measure the others). Waits for the GPU at the end of each
    round."""

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize()

    if warm_up:
        fn()
    sync()
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(repeats):
            fn()
        sync()
        best = min(best, time.perf_counter() - start)
    return best / repeats
