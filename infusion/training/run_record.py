"""What a checkpoint records of its run, and whether another run may resume it.

A run is its model and training settings and the content of the training and validation
splits it trains on (a SHA-256 of each array's dtype, shape and bytes). A checkpoint is
resumed only by a run equal to its own, except for three settings: ``device`` and
``compile`` (the numbers do not depend on them on CPU) and ``epochs``, which may be raised
(more epochs continue the same run) but not lowered below the epochs the checkpoint has
done (nothing in an epoch depends on how many follow it, so a run asked for fewer epochs
equals a fresh one only if it has not gone past them). A setting the checkpoint does not
record, one added since it was written, counts as its default.
"""

from __future__ import annotations

import dataclasses
import hashlib

import numpy as np

from infusion.settings import ModelSettings, TrainSettings

SPLITS = ("train", "valid")
# training settings that may differ between a checkpoint and the run resuming it
RESUMABLE = ("epochs", "device", "compile")
# A setting a checkpoint does not record (one added since it was written) counts as its
# default, the behaviour of the code that wrote it.
DEFAULTS = {
    part: {
        f.name: f.default for f in dataclasses.fields(cls) if f.default is not dataclasses.MISSING
    }
    for part, cls in (("model", ModelSettings), ("train", TrainSettings))
}


def split_digest(images: np.ndarray) -> str:
    """SHA-256 of an array's dtype, shape and bytes."""
    images = np.ascontiguousarray(images)
    digest = hashlib.sha256(f"{images.dtype.str} {images.shape}\n".encode())
    digest.update(images.data)
    return digest.hexdigest()


def run_record(model_settings, train_settings, data: dict) -> dict:
    """The run that a checkpoint belongs to: settings (dataclasses) and split digests."""
    return {
        "model": dataclasses.asdict(model_settings),
        "train": dataclasses.asdict(train_settings),
        "data": {split: split_digest(data[split]) for split in SPLITS},
    }


def is_run_record(record) -> bool:
    return isinstance(record, dict) and all(
        isinstance(record.get(part), dict) for part in ("model", "train", "data")
    )


def differences(saved: dict, current: dict, epochs_done: int) -> list[str]:
    """What keeps ``current`` from resuming a checkpoint of run ``saved`` that has done
    ``epochs_done`` epochs, as phrases ("lr 0.001 -> 0.002", "data train split differs");
    empty when it may resume."""
    found = []
    for part, skipped in (("model", ()), ("train", RESUMABLE)):
        old, new = {**DEFAULTS[part], **saved[part]}, current[part]
        for key in sorted(old.keys() | new.keys()):
            if key not in skipped and old.get(key) != new.get(key):
                found.append(f"{key} {old.get(key)} -> {new.get(key)}")
    asked = current["train"]["epochs"]
    if epochs_done > asked:
        found.append(f"epochs {saved['train'].get('epochs')} -> {asked} ({epochs_done} done)")
    found += [
        f"data {split} split differs"
        for split in SPLITS
        if saved["data"].get(split) != current["data"][split]
    ]
    return found
