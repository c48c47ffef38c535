"""Fault injection on single jobs: SIGTERM during training, a full disk, corrupt
checkpoints, bad dataset files. Each test enters its trials in tests/fault_ledger.py."""

from __future__ import annotations

import dataclasses
import gzip
import json
import logging
import os
import shlex
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import tiny_model
from fault_ledger import CI, record, rng, trials
from test_training import train_command

from infusion.cli import main
from infusion.data import mnist
from infusion.data.download import md5sum
from infusion.data.registry import load
from infusion.nets.model import save_model
from infusion.runtime.atomic import DiskFullError
from infusion.settings import ModelSettings, TrainSettings
from infusion.training.checkpoints import CorruptCheckpoint, read_checkpoint, write_checkpoint
from infusion.training.trainer import Trainer

pytestmark = pytest.mark.faults
EPOCHS = 12  # of train_command's runs
GRACE_S = 30  # SLURM's default KillWait between SIGTERM and SIGKILL


def same_state(path_a, path_b) -> bool:
    a = torch.load(path_a, weights_only=False)["state"]
    b = torch.load(path_b, weights_only=False)["state"]
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@pytest.fixture(scope="module")
def undisturbed(digits_npz, tmp_path_factory):
    """train_command's run, uninterrupted: its folder."""
    folder = tmp_path_factory.mktemp("undisturbed")
    subprocess.run(train_command(digits_npz, folder, EPOCHS), check=True, capture_output=True)
    return folder


def metric_rows(folder) -> int:
    metrics = folder / "run" / "metrics.csv"
    return len(metrics.read_text().splitlines()) - 1 if metrics.exists() else 0


def test_sigterm_stops_training_after_its_checkpoint_and_the_rerun_resumes(
    digits_npz, tmp_path, undisturbed
):
    count, random_points = trials(full=4, ci=2), rng("SIGTERM")
    failures = []
    for trial in range(count):
        folder = tmp_path / f"trial{trial}"
        rows = random_points.randint(1, EPOCHS - 2)  # after this many epochs, plus a fraction
        fraction = random_points.uniform(0, 1)
        process = subprocess.Popen(train_command(digits_npz, folder, EPOCHS),
                                   stderr=subprocess.PIPE, text=True)  # fmt: skip
        while metric_rows(folder) < rows + 1 and process.poll() is None:
            time.sleep(0.005)
        started = time.time()
        time.sleep(fraction * 0.2)
        process.send_signal(signal.SIGTERM)
        try:
            _, said = process.communicate(timeout=GRACE_S)
        except subprocess.TimeoutExpired:
            process.kill()
            failures.append(f"trial {trial}: still running {GRACE_S} s after SIGTERM")
            continue
        checkpoint = folder / "checkpoint.pt"
        epoch = read_checkpoint(checkpoint)["epoch"]
        problems = [
            process.returncode != 1 and f"exit status {process.returncode}, not 1",
            "stopped by SIGTERM" not in said and "no message saying SIGTERM stopped it",
            str(checkpoint) not in said.splitlines()[-1] and "the message names no checkpoint",
            "Traceback" in said and "a traceback",
            (folder / "run" / "model.pt").exists() and "a model.pt of an unfinished run",
            metric_rows(folder) != epoch + 1 and "curves and checkpoint disagree",
        ]
        rerun = subprocess.run(train_command(digits_npz, folder, EPOCHS), capture_output=True,
                               text=True)  # fmt: skip
        problems += [
            f"resumed from {checkpoint} after epoch {epoch}" not in rerun.stderr
            and "the rerun did not resume from the checkpoint",
            rerun.returncode == 0
            and not same_state(undisturbed / "run/model.pt", folder / "run/model.pt")
            and "the resumed model differs from the undisturbed one",
        ]
        failures += [
            f"trial {trial} (SIGTERM {time.time() - started:.2f} s into epoch {rows + 1}): {p}"
            for p in problems
            if p
        ]
    record("SIGTERM during training", failures, count)


@pytest.fixture
def small_disk(tmp_path):
    """A 2 MiB tmpfs (needs root, as in CI); unmounted afterwards."""
    folder = tmp_path / "disk"
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(folder)],
                             capture_output=True, text=True)  # fmt: skip
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs (root only): {mounted.stderr.strip()}")
    yield folder
    subprocess.run(["umount", str(folder)], check=True)


def fill(folder) -> None:
    """Fill ``folder``'s file system to the last byte."""
    with open(folder / "filler", "wb") as f:
        try:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        except OSError:
            pass


def one_line_error(caplog, argv) -> str:
    """Run the CLI, which must exit with status 1 and one ERROR line; return the line."""
    caplog.clear()
    with pytest.raises(SystemExit) as exited:
        main(argv)
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert exited.value.code == 1 and len(errors) == 1, errors
    assert "\n" not in errors[0], errors[0]
    return errors[0]


def test_disk_full_says_so_naming_the_file_and_keeps_the_previous_version(
    digits_npz, small_disk, tmp_path, caplog
):
    failures = []

    def check(what, target, before: bytes, message: str):
        if "disk full" not in message or str(target) not in message:
            failures.append(f"{what}: the message does not say disk full at {target}: {message}")
        if target.read_bytes() != before:
            failures.append(f"{what}: the previous {target.name} was changed")
        left = sorted(p.name for p in small_disk.iterdir()) + sorted(
            p.name for p in target.parent.iterdir()
        )
        if any(name.startswith(".") for name in left):
            failures.append(f"{what}: temporary files left: {left}")

    # a checkpoint: one epoch trained, the disk fills, the second epoch's checkpoint fails
    checkpoint = small_disk / "checkpoint.pt"
    args = [*train_command(digits_npz, tmp_path, 1)[3:]]
    args[args.index("--checkpoint") + 1] = str(checkpoint)
    main(args)
    before = checkpoint.read_bytes()
    fill(small_disk)
    args[args.index("--epochs") + 1] = "2"
    check("checkpoint", checkpoint, before, one_line_error(caplog, args))
    if read_checkpoint(checkpoint)["epoch"] != 1:
        failures.append("checkpoint: the previous checkpoint does not hold epoch 1")
    (small_disk / "filler").unlink()

    # a model
    settings = TrainSettings(epochs=1, batch_size=64, curve_examples=64)
    trainer = Trainer(ModelSettings(steps=2, hidden=16), settings, load(digits_npz),
                      tmp_path / "m", tmp_path / "m.pt")  # fmt: skip
    model = trainer.run()
    target = small_disk / "model.pt"
    save_model(model, target)
    before = target.read_bytes()
    fill(small_disk)
    try:
        save_model(model, target)
        failures.append("model: written on a full disk")
    except DiskFullError as error:
        check("model", target, before, str(error))
    (small_disk / "filler").unlink()

    # a table
    target = small_disk / "fig3.4.csv"
    parzen = tmp_path / "parzen.json"
    result = {"split": "test", "sigma": 0.17, "mean": -10.0, "stderr": 0.1, "samples": 9}
    parzen.write_text(json.dumps(result))
    main(["artifact", "fig3.4", "--parzen", str(parzen), "--out", str(target)])
    before = target.read_bytes()
    fill(small_disk)
    message = one_line_error(caplog, ["artifact", "fig3.4", "--parzen", str(parzen), "--out",
                                      str(target)])  # fmt: skip
    check("table", target, before, message)
    record("disk full", failures, 3)


def corruptions(good: bytes, random_points, flips: int, cuts: int):
    """(description, bytes) of damaged copies of a checkpoint."""
    for _ in range(flips):
        damaged = bytearray(good)
        position = random_points.randrange(len(good))
        damaged[position] ^= 1 << random_points.randrange(8)
        yield f"bit flip at byte {position}", bytes(damaged)
    for _ in range(cuts):
        length = random_points.randrange(len(good))
        yield f"cut to {length} of {len(good)} bytes", good[:length]
    yield "cut in half", good[: len(good) // 2]
    yield "empty", b""
    yield "an HTML error page", b"<html><body>502 Bad Gateway</body></html>\n"


def test_corrupt_checkpoint_is_reported_and_training_starts_afresh(digits_npz, tmp_path, caplog):
    random_points = rng("corrupt checkpoint")
    flips, cuts = trials(full=12, ci=3), trials(full=6, ci=1)
    model, train = ModelSettings(steps=2, hidden=16), TrainSettings(epochs=2, batch_size=64,
                                                                   curve_examples=64)  # fmt: skip
    dataset = load(digits_npz)
    reference = tmp_path / "reference"
    Trainer(model, train, dataset, reference, tmp_path / "reference.pt").run()
    good = (tmp_path / "reference.pt").read_bytes()
    failures, count = [], 0
    for trial, (what, damaged) in enumerate(corruptions(good, random_points, flips, cuts)):
        count += 1
        checkpoint = tmp_path / f"checkpoint{trial}.pt"
        checkpoint.write_bytes(damaged)
        try:
            read_checkpoint(checkpoint)
            failures.append(f"{what}: read without complaint")
        except CorruptCheckpoint as error:
            if str(checkpoint) not in str(error):
                failures.append(f"{what}: the message names no file: {error}")
        caplog.clear()
        out = tmp_path / f"run{trial}"
        Trainer(model, train, dataset, out, checkpoint).run()
        warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        if not any(str(checkpoint) in w and "starts afresh" in w for w in warned):
            failures.append(f"{what}: no warning naming the checkpoint: {warned}")
        if not same_state(reference / "model.pt", out / "model.pt"):
            failures.append(f"{what}: the model trained afresh differs from the reference")
    record("corrupt checkpoint", failures, count)


def bad_prepared_files(folder):
    """(description, path) of prepared datasets that break the npz contract."""
    good = np.zeros((4, 1, 8, 8), dtype=np.uint8)
    cases = {
        "wrong shape": {"train": good, "valid": good, "test": good.reshape(4, 64)},
        "wrong dtype": {"train": good.astype(np.float32), "valid": good, "test": good},
        "missing split": {"train": good, "valid": good},
    }
    for what, arrays in cases.items():
        path = folder / f"{what.replace(' ', '-')}.npz"
        np.savez(path, **arrays)
        yield what, path
    path = folder / "html.npz"
    path.write_text("<html><body>404 Not Found</body></html>\n")
    yield "an HTML page", path
    path = folder / "cut.npz"
    np.savez(path, train=good, valid=good, test=good)
    path.write_bytes(path.read_bytes()[:100])
    yield "truncated", path


def bad_raw_files(folder, monkeypatch):
    """(description, source folder, whether its checksums are trusted) of MNIST raw files."""
    header = gzip.compress(b"\0\0\x08\x03" + b"\0" * 12 + b"\0" * 640)
    for what, content, trusted in [
        ("raw file truncated", header[: len(header) // 2], True),
        ("HTML page under the expected name", b"<html>503 Service Unavailable</html>", True),
        ("wrong checksum", header, False),
    ]:
        source = folder / what.replace(" ", "-")
        source.mkdir()
        for name in mnist.MNIST_MD5:
            (source / name).write_bytes(content)
        yield what, source, trusted


def test_bad_dataset_files_stop_with_one_line_naming_the_file(tmp_path, caplog, monkeypatch):
    failures, count = [], 0
    for what, path in bad_prepared_files(tmp_path):
        count += 1
        argv = ["train", "--data", str(path), "--out", str(tmp_path / "run"), "--checkpoint",
                str(tmp_path / "c.pt")]  # fmt: skip
        message = one_line_error(caplog, argv)
        if str(path) not in message:
            failures.append(f"{what}: the message names no file: {message}")
    checksums = dict(mnist.MNIST_MD5)
    for what, source, trusted in bad_raw_files(tmp_path, monkeypatch):
        count += 1
        files = {name: md5sum(source / name) for name in checksums} if trusted else checksums
        monkeypatch.setattr(mnist, "MNIST_MD5", files)
        out = tmp_path / "prepared" / "mnist.npz"
        argv = ["prepare", "mnist", "--out", str(out), "--cache", str(tmp_path / what),
                "--url", source.as_uri() + "/"]  # fmt: skip
        caplog.clear()
        with pytest.raises(SystemExit) as exited:
            main(argv)
        errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
        if exited.value.code != 1 or len(errors) != 1:
            failures.append(f"{what}: exit {exited.value.code}, errors {errors}")
        elif not any(name in errors[0] for name in checksums):
            failures.append(f"{what}: the message names no file: {errors[0]}")
        if out.exists():
            failures.append(f"{what}: a prepared file was written")
    record("bad dataset files", failures, count)


def test_a_rewrite_removes_the_temporary_files_a_killed_writer_left(tmp_path):
    """kill -9 leaves ``.NAME.XXXX.SUFFIX`` behind (no handler runs); the job's rerun, which
    writes NAME again, removes it, and leaves other targets' temporary files alone."""
    import sys

    from infusion.runtime.atomic import atomic_path

    target = tmp_path / "table.csv"
    writer = (
        "import os, sys, time\n"
        "from infusion.runtime.atomic import atomic_path\n"
        "with atomic_path(sys.argv[1]) as tmp:\n"
        "    tmp.write_text('half')\n"
        "    print(tmp, flush=True)\n"
        "    time.sleep(60)\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", writer, str(target)], stdout=subprocess.PIPE, text=True
    )
    stale = Path(process.stdout.readline().strip())
    process.kill()
    process.wait()
    assert stale.exists() and stale.name.startswith(".table.csv.") and not target.exists()
    other = tmp_path / ".other.csv.abcd.csv"
    other.write_text("another target's")
    with atomic_path(target) as tmp:
        tmp.write_text("a,b\n1,2\n")
    assert target.read_text() == "a,b\n1,2\n"
    assert not stale.exists() and other.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [".other.csv.abcd.csv", "table.csv"]


# --- malicious model and checkpoint files -----------------------------------------------


class Planted:
    """An object whose unpickling calls ``call(*args)``: what a shared model file could hide."""

    def __init__(self, call, args):
        self.call, self.args = call, args

    def __reduce__(self):
        return self.call, self.args


def planted(marker: Path) -> dict:
    """Objects whose unpickling would create ``marker``, by the ways a pickle can."""
    return {
        "os.system": Planted(os.system, (f"touch {shlex.quote(str(marker))}",)),
        "pathlib touch": Planted(Path.touch, (marker,)),
        "builtins.exec": Planted(exec, (f"open({str(marker)!r}, 'w').close()",)),
    }


def test_malicious_model_and_checkpoint_files_are_refused_unread(digits_npz, tmp_path, caplog):
    """A model file (read by sample, evaluate, convergence, inpaint) and a checkpoint with a
    right checksum (read by train), each holding an object whose unpickling would create a
    file: each command stops with one line naming the file, and the file is not created."""
    settings = TrainSettings(epochs=1, batch_size=64, curve_examples=64)
    trainer = Trainer(ModelSettings(steps=2, hidden=16), settings, load(digits_npz),
                      tmp_path / "run", tmp_path / "good.pt")  # fmt: skip
    model = trainer.run()
    state = read_checkpoint(tmp_path / "good.pt")
    train_args = ["--data", str(digits_npz), "--out", str(tmp_path / "out"), "--steps", "2",
                  "--hidden", "16", "--epochs", "1", "--batch-size", "64", "--curve-examples",
                  "64", "--checkpoint"]  # fmt: skip
    commands = {  # the model is refused before anything is computed
        "sample": [],
        "evaluate": ["--data", str(digits_npz)],
        "convergence": ["--data", str(digits_npz)],
        "inpaint": ["--data", str(digits_npz)],
    }
    failures, count = [], 0

    # the bait works: read as code, each object creates its file
    for what, bait in planted(tmp_path / "control").items():
        torch.save({"x": bait}, tmp_path / "control.pt")
        torch.load(tmp_path / "control.pt", weights_only=False)
        if not (tmp_path / "control").exists():
            failures.append(f"{what}: the bait creates no file even when run")
        (tmp_path / "control").unlink(missing_ok=True)

    for what, bait in planted(marker := tmp_path / "created").items():
        name = what.replace(" ", "-").replace(".", "-")
        model_file = tmp_path / f"model-{name}.pt"
        save_model(model, model_file, best_epoch=bait)
        checkpoint = tmp_path / f"checkpoint-{name}.pt"
        write_checkpoint(checkpoint, {**state, "metrics": [*state["metrics"], bait]})
        before = checkpoint.read_bytes()
        runs = [(f"{command} of a model file", model_file,
                 [command, "--model", str(model_file), "--out", str(tmp_path / "o"), *flags])
                for command, flags in commands.items()]  # fmt: skip
        runs.append(("train from a checkpoint", checkpoint, ["train", *train_args,
                                                             str(checkpoint)]))  # fmt: skip
        for run, path, argv in runs:
            count += 1
            try:
                message = one_line_error(caplog, argv)
            except (Exception, pytest.fail.Exception) as error:  # an uncaught one, too
                failures.append(f"{what}, {run}: not one error line and exit 1: {error}")
                continue
            if str(path) not in message or "refused" not in message:
                failures.append(f"{what}, {run}: the message names no file: {message}")
            if marker.exists():
                failures.append(f"{what}, {run}: its code ran")
                marker.unlink()
        if checkpoint.read_bytes() != before:
            failures.append(f"{what}: the refused checkpoint was changed")
    record("malicious model and checkpoint files", failures, count)


# --- stale checkpoints: by epochs, by data, by settings ---------------------------------

STALE_MODEL = ModelSettings(steps=2, omega=0.1, hidden=16)
STALE_TRAIN = TrainSettings(epochs=2, batch_size=64, curve_examples=64, chain_epochs=1,
                            parzen_samples=64, device="cpu")  # fmt: skip


def small_digits(digits_npz, caplog) -> dict:
    """256 of each split; and caplog set to keep "resumed from" (INFO) messages."""
    caplog.set_level(logging.INFO, logger="infusion")
    return {split: images[:256] for split, images in load(digits_npz).items()}


def train_from(folder: Path, checkpoint: bytes | None, data, model=STALE_MODEL, **train):
    """A run in ``folder`` (from a copy of ``checkpoint``, if given); returns its folder."""
    folder.mkdir(parents=True)
    if checkpoint is not None:
        (folder / "checkpoint.pt").write_bytes(checkpoint)
    settings = dataclasses.replace(STALE_TRAIN, **train)
    Trainer(model, settings, data, folder / "run", folder / "checkpoint.pt").run()
    return folder


def same_run(folder_a: Path, folder_b: Path) -> bool:
    best = {json.loads((f / "run/summary.json").read_text())["best_epoch"]
            for f in (folder_a, folder_b)}  # fmt: skip
    return len(best) == 1 and same_state(folder_a / "run/model.pt", folder_b / "run/model.pt")


def stale_problems(caplog, folder: Path, fresh: Path, stale_because: str | None) -> list[str]:
    """What is wrong with a run from an old checkpoint (one trial): it must equal the fresh
    run, and warn once naming the checkpoint and ``stale_because`` (or, if None, resume
    without a word)."""
    checkpoint = folder / "checkpoint.pt"
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    resumed = any("resumed from" in r.getMessage() for r in caplog.records)
    aside = checkpoint.with_name("checkpoint.pt.stale").exists()
    if stale_because is None:
        problems = [warned and f"warned: {warned}", not resumed and "did not resume",
                    aside and "moved the checkpoint aside"]  # fmt: skip
    else:
        said = warned[0] if len(warned) == 1 else ""
        problems = [
            not (str(checkpoint) in said and stale_because in said and "afresh" in said)
            and f"not one warning naming the checkpoint and {stale_because!r}: {warned}",
            resumed and "resumed the stale checkpoint",
            not aside and "the stale checkpoint was not moved aside",
        ]
    if not same_run(folder, fresh):
        problems.append("the model differs from a fresh run's")
    return [p for p in problems if p]


def test_stale_checkpoints_by_epochs_start_afresh_and_longer_runs_resume(
    digits_npz, tmp_path, caplog
):
    """A checkpoint of D epochs, asked for A: A < D starts afresh, A >= D resumes; either
    way the model equals a fresh A-epoch run's."""
    data, fresh = small_digits(digits_npz, caplog), {}
    pairs = [(3, 1), (2, 3), (2, 2)] if CI else [(d, a) for d in (1, 2, 3) for a in (1, 2, 3)]
    for epochs in sorted({e for pair in pairs for e in pair}):
        fresh[epochs] = train_from(tmp_path / f"fresh{epochs}", None, data, epochs=epochs)
    failures = []
    for done, asked in pairs:
        caplog.clear()
        checkpoint = (fresh[done] / "checkpoint.pt").read_bytes()
        folder = train_from(tmp_path / f"{done}-then-{asked}", checkpoint, data, epochs=asked)
        because = f"epochs {done} -> {asked}" if asked < done else None
        if problems := stale_problems(caplog, folder, fresh[asked], because):
            failures.append(f"{done} epochs done, {asked} asked: {'; '.join(problems)}")
    record("stale checkpoint by epochs", failures, len(pairs))


def other_data(data: dict) -> dict:
    """(description, dataset, the split that differs or None) of data changed from ``data``."""
    valid = data["valid"].copy()
    valid[3, 0, 4, 4] ^= 1
    test = data["test"].copy()
    test[0] = 255 - test[0]
    return {
        "train inverted": ({**data, "train": 255 - data["train"]}, "data train split"),
        "one valid pixel": ({**data, "valid": valid}, "data valid split"),
        "train reordered": ({**data, "train": data["train"][::-1]}, "data train split"),
        "one train image fewer": ({**data, "train": data["train"][1:]}, "data train split"),
        "only test changed": ({**data, "test": test}, None),
    }


def test_stale_checkpoints_by_data_start_afresh(digits_npz, tmp_path, caplog):
    data = small_digits(digits_npz, caplog)
    old = train_from(tmp_path / "old", None, data)
    cases = other_data(data)
    if CI:
        cases = {k: cases[k] for k in ("train inverted", "one valid pixel", "only test changed")}
    failures = []
    for trial, (what, (changed, because)) in enumerate(cases.items()):
        fresh = train_from(tmp_path / f"fresh{trial}", None, changed)
        caplog.clear()
        folder = train_from(tmp_path / f"stale{trial}", (old / "checkpoint.pt").read_bytes(),
                            changed)  # fmt: skip
        if problems := stale_problems(caplog, folder, fresh, because):
            failures.append(f"{what}: {'; '.join(problems)}")
    record("stale checkpoint by data", failures, len(cases))


# (model or training field, other value; None: the checkpoint resumes)
OTHER_SETTINGS = [
    ("lr", 2e-3), ("seed", 1), ("batch_size", 32), ("objective", "lower_bound"),
    ("curve_examples", 32), ("dequantize_targets", True), ("chain_targets", 2),
    ("parzen_every", 1), ("omega", 0.2), ("alpha0", 0.1), ("steps", 3), ("hidden", 24),
    ("rate_index", "code"), ("beta", 0.2), ("device", "auto"),
]  # fmt: skip


def test_stale_checkpoints_by_settings_start_afresh(digits_npz, tmp_path, caplog):
    """Each setting changed alone: the checkpoint is moved aside naming it, and the model
    equals a fresh run's; the device may differ (it resumes)."""
    data = small_digits(digits_npz, caplog)
    old = (train_from(tmp_path / "old", None, data) / "checkpoint.pt").read_bytes()
    cases = OTHER_SETTINGS
    if CI:  # three changes at random, and the device
        cases = [*rng("stale settings").sample(OTHER_SETTINGS[:-1], 3), OTHER_SETTINGS[-1]]
    failures = []
    model_fields = {f.name for f in dataclasses.fields(ModelSettings)}
    for key, value in cases:
        before = getattr(STALE_MODEL if key in model_fields else STALE_TRAIN, key)
        if key in model_fields:
            model, train = dataclasses.replace(STALE_MODEL, **{key: value}), {}
        else:
            model, train = STALE_MODEL, {key: value}
        fresh = train_from(tmp_path / f"fresh-{key}", None, data, model, **train)
        caplog.clear()
        folder = train_from(tmp_path / f"stale-{key}", old, data, model, **train)
        because = None if key == "device" else f"{key} {before} -> {value}"
        if problems := stale_problems(caplog, folder, fresh, because):
            failures.append(f"{key} {value}: {'; '.join(problems)}")
    record("stale checkpoint by settings", failures, len(cases))


# --- command-line input: every bad flag, split, shape or target named in one line ---------


def command_line_cases(folder: Path, digits_npz: Path):
    """(description, argv, what the message must name) of bad command-line input."""
    model, other_shape = folder / "model.pt", folder / "model-2x2.pt"
    save_model(model_of(digits_npz), model)
    save_model(tiny_model(dim=4, steps=2), other_shape)  # on 1 x 1 x 4 images
    empty = folder / "empty-test.npz"
    arrays = load(digits_npz)
    np.savez(empty, train=arrays["train"], valid=arrays["valid"], test=arrays["test"][:0])
    out = str(folder / "out.json")
    evaluate = ["evaluate", "--model", str(model), "--data", str(digits_npz), "--examples", "2",
                "--chains", "2", "--repetitions", "1", "--isotropic-examples", "0"]  # fmt: skip
    (folder / "a-folder.json").mkdir()
    (folder / "a-file").write_text("")
    yield "an empty split", [*evaluate[:4], str(empty), *evaluate[5:], "--out", out], [
        str(empty), "'test'"]  # fmt: skip
    yield "another image shape", [evaluate[0], "--model", str(other_shape), *evaluate[3:],
                                  "--out", out], [str(other_shape), str(digits_npz)]  # fmt: skip
    yield "--chains -3", [*evaluate, "--chains", "-3", "--out", out], ["--chains", "-3"]
    yield "--examples 0", [*evaluate, "--examples", "0", "--out", out], ["--examples"]
    yield "--samples 0", ["sample", "--model", str(model), "--samples", "0", "--out", out], [
        "--samples"]  # fmt: skip
    yield (
        "--split tset",
        [*evaluate, "--split", "tset", "--out", out],
        ["'tset'", "train, valid, test"],
    )
    parzen = ["parzen", "--real-centres", "3", "--data", str(digits_npz), "--examples", "3"]
    yield "parzen --split tset", [*parzen, "--split", "tset", "--out", out], ["'tset'"]
    for what, target in [
        ("--out an existing folder", folder / "a-folder.json"),
        ("--out under a file", folder / "a-file" / "out.json"),
        ("--out in a read-only place", Path("/sys/out.json")),
    ]:
        yield what, [*evaluate, "--out", str(target)], [f"cannot write {target}"]


def model_of(digits_npz: Path):
    """An untrained model on the images of the prepared dataset ``digits_npz``."""
    from infusion.nets.model import InfusionModel

    torch.manual_seed(0)
    shape = load(digits_npz)["train"].shape[1:]
    return InfusionModel(ModelSettings(steps=2, hidden=16), shape)


def test_bad_command_line_input_stops_with_one_line_naming_it(digits_npz, tmp_path, caplog):
    failures, count = [], 0
    for what, argv, named in command_line_cases(tmp_path, digits_npz):
        count += 1
        caplog.clear()
        try:
            with pytest.raises(SystemExit) as exited:
                main(argv)
        except BaseException as error:  # a traceback: the input was not checked
            failures.append(f"{what}: {type(error).__name__}: {error}")
            continue
        errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
        if exited.value.code != 1 or len(errors) != 1 or "\n" in errors[0]:
            failures.append(f"{what}: exit {exited.value.code}, errors {errors}")
        elif not all(name in errors[0] for name in named):
            failures.append(f"{what}: the message does not name {named}: {errors[0]}")
    record("command-line input", failures, count)
