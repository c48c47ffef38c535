"""One GPU per job: an allocator of device slots backed by lock files.

Snakemake's ``gpu`` resource only counts jobs; it does not say which device a job should use,
so without this every concurrent job would run on GPU 0. A slot is ``(device, k)`` for
``k`` in ``range(jobs_per_gpu)``; a job takes the first free slot, sets
``CUDA_VISIBLE_DEVICES`` to that device before anything initialises CUDA, logs
``using GPU <id> (slot k)`` and frees the slot when it ends::

    with gpu_slot(jobs_per_gpu=1) as slot:  # Slot(device="1", index=0), or None
        ...  # torch now sees one device, cuda:0, which is physical GPU 1

Slots are taken in the order (device 0, k=0), (device 1, k=0), ..., (device 0, k=1), ..., so
jobs spread over the devices before any device gets a second job.

Locking: each slot is a file ``<host>-gpu<id>-slot<k>.lock`` in the lock folder, held with
``fcntl.flock(LOCK_EX | LOCK_NB)``, with the holder's PID written inside for people to read.
flock rather than ``O_CREAT | O_EXCL`` files because the kernel drops the lock whenever the
holder's file is closed, including when the process exits in any way (normal exit, an
exception, SIGTERM's default action, SIGKILL, a crash): a slot whose holder is gone is free
at once, with no PID liveness check (``os.kill(pid, 0)``), which would race between two jobs
reclaiming the same stale file and could be fooled by a reused PID. Lock files are never
deleted (deleting a flock'ed file lets two processes lock two different inodes of one path);
a leftover file holding a dead PID is simply a free slot. The descriptor is not inherited by
programs started with exec, but forked children (e.g. data-loader workers) share it, so the
slot stays taken until they have exited too, as it should while they may use the GPU. The
host name in the file name keeps jobs on different machines apart when ``results/`` is on a
shared file system.

Devices, in order of precedence:

- ``CUDA_VISIBLE_DEVICES`` already set (SLURM sets it for jobs given ``--gpus``, and a user
  may set it by hand): the scheduler or user has chosen; nothing is locked or changed.
- ``INFUSION_GPU_IDS`` (comma-separated ids, e.g. ``0,1`` or GPU UUIDs): the devices this
  allocator may hand out; used to restrict a run to some GPUs, and by the tests to simulate
  devices. Empty: no GPU.
- ``nvidia-smi -L``: its ``GPU i: ...`` lines give the count, ids ``0 .. n-1``. It runs in a
  separate process, so it cannot initialise CUDA here; setting ``CUDA_VISIBLE_DEVICES`` is
  only honoured if done before this process initialises the CUDA driver. (nvidia-smi lists
  devices in PCI order and CUDA by default fastest first, but only the count is used: each job
  gets a distinct ordinal, hence a distinct device, whichever order CUDA uses.)
- otherwise ``torch.cuda.device_count()``. Torch (every version this project allows, >= 2.4)
  answers from NVML when it can, without initialising CUDA; where NVML is missing it asks the
  CUDA runtime, which initialises the driver, after which ``CUDA_VISIBLE_DEVICES`` may be
  ignored by this process. A warning says so when that path finds GPUs; set
  ``INFUSION_GPU_IDS`` to avoid it. On a machine without GPUs it returns 0, and the allocator
  does nothing and yields None.

The lock folder is ``results/.gpu_slots`` (relative to the working directory, i.e. the
workflow's), or ``INFUSION_GPU_LOCK_DIR``, or the ``lock_dir`` argument.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

DEFAULT_LOCK_DIR = "results/.gpu_slots"
IDS_VARIABLE = "INFUSION_GPU_IDS"
LOCK_DIR_VARIABLE = "INFUSION_GPU_LOCK_DIR"
DEFAULT_TIMEOUT = 3600.0  # seconds a job waits for a free slot before it fails


@dataclass(frozen=True)
class Slot:
    device: str  # the id put in CUDA_VISIBLE_DEVICES
    index: int  # k in range(jobs_per_gpu)


class GpuSlotTimeout(TimeoutError):
    """Every slot stayed busy for the whole timeout."""


def device_ids() -> list[str]:
    """The device ids slots are made of (see the module docstring for the order of sources)."""
    listed = os.environ.get(IDS_VARIABLE)
    if listed is not None:
        ids = [item.strip() for item in listed.split(",") if item.strip()]
        for item in ids:
            if not re.fullmatch(r"[A-Za-z0-9_:-]+", item):
                raise ValueError(f"{IDS_VARIABLE}: {item!r} is not a device id")
        return ids
    smi = shutil.which("nvidia-smi")
    if smi:
        try:
            listing = subprocess.run(
                [smi, "-L"], capture_output=True, text=True, timeout=60, check=True
            ).stdout
            count = sum(line.startswith("GPU ") for line in listing.splitlines())
            return [str(i) for i in range(count)]
        except (OSError, subprocess.SubprocessError):
            pass  # no driver, or a broken one: ask torch
    import torch

    count = torch.cuda.device_count()
    if count:
        log.warning(
            "counted %d GPUs through torch (no usable nvidia-smi): if that initialised CUDA, "
            "the device chosen below may be ignored; set %s to avoid this",
            count,
            IDS_VARIABLE,
        )
    return [str(i) for i in range(count)]


def slot_path(folder: str | Path, slot: Slot) -> Path:
    return Path(folder) / f"{socket.gethostname()}-gpu{slot.device}-slot{slot.index}.lock"


def _try_lock(path: Path) -> int | None:
    """An open descriptor holding the lock on `path`, or None if another process holds it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    except BaseException:
        os.close(fd)
        raise
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    return fd


def _holder(path: Path) -> str:
    try:
        return path.read_text().strip() or "?"
    except OSError:
        return "?"


@contextlib.contextmanager
def gpu_slot(
    jobs_per_gpu: int,
    lock_dir: str | Path | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    poll: float = 0.5,
) -> Iterator[Slot | None]:
    """Hold a free GPU slot for the duration of the block, with CUDA_VISIBLE_DEVICES set to
    its device; yields the Slot, or None when there is nothing to allocate (no GPU, or
    CUDA_VISIBLE_DEVICES already set). Waits for a slot, polling every `poll` seconds, and
    raises GpuSlotTimeout after `timeout` seconds."""
    if jobs_per_gpu < 1:
        raise ValueError(f"jobs per GPU must be at least 1, got {jobs_per_gpu}")
    preset = os.environ.get("CUDA_VISIBLE_DEVICES")
    if preset is not None:
        log.info("CUDA_VISIBLE_DEVICES=%r set by the caller: no GPU slot taken", preset)
        yield None
        return
    devices = device_ids()
    if not devices:
        log.info("no GPU found: no GPU slot taken")
        yield None
        return
    folder = Path(lock_dir or os.environ.get(LOCK_DIR_VARIABLE) or DEFAULT_LOCK_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    slots = [Slot(device, k) for k in range(jobs_per_gpu) for device in devices]
    deadline = time.monotonic() + timeout
    while True:
        for slot in slots:
            fd = _try_lock(slot_path(folder, slot))
            if fd is not None:
                break
        else:
            if time.monotonic() < deadline:
                time.sleep(poll)
                continue
            holders = ", ".join(
                f"GPU {s.device} slot {s.index}: PID {_holder(slot_path(folder, s))}" for s in slots
            )
            raise GpuSlotTimeout(
                f"all {len(slots)} GPU slots in {folder} stayed busy for {timeout:g} s "
                f"({holders}); run fewer GPU jobs at once (snakemake --resources gpu=N with N "
                "at most the number of GPUs times resources.jobs_per_gpu)"
            )
        break
    try:
        os.environ["CUDA_VISIBLE_DEVICES"] = slot.device
        log.info("using GPU %s (slot %d)", slot.device, slot.index)
        yield slot
    finally:
        os.environ.pop("CUDA_VISIBLE_DEVICES", None)
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
