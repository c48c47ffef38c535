"""Training checkpoints that prove their integrity: a header line with the SHA-256 of the
torch payload that follows it.

    infusion-checkpoint sha256=<64 hex digits>\\n<torch.save bytes>

A checkpoint with bit flips, cut short, not written by :func:`write_checkpoint`, or written
by a version that kept numpy arrays in it, fails :func:`read_checkpoint` with
:class:`CorruptCheckpoint` naming the file; the trainer then warns and starts afresh
(training is deterministic, so the result is the same, only later). The payload is read as
data (:func:`infusion.runtime.torch_files.read_data`): one that needs anything else, even
under a right checksum, is refused unread with :class:`UnsafeFile`, which stops training.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import torch

from infusion.runtime.atomic import write_bytes
from infusion.runtime.torch_files import UnsafeFile, read_data

MAGIC = b"infusion-checkpoint sha256="


class CorruptCheckpoint(ValueError):
    """A checkpoint that cannot be resumed: it fails its checksum, cannot be read, or is not
    a training state of this version."""


def write_checkpoint(path: Path, state: dict) -> None:
    buffer = io.BytesIO()
    torch.save(state, buffer)
    payload = buffer.getvalue()
    digest = hashlib.sha256(payload).hexdigest().encode()
    write_bytes(path, MAGIC + digest + b"\n" + payload)


def read_checkpoint(path: Path, device: str | torch.device = "cpu") -> dict:
    """The state saved by :func:`write_checkpoint`; :class:`CorruptCheckpoint` otherwise."""
    data = Path(path).read_bytes()
    header, newline, payload = data.partition(b"\n")
    if not (header.startswith(MAGIC) and newline):
        raise CorruptCheckpoint(f"checkpoint {path} has no checksum header (not ours, or cut)")
    expected = header[len(MAGIC) :].decode(errors="replace")
    actual = hashlib.sha256(payload).hexdigest()
    if actual != expected:
        raise CorruptCheckpoint(
            f"checkpoint {path} fails its checksum ({len(payload)} payload bytes, "
            f"sha256 {actual[:12]}... instead of {expected[:12]}...): corrupt or truncated"
        )
    name = f"checkpoint {path}"
    try:
        state = read_data(io.BytesIO(payload), name, device)
    except UnsafeFile as error:
        if not error.needs.startswith("numpy."):
            raise  # not ours: never loaded, and not overwritten
        raise CorruptCheckpoint(f"{name} is of an older version (numpy arrays in it)") from None
    except ValueError as error:  # a payload that hashes right but does not load
        raise CorruptCheckpoint(str(error)) from error
    if not isinstance(state, dict):
        raise CorruptCheckpoint(f"{name} holds a {type(state).__name__}, not a training state")
    return state
