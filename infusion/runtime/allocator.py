"""Keep freed memory in the process, so that the chains' large temporaries reuse warm pages.

A chain step on a CPU allocates and frees a dozen tensors of [chains x pixels] (12.8 MB each
at 4,096 x 784). By default glibc serves such blocks from fresh ``mmap``s until its dynamic
threshold has grown past them, and trims the top of the heap back to the system whenever more
than twice that threshold is free, which a step's frees do every time: the next step's
blocks then page-fault and the kernel zeroes them again. On this project's 2-core test
machine that doubled the time of
:meth:`infusion.process.infusion_process.InfusionProcess.infuse` (72 -> 33 ms at 4,096 x 784);
with the sparse infusion mask it took evaluation passes (4,096 chains, 15 steps) from
5.7-7.0 s to 5.3-6.3 s. Fixing both thresholds keeps freed blocks up to 32 MB (glibc's
ceiling for the mmap threshold on 64-bit systems) in the heap.

The process keeps its peak heap instead of returning it, which is what a job that repeats
the same step for hours wants. Only glibc has ``mallopt``; elsewhere this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util

M_TRIM_THRESHOLD = -1  # mallopt parameters, from glibc's <malloc.h>
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD_BYTES = 32 * 2**20  # blocks up to this size come from the heap
TRIM_THRESHOLD_BYTES = 2**31 - 1  # free heap kept before trimming (the largest int)


def keep_freed_memory() -> bool:
    """Set glibc's mmap and trim thresholds as above; False where there is no glibc."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError, TypeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    kept = mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)
    return bool(kept and mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES))
