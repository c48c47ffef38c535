"""Keeping freed memory: a chain step's large temporaries stop page-faulting."""

import subprocess
import sys

import pytest

from infusion.runtime.allocator import keep_freed_memory

# A chain step's pattern through glibc's malloc (which PyTorch's CPU tensors use): six
# blocks of a [4,096 x 784] float32 tensor (12.8 MB) allocated, written and freed, 20 times;
# prints the minor page faults of the 20 steps. Plain malloc, so that no small allocation
# of the interpreter's lands between the blocks and decides whether the heap can shrink.
STEPS = """
import ctypes, ctypes.util, resource, sys
from infusion.runtime.allocator import keep_freed_memory
libc = ctypes.CDLL(ctypes.util.find_library("c"))
libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
libc.memset.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t]
if sys.argv[1] == "keep":
    assert keep_freed_memory()
size = 4096 * 784 * 4
def step():
    blocks = [libc.malloc(size) for _ in range(6)]
    for block in blocks:
        libc.memset(block, 1, size)
    for block in blocks:
        libc.free(block)
step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):
    step()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""
PAGES_WRITTEN = 20 * 6 * 4096 * 784 * 4 // 4096


def page_faults(mode: str) -> int:
    run = subprocess.run(
        [sys.executable, "-c", STEPS, mode], capture_output=True, text=True, check=True
    )
    return int(run.stdout)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_kept_memory_stops_a_steps_page_faults():
    """By default glibc returns the freed blocks to the system and every page faults again
    in the next step (375,698 faults of 376,320 pages here); kept, the steps reuse them."""
    assert page_faults("default") > PAGES_WRITTEN // 2
    assert page_faults("keep") < PAGES_WRITTEN // 100


def test_keep_freed_memory_reports_whether_it_could():
    assert keep_freed_memory() is sys.platform.startswith("linux")
