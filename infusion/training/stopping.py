"""Stopping training cleanly on SIGTERM, what SLURM sends at a time limit or a preemption
(and ``kill`` by default), a grace period before its SIGKILL.

Inside :meth:`SigtermGuard.interruptible` (an epoch's work) SIGTERM raises
:class:`TrainingStopped` at once: the epoch is abandoned, and the checkpoint on disk, written
after the previous epoch, is what the rerun resumes from. Outside it (writing the checkpoint
and the curves) the signal is noted and raised when the next epoch would start, so that the
write in progress completes.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator
from pathlib import Path


class TrainingStopped(Exception):
    """SIGTERM stopped training; the message names the checkpoint to resume from."""


class SigtermGuard:
    def __init__(self, checkpoint: Path):
        self.message = (
            f"stopped by SIGTERM: checkpoint {checkpoint} holds the last completed epoch; "
            "run the same command again to resume"
        )
        self.received = False
        self._interruptible = False

    def handle(self, signum, frame) -> None:
        self.received = True
        if self._interruptible:
            raise TrainingStopped(self.message)

    @contextlib.contextmanager
    def interruptible(self) -> Iterator[None]:
        if self.received:  # arrived while the previous checkpoint was being written
            raise TrainingStopped(self.message)
        self._interruptible = True
        try:
            yield
        finally:
            self._interruptible = False


@contextlib.contextmanager
def stop_on_sigterm(checkpoint: Path) -> Iterator[SigtermGuard]:
    """Handle SIGTERM with a :class:`SigtermGuard` for the duration of the block."""
    guard = SigtermGuard(checkpoint)
    previous = signal.signal(signal.SIGTERM, guard.handle)
    try:
        yield guard
    finally:
        signal.signal(signal.SIGTERM, previous)
