"""The examples a run trains on and an epoch's batches of them."""

from __future__ import annotations

import torch


def epoch_batches(order: torch.Tensor, batch_size: int, last_batch: str) -> list[torch.Tensor]:
    """An epoch's batches of training rows, ``order`` cut into ``batch_size`` rows each; the
    ragged rest (N mod batch_size rows) is dropped (``last_batch: drop``) or is the last,
    smaller batch (``keep``), except a lone row: batch norm cannot normalise one example."""
    batches = list(torch.split(order, batch_size))
    if batches and len(batches[-1]) < batch_size and (last_batch == "drop" or len(batches[-1]) < 2):
        batches.pop()
    return batches


def training_subset(data: dict, train_size: int) -> dict:
    """``data`` with its training split cut to the first ``train_size`` examples (0: all);
    ``ValueError`` when the split has fewer."""
    if train_size == 0:
        return data
    available = data["train"].shape[0]
    if train_size > available:
        raise ValueError(
            f"train_size {train_size} exceeds the {available} examples of the training split"
        )
    return {**data, "train": data["train"][:train_size]}
