"""The device a job computes on."""

from __future__ import annotations

import os
import platform
from pathlib import Path

import torch


def resolve_device(name: str) -> torch.device:
    """ "auto" (CUDA when available), "cpu", "cuda", "cuda:1", ... -> a torch device."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def describe_device(device: torch.device) -> str:
    """The device by name, as a reader of a timing needs it: ``cpu (Intel(R) Xeon(R) CPU
    @ 2.20GHz, 2 cores)``, ``cuda:0 (NVIDIA H100 80GB HBM3)``."""
    if device.type == "cuda":
        return f"{device} ({torch.cuda.get_device_name(device)})"
    if device.type == "cpu":
        return f"cpu ({cpu_model()}, {os.cpu_count()} cores)"
    return str(device)


def cpu_model() -> str:
    """The CPU's model name (Linux's /proc/cpuinfo; the platform's processor elsewhere)."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    return platform.processor() or "unknown model"
