"""Fashion-MNIST at full size from the folder of Debian's package dataset-fashion-mnist,
through the workflow's prepare_data rule, the real reader and the checksums.

.ci/run installs the package; without it (a developer machine not on Debian) these tests
are skipped.
"""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import numpy as np
import pytest
import yaml
from workflow_runs import snakemake, workflow_copy

from infusion.data import mnist
from infusion.data import registry as data
from infusion.data.download import DownloadError

DEBIAN_FOLDER = Path("/usr/share/datasets/fashion-mnist")
OVERLAY = "workflow/configs/fashion.yaml"
TRAIN, TEST = "train-images-idx3-ubyte.gz", "t10k-images-idx3-ubyte.gz"
PREPARED = "results/data/fashionmnist.npz"
LOG = "results/logs/prepare_data/fashionmnist.log"

pytestmark = pytest.mark.skipif(
    not (DEBIAN_FOLDER / TRAIN).exists(),
    reason=f"{DEBIAN_FOLDER} absent: apt-get install dataset-fashion-mnist (.ci/run does)",
)


def _parse_idx(path: Path) -> np.ndarray:
    """The array of a gzipped IDX file, read from its format: two zero bytes, a type code
    (0x08: unsigned byte), the number of dimensions, each dimension as a big-endian uint32,
    then the values."""
    raw = gzip.decompress(path.read_bytes())
    assert raw[:2] == b"\0\0" and raw[2] == 0x08
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw[4 + 4 * ndim :], dtype=np.uint8).reshape(dims)


def _md5(raw: bytes) -> str:
    return hashlib.md5(raw).hexdigest()


def test_prepare_data_reads_the_debian_copy_by_its_content_checksum(tmp_path):
    folder = workflow_copy(tmp_path)
    snakemake(folder, PREPARED, "--cores", "1", "--configfile", OVERLAY)
    splits = data.load(folder / PREPARED)
    assert {split: a.shape for split, a in splits.items()} == {
        "train": (50_000, 1, 28, 28),
        "valid": (10_000, 1, 28, 28),
        "test": (10_000, 1, 28, 28),
    }
    assert all(a.dtype == np.uint8 for a in splits.values())
    assert all(a.min() == 0 and a.max() == 255 for a in splits.values())
    train, test = _parse_idx(DEBIAN_FOLDER / TRAIN), _parse_idx(DEBIAN_FOLDER / TEST)
    assert train.shape == (60_000, 28, 28) and test.shape == (10_000, 28, 28)
    np.testing.assert_array_equal(splits["train"][:, 0], train[:50_000])
    np.testing.assert_array_equal(splits["valid"][:, 0], train[50_000:])
    np.testing.assert_array_equal(splits["test"][:, 0], test)
    # Debian's files were compressed anew: accepted by the content, and the log says so.
    debian_md5 = _md5((DEBIAN_FOLDER / TRAIN).read_bytes())
    assert debian_md5 != mnist.FASHION_MNIST_MD5[TRAIN]
    assert f"md5 {debian_md5} is not the published" in (folder / LOG).read_text()


def test_wrong_md5_in_the_config_stops_naming_the_file_and_both_checksums(tmp_path):
    folder = workflow_copy(tmp_path)
    wrong = "0123456789abcdef" * 2
    overlay = {"data": {"fashionmnist": {"content_md5": {TEST: wrong}}}}
    (folder / "wrong.yaml").write_text(yaml.safe_dump(overlay))
    result = snakemake(
        folder, PREPARED, "--cores", "1", "--configfile", OVERLAY, "wrong.yaml", check=False
    )
    assert result.returncode != 0
    assert not (folder / PREPARED).exists()
    (error,) = [line for line in (folder / LOG).read_text().splitlines() if "ERROR" in line]
    raw = (DEBIAN_FOLDER / TEST).read_bytes()
    assert error.endswith(
        f"{DEBIAN_FOLDER / TEST}: checksum mismatch: expected md5 bef4ecab320f06d8554ea6380940ec79"
        f" of the file or {wrong} of its decompressed content, got {_md5(raw)}"
        f" and {_md5(gzip.decompress(raw))}"
    )


def test_download_of_the_debian_files_fails_the_published_md5(tmp_path):
    """A download must match the published MD5, which the files compressed anew do not."""
    with pytest.raises(DownloadError) as info:
        data.prepare(
            "fashionmnist", tmp_path / "f.npz", tmp_path / "cache", urls=[DEBIAN_FOLDER.as_uri()]
        )
    published = "8d4fb7e6c68d591d4c3dfef9ec88bf0d"  # README of zalandoresearch/fashion-mnist
    debian = _md5((DEBIAN_FOLDER / TRAIN).read_bytes())
    assert f"checksum mismatch: expected md5 {published}, got {debian}" in str(info.value)
    assert not (tmp_path / "f.npz").exists()
