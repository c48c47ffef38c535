"""The study interpreter: snakemake's merge, the grid and its named runs, the natural-image
part, split sizes; each against snakemake itself, folders spelled by hand, or the data."""

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from snakemake.utils import update_config

from infusion import config_schema, study
from infusion.data import registry

ROOT = Path(__file__).resolve().parent.parent
CONFIG = yaml.safe_load((ROOT / "config.yaml").read_text())

# (base, overlay): every kind of value snakemake's update_config meets
MERGE_CASES = [
    ({"a": {"x": 1, "y": 2}}, {"a": {"y": 3}}),  # dict into dict
    ({"a": {"b": {"c": 1, "d": 2}}}, {"a": {"b": {"d": 4}, "e": 5}}),  # nested two deep
    ({"a": [1, 2, 3]}, {"a": [4]}),  # a list replaced
    ({"a": {"x": 1}}, {"a": [1]}),  # a list over a dict
    ({"a": [1]}, {"a": {"x": 1}}),  # a dict over a list
    ({"a": [1]}, {"a": {}}),  # an empty dict over a list: the list stays
    ({"a": {"x": 1}}, {"a": None}),  # None replaces
    ({"a": None}, {"a": {"x": 1}}),  # a dict over None
    ({"a": 1}, {"b": {"c": {"d": 2}}, "e": [3]}),  # new keys
    ({"a": {"x": 1}}, {"a": {}}),  # an empty dict merges nothing
]


@pytest.mark.parametrize("base, overlay", MERGE_CASES)
def test_merge_is_snakemakes_update_config(base, overlay):
    expected = copy.deepcopy(base)
    update_config(expected, copy.deepcopy(overlay))
    before = copy.deepcopy(base)
    assert study.merged(base, overlay) == expected
    assert base == before  # the base is left as it was


def test_a_study_is_loaded_as_snakemake_loads_its_config_files(tmp_path):
    """Two overlays that disagree: snakemake's own config (dumped by a Snakefile) is the
    study's, defaults aside (every key here is set)."""
    (tmp_path / "config.yaml").write_text((ROOT / "config.yaml").read_text())
    overlays = [
        {"grid": [{"panel": "b", "steps": 5, "alpha0": [0.0], "omega": [0.0, 0.1]}],
         "final": {"steps": 5, "alpha0": 0.0, "omega": 0.1},
         "constant_rate": {"steps": 5, "alpha0": 0.0}, "model": {"hidden": 64}},
        {"model": {"layers": 1}, "training": {"seeds": [3, 4]}, "report": {"notes": []}},
    ]  # fmt: skip
    for i, overlay in enumerate(overlays):
        (tmp_path / f"o{i}.yaml").write_text(yaml.safe_dump(overlay))
    (tmp_path / "Snakefile").write_text(
        'import json\nconfigfile: "config.yaml"\n'
        'json.dump(config, open("seen.json", "w"))\n'
        "rule all:\n    shell: 'true'\n"
    )
    subprocess.run(
        [sys.executable, "-m", "snakemake", "-n", "-q", "--configfile", "o0.yaml", "o1.yaml"],
        cwd=tmp_path, check=True, capture_output=True,
    )  # fmt: skip
    seen = json.loads((tmp_path / "seen.json").read_text())
    loaded = study.load(tmp_path / "config.yaml", [tmp_path / "o0.yaml", tmp_path / "o1.yaml"])
    # a stage's device, precision and compile are the section compute's (test_defaults.py)
    for section, keys in config_schema.COMPUTE_KEYS.items():
        for key in keys:
            assert loaded[section].pop(key) == seen["compute"][key]
    assert loaded == seen
    assert loaded["model"]["hidden"] == 64 and loaded["model"]["layers"] == 1


def test_a_bad_file_is_named(tmp_path):
    (tmp_path / "list.yaml").write_text("- 1\n- 2\n")
    (tmp_path / "broken.yaml").write_text("a: [1\n")
    for name in ("list.yaml", "broken.yaml"):
        with pytest.raises(study.ConfigError, match=name) as info:
            study.load(ROOT / "config.yaml", [tmp_path / name])
        assert "\n" not in str(info.value)


def test_grid_points_and_run_folders_spelled_by_hand():
    config = {
        **CONFIG,
        "grid": [
            {"panel": "c", "steps": 10, "alpha0": [0.0], "omega": [0.0, 0.05]},
            {"panel": "e", "steps": 10, "alpha0": [0.0, 0.08], "omega": [0.0]},
        ],
    }
    assert study.grid_points(config) == [(10, 0.0, 0.0), (10, 0.0, 0.05), (10, 0.08, 0.0)]
    assert study.panel_runs(config) == [
        ("c", "results/runs/mnist/T10-a0-w0"),
        ("c", "results/runs/mnist/T10-a0-w0.05"),
        ("e", "results/runs/mnist/T10-a0-w0"),
        ("e", "results/runs/mnist/T10-a0.08-w0"),
    ]
    assert study.grid_runs(config) == [
        "results/runs/mnist/T10-a0-w0",
        "results/runs/mnist/T10-a0-w0.05",
        "results/runs/mnist/T10-a0.08-w0",
    ]
    assert (
        study.run_folder("cifar10", 20, 0, 0.02, "_seed1")
        == "results/runs/cifar10/T20-a0-w0.02_seed1"
    )


def test_the_papers_grid_the_named_runs_and_their_check():
    # Table A.1's panels: 12 + 8 + 8 + 7 + 7 + 6 points; (10, 0, 0) and (15, 0, 0) are shared
    assert len(study.panel_runs(CONFIG)) == 48 and len(study.grid_points(CONFIG)) == 46
    assert study.final_run(CONFIG) == "results/runs/mnist/T15-a0-w0.01"
    assert study.final_run(CONFIG, "cifar10") == "results/runs/cifar10/T20-a0-w0.02"
    assert study.constant_run(CONFIG) == "results/runs/mnist/T15-a0.06-w0"
    study.check_named_points(CONFIG)
    off = {**CONFIG, "final": {"steps": 15, "alpha0": 0.0, "omega": 0.5}}
    with pytest.raises(study.ConfigError, match="config key 'final'"):
        study.check_named_points(off)


def test_natural_image_datasets_and_their_sections():
    assert study.natural_datasets(CONFIG) == ["cifar10", "celeba", "tfd"]
    own = {**CONFIG, "dataset": "cifar10"}
    assert study.natural_datasets(own) == ["celeba", "tfd"]  # the study's own is the grid's
    model = study.section(CONFIG, "model", "cifar10")
    assert model["network"] == "conv" and model["hidden"] == CONFIG["model"]["hidden"]
    assert study.section(own, "model", "cifar10") == CONFIG["model"]
    view = study.natural_view(CONFIG, "cifar10")
    assert view["dataset"] == "cifar10" and view["grid"] == []
    assert view["final"] == {"steps": 20, "alpha0": 0.0, "omega": 0.02}
    assert view["training"]["epochs"] == 300 and view["training"]["lr"] == 1e-3
    assert view["sampling"]["samples"] == 50000
    assert CONFIG["training"]["epochs"] == 1500  # the study's own sections are untouched


@pytest.mark.parametrize("dataset", ["digits", "mnist5k", "shapes16"])
def test_split_sizes_are_those_of_the_prepared_data(dataset, tmp_path):
    splits = registry.load(registry.prepare(dataset, tmp_path / "d.npz", tmp_path / "cache"))
    assert study.split_sizes(dataset) == {split: len(splits[split]) for split in registry.SPLITS}


def test_published_split_sizes_and_tfd_unknown():
    assert study.split_sizes("mnist") == {"train": 50000, "valid": 10000, "test": 10000}
    assert study.split_sizes("cifar10") == {"train": 45000, "valid": 5000, "test": 10000}
    assert study.split_sizes("celeba") == {"train": 162770, "valid": 19867, "test": 19962}
    assert study.split_sizes("tfd") is None
