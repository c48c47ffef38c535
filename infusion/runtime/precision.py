"""Numerical precision of a run: ``fp32`` (default), ``tf32`` or ``bf16``.

``fp32``  plain float32 everywhere: the faithful numbers.
``tf32``  float32 tensors, but CUDA matrix products and convolutions may use TensorFloat-32
          (``torch.backends.cuda.matmul.allow_tf32`` and ``torch.backends.cudnn.allow_tf32``
          are switched on inside the context and restored after it); on a CPU it is fp32.
``bf16``  the operator network's forward runs under ``torch.autocast(dtype=torch.bfloat16)``
          (CPU or CUDA): its linear layers compute in bfloat16. The network returns its mean
          and variance in float32 (see ``infusion.nets.networks``), so the log densities, the
          chain's draws and the loss are float32 arithmetic.

Wrap forward passes only (a training step's backward runs outside the context, as autocast
recommends): ``with precision_context(settings.precision, device): loss = ...``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

PRECISIONS = ("fp32", "tf32", "bf16")


def check_precision(precision: str) -> None:
    """Raise ``ValueError`` naming the ``precision`` field unless it is a known precision."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")


@contextlib.contextmanager
def precision_context(precision: str, device: str | torch.device) -> Iterator[None]:
    """Run the enclosed forward passes at ``precision`` on ``device`` (see the module doc)."""
    import torch  # here, so that settings (and the CLI's --help) need no torch

    check_precision(precision)
    device_type = torch.device(device).type
    if precision == "bf16":
        with torch.autocast(device_type=device_type, dtype=torch.bfloat16):
            yield
    elif precision == "tf32":
        saved = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
        try:
            yield
        finally:
            torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved
    else:
        yield
