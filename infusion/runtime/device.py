"""The device a job computes on."""

from __future__ import annotations

import torch


def resolve_device(name: str) -> torch.device:
    """ "auto" (CUDA when available), "cpu", "cuda", "cuda:1", ... -> a torch device."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)
