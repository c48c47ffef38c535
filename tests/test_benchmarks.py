"""The benchmark command runs in its reduced mode and prints well-formed JSON lines."""

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "run.py"


def test_quick_benchmark_prints_well_formed_lines():
    result = subprocess.run([sys.executable, str(SCRIPT), "--quick", "--device", "cpu"],
                            capture_output=True, text=True, check=True)  # fmt: skip
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    names = {line["name"] for line in lines}
    for line in lines:
        assert {"name", "value", "unit"} <= set(line), line
        assert isinstance(line["value"], float | int) and line["value"] == line["value"], line
    for name in ("train_mlp_gflops", "evaluate_gflops", "parzen_gflops"):
        assert 0 < next(x for x in lines if x["name"] == name)["fraction_of_peak"]
    expected = {"matmul_peak_fp32", "train_mlp_examples_per_s", "evaluate_chain_steps_per_s",
                "sample_chains_per_s", "parzen_pairs_per_s", "scaling_train_vs_steps",
                "scaling_train_vs_examples", "scaling_evaluate_vs_chains",
                "scaling_parzen_vs_samples", "plan_paper_study_s", "plan_1000_points_s",
                "job_startup_s", "train_mlp_bf16_examples_per_s",
                "lower_bound_fp32_vs_bf16", "startup_python_s", "startup_torch_s",
                "startup_cli_help_s", "startup_table_job_s"}  # fmt: skip
    assert expected <= names
