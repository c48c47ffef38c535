"""Offline tests of the natural-image preparers (CIFAR-10, CelebA, TFD) and shapes16.

Every source archive is written here in the real format (a tar.gz of pickled batches, a zip
of 178x218 JPEGs with a partition file, a .mat written by scipy) and served over HTTP on
127.0.0.1 or read from disk; the tests pass their own expected checksums.
"""

from __future__ import annotations

import io
import logging
import pickle
import shutil
import subprocess
import tarfile
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
import scipy.io
import yaml
from local_server import http_folder
from PIL import Image

from infusion import cli
from infusion.data import natural as natural_images
from infusion.data import registry as data
from infusion.data.download import DownloadError, md5sum
from infusion.study import ConfigError, enabled_datasets, split_sizes, validate_config

REPO = Path(__file__).resolve().parent.parent


def nothing_written(out: Path) -> bool:
    return not out.parent.exists() or list(out.parent.iterdir()) == []


# --- CIFAR-10 ---------------------------------------------------------------------------------

CIFAR_BATCH = 1_100  # 5 batches: 5,500 training images, so 500 train after 5,000 valid
CIFAR_TEST = 300


def _cifar_row(image: np.ndarray) -> np.ndarray:
    """One (32, 32, 3) RGB image as CIFAR's flat row: all red values, then green, then blue,
    each channel row by row."""
    row = []
    for channel in range(3):
        for y in range(32):
            for x in range(32):
                row.append(image[y, x, channel])
    return np.array(row, dtype=np.uint8)


def _cifar_batch(images: np.ndarray, name: str) -> bytes:
    rows = np.empty((len(images), 3072), dtype=np.uint8)
    rows[0] = _cifar_row(images[0])  # the loop above, checked against the fast version
    np.testing.assert_array_equal(rows[0], images[0].transpose(2, 0, 1).ravel())
    rows[1:] = images[1:].transpose(0, 3, 1, 2).reshape(len(images) - 1, 3072)
    batch = {
        b"batch_label": name.encode(),
        b"labels": [int(i % 10) for i in range(len(images))],
        b"data": rows,
        b"filenames": [f"{name}_{i}.png".encode() for i in range(len(images))],
    }
    return pickle.dumps(batch, protocol=2)


def _write_tar(path: Path, members: dict[str, bytes]) -> None:
    with tarfile.open(path, "w:gz", compresslevel=1) as tar:
        for name, payload in members.items():
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))


@pytest.fixture(scope="module")
def cifar_source(tmp_path_factory):
    """(folder holding cifar-10-python.tar.gz, its training images, its test images), HWC."""
    rng = np.random.default_rng(0)
    train = rng.integers(0, 256, (5 * CIFAR_BATCH, 32, 32, 3), dtype=np.uint8)
    test = rng.integers(0, 256, (CIFAR_TEST, 32, 32, 3), dtype=np.uint8)
    members = {"batches.meta": pickle.dumps({b"label_names": [b"airplane"]}, protocol=2)}
    for i in range(5):
        name = f"data_batch_{i + 1}"
        members[name] = _cifar_batch(train[i * CIFAR_BATCH : (i + 1) * CIFAR_BATCH], name)
    members["test_batch"] = _cifar_batch(test, "test_batch")
    folder = tmp_path_factory.mktemp("cifar")
    _write_tar(folder / natural_images.CIFAR10_ARCHIVE, members)
    return folder, train, test, members


def _trust(monkeypatch, archive: Path) -> None:
    monkeypatch.setattr(natural_images, "CIFAR10_MD5", md5sum(archive))


def test_cifar10_over_http_splits_and_pixel_order(cifar_source, tmp_path, monkeypatch):
    folder, train, test, _ = cifar_source
    _trust(monkeypatch, folder / natural_images.CIFAR10_ARCHIVE)
    with http_folder(folder) as url:
        out = data.prepare("cifar10", tmp_path / "cifar10.npz", tmp_path / "cache", urls=[url])
    splits = data.load(out)
    assert {k: v.shape for k, v in splits.items()} == {
        "train": (500, 3, 32, 32),
        "valid": (5_000, 3, 32, 32),
        "test": (CIFAR_TEST, 3, 32, 32),
    }
    assert all(v.dtype == np.uint8 for v in splits.values())
    # (N, H, W, C) -> (N, C, H, W): batches in order, the last 5,000 held out
    np.testing.assert_array_equal(splits["train"], train[:500].transpose(0, 3, 1, 2))
    np.testing.assert_array_equal(splits["valid"], train[500:].transpose(0, 3, 1, 2))
    np.testing.assert_array_equal(splits["test"], test.transpose(0, 3, 1, 2))
    assert splits["train"][7, 2, 31, 0] == train[7, 31, 0, 2]  # blue, last row, first column
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [natural_images.CIFAR10_ARCHIVE]


def test_cifar10_urls(tmp_path, monkeypatch):
    monkeypatch.delenv("INFUSION_CIFAR10_URLS", raising=False)
    source = data.source_for("cifar10", tmp_path)
    assert source.urls == ("https://www.cs.toronto.edu/~kriz/",)
    monkeypatch.setenv("INFUSION_CIFAR10_URLS", "file:///a/, http://127.0.0.1:9/b/")
    assert data.source_for("cifar10", tmp_path).urls == ("file:///a/", "http://127.0.0.1:9/b/")
    assert data.source_for("cifar10", tmp_path, ["file:///c/"]).urls == ("file:///c/",)


def test_cifar10_bad_checksum_leaves_nothing(cifar_source, tmp_path, monkeypatch):
    folder, *_ = cifar_source
    monkeypatch.setattr(natural_images, "CIFAR10_MD5", "0" * 32)
    out = tmp_path / "out" / "cifar10.npz"
    with pytest.raises(DownloadError, match="checksum mismatch") as info:
        data.prepare("cifar10", out, tmp_path / "cache", urls=[folder.as_uri()])
    assert natural_images.CIFAR10_ARCHIVE in str(info.value)
    assert nothing_written(out)
    assert list((tmp_path / "cache").iterdir()) == []


@pytest.mark.parametrize("damage", ["truncated", "missing-batch", "foreign-pickle"])
def test_cifar10_bad_archive_is_rejected(cifar_source, tmp_path, monkeypatch, damage):
    folder, _, _, members = cifar_source
    source = tmp_path / "source"
    source.mkdir()
    archive = source / natural_images.CIFAR10_ARCHIVE
    if damage == "truncated":
        whole = (folder / natural_images.CIFAR10_ARCHIVE).read_bytes()
        archive.write_bytes(whole[: len(whole) // 2])
        message = "not a readable CIFAR-10 tarball"
    elif damage == "missing-batch":
        _write_tar(archive, {k: v for k, v in members.items() if k != "data_batch_3"})
        message = "no file cifar-10-batches-py/data_batch_3"
    else:  # a pickle that would call a function when loaded
        evil = pickle.dumps({b"data": _Call()}, protocol=2)
        _write_tar(archive, {**members, "data_batch_1": evil})
        message = "refusing to load"
    _trust(monkeypatch, archive)
    out = tmp_path / "out" / "cifar10.npz"
    with pytest.raises(ValueError, match=message) as info:
        data.prepare("cifar10", out, tmp_path / "cache", urls=[source.as_uri()])
    assert natural_images.CIFAR10_ARCHIVE in str(info.value)
    assert nothing_written(out)


class _Call:
    """Unpickles as a call of ``time.time`` (harmless, but no CIFAR batch holds a call)."""

    def __reduce__(self):
        return (time.time, ())


# --- CelebA -----------------------------------------------------------------------------------

CELEBA_SPLITS = [0, 1, 0, 2, 0, 0, 1, 2, 0, 2, 1, 0]  # interleaved, as in no real file


def _face(seed: int) -> Image.Image:
    """A smooth random 178x218 RGB image (JPEG-friendly)."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (14, 12, 3), dtype=np.uint8)
    return Image.fromarray(small).resize((178, 218), Image.Resampling.BILINEAR)


def _jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=100, subsampling=0)
    return buffer.getvalue()


def _boxed_face() -> Image.Image:
    """Red inside the centred 108x108 box (35, 55)-(143, 163), blue outside it."""
    pixels = np.zeros((218, 178, 3), dtype=np.uint8)
    pixels[...] = (0, 0, 255)
    pixels[55:163, 35:143] = (255, 0, 0)
    return Image.fromarray(pixels)


def _expected_face(jpeg: bytes) -> np.ndarray:
    """The decoded JPEG, cropped by numpy slicing (rows 55:163, columns 35:143), then Lanczos."""
    pixels = np.asarray(Image.open(io.BytesIO(jpeg)).convert("RGB"))  # (218, 178, 3)
    crop = Image.fromarray(pixels[55:163, 35:143])
    return np.asarray(crop.resize((64, 64), Image.Resampling.LANCZOS)).transpose(2, 0, 1)


@pytest.fixture(scope="module")
def celeba_source(tmp_path_factory):
    """(folder with img_align_celeba.zip and list_eval_partition.txt, {name: jpeg bytes})."""
    folder = tmp_path_factory.mktemp("celeba")
    jpegs = {f"{i + 1:06d}.jpg": _jpeg(_face(i)) for i in range(len(CELEBA_SPLITS) - 1)}
    jpegs[f"{len(CELEBA_SPLITS):06d}.jpg"] = _jpeg(_boxed_face())
    with zipfile.ZipFile(folder / "img_align_celeba.zip", "w") as archive:
        for name, jpeg in jpegs.items():
            archive.writestr(f"img_align_celeba/{name}", jpeg)
    lines = [f"{name} {split}" for name, split in zip(jpegs, CELEBA_SPLITS, strict=True)]
    (folder / "list_eval_partition.txt").write_text("\n".join(lines) + "\n")
    return folder, jpegs


@pytest.fixture
def trust_celeba(monkeypatch):
    """Make the preparer expect the checksums of the files in ``folder``."""

    def trust(folder: Path):
        checksums = {name: md5sum(folder / name) for name in natural_images.CELEBA_MD5}
        monkeypatch.setattr(natural_images, "CELEBA_MD5", checksums)

    return trust


def _check_celeba(splits: dict, jpegs: dict) -> None:
    names = list(jpegs)
    for code, split in enumerate(data.SPLITS):
        chosen = [name for name, s in zip(names, CELEBA_SPLITS, strict=True) if s == code]
        assert splits[split].shape == (len(chosen), 3, 64, 64)
        assert splits[split].dtype == np.uint8
        expected = np.stack([_expected_face(jpegs[name]) for name in chosen])
        np.testing.assert_array_equal(splits[split], expected)
    # The boxed image (the last, a train image): only the red inside of the box survives.
    boxed = splits["train"][-1].astype(int)
    assert np.abs(boxed - np.array([255, 0, 0])[:, None, None]).max() <= 12


def test_celeba_over_http_through_the_cli(celeba_source, tmp_path, trust_celeba, caplog):
    folder, jpegs = celeba_source
    trust_celeba(folder)
    out = tmp_path / "celeba.npz"
    caplog.set_level(logging.INFO)
    with http_folder(folder) as url:
        cache = str(tmp_path / "cache")
        cli.main(["prepare", "celeba", "--out", str(out), "--cache", cache, "--url", url])
    _check_celeba(data.load(out), jpegs)
    assert f"celeba: {len(jpegs)}/{len(jpegs)} images" in caplog.text


def test_celeba_from_a_local_zip_or_folder(celeba_source, tmp_path, trust_celeba):
    folder, jpegs = celeba_source
    trust_celeba(folder)
    zipped = data.prepare("celeba", tmp_path / "a.npz", tmp_path / "cache", path=folder)
    _check_celeba(data.load(zipped), jpegs)
    assert not (tmp_path / "cache").exists(), "a local source is not copied"

    extracted = tmp_path / "extracted"
    shutil.copytree(folder, extracted, ignore=shutil.ignore_patterns("*.zip"))
    with zipfile.ZipFile(folder / "img_align_celeba.zip") as archive:
        archive.extractall(extracted)
    unzipped = data.prepare("celeba", tmp_path / "b.npz", tmp_path / "cache", path=extracted)
    _check_celeba(data.load(unzipped), jpegs)


def _replace_member(zip_path: Path, name: str, payload: bytes | None) -> None:
    """Rewrite ``zip_path`` with member ``name`` replaced by ``payload`` (None: removed)."""
    with zipfile.ZipFile(zip_path) as archive:
        members = {info.filename: archive.read(info) for info in archive.infolist()}
    if payload is None:
        del members[name]
    else:
        members[name] = payload
    with zipfile.ZipFile(zip_path, "w") as archive:
        for member, content in members.items():
            archive.writestr(member, content)


@pytest.mark.parametrize(
    "damage, error, message",
    [
        ("no-partition", FileNotFoundError, "holds no list_eval_partition.txt"),
        ("missing-image", ValueError, "1 image.* missing, e.g. 000003.jpg"),
        ("wrong-size", ValueError, "000002.jpg: 100x100 pixels, expected 178x218"),
        ("truncated-zip", ValueError, "img_align_celeba.zip: not a readable zip"),
        ("bad-line", ValueError, "list_eval_partition.txt, line 2"),
        ("bad-checksum", ValueError, "list_eval_partition.txt: checksum mismatch"),
    ],
)
def test_celeba_bad_source_is_rejected(
    celeba_source, tmp_path, trust_celeba, damage, error, message
):
    folder = tmp_path / "source"
    shutil.copytree(celeba_source[0], folder)
    zip_path, partition = folder / "img_align_celeba.zip", folder / "list_eval_partition.txt"
    if damage == "no-partition":
        partition.unlink()
    elif damage == "missing-image":
        _replace_member(zip_path, "img_align_celeba/000003.jpg", None)
    elif damage == "wrong-size":
        _replace_member(zip_path, "img_align_celeba/000002.jpg", _jpeg(_face(0).resize((100, 100))))
    elif damage == "truncated-zip":
        zip_path.write_bytes(zip_path.read_bytes()[:-200])
    elif damage == "bad-line":
        partition.write_text("000001.jpg 0\n000002.jpg train\n")
    if damage != "no-partition":
        trust_celeba(folder)
    if damage == "bad-checksum":
        partition.write_text(partition.read_text().replace(" 2\n", " 1\n"))
    out = tmp_path / "out" / "celeba.npz"
    with pytest.raises(error, match=message):
        data.prepare("celeba", out, tmp_path / "cache", path=folder)
    assert nothing_written(out)


def test_celeba_without_a_source_says_which_keys(tmp_path, monkeypatch):
    monkeypatch.delenv("INFUSION_CELEBA_URLS", raising=False)
    with pytest.raises(FileNotFoundError) as info:
        data.prepare("celeba", tmp_path / "celeba.npz", tmp_path / "cache")
    message = str(info.value)
    for fragment in ("data.celeba.path", "data.celeba.urls", "list_eval_partition.txt"):
        assert fragment in message
    assert list(tmp_path.iterdir()) == []


# --- TFD --------------------------------------------------------------------------------------

TFD_FOLDS = 5


@pytest.fixture
def tfd_file(tmp_path):
    """(TFD_48x48.mat, images (N, 48, 48), folds (N, 5)) with random fold assignments."""
    rng = np.random.default_rng(3)
    n = 60
    images = rng.integers(0, 256, (n, 48, 48), dtype=np.uint8)
    folds = rng.choice([0, 1, 2, 3], size=(n, TFD_FOLDS), p=[0.55, 0.15, 0.15, 0.15])
    path = tmp_path / "TFD_48x48.mat"
    scipy.io.savemat(
        path,
        {
            "images": images,
            "folds": folds.astype(np.int32),
            "labs_ex": rng.integers(1, 8, (n, 1)),
            "labs_id": rng.integers(1, 900, (n, 1)),
        },
    )
    return path, images, folds


def test_tfd_fold0_splits(tfd_file, tmp_path):
    path, images, folds = tfd_file
    splits = data.load(data.prepare("tfd", tmp_path / "tfd.npz", tmp_path / "cache", path=path))
    expected = {"train": [], "valid": [], "test": []}
    for image, code in zip(images, folds[:, 0], strict=True):  # fold 0's code per image
        split = {0: "train", 2: "valid", 3: "test"}.get(int(code))
        if split:
            expected[split].append(image[None])
    for split in data.SPLITS:
        assert splits[split].dtype == np.uint8
        np.testing.assert_array_equal(splits[split], np.stack(expected[split]))
    assert sum(len(v) for v in splits.values()) == np.isin(folds[:, 0], [0, 2, 3]).sum()


def test_tfd_absent_names_the_file_the_path_and_the_key(tmp_path):
    missing = tmp_path / "faces" / "TFD_48x48.mat"
    out = tmp_path / "out" / "tfd.npz"
    with pytest.raises(FileNotFoundError) as info:
        data.prepare("tfd", out, tmp_path / "cache", path=missing)
    message = str(info.value)
    for fragment in ("TFD_48x48.mat", str(missing), "data.tfd.path", "data.tfd.enabled: false"):
        assert fragment in message
    assert nothing_written(out)
    with pytest.raises(FileNotFoundError, match="data.tfd.path.*TFD_48x48.mat"):
        data.prepare("tfd", out, tmp_path / "cache")
    with pytest.raises(ValueError, match="never downloaded"):
        data.prepare("tfd", out, tmp_path / "cache", urls=["file:///tfd/"])


def test_tfd_absent_through_the_cli_exits_with_the_message(tmp_path, caplog):
    missing = tmp_path / "TFD_48x48.mat"
    with pytest.raises(SystemExit) as info:
        cli.main(["prepare", "tfd", "--out", str(tmp_path / "tfd.npz"), "--path", str(missing)])
    assert info.value.code == 1
    assert "Place the file TFD_48x48.mat" in caplog.text and str(missing) in caplog.text


@pytest.mark.parametrize("damage", ["no-folds", "not-a-mat", "float-images"])
def test_tfd_wrong_file_is_rejected(tfd_file, tmp_path, damage):
    path, images, folds = tfd_file
    if damage == "no-folds":
        scipy.io.savemat(path, {"images": images, "labs_ex": np.ones((len(images), 1))})
        message = r"no 'folds' array \(has \['images', 'labs_ex'\]\)"
    elif damage == "not-a-mat":
        path.write_bytes(b"this is no MATLAB file" * 10)
        message = "not a readable MATLAB file"
    else:
        scipy.io.savemat(path, {"images": images / 255.0, "folds": folds})
        message = "'images' is float64"
    out = tmp_path / "out" / "tfd.npz"
    with pytest.raises(ValueError, match=message) as info:
        data.prepare("tfd", out, tmp_path / "cache", path=path)
    assert "TFD_48x48.mat" in str(info.value)
    assert nothing_written(out)


# --- shapes16 ---------------------------------------------------------------------------------


def test_shapes16_is_deterministic_two_coloured_and_varied(tmp_path):
    started = time.perf_counter()
    first = data.load(data.prepare("shapes16", tmp_path / "a.npz", tmp_path / "cache"))
    assert time.perf_counter() - started < 1.0
    second = data.load(data.prepare("shapes16", tmp_path / "b.npz", tmp_path / "cache"))
    for split, size in zip(data.SPLITS, (500, 100, 100), strict=True):
        assert first[split].shape == (size, 3, 16, 16) and first[split].dtype == np.uint8
        np.testing.assert_array_equal(first[split], second[split])
        assert split_sizes("shapes16")[split] == size  # what `infusion cost` assumes
    images = np.concatenate([first[split] for split in data.SPLITS]).astype(int)
    fill_ratios = []
    for image in images:  # one image at a time, by brute force
        colours, counts = np.unique(image.reshape(3, -1).T, axis=0, return_counts=True)
        assert len(colours) == 2, "a background and one shape"
        assert np.abs(colours[0] - colours[1]).min() >= 64, "every channel contrasts"
        shape = np.all(image == colours[counts.argmin()][:, None, None], axis=0)
        rows, cols = np.nonzero(shape)
        box = (rows.max() - rows.min() + 1) * (cols.max() - cols.min() + 1)
        fill_ratios.append(shape.sum() / box)
    fill_ratios = np.array(fill_ratios)
    assert (fill_ratios == 1).sum() > 150, "squares fill their bounding box"
    assert ((fill_ratios > 0.7) & (fill_ratios < 1)).sum() > 150, "discs fill about 0.79"
    assert (fill_ratios <= 0.7).sum() > 150, "triangles fill about half"
    assert len(np.unique(images.reshape(len(images), -1), axis=0)) == len(images)


# --- configuration and workflow ---------------------------------------------------------------


def _config(**data_overrides) -> dict:
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    for name, settings in data_overrides.items():
        config["data"][name] = {**config["data"][name], **settings}
    return config


def test_enabled_datasets_and_schema():
    assert enabled_datasets(_config()) == ["cifar10", "celeba", "tfd"]
    assert enabled_datasets(_config(tfd={"enabled": False})) == ["cifar10", "celeba"]
    shapes = _config(cifar10={"enabled": False})
    shapes["natural_images"] = {"shapes16": {"steps": 2, "alpha0": 0.0, "omega": 0.1}}
    shapes["natural_images"] |= {"cifar10": _config()["natural_images"]["cifar10"]}
    assert enabled_datasets(shapes) == ["shapes16"]  # no data entry: enabled
    validate_config(_config(celeba={"path": "/data/celeba", "urls": ["file:///x/"]}))
    bad = [
        ({"tfd": {"enabled": "yes"}}, "data.tfd.enabled"),
        ({"cifar10": {"urls": ["ftp://x/"]}}, "data.cifar10.urls[0]"),
        ({"tfd": {"urls": ["file:///x/"]}}, "data.tfd"),
        ({"celeba": {"path": ""}}, "data.celeba.path"),
        ({"fashionmnist": {"md5": {"train-images-idx3-ubyte.gz": "8d4fb7e6"}}},
         "data.fashionmnist.md5.train-images-idx3-ubyte.gz"),
        ({"mnist": {"content_md5": {"labels.gz": "0" * 32}}}, "data.mnist.content_md5"),
    ]  # fmt: skip
    for overrides, key in bad:
        with pytest.raises(ConfigError, match=f"config key '{key}'".replace("[", r"\[")):
            validate_config(_config(**overrides))


def _workflow(folder: Path, overlay: dict) -> Path:
    for name in ("Snakefile", "config.yaml"):
        shutil.copy(REPO / name, folder)
    shutil.copytree(REPO / "workflow", folder / "workflow")
    (folder / "overlay.yaml").write_text(yaml.safe_dump(overlay))
    return folder


def _snakemake(folder: Path, *args: str) -> subprocess.CompletedProcess:
    command = ["snakemake", *args, "--configfile", "overlay.yaml"]
    return subprocess.run(command, cwd=folder, capture_output=True, text=True)


def test_workflow_plans_tfd_without_its_file_then_stops_naming_it(tmp_path):
    folder = _workflow(tmp_path, {"data": {"celeba": {"urls": ["file:///mirror dir/celeba/"]}}})
    planned = _snakemake(folder, "-n", "-p", "results/data/tfd.npz", "results/data/celeba.npz")
    assert planned.returncode == 0, planned.stderr
    assert "--path data/TFD_48x48.mat" in planned.stdout
    assert "--url 'file:///mirror dir/celeba/'" in planned.stdout

    absent = _snakemake(folder, "--cores", "1", "results/data/tfd.npz")
    assert absent.returncode != 0
    said = (folder / "results/logs/prepare_data/tfd.log").read_text()
    assert "Place the file TFD_48x48.mat" in said
    assert "data/TFD_48x48.mat" in said and "data.tfd.path" in said
    assert not (folder / "results/data/tfd.npz").exists()

    (folder / "data").mkdir()
    (folder / "data" / "TFD_48x48.mat").write_bytes(b"placeholder")
    planned = _snakemake(folder, "-n", "-p", "results/data/tfd.npz")
    assert planned.returncode == 0, planned.stderr
    assert "input: data/TFD_48x48.mat" in planned.stdout
