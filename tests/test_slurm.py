"""The tiny study submitted to a real SLURM cluster through the SLURM profile.

`.ci/run` starts a single-node cluster (tests/slurm/cluster.sh: slurmctld, slurmd, munge,
slurmdbd with MariaDB, four fake GPUs) before the suite, so on CI this test always runs.
Elsewhere it runs when `sinfo` answers and is skipped otherwise.
"""

import os
import shutil
import subprocess
import time

import numpy as np
import pandas as pd
import pytest
import torch
from workflow_runs import TINY, snakemake, workflow_copy

GPU_RULES = {"train", "evaluate_grid_point", "sample_grid_point", "evaluate_likelihood",
             "sample_final"}  # fmt: skip
# Tables whose every number comes from the models (runtimes.csv holds wall-clock times).
TABLES = ["tableA.1", "table3.1", "fig3.4"]


def cluster_answers() -> bool:
    if shutil.which("sinfo") is None:
        return False
    result = subprocess.run(["sinfo", "-h", "-o", "%a"], capture_output=True, text=True)
    return result.returncode == 0 and "up" in result.stdout


@pytest.fixture(scope="module")
def slurm_study(tmp_path_factory):
    if not cluster_answers():
        if os.environ.get("CI") == "true":
            pytest.fail("no SLURM cluster answers: .ci/run should have started one")
        pytest.skip("no SLURM cluster answers; start one with `tests/slurm/cluster.sh start`")
    folder = workflow_copy(tmp_path_factory.mktemp("slurm"))
    started = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(time.time() - 1))
    # As users run it, with the profile; only the first status query comes sooner.
    run = snakemake(folder, "--profile", "workflow/profiles/slurm", "--configfile", TINY,
                    "--slurm-init-seconds-before-status-checks", "2")  # fmt: skip
    accounting = subprocess.run(
        ["sacct", "-X", "--noheader", "--parsable2", "--starttime", started,
         "--format=JobID,Comment,AllocTRES,State"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    jobs = pd.DataFrame(
        [line.split("|") for line in accounting.splitlines()],
        columns=["job", "comment", "tres", "state"],
    )
    # snakemake comments each job "rule_<name>_wildcards_<values>" (or "rule_<name>").
    jobs["rule"] = jobs.comment.str.extract(r"^rule_(\w+?)(?:_wildcards_.*)?$", expand=False)
    return folder, run.stdout + run.stderr, jobs


def test_every_job_went_through_sbatch_and_completed(slurm_study):
    folder, log, jobs = slurm_study
    submitted = log.count("has been submitted with SLURM jobid")
    assert submitted > 0 and len(jobs) == submitted, (submitted, jobs)
    assert (jobs.state == "COMPLETED").all(), jobs
    assert jobs.rule.notna().all(), jobs
    # Downloads and the tables stay on the submitting machine (localrules).
    assert not {"prepare_data", "table_a1", "scorecard"} & set(jobs.rule)


def test_gpu_rules_were_allocated_a_gpu_and_the_rest_none(slurm_study):
    folder, log, jobs = slurm_study
    has_gpu = jobs.tres.str.contains("gres/gpu=1")
    on_gpu_rule = jobs.rule.isin(GPU_RULES)
    assert (jobs.rule == "train").sum() == len(list(folder.glob("results/runs/*/*/model.pt")))
    assert (has_gpu == on_gpu_rule).all(), jobs[["rule", "tres"]]
    # The job used the device SLURM gave it instead of taking a slot of its own.
    for log_file in folder.glob("results/logs/train/*/*.log"):
        assert "set by the caller: no GPU slot taken" in log_file.read_text(), log_file


def test_results_equal_a_local_run(slurm_study, tiny_study):
    folder, log, jobs = slurm_study
    on_slurm = folder / "results"
    for table in TABLES:
        pd.testing.assert_frame_equal(
            pd.read_csv(on_slurm / "tables" / f"{table}.csv"),
            pd.read_csv(tiny_study / "tables" / f"{table}.csv"),
        )
    models = sorted(p.relative_to(on_slurm) for p in on_slurm.glob("runs/*/*/model.pt"))
    assert models == sorted(p.relative_to(tiny_study) for p in tiny_study.glob("runs/*/*/model.pt"))
    for model in models:
        ours = torch.load(on_slurm / model, weights_only=False)["state"]
        local = torch.load(tiny_study / model, weights_only=False)["state"]
        assert ours.keys() == local.keys()
        for key in ours:
            np.testing.assert_array_equal(ours[key].numpy(), local[key].numpy(), err_msg=key)
