"""The benchmark command runs in its reduced mode and prints well-formed JSON lines."""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from infusion.nets.model import InfusionModel
from infusion.settings import ModelSettings

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "run.py"


def test_quick_benchmark_prints_well_formed_lines():
    result = subprocess.run([sys.executable, str(SCRIPT), "--quick", "--device", "cpu"],
                            capture_output=True, text=True, check=True)  # fmt: skip
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    names = {line["name"] for line in lines}
    for line in lines:
        assert {"name", "value", "unit"} <= set(line), line
        assert isinstance(line["value"], float | int) and line["value"] == line["value"], line
    for name in (
        "train_mlp_gflops",
        "evaluate_gflops",
        "train_mlp_compiled_gflops",
        "evaluate_compiled_gflops",
        "parzen_gflops",
        "train_conv_cifar10_gflops",
        "train_conv_celeba_gflops",
    ):
        line = next(x for x in lines if x["name"] == name)
        assert 0 < line["fraction_of_peak"] and 0 < line["peak_gflops"], line
        # the fraction is of the peak timed beside the workload, which the line states
        # (printed to 3 decimals, the peak to 1)
        expected = line["value"] / line["peak_gflops"]
        assert line["fraction_of_peak"] == pytest.approx(expected, rel=0.01, abs=6e-4)
    expected = {"matmul_peak_fp32", "train_mlp_examples_per_s", "evaluate_chain_steps_per_s",
                "sample_chains_per_s", "parzen_pairs_per_s", "scaling_train_vs_steps",
                "scaling_train_vs_examples", "scaling_evaluate_vs_chains",
                "scaling_parzen_vs_samples", "plan_paper_study_s", "plan_1000_points_s",
                "snakemake_import_s", "job_startup_s", "train_mlp_bf16_examples_per_s",
                "lower_bound_fp32_vs_bf16", "lower_bound_compiled_vs_eager",
                "train_conv_cifar10_examples_per_s",
                "train_conv_celeba_examples_per_s", "startup_python_s", "startup_torch_s",
                "startup_cli_help_s", "startup_table_job_s"}  # fmt: skip
    assert expected <= names


@pytest.mark.parametrize("shape, kernel", [((3, 32, 32), 5), ((3, 64, 64), 4), ((1, 8, 8), 3)])
def test_conv_flop_count_matches_torchs_counter(shape, kernel):
    """The analytic count behind fraction_of_peak equals what torch counts for a forward and
    a backward pass whose input (a detached chain draw) needs no gradient."""
    spec = importlib.util.spec_from_file_location("measures", SCRIPT.with_name("measures.py"))
    measures = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(measures)
    settings = ModelSettings(steps=2, network="conv", conv_channels=16, conv_kernel=kernel)
    model = InfusionModel(settings, shape)
    z = torch.rand(6, model.dim)
    with FlopCounterMode(display=False) as counter:
        mean, var = model.operator(z, 1)
    forward = counter.get_total_flops()
    with FlopCounterMode(display=False) as counter:
        (mean.sum() + var.sum()).backward()
    assert measures.conv_flops_per_step(model, 6) == (forward, counter.get_total_flops())


def test_device_check_script_runs_end_to_end_in_its_quick_mode(digits_npz, tmp_path):
    """The GPU session's prepared script, on a CPU with tiny sizes and no benchmarks: it
    trains for a number of epochs (TRAIN_EPOCHS, so that the outcome does not depend on the
    machine's speed, unlike the GPU run's TRAIN_SECONDS), writes the model at the epoch
    reached, and scores it three ways that must agree (compile reduce-overhead is compile
    default on a CPU)."""
    out = tmp_path / "check"
    env = {**os.environ, "OUT": str(out), "DEVICE": "cpu", "QUICK": "1", "BENCHMARKS": "0",
           "TRAIN_EPOCHS": "2", "TRAIN_SECONDS": "1", "TRAIN_COMPILE": "none",
           "DATA": str(digits_npz), "PYTHON": sys.executable}  # fmt: skip
    script = SCRIPT.parent / "device_check.sh"
    result = subprocess.run(["bash", str(script)], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    epochs = int(result.stdout.split("stopped after epoch ")[1].split(";")[0])
    assert epochs == 2 and "resumed from" in result.stderr
    metrics = (out / "metrics.csv").read_text().splitlines()[1:]  # epoch 0 (init) onwards
    assert [int(row.split(",")[0]) for row in metrics] == list(range(epochs + 1))
    tables = {p.stem: json.loads(p.read_text()) for p in out.glob("test-*.json")}
    assert set(tables) == {"test-none-fp32", "test-reduce-overhead-fp32", "test-none-tf32"}
    bounds = [t["lower_bound"]["mean"] for t in tables.values()]
    assert max(bounds) - min(bounds) < 1e-3 * abs(bounds[0]), bounds
    parzen = json.loads((out / "parzen.json").read_text())
    assert parzen["sigma"] == 0.17 and f"after {epochs} epochs" in result.stdout


def test_device_check_script_names_a_missing_dataset_before_any_work(tmp_path):
    env = {**os.environ, "OUT": str(tmp_path / "check"), "DATA": str(tmp_path / "none.npz")}
    script = SCRIPT.parent / "device_check.sh"
    result = subprocess.run(["bash", str(script)], env=env, capture_output=True, text=True)
    assert result.returncode == 2 and "no dataset at" in result.stderr
    assert str(tmp_path / "none.npz") in result.stderr and not (tmp_path / "check").exists()
