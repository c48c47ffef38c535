"""Wall-clock timing of a call on a device (benchmarks and the cost estimate)."""

from __future__ import annotations

import time
from collections.abc import Callable

import torch


def seconds_per_call(fn: Callable[[], object], repeats: int, device: torch.device) -> float:
    """Seconds per call of ``fn``, after one warm-up call; waits for the GPU when timing one."""
    fn()
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - start) / repeats
