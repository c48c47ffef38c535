"""The checked readers of intermediates (infusion/runtime/reading.py): a file cut short,
a key or a column missing, each named with the advice to delete it."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from infusion.runtime.reading import CorruptFile, read_csv, read_json, read_npz


def cut(path, length):
    path.write_bytes(path.read_bytes()[:length])
    return path


def test_an_intact_file_reads_back_what_was_written(tmp_path):
    np.savez_compressed(tmp_path / "a.npz", means=np.arange(6.0), shape=np.array([1, 2, 3]))
    arrays = read_npz(tmp_path / "a.npz", "means")
    assert list(arrays) == ["means"] and np.array_equal(arrays["means"], np.arange(6.0))
    (tmp_path / "a.json").write_text(json.dumps({"mean": 1.5, "split": "test"}, indent=2))
    assert read_json(tmp_path / "a.json", "mean") == {"mean": 1.5, "split": "test"}
    pd.DataFrame({"epoch": [0, 1], "x": [0.5, 1.5]}).to_csv(tmp_path / "a.csv", index=False)
    assert read_csv(tmp_path / "a.csv", ["epoch"])["x"].tolist() == [0.5, 1.5]


@pytest.mark.parametrize("length", [0, 10, 200, -30, -2])  # -1: only the final newline
def test_a_cut_file_is_named_with_the_advice_to_delete_it(tmp_path, length):
    np.savez_compressed(tmp_path / "s.npz", means=np.random.default_rng(0).normal(size=500))
    (tmp_path / "s.json").write_text(json.dumps({"mean": -1.0, "rows": list(range(50))}) + "\n")
    pd.DataFrame({"epoch": range(40), "x": np.linspace(0, 1, 40)}).to_csv(
        tmp_path / "s.csv", index=False
    )
    for path, read in [
        (tmp_path / "s.npz", lambda p: read_npz(p, "means")),
        (tmp_path / "s.json", lambda p: read_json(p, "mean")),
        (tmp_path / "s.csv", lambda p: read_csv(p, ["epoch", "x"])),
    ]:
        size = path.stat().st_size
        cut(path, length % size if length < 0 else min(length, size - 2))
        with pytest.raises(CorruptFile) as error:
            read(path)
        message = str(error.value)
        assert message.startswith(f"{path} is corrupt or truncated (") and "\n" not in message
        assert message.endswith("delete it to have it remade")


def test_a_missing_key_array_or_column_is_named(tmp_path):
    np.savez(tmp_path / "a.npz", shape=np.array([1, 2, 3]))
    (tmp_path / "a.json").write_text('{"split": "test"}\n')
    (tmp_path / "a.csv").write_text("epoch\n0\n")
    for read, name in [
        (lambda: read_npz(tmp_path / "a.npz", "means", "shape"), "no array 'means'"),
        (lambda: read_json(tmp_path / "a.json", "split", "mean"), "no 'mean'"),
        (lambda: read_csv(tmp_path / "a.csv", ["epoch", "x"]), "no column 'x'"),
    ]:
        with pytest.raises(CorruptFile, match=name):
            read()
