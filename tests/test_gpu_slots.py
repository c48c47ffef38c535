"""GPU slots: concurrent jobs get distinct devices, slots are freed and reclaimed (no GPU
needed: INFUSION_GPU_IDS simulates devices)."""

from __future__ import annotations

import fcntl
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from infusion.cli import build_parser, main
from infusion.runtime import gpu_slots
from infusion.runtime.gpu_slots import GpuSlotTimeout, Slot, gpu_slot, slot_path

REPO = Path(__file__).resolve().parent.parent

# One job: take a slot, record device, slot, CUDA_VISIBLE_DEVICES and when it held the slot.
JOB = """
import os, sys, time
from infusion.runtime.gpu_slots import gpu_slot
jobs_per_gpu, lock_dir, out, hold = int(sys.argv[1]), sys.argv[2], sys.argv[3], float(sys.argv[4])
with gpu_slot(jobs_per_gpu, lock_dir, timeout=60, poll=0.02) as slot:
    start = time.time()
    print("held", flush=True)
    time.sleep(hold)
    end = time.time()
    visible = os.environ["CUDA_VISIBLE_DEVICES"]
with open(out, "w") as f:
    f.write(f"{slot.device} {slot.index} {visible} {start} {end}")
"""


@pytest.fixture
def env(monkeypatch):
    """A clean environment: no preset CUDA_VISIBLE_DEVICES, no lock folder override."""
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    monkeypatch.delenv("INFUSION_GPU_LOCK_DIR", raising=False)
    return monkeypatch


def start_job(tmp_path, name, jobs_per_gpu, hold, ids):
    environ = {k: v for k, v in os.environ.items() if k != "CUDA_VISIBLE_DEVICES"}
    environ |= {"INFUSION_GPU_IDS": ids, "PYTHONPATH": str(REPO)}
    out = tmp_path / f"{name}.txt"
    args = [str(jobs_per_gpu), str(tmp_path / "locks"), str(out), str(hold)]
    process = subprocess.Popen(
        [sys.executable, "-c", JOB, *args], env=environ, stdout=subprocess.PIPE, text=True
    )
    return process, out


def run_jobs(tmp_path, count, jobs_per_gpu, ids, hold=1.5):
    jobs = [start_job(tmp_path, f"job{i}", jobs_per_gpu, hold, ids) for i in range(count)]
    results = []
    for process, out in jobs:
        assert process.wait(timeout=120) == 0
        device, index, visible, start, end = out.read_text().split()
        results.append((device, int(index), visible, float(start), float(end)))
    return results


def overlapping(results):
    return [
        (a, b)
        for i, a in enumerate(results)
        for b in results[i + 1 :]
        if a[3] < b[4] and b[3] < a[4]
    ]


def test_concurrent_jobs_get_distinct_devices(tmp_path):
    results = run_jobs(tmp_path, count=3, jobs_per_gpu=1, ids="0,1")
    for device, _, visible, _, _ in results:
        assert device in ("0", "1") and visible == device
    pairs = overlapping(results)
    assert pairs, "the jobs never ran at the same time: the test proves nothing"
    for a, b in pairs:
        assert a[0] != b[0]
    # two slots: the third job waited until one of the first two had finished
    assert len(pairs) <= 2


def test_two_jobs_share_one_device_with_two_slots(tmp_path):
    results = run_jobs(tmp_path, count=2, jobs_per_gpu=2, ids="0")
    assert overlapping(results)
    assert sorted((device, index) for device, index, *_ in results) == [("0", 0), ("0", 1)]
    assert {visible for _, _, visible, _, _ in results} == {"0"}


def test_slot_of_a_dead_process_is_reclaimed(tmp_path, env):
    env.setenv("INFUSION_GPU_IDS", "0")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    path = slot_path(tmp_path, Slot("0", 0))
    path.write_text(f"{dead.pid}\n")
    with gpu_slot(1, tmp_path, timeout=0) as slot:
        assert slot == Slot("0", 0)
        assert path.read_text() == f"{os.getpid()}\n"


def test_slot_of_a_killed_process_is_free(tmp_path):
    process, _ = start_job(tmp_path, "killed", 1, hold=60, ids="0")
    assert process.stdout.readline() == "held\n"
    process.send_signal(signal.SIGKILL)
    process.wait()
    second, out = start_job(tmp_path, "next", 1, hold=0, ids="0")
    assert second.wait(timeout=60) == 0
    assert out.read_text().split()[:2] == ["0", "0"]


def test_slot_is_released_on_exit_and_on_exception(tmp_path, env):
    env.setenv("INFUSION_GPU_IDS", "7")
    with gpu_slot(1, tmp_path, timeout=0) as slot:
        assert slot == Slot("7", 0)
        assert os.environ["CUDA_VISIBLE_DEVICES"] == "7"
    assert "CUDA_VISIBLE_DEVICES" not in os.environ
    with pytest.raises(RuntimeError, match="inside"):
        with gpu_slot(1, tmp_path, timeout=0):
            raise RuntimeError("inside")
    assert "CUDA_VISIBLE_DEVICES" not in os.environ
    with gpu_slot(1, tmp_path, timeout=0) as slot:  # free again: no wait
        assert slot == Slot("7", 0)


def test_busy_slots_time_out_naming_the_holder(tmp_path, env):
    env.setenv("INFUSION_GPU_IDS", "0")
    path = slot_path(tmp_path, Slot("0", 0))
    with open(path, "w") as holder:
        fcntl.flock(holder, fcntl.LOCK_EX)
        holder.write("12345\n")
        holder.flush()
        started = time.monotonic()
        with pytest.raises(GpuSlotTimeout, match="PID 12345"):
            with gpu_slot(1, tmp_path, timeout=0.3, poll=0.05):
                pass
        assert time.monotonic() - started >= 0.3
    assert "CUDA_VISIBLE_DEVICES" not in os.environ


def test_no_gpu_leaves_the_environment_alone(tmp_path, env):
    env.delenv("INFUSION_GPU_IDS", raising=False)
    env.setenv("PATH", str(tmp_path / "empty"))  # no nvidia-smi
    env.setattr("torch.cuda.device_count", lambda: 0)
    with gpu_slot(1, tmp_path / "locks") as slot:
        assert slot is None
        assert "CUDA_VISIBLE_DEVICES" not in os.environ
    assert not (tmp_path / "locks").exists()


def test_preset_cuda_visible_devices_is_kept(tmp_path, env):
    env.setenv("INFUSION_GPU_IDS", "0,1")
    env.setenv("CUDA_VISIBLE_DEVICES", "3")
    with gpu_slot(1, tmp_path / "locks") as slot:
        assert slot is None
        assert os.environ["CUDA_VISIBLE_DEVICES"] == "3"
    assert os.environ["CUDA_VISIBLE_DEVICES"] == "3"
    assert not (tmp_path / "locks").exists()


def test_devices_counted_by_nvidia_smi(tmp_path, env):
    env.delenv("INFUSION_GPU_IDS", raising=False)
    smi = tmp_path / "nvidia-smi"
    smi.write_text(
        "#!/bin/sh\n"
        "echo 'GPU 0: NVIDIA H100 (UUID: GPU-aaaa)'\n"
        "echo '  MIG 1g.10gb Device 0: (UUID: MIG-bbbb)'\n"
        "echo 'GPU 1: NVIDIA H100 (UUID: GPU-cccc)'\n"
    )
    smi.chmod(0o755)
    env.setenv("PATH", str(tmp_path))
    assert gpu_slots.device_ids() == ["0", "1"]


def test_lock_folder_from_the_environment(tmp_path, env):
    env.setenv("INFUSION_GPU_IDS", "0")
    env.setenv("INFUSION_GPU_LOCK_DIR", str(tmp_path / "from-env"))
    with gpu_slot(1) as slot:
        assert slot_path(tmp_path / "from-env", slot).exists()


def test_cli_accepts_gpu_slots():
    parser = build_parser()
    args = parser.parse_args(["--gpu-slots", "2", "sample", "--model", "m.pt", "--out", "o"])
    assert args.gpu_slots == 2
    assert parser.parse_args(["sample", "--model", "m.pt", "--out", "o"]).gpu_slots == 0


def test_cli_command_runs_inside_a_slot_and_logs_its_device(tmp_path, env, caplog):
    env.setenv("INFUSION_GPU_IDS", "5")
    env.setenv("INFUSION_GPU_LOCK_DIR", str(tmp_path / "locks"))
    missing = str(tmp_path / "missing.pt")  # fails after the slot is taken, before any CUDA
    command = ["sample", "--model", missing, "--out", str(tmp_path / "s"), "--device", "cpu"]
    with caplog.at_level(logging.INFO), pytest.raises(SystemExit):
        main(["--gpu-slots", "1", *command])
    assert "using GPU 5 (slot 0)" in caplog.text
    assert "CUDA_VISIBLE_DEVICES" not in os.environ
