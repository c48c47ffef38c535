"""Part of the tiny study submitted to a real SLURM cluster through the SLURM profile.

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
import yaml
from workflow_runs import TINY, snakemake, workflow_copy

GPU_RULES = {"train", "evaluate_grid_point", "sample_grid_point", "evaluate_likelihood",
             "sample_final", "inpaint", "inception", "inception_real", "cost_estimate",
             "estimate_convergence", "sample_steps", "evaluate_objective_point",
             "sample_objective_point", "search_proposal", "evaluate_tightest"}  # fmt: skip
# What the cluster makes: Table 3.1 and Fig 3.4, every number from the final models (their
# training, likelihood, proposal search, samples and Parzen jobs: 17 of the tiny study's 105,
# GPU rules and others; the whole study once cost CI about 10 minutes of sbatch round trips).
# The local run of the whole study makes the same files.
TABLES = ["table3.1", "fig3.4"]


def cluster_answers() -> bool:
    if shutil.which("sinfo") is None:
        return False
    result = subprocess.run(["sinfo", "-h", "-o", "%a"], capture_output=True, text=True)
    return result.returncode == 0 and "up" in result.stdout


@pytest.fixture(scope="module")
def slurm_cluster():
    if not cluster_answers():
        if os.environ.get("CI") == "true":
            pytest.fail("no SLURM cluster answers: .ci/run should have started one")
        pytest.skip("no SLURM cluster answers; start one with `tests/slurm/cluster.sh start`")


def now() -> str:
    """A time for `sacct --starttime` just before now."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(time.time() - 1))


def accounting(since: str) -> pd.DataFrame:
    """sacct's record of the jobs that started since `since`, one row per job, with its rule."""
    fields = ["JobID", "Comment", "AllocTRES", "State", "Timelimit"]
    out = subprocess.run(
        ["sacct", "-X", "--noheader", "--parsable2", "--starttime", since,
         f"--format={','.join(fields)}"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    jobs = pd.DataFrame([line.split("|") for line in out.splitlines()],
                        columns=["job", "comment", "tres", "state", "limit"])  # fmt: skip
    # snakemake comments each job "rule_<name>_wildcards_<values>" (or "rule_<name>").
    jobs["rule"] = jobs.comment.str.extract(r"^rule_(\w+?)(?:_wildcards_.*)?$", expand=False)
    return jobs


def slurm_args(*args):
    """snakemake's arguments as users give them with the SLURM profile (only the first status
    query comes sooner than the profile's 20 s)."""
    return [*args, "--profile", "workflow/profiles/slurm",
            "--slurm-init-seconds-before-status-checks", "2"]  # fmt: skip


@pytest.fixture(scope="module")
def slurm_study(slurm_cluster, tmp_path_factory):
    folder = workflow_copy(tmp_path_factory.mktemp("slurm"))
    started = now()
    targets = [f"results/tables/{table}.csv" for table in TABLES]
    run = snakemake(folder, *targets, *slurm_args("--configfile", TINY))
    return folder, run.stdout + run.stderr, accounting(started)


def test_every_job_went_through_sbatch_and_completed(slurm_study):
    folder, log, jobs = slurm_study
    submitted = log.count("has been submitted with SLURM jobid")
    assert submitted > 0 and len(jobs) == submitted, (submitted, jobs)
    assert (jobs.state == "COMPLETED").all(), jobs
    assert jobs.rule.notna().all(), jobs
    # Downloads and the tables stay on the submitting machine (localrules).
    assert not {"prepare_data", "table_a_1", "scorecard"} & set(jobs.rule)


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
    local_models = {p.relative_to(tiny_study) for p in tiny_study.glob("runs/*/*/model.pt")}
    seeds = yaml.safe_load((folder / TINY).read_text())["training"]["seeds"]
    assert len(models) == len(seeds) and set(models) <= local_models, models  # final models
    for model in models:
        ours = torch.load(on_slurm / model, weights_only=False)["state"]
        local = torch.load(tiny_study / model, weights_only=False)["state"]
        assert ours.keys() == local.keys()
        for key in ours:
            np.testing.assert_array_equal(ours[key].numpy(), local[key].numpy(), err_msg=key)


def test_killed_training_is_resubmitted_with_a_longer_limit_and_resumes(slurm_cluster, tmp_path):
    folder = workflow_copy(tmp_path)
    # Long enough a run that the kill lands during training.
    (folder / "slow.yaml").write_text(
        yaml.safe_dump({"training": {"epochs": 60}, "model": {"hidden": 128}})
    )
    target = "results/runs/digits/T3-a0-w0.1/model.pt"
    curves = folder / target.replace("model.pt", "metrics.csv")
    started = now()
    command = ["snakemake", *slurm_args(target, "--configfile", TINY, "slow.yaml")]
    process = subprocess.Popen(command, cwd=folder, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)  # fmt: skip
    deadline = time.time() + 300
    while not (curves.exists() and len(curves.read_text().splitlines()) > 5):
        assert process.poll() is None and time.time() < deadline, "training ended too early"
        time.sleep(0.2)
    running = subprocess.run(["squeue", "-h", "-o", "%i %k"], capture_output=True, text=True)
    train_jobs = [line.split()[0] for line in running.stdout.splitlines() if "rule_train" in line]
    assert len(train_jobs) == 1, running.stdout
    # SIGTERM to every process of the job, as SLURM sends at a time limit or a preemption.
    # (A plain scancel is recorded as "CANCELLED by <uid>", which the plugin does not read
    # as a failure: it would wait for that job forever.)
    subprocess.run(["scancel", "--full", "--signal=TERM", train_jobs[0]], check=True)
    try:
        output, _ = process.communicate(timeout=600)
    finally:
        process.kill()
    assert process.returncode == 0, output[-4000:]

    jobs = accounting(started)
    trains = jobs[jobs.rule == "train"]
    assert trains.state.tolist() == ["FAILED", "COMPLETED"], jobs
    first, second = (pd.Timedelta(limit) for limit in trains.limit)
    assert second == 2 * first  # the profile's runtime grows with each attempt
    log = (folder / "results/logs/train/digits/T3-a0-w0.1.log").read_text()
    assert "resumed from" in log
    assert pd.read_csv(curves).epoch.tolist() == list(range(61))
