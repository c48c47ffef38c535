"""Training checkpoints that prove their integrity: a header line with the SHA-256 of the
torch payload that follows it.

    infusion-checkpoint sha256=<64 hex digits>\\n<torch.save bytes>

A checkpoint with bit flips, cut short, or not written by :func:`write_checkpoint` fails
:func:`read_checkpoint` with :class:`CorruptCheckpoint` naming the file; the trainer then
warns and starts afresh (training is deterministic, so the result is the same, only later).
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import torch

from infusion.runtime.atomic import write_bytes

MAGIC = b"infusion-checkpoint sha256="


class CorruptCheckpoint(ValueError):
    """A checkpoint file that fails its checksum or cannot be read."""


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
    try:
        state = torch.load(io.BytesIO(payload), map_location=device, weights_only=False)
    except Exception as error:  # a payload that hashes right but was written by another torch
        raise CorruptCheckpoint(f"checkpoint {path} cannot be loaded: {error}") from error
    if not isinstance(state, dict):
        raise CorruptCheckpoint(f"checkpoint {path} does not hold a training state")
    return state
