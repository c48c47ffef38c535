"""Readers and preparers of the paper's natural-image datasets: CIFAR-10, CelebA and TFD.

Each ``prepare_*`` takes a :class:`infusion.data.sources.Source` and returns uint8 splits
``train``, ``valid``, ``test`` of shape (N, C, H, W); :mod:`infusion.data.registry` registers them.
The paper states no splits or preprocessing beyond scaling to [0, 1]; the choices here:

- CIFAR-10 (3, 32, 32): the python tarball; train = the first 45,000 of the 50,000 training
  images (batches 1 to 5 in order), valid = the last 5,000 (the second half of
  ``data_batch_5``), test = the official 10,000.
- CelebA (3, 64, 64): the aligned-and-cropped 178x218 JPEGs, split by the official
  ``list_eval_partition.txt`` (162,770 / 19,867 / 19,962); each image is cropped to the
  108x108 box :data:`CELEBA_CROP_BOX` around its centre, then resized to 64x64 with
  Pillow's Lanczos filter (the crop of DCGAN-style CelebA pipelines).
- TFD (1, 48, 48): ``TFD_48x48.mat``, fold 0 as in Goodfellow et al. (2014)'s Parzen
  protocol: train = the unlabeled images, valid and test = fold 0's valid and test images
  (fold 0's labeled training images are not used).
"""

from __future__ import annotations

import codecs
import contextlib
import io
import logging
import pickle
import tarfile
import time
import zipfile
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

import numpy as np

from infusion.data.sources import Source, Splits, checked_file

log = logging.getLogger(__name__)

# --- CIFAR-10 (Krizhevsky 2009) --------------------------------------------------------------

CIFAR10_BASE_URLS = ("https://www.cs.toronto.edu/~kriz/",)
CIFAR10_ARCHIVE = "cifar-10-python.tar.gz"
CIFAR10_MD5 = "c58f30108f718f92721af3b95e74349a"  # as in torchvision/datasets/cifar.py
CIFAR10_FOLDER = "cifar-10-batches-py"
CIFAR10_TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
CIFAR10_TEST_BATCH = "test_batch"
CIFAR10_VALID_SIZE = 5_000
CIFAR10_SHAPE = (3, 32, 32)

# The only globals a CIFAR batch pickle refers to (numpy arrays, bytes under protocol 2).
_RECONSTRUCT = np.zeros(0).__reduce__()[0]  # numpy's array-unpickling function
_PICKLE_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"): _RECONSTRUCT,  # pickles made by numpy < 2
    ("numpy._core.multiarray", "_reconstruct"): _RECONSTRUCT,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("_codecs", "encode"): codecs.encode,
}


class _ArrayUnpickler(pickle.Unpickler):
    """An unpickler that builds dicts, lists, bytes and numpy arrays, and nothing else."""

    def find_class(self, module: str, name: str):
        try:
            return _PICKLE_GLOBALS[module, name]
        except KeyError:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}") from None


def read_cifar10_batch(file: IO[bytes], name: str) -> np.ndarray:
    """Images of one pickled CIFAR batch as uint8 (N, 3, 32, 32).

    A batch is a dict whose ``b"data"`` is uint8 (N, 3072): each row holds the 1024 red,
    then 1024 green, then 1024 blue values of a 32x32 image in row-major order.
    """
    batch = _ArrayUnpickler(file, encoding="bytes").load()
    pixels = batch.get(b"data") if isinstance(batch, dict) else None
    if not isinstance(pixels, np.ndarray) or pixels.dtype != np.uint8 or pixels.ndim != 2:
        raise ValueError(f"{name}: expected a dict with uint8 b'data' of shape (N, 3072)")
    if pixels.shape[1] != np.prod(CIFAR10_SHAPE):
        raise ValueError(f"{name}: rows of {pixels.shape[1]} values, expected 3072")
    return pixels.reshape(len(pixels), *CIFAR10_SHAPE)  # (N, 3072) -> (N, 3, 32, 32)


def read_cifar10(archive: Path) -> dict[str, np.ndarray]:
    """Every batch of the python tarball, by batch name, as uint8 (N, 3, 32, 32)."""
    names = (*CIFAR10_TRAIN_BATCHES, CIFAR10_TEST_BATCH)
    batches = {}
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for name in names:
                try:
                    member = tar.extractfile(f"{CIFAR10_FOLDER}/{name}")
                except KeyError:
                    member = None
                if member is None:
                    raise ValueError(f"{archive.name}: no file {CIFAR10_FOLDER}/{name}")
                with member:
                    batches[name] = read_cifar10_batch(member, f"{archive.name}:{name}")
    except (tarfile.TarError, EOFError, zlib.error, OSError, pickle.UnpicklingError) as err:
        raise ValueError(f"{archive.name}: not a readable CIFAR-10 tarball ({err})") from err
    return batches


def prepare_cifar10(source: Source) -> Splits:
    """Download the python tarball; split its training images 45,000 / 5,000 in order."""
    batches = read_cifar10(source.fetch(CIFAR10_ARCHIVE, CIFAR10_MD5))
    train = np.concatenate([batches[name] for name in CIFAR10_TRAIN_BATCHES])
    if len(train) <= CIFAR10_VALID_SIZE:
        raise ValueError(
            f"{CIFAR10_ARCHIVE}: {len(train)} training images, fewer than the"
            f" {CIFAR10_VALID_SIZE} held out for validation"
        )
    return {
        "train": train[:-CIFAR10_VALID_SIZE],
        "valid": train[-CIFAR10_VALID_SIZE:],
        "test": batches[CIFAR10_TEST_BATCH],
    }


# --- CelebA (Liu et al. 2015), aligned and cropped ------------------------------------------

CELEBA_ZIP = "img_align_celeba.zip"
CELEBA_FOLDER = "img_align_celeba"  # the folder inside the zip (or extracted beside it)
CELEBA_PARTITION = "list_eval_partition.txt"
# Published checksums, as in torchvision/datasets/celeba.py.
CELEBA_MD5 = {
    CELEBA_ZIP: "00d2c5bc6d35e252742224ab0c1e8fcb",
    CELEBA_PARTITION: "d32c9cbf5e040fd4025c592c306e6668",
}
CELEBA_SOURCE_SIZE = (178, 218)  # width, height of the aligned-and-cropped images
# (left, upper, right, lower): the 108x108 square centred in a 178x218 image.
CELEBA_CROP_BOX = (35, 55, 143, 163)
CELEBA_SIZE = 64
CELEBA_PARTITION_SPLITS = {"0": "train", "1": "valid", "2": "test"}
CELEBA_PROGRESS_EVERY = 10_000


def read_partition(path: Path) -> list[tuple[str, str]]:
    """``list_eval_partition.txt`` as [(image file name, split)], in file order.

    Each line is ``"000001.jpg 0"``: 0 is train, 1 valid, 2 test.
    """
    entries = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != 2 or fields[1] not in CELEBA_PARTITION_SPLITS:
            raise ValueError(
                f"{path.name}, line {number}: expected '<image>.jpg 0|1|2', got {line!r}"
            )
        entries.append((fields[0], CELEBA_PARTITION_SPLITS[fields[1]]))
    if not entries:
        raise ValueError(f"{path.name}: no images listed")
    return entries


def crop_face(image) -> np.ndarray:
    """A 178x218 CelebA image (PIL) -> uint8 (3, 64, 64): the centre 108x108, Lanczos-resized."""
    from PIL import Image

    face = image.convert("RGB").crop(CELEBA_CROP_BOX)
    face = face.resize((CELEBA_SIZE, CELEBA_SIZE), Image.Resampling.LANCZOS)
    return np.asarray(face).transpose(2, 0, 1)  # (H, W, C) -> (C, H, W)


@contextlib.contextmanager
def _image_opener(images: Path, names: list[str]) -> Iterator[Callable[[str], IO[bytes]]]:
    """Yield ``open(name)`` for the JPEGs ``names`` in a zip or folder; stop if any is missing."""
    if images.is_dir():
        _check_complete(images, [name for name in names if not (images / name).is_file()])
        yield lambda name: open(images / name, "rb")
        return
    try:
        archive = zipfile.ZipFile(images)
    except (zipfile.BadZipFile, OSError) as err:
        raise ValueError(f"{images.name}: not a readable zip archive ({err})") from err
    with archive:
        members = {Path(info.filename).name: info for info in archive.infolist()}
        _check_complete(images, [name for name in names if name not in members])
        yield lambda name: io.BytesIO(archive.read(members[name]))  # one JPEG, CRC-checked


def _check_complete(images: Path, missing: list[str]) -> None:
    if missing:
        raise ValueError(
            f"{images}: {len(missing)} image(s) listed in {CELEBA_PARTITION} are missing,"
            f" e.g. {missing[0]}"
        )


def read_celeba(images: Path, partition: Path) -> Splits:
    """Decode, crop and resize every image of ``partition`` from a zip or folder of JPEGs.

    Images are decoded one at a time into preallocated uint8 (N, 3, 64, 64) split arrays, in
    the partition file's order.
    """
    from PIL import Image

    entries = read_partition(partition)
    sizes = {split: 0 for split in CELEBA_PARTITION_SPLITS.values()}
    for _, split in entries:
        sizes[split] += 1
    shape = (3, CELEBA_SIZE, CELEBA_SIZE)
    splits = {split: np.empty((n, *shape), dtype=np.uint8) for split, n in sizes.items()}
    filled = dict.fromkeys(splits, 0)
    started = time.monotonic()
    with _image_opener(images, [name for name, _ in entries]) as open_image:
        for count, (name, split) in enumerate(entries, start=1):
            try:
                with open_image(name) as file, Image.open(file) as image:
                    if image.size != CELEBA_SOURCE_SIZE:
                        raise ValueError(
                            f"{name}: {image.size[0]}x{image.size[1]} pixels, expected 178x218"
                            " (the aligned-and-cropped CelebA images)"
                        )
                    splits[split][filled[split]] = crop_face(image)
            except (OSError, zipfile.BadZipFile, zlib.error) as err:
                raise ValueError(f"{images.name}: cannot decode {name} ({err})") from err
            filled[split] += 1
            if count % CELEBA_PROGRESS_EVERY == 0 or count == len(entries):
                rate = count / max(time.monotonic() - started, 1e-9)
                log.info("celeba: %d/%d images (%.0f/s)", count, len(entries), rate)
    return splits


def prepare_celeba(source: Source) -> Splits:
    """CelebA from a local folder (``source.path``) or downloaded from ``source.urls``.

    The folder holds ``list_eval_partition.txt`` and either ``img_align_celeba.zip`` or the
    extracted ``img_align_celeba/`` folder of JPEGs; the partition file and the zip are
    checked against their published checksums.
    """
    if source.path is None:
        partition = source.fetch(CELEBA_PARTITION, CELEBA_MD5[CELEBA_PARTITION])
        images = source.fetch(CELEBA_ZIP, CELEBA_MD5[CELEBA_ZIP])
    else:
        folder = Path(source.path)
        partition = folder / CELEBA_PARTITION
        if not partition.is_file():
            raise FileNotFoundError(f"celeba: {folder} holds no {CELEBA_PARTITION}")
        checked_file(partition, CELEBA_MD5[CELEBA_PARTITION])
        images = folder / CELEBA_ZIP
        if images.is_file():
            checked_file(images, CELEBA_MD5[CELEBA_ZIP])
        elif (folder / CELEBA_FOLDER).is_dir():
            images = folder / CELEBA_FOLDER
        else:
            raise FileNotFoundError(
                f"celeba: {folder} holds neither {CELEBA_ZIP} nor {CELEBA_FOLDER}/"
            )
    return read_celeba(images, partition)


# --- TFD (Susskind et al. 2010): local file only ---------------------------------------------

TFD_FILE = "TFD_48x48.mat"
TFD_FOLD = 0  # Goodfellow et al. (2014)'s Parzen protocol
# The code in `folds[:, TFD_FOLD]` (0 unlabeled, 1 train, 2 valid, 3 test) of each split.
TFD_SPLIT_CODES = {"train": 0, "valid": 2, "test": 3}  # train on the unlabeled images


def read_tfd(path: Path) -> Splits:
    """Fold :data:`TFD_FOLD` of ``TFD_48x48.mat`` as uint8 (N, 1, 48, 48) splits.

    The file holds ``images`` uint8 (N, 48, 48) and ``folds`` (N, 5): per fold, 0 marks an
    unlabeled image, 1 train, 2 valid, 3 test.
    """
    from scipy.io import loadmat

    try:
        mat = loadmat(path)
    except (ValueError, OSError, NotImplementedError, TypeError) as err:
        raise ValueError(f"{path.name}: not a readable MATLAB file ({err})") from err
    found = sorted(key for key in mat if not key.startswith("__"))
    for key in ("images", "folds"):
        if key not in mat:
            raise ValueError(f"{path.name}: no {key!r} array (has {found}); expected {TFD_FILE}")
    images, folds = mat["images"], mat["folds"]
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (48, 48):
        raise ValueError(
            f"{path.name}: 'images' is {images.dtype} {images.shape}, expected uint8 (N, 48, 48)"
        )
    if folds.shape != (len(images), 5):
        raise ValueError(
            f"{path.name}: 'folds' has shape {folds.shape}, expected ({len(images)}, 5)"
        )
    fold = folds[:, TFD_FOLD]
    splits = {split: images[fold == code][:, None] for split, code in TFD_SPLIT_CODES.items()}
    for split, array in splits.items():
        if len(array) == 0:
            raise ValueError(f"{path.name}: fold {TFD_FOLD} has no {split} images")
    return splits


def prepare_tfd(source: Source) -> Splits:
    """TFD from the local file ``source.path`` (the Toronto Face Database is not public)."""
    return read_tfd(Path(source.path))
