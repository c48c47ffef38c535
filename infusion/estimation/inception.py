"""Inception score (Table 3.2) and FID, through ``torch-fidelity``'s TF-compatible Inception.

The paper scores 50,000 CIFAR-10 samples with the Inception score of Salimans et al. (2016):
IS = exp(E_x KL(p(y|x) || p(y))), computed on 10 consecutive splits of the samples, reported
as the mean and standard deviation over the splits. ``torch-fidelity``'s ``inception-v3-compat``
feature extractor reproduces the 2015 TensorFlow Inception graph that Salimans et al. used;
``samples_shuffle=False`` keeps the samples in order, as the original code did. FID (Heusel et
al., 2017; the paper predates it) is added against a reference set, the CIFAR-10 training set.

Three parts, one job each:

- :func:`score_images`: IS and optionally FID of uint8 images through ``torch-fidelity``;
  :func:`score_file` assembles them from a samples file or a prepared dataset and writes the
  JSON of ``infusion inception``.
- :func:`fetch_weights`: the checksummed download of the Inception weights into the cache
  that ``torch-fidelity`` reads (``torch.hub.get_dir()/checkpoints``); the file's SHA-256
  must start with the digits in its torch.hub name (:data:`WEIGHTS_SHA256_PREFIX`), and so
  must that of every weights file scored with (:func:`resolve_weights`), whatever its name.

Images go in as uint8 arrays [N x C x H x W] with C = 1 (repeated to 3 channels) or 3; model
samples (floats in [0, 1], ``pixels / 256`` as in
:func:`infusion.data.registry.to_unit_interval`) are
turned into pixels by :func:`to_pixels`.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from infusion.data.download import download, file_digests
from infusion.data.registry import load, split_of
from infusion.runtime.atomic import write_json
from infusion.runtime.reading import read_npz
from infusion.settings import InceptionSettings

log = logging.getLogger(__name__)


def hub_sha256_prefix(file_name: str) -> str:
    """The leading SHA-256 digits in a torch.hub checkpoint name: ``name-<digits>.ext``.

    torch.hub names its checkpoints so (``load_state_dict_from_url(..., check_hash=True)``
    checks them): the part after the last ``-`` and before the extension, 8 to 64 lowercase
    hex digits. Raises ValueError naming ``file_name`` when it has none.
    """
    stem = file_name.rsplit(".", 1)[0]
    digits = stem.rsplit("-", 1)[-1] if "-" in stem else ""
    if not re.fullmatch(r"[0-9a-f]{8,64}", digits):
        raise ValueError(f"{file_name}: no SHA-256 prefix in the name (name-<hex digits>.pth)")
    return digits


# torch-fidelity 0.4's converted TensorFlow Inception weights (its URL_INCEPTION_V3). The file
# name carries the first digits of the file's SHA-256, as torch.hub names its checkpoints.
WEIGHTS_FILE = "weights-inception-2015-12-05-6726825d.pth"
WEIGHTS_URL = f"https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/{WEIGHTS_FILE}"
WEIGHTS_SHA256_PREFIX = hub_sha256_prefix(WEIGHTS_FILE)  # what the official file's hash begins
WEIGHTS_SHA256_KEY = "inception.weights_sha256"  # the config key expecting another prefix
FEATURE_EXTRACTOR = "inception-v3-compat"
WEIGHTS_CONFIG_KEY = "inception.weights"  # the config key naming a local copy of the weights
IS_KEYS = ("inception_score_mean", "inception_score_std")  # torch-fidelity's result keys
FID_KEY = "frechet_inception_distance"


# --- images -------------------------------------------------------------------------------


def to_pixels(values: np.ndarray, shape: tuple[int, int, int]) -> np.ndarray:
    """Model outputs in [0, 1] (``pixels / 256``) [N x C*H*W] -> uint8 images [N x C x H x W].

    Inverts :func:`infusion.data.registry.to_unit_interval`: pixel = round(256 x), clipped to
    [0, 255],
    so a training image goes back to itself exactly.
    """
    values = np.asarray(values, dtype=np.float64)
    pixels = np.clip(np.rint(values * 256), 0, 255).astype(np.uint8)
    return pixels.reshape(len(pixels), *shape)


def _rgb(images: np.ndarray) -> np.ndarray:
    """uint8 [N x C x H x W] with C in (1, 3) -> uint8 [N x 3 x H x W] (grey repeated)."""
    images = np.asarray(images)
    if images.dtype != np.uint8 or images.ndim != 4 or images.shape[1] not in (1, 3):
        raise ValueError(
            f"images must be uint8 [N x C x H x W] with C = 1 or 3, got {images.dtype} "
            f"{images.shape}"
        )
    return np.repeat(images, 3, axis=1) if images.shape[1] == 1 else images


def _dataset(images: np.ndarray):
    """A torch Dataset of uint8 [3 x H x W] tensors, the in-memory input torch-fidelity takes."""
    import torch

    class ImageArray(torch.utils.data.Dataset):
        def __init__(self, array):
            self.array = array

        def __len__(self):
            return len(self.array)

        def __getitem__(self, index):
            return torch.from_numpy(self.array[index])

    return ImageArray(_rgb(images))


# --- weights ------------------------------------------------------------------------------


def default_weights_path() -> Path:
    """Where torch-fidelity looks for the weights: ``torch.hub.get_dir()/checkpoints/FILE``.

    ``torch.hub.get_dir()`` is ``$TORCH_HOME/hub`` (default ``~/.cache/torch/hub``).
    """
    import torch.hub

    return Path(torch.hub.get_dir()) / "checkpoints" / WEIGHTS_FILE


def resolve_weights(
    weights: str | os.PathLike | None, sha256_prefix: str = WEIGHTS_SHA256_PREFIX
) -> Path:
    """The weights file to load: ``weights`` if given, else torch-fidelity's cached copy.

    Raises FileNotFoundError naming the file expected, where to put it, and the config key
    and flag that name a local copy, when neither exists (nothing is downloaded here).
    The file's content must have a SHA-256 starting with ``sha256_prefix`` (the official
    file's by default), whatever the file's name: else ValueError naming the file and both
    prefixes.
    """
    if weights is not None:
        path = Path(weights)
        if not path.is_file():
            raise FileNotFoundError(
                f"Inception weights not found at {path} (named by config key "
                f"{WEIGHTS_CONFIG_KEY} / --weights); it should be {WEIGHTS_FILE} from "
                f"{WEIGHTS_URL}"
            )
    else:
        path = default_weights_path()
        if not path.is_file():
            raise FileNotFoundError(
                f"Inception weights not found: place {WEIGHTS_FILE} (from {WEIGHTS_URL}) at "
                f"{path}, e.g. with `infusion fetch-inception-weights`, or name a local copy "
                f"with config key {WEIGHTS_CONFIG_KEY} (--weights)"
            )
    mismatch = file_digests(path).mismatch(sha256_prefix=sha256_prefix)
    if mismatch is not None:
        raise ValueError(
            f"{path}: not the Inception weights {WEIGHTS_FILE}: {mismatch} (checked on the "
            f"content; for other weights set config key {WEIGHTS_SHA256_KEY} / "
            f"--weights-sha256)"
        )
    return path


def fetch_weights(
    md5: str | None = None,
    dest: str | os.PathLike | None = None,
    urls: list[str] | None = None,
    sha256_prefix: str = WEIGHTS_SHA256_PREFIX,
) -> Path:
    """Download the Inception weights to ``dest`` (default :func:`default_weights_path`).

    Uses :func:`infusion.data.download.download`: the file's SHA-256 must start with
    ``sha256_prefix`` (the digits in the official file's name) and, when ``md5`` is given,
    its MD5 must be ``md5``; nothing is fetched when ``dest`` already passes, and a transfer
    that fails leaves no file. ``urls`` defaults to torch-fidelity's release URL (tests point
    it at a local server). Returns ``dest``.
    """
    dest = Path(dest) if dest is not None else default_weights_path()
    return download(WEIGHTS_FILE, urls or [WEIGHTS_URL], dest, md5, sha256_prefix=sha256_prefix)


# --- scoring ------------------------------------------------------------------------------


def score_images(
    images: np.ndarray,
    *,
    weights: str | os.PathLike | None = None,
    weights_sha256: str = WEIGHTS_SHA256_PREFIX,
    reference: np.ndarray | None = None,
    splits: int = 10,
    batch: int = 100,
    device: str = "auto",
    feature_extractor: str = FEATURE_EXTRACTOR,
) -> dict:
    """Inception score of ``images`` and, with ``reference``, their FID against it.

    ``images`` and ``reference``: uint8 [N x C x H x W], C = 1 or 3. The images are scored in
    order (``samples_shuffle=False``) in ``splits`` splits, by torch-fidelity's
    ``feature_extractor`` loaded from ``weights`` (see :func:`resolve_weights`, which checks
    that their SHA-256 starts with ``weights_sha256``) on ``device`` ("auto": CUDA when
    available). Nothing is cached on disk. Returns ``{"inception_score_mean",
    "inception_score_std", "images", "splits", "weights"}`` (the file used) plus
    ``{"frechet_inception_distance", "reference_images"}`` with a reference.
    """
    import torch
    import torch_fidelity

    inputs = {"input1": _dataset(images)}
    if reference is not None:
        inputs["input2"] = _dataset(reference)
    if not 1 <= splits <= len(images):
        raise ValueError(f"splits must lie in [1, {len(images)} images], got {splits}")
    if feature_extractor == FEATURE_EXTRACTOR:
        path = resolve_weights(weights, weights_sha256)
    else:
        path = weights
    cuda = torch.cuda.is_available() if device == "auto" else device.startswith("cuda")
    if cuda and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} asked for but CUDA is not available")
    if cuda and ":" in device:
        torch.cuda.set_device(torch.device(device))  # torch-fidelity uses the current device
    log.info(
        "scoring %d images%s with %s (weights %s) on %s",
        len(images),
        f" and FID against {len(reference)} reference images" if reference is not None else "",
        feature_extractor,
        path,
        "cuda" if cuda else "cpu",
    )
    metrics = torch_fidelity.calculate_metrics(
        **inputs,
        isc=True,
        fid=reference is not None,
        feature_extractor=feature_extractor,
        feature_extractor_weights_path=None if path is None else str(path),
        isc_splits=splits,
        samples_shuffle=False,
        batch_size=batch,
        cuda=cuda,
        cache=False,
        save_cpu_ram=True,  # no DataLoader workers: the images are already in memory
        verbose=True,  # torch-fidelity's progress bar on stderr
    )
    result = {key: metrics[key] for key in IS_KEYS} | {"images": len(images), "splits": splits}
    result["weights"] = None if path is None else str(path)
    if reference is not None:
        result |= {FID_KEY: metrics[FID_KEY], "reference_images": len(reference)}
    return result


def _first(images: np.ndarray, n: int, source: str) -> np.ndarray:
    """The first ``n`` of ``images``; ``ValueError`` naming ``source`` when it holds fewer."""
    if len(images) < n:
        raise ValueError(f"{source} holds {len(images)} images, {n} are to be scored (--images)")
    return images[:n]


def _real_images(path: str | os.PathLike, splits: Sequence[str]) -> np.ndarray:
    """The images of ``splits`` of a prepared dataset, concatenated in that order."""
    data = load(Path(path))
    return np.concatenate([split_of(data, split, path) for split in splits])


def _sample_images(path: str | os.PathLike, n: int) -> np.ndarray:
    """The first ``n`` last-step means of an ``infusion sample`` file, as uint8 images."""
    samples = read_npz(path, "means", "shape")
    means, shape = samples["means"], tuple(int(s) for s in samples["shape"])
    return to_pixels(_first(means, n, str(path)), shape)


def score_file(
    out: str | os.PathLike,
    settings: InceptionSettings,
    *,
    samples: str | None = None,
    data: str | None = None,
    data_splits: Sequence[str] = ("train",),
    reference: str | None = None,
    reference_splits: Sequence[str] = ("train",),
    weights: str | os.PathLike | None = None,
    weights_sha256: str = WEIGHTS_SHA256_PREFIX,
) -> None:
    """Table 3.2's Inception score of the first ``settings.images`` images of ``samples`` (an
    ``infusion sample`` file: its last-step means) or else of ``data`` (a prepared dataset:
    its ``data_splits``, concatenated), and with ``reference`` (a prepared dataset: its
    ``reference_splits``) their FID against it; written atomically to the JSON file ``out``
    with the settings and the sources (see :func:`score_images` for the rest)."""
    if samples:
        images = _sample_images(samples, settings.images)
        source = {"samples": samples, "pixels": "round(256 x) clipped to [0, 255]"}
    else:
        real = _real_images(data, data_splits)
        images = _first(real, settings.images, f"{data} {'+'.join(data_splits)}")
        source = {"data": data, "data_splits": data_splits}
    reference_images = None
    if reference:
        reference_images = _real_images(reference, reference_splits)
        source |= {"reference": reference, "reference_splits": reference_splits}
    result = score_images(
        images,
        weights=weights,
        weights_sha256=weights_sha256,
        reference=reference_images,
        splits=settings.splits,
        batch=settings.batch,
        device=settings.device,
    )
    log.info(
        "Inception score %.3f +- %.3f%s",
        result["inception_score_mean"],
        result["inception_score_std"],
        f", FID {result[FID_KEY]:.3f}" if reference_images is not None else "",
    )
    write_json(out, {"settings": dataclasses.asdict(settings), **source, **result})
