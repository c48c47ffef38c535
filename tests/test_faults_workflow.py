"""Fault injection on the whole workflow: jobs killed with SIGKILL, two snakemakes on one
results folder, fuzzed configs. Each test enters its trials in tests/fault_ledger.py."""

from __future__ import annotations

import copy
import json
import logging
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml
from fault_ledger import record, rng, trials
from PIL import Image
from workflow_runs import REPO, TINY, snakemake, workflow_copy

from infusion.cli import main
from infusion.config_schema import SCHEMA_FILE
from infusion.study import ConfigError, merged, validate_config

pytestmark = pytest.mark.faults

# the artifact ids of the figures
FIGURES = {
    "fig3.1", "fig3.2", "fig3.3", "fig3.5", "fig3.6", "figA.1", "figA.2", "figA.3", "figA.4",
    "tableA.1-images",
}  # fmt: skip
# job type -> (the `infusion` subcommands or artifact ids of its rules, a rule forced to run
# again, its job killed on sight, when all of the type's jobs ended before a kill could land)
JOB_TYPES = {
    "prepare": ({"prepare"}, "prepare_data"),
    "train": ({"train"}, "train"),
    "evaluate": ({"evaluate"}, "evaluate_likelihood"),
    "sample": ({"sample"}, "sample_final"),
    "parzen": ({"parzen"}, "parzen"),
    "tables": ({"grid", "tableA.1", "table3.1", "fig3.4", "runtimes"}, "table_a_1"),
    "figures": (FIGURES, "table_a_1_images"),
    "report": ({"scorecard"}, "scorecard"),
}
KILL_WITHIN_S = 3.0  # a kill lands at U(0, 3 s) after the job's process appears
RUN = ["--cores", "2", "--configfile", TINY]
# The kill test's targets: the scorecard and Table A.1's images need a job of every type in
# JOB_TYPES (55 of the tiny study's jobs, not its 152), and every table and model they make
# is compared with the undisturbed run's; the ladder is off there (NO_LADDER, written into
# each round's folder), so that the scorecard does not wait for its 30 jobs, whose rules
# are those of the job types above
KILL_TARGETS = ["results/tables/scorecard.csv", "results/figures/tableA.1.png"]
NO_LADDER = "no-ladder.yaml"
KILL_RUN = [*KILL_TARGETS, *RUN, NO_LADDER]
TIMED_COLUMNS = ("seconds", "train_seconds")  # wall-clock times, which differ between runs
TIMED_TABLES = ("runtimes.csv", "cost.csv")  # measured times and rates only


def parent_of(pid: int) -> int:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat.rsplit(")", 1)[1].split()[1])  # the field after the command's name


def descends_from(pid: int, ancestor: int) -> bool:
    while pid > 1:
        if pid == ancestor:
            return True
        pid = parent_of(pid)
    return False


def job_processes(snakemake_pid: int, subcommands: set[str]) -> list[int]:
    """Pids of the `infusion SUBCOMMAND` processes that this snakemake started."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().decode().split("\0")
            if not any(arg.endswith("bin/infusion") for arg in argv[:2]):
                continue
            if subcommands & set(argv) and descends_from(int(entry.name), snakemake_pid):
                found.append(int(entry.name))
        except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
            continue  # it ended while we looked
    return found


def kill_one_job(folder: Path, subcommands: set[str], delay: float, *flags: str) -> bool:
    """Run the kill test's targets; ``delay`` s after a job of ``subcommands`` starts,
    SIGKILL it.
    Returns whether a kill landed before the workflow ended (a job that ends first is
    missed, and the next one of its type is tried)."""
    with open(folder / "snakemake.log", "w") as log:
        process = subprocess.Popen(["snakemake", *KILL_RUN, *flags], cwd=folder, stdout=log,
                                   stderr=log)  # fmt: skip
    landed = False
    deadline = time.time() + 600
    while process.poll() is None and not landed and time.time() < deadline:
        pids = job_processes(process.pid, subcommands)
        if not pids:
            time.sleep(0.02)
            continue
        time.sleep(delay)
        try:
            os.kill(pids[0], signal.SIGKILL)
            landed = True
        except ProcessLookupError:
            pass  # ended before the kill: try the next job of this type
    process.wait(timeout=600)
    return landed


def damaged_outputs(results: Path) -> list[str]:
    """Files of a finished study that are temporary leftovers or do not parse."""
    problems = []
    for path in results.rglob("*"):
        if not path.is_file() or "logs" in path.parts or "benchmarks" in path.parts:
            continue
        if path.name.startswith("."):
            problems.append(f"leftover temporary file {path}")
            continue
        try:
            if path.suffix == ".npz":
                with np.load(path) as npz:
                    [npz[key] for key in npz.files]
            elif path.suffix == ".json":
                json.loads(path.read_text())
            elif path.suffix == ".csv":
                pd.read_csv(path)
            elif path.suffix == ".png":
                Image.open(path).verify()
            elif path.suffix == ".pt" and "checkpoints" not in path.parts:
                torch.load(path, weights_only=False)
        except Exception as error:
            problems.append(f"{path} does not parse: {error}")
    return problems


def differences(results: Path, reference: Path) -> list[str]:
    """Tables and models of ``results`` that differ from the undisturbed run's, or that it
    lacks: every one that ``results`` holds is compared."""
    found = []
    for table in sorted((results / "tables").glob("*.csv")):
        if table.name in TIMED_TABLES:
            continue
        ours = pd.read_csv(table)
        theirs = pd.read_csv(reference / "tables" / table.name)
        drop = [c for c in theirs.columns if c in TIMED_COLUMNS]
        try:
            pd.testing.assert_frame_equal(ours.drop(columns=drop), theirs.drop(columns=drop))
        except AssertionError as error:
            found.append(f"tables/{table.name} differs: {str(error)[:300]}")
    for model in sorted(results.rglob("model.pt")):
        relative = model.relative_to(results)
        a = torch.load(reference / relative, weights_only=False)["state"]
        b = torch.load(model, weights_only=False)["state"]
        if a.keys() != b.keys() or not all(torch.equal(a[k], b[k]) for k in a):
            found.append(f"{relative}: state dict differs")
    return found


def test_jobs_killed_with_sigkill_rerun_to_the_undisturbed_results(tmp_path, tiny_study):
    """Each round runs the kill test's targets in the tiny study and kills one job of every
    type in turn, rerunning the same command after each kill; the finished round must match
    the undisturbed run."""
    rounds, random_points = trials(full=3, ci=1), rng("kill -9")
    failures = []
    for round_ in range(rounds):
        (folder := tmp_path / f"round{round_}").mkdir()
        workflow_copy(folder)
        (folder / NO_LADDER).write_text(yaml.safe_dump({"ladder": {"enabled": False}}))
        for kind, (subcommands, rule) in JOB_TYPES.items():
            delay = random_points.uniform(0, KILL_WITHIN_S)
            if not (
                kill_one_job(folder, subcommands, delay)
                or kill_one_job(folder, subcommands, 0.0, "--forcerun", rule)
            ):
                said = (folder / "snakemake.log").read_text()[-1500:]
                failures.append(f"round {round_}: no {kind} job was running to kill:\n{said}")
        rerun = snakemake(folder, *KILL_RUN, check=False)
        if rerun.returncode != 0:
            failures.append(f"round {round_}: the rerun failed:\n{rerun.stderr[-2000:]}")
            continue
        left = snakemake(folder, *KILL_RUN, "-n").stdout
        if "Nothing to be done" not in left:
            failures.append(f"round {round_}: jobs left after the rerun:\n{left[-1000:]}")
        failures += damaged_outputs(folder / "results")
        missing = [t for t in KILL_TARGETS if not (folder / t).is_file()]
        failures += [f"round {round_}: {t} was not made" for t in missing]
        failures += differences(folder / "results", tiny_study)
    record("kill -9 of each job type", failures, rounds * len(JOB_TYPES))


def test_second_snakemake_on_the_same_folder_stops_with_the_lock_message(tmp_path):
    folder = workflow_copy(tmp_path)
    (folder / "slow.yaml").write_text(yaml.safe_dump({"training": {"epochs": 40}}))
    command = ["results/runs/digits/T3-a0-w0.1/model.pt", *RUN, "slow.yaml"]
    first = subprocess.Popen(["snakemake", *command], cwd=folder, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)  # fmt: skip
    locks = folder / ".snakemake" / "locks"
    deadline = time.time() + 120
    while not (locks.is_dir() and any(locks.iterdir())):
        assert first.poll() is None and time.time() < deadline, "first snakemake never locked"
        time.sleep(0.05)
    failures = []
    second = snakemake(folder, *command, check=False)
    if first.poll() is not None:
        failures.append("the first snakemake ended before the second one was refused")
    if second.returncode == 0 or "LockException" not in second.stdout + second.stderr:
        failures.append(f"second snakemake was not refused:\n{second.stderr[-1500:]}")
    if first.wait(timeout=600) != 0:
        failures.append("the first snakemake failed")
    metrics = pd.read_csv(folder / "results/runs/digits/T3-a0-w0.1/metrics.csv")
    if metrics.epoch.tolist() != list(range(41)):
        failures.append(f"the first run's curves are damaged: epochs {metrics.epoch.tolist()}")
    failures += damaged_outputs(folder / "results")
    record("two snakemakes on one folder", failures, 1)


# --- fuzzed configs, generated from the schema ------------------------------------------

SCHEMA = yaml.safe_load(SCHEMA_FILE.read_text())
UNKNOWN = "no_such_key"


def resolved(node: dict) -> dict:
    """A schema node with its $ref and allOf parts merged in (properties, required)."""
    node = dict(node)
    if "$ref" in node:
        node = {**resolved(SCHEMA["$defs"][node.pop("$ref").split("/")[-1]]), **node}
    for part in node.pop("allOf", []):
        part = resolved(part)
        for key, value in part.items():
            if key == "required":
                node["required"] = [*node.get("required", []), *value]
            elif key != "not":
                node.setdefault(key, value)
    return node


def schema_keys(node: dict, path: tuple = ()):
    """(path, resolved node, required by its parent) for every key under ``node``; an
    array's items are reached through index 0."""
    node = resolved(node)
    for name, child in node.get("properties", {}).items():
        yield (*path, name), resolved(child), name in node.get("required", [])
        yield from schema_keys(child, (*path, name))
    if "items" in node:
        yield from schema_keys(node["items"], (*path, 0))


def bad_values(node: dict) -> list[tuple[str, object]]:
    """(what, value) pairs of the wrong type or out of range for a key's schema ``node``."""
    types = node.get("type", [])
    types = [types] if isinstance(types, str) else types
    values = [("wrong type", {"a": "mapping"}) if "object" not in types else ("wrong type", 7)]
    if "enum" in node:
        values.append(("out of range", "no-such-choice"))
    for bound, step in (("minimum", -1), ("exclusiveMinimum", 0), ("maximum", 1)):
        if bound in node:
            values.append(("out of range", node[bound] + step))
    if "pattern" in node:
        values.append(("out of range", "no such value!"))
    if node.get("minItems"):
        values.append(("out of range", []))
    if node.get("minLength"):
        values.append(("out of range", ""))
    return values


def place(config: dict, path: tuple, value) -> None:
    """Set ``path`` of ``config`` to ``value``, creating missing mappings on the way."""
    for part in path[:-1]:
        config = config[part] if isinstance(part, int) else config.setdefault(part, {})
    config[path[-1]] = value


def spelled(path: tuple) -> str:
    """('grid', 0, 'omega') -> 'grid[0].omega', as the messages spell keys."""
    names = [f"[{part}]" if isinstance(part, int) else f".{part}" for part in path]
    return "".join(names).lstrip(".")


def fuzzed_configs(base: dict):
    """(description, config, key that the message must name) for every key of the schema:
    wrong types, values out of range, required keys missing, an unknown key beside it."""
    for path, node, required in schema_keys(SCHEMA):
        for what, value in bad_values(node):
            config = copy.deepcopy(base)
            place(config, path, value)
            yield f"{spelled(path)} {what} ({value!r})", config, path
        config = copy.deepcopy(base)
        parent = config
        try:
            for part in path[:-1]:
                parent = parent[part]
        except KeyError:
            parent = None  # an optional section absent from the base config
        if required and parent is not None:
            del parent[path[-1]]
            yield f"{spelled(path)} missing", config, path
        if node.get("additionalProperties") is False:
            config = copy.deepcopy(base)
            place(config, (*path, UNKNOWN), 1)
            yield f"unknown key beside {spelled(path)}", config, (*path, UNKNOWN)


def names_the_key(message: str, path: tuple) -> bool:
    """The message names the key itself, or its parent and the key's name."""
    parent = spelled(path[:-1]) if len(path) > 1 else "(top level)"
    return f"config key '{spelled(path)}'" in message or (
        f"config key '{parent}'" in message and f"'{path[-1]}'" in message
    )


def test_fuzzed_configs_are_rejected_naming_the_key(tmp_path):
    """Every key of the schema, mutated in the full config (config.yaml + tiny.yaml): the
    validation the Snakefile runs before any job rejects it and names the key."""
    base = merged(yaml.safe_load((REPO / "config.yaml").read_text()),
                  yaml.safe_load((REPO / TINY).read_text()))  # fmt: skip
    validate_config(base)
    failures, cases = [], list(fuzzed_configs(base))
    for description, config, path in cases:
        try:
            validate_config(config)
            failures.append(f"{description}: accepted")
        except ConfigError as error:
            if not names_the_key(str(error), path):
                failures.append(f"{description}: {error}")
    # one case end to end: snakemake itself stops before any job, naming the key
    description, config, path = cases[len(cases) // 2]
    folder = workflow_copy(tmp_path)
    (folder / "fuzzed.yaml").write_text(yaml.safe_dump(config))
    result = snakemake(folder, "--cores", "1", "--configfile", "fuzzed.yaml", check=False)
    if result.returncode == 0 or not names_the_key(result.stderr, path):
        failures.append(f"snakemake with {description}: {result.stderr[-800:]}")
    if (folder / "results").exists():
        failures.append(f"snakemake with {description} started jobs")
    record("fuzzed config keys", failures, len(cases) + 1)


# --- truncated intermediates: each reader names the file and says to delete it -----------


def cut_copies(path: Path, folder: Path, random_points, cuts: int):
    """(description, copy of ``path`` in ``folder`` cut short) at random lengths, in half,
    empty and, for a table whose reader knows its rows (Table A.1: the grid's), after its
    second line."""
    good = path.read_bytes()
    lengths = [random_points.randrange(1, len(good) - 1) for _ in range(cuts)]
    lengths += [len(good) // 2, 0]
    if path.name == "tableA.1.csv":
        lengths.append(len(b"".join(good.splitlines(keepends=True)[:2])))
    for length in lengths:
        copy = folder / f"{path.stem}-{length}{path.suffix}"
        copy.write_bytes(good[:length])
        yield f"{path.name} cut to {length} of {len(good)} bytes", copy


def test_truncated_intermediates_stop_their_reader_naming_the_file(tiny_study, tmp_path, caplog):
    random_points, cuts = rng("truncated intermediates"), trials(full=3, ci=1)
    final, tables = tiny_study / "final" / "digits", tiny_study / "tables"
    metrics = sorted(tiny_study.glob("runs/digits/*/metrics.csv"))[0]
    # the study's config files: Table A.1 is checked to hold its grid's rows
    scorecard = ["--config", str(tiny_study.parent / "config.yaml"),
                 "--configfile", str(tiny_study.parent / TINY),
                 "--table-3-1", str(tables / "table3.1.csv"), "--fig-3-4",
                 str(tables / "fig3.4.csv"), "--page-out", str(tmp_path / "page.rst")]  # fmt: skip
    readers = {  # the file -> its reader's artifact, flags given the file cut short, output
        final / "samples.npz": lambda cut: ["fig3.1", "--samples", cut, "--out", "f.png"],
        final / "likelihood_test.json": lambda cut: [
            "table3.1", "--test", cut, "--train", str(final / "likelihood_train.json"),
            "--out", "t.csv"],
        final / "parzen.json": lambda cut: ["fig3.4", "--parzen", cut, "--out", "p.csv"],
        metrics: lambda cut: ["fig3.3", "--metrics", cut, "--out", "m.png"],
        tables / "tableA.1.csv": lambda cut: [
            "scorecard", "--table-a-1", cut, *scorecard, "--out", "s.csv"],
    }  # fmt: skip
    failures, count = [], 0
    for path, reader in readers.items():
        for what, cut in cut_copies(path, tmp_path, random_points, cuts):
            count += 1
            caplog.clear()
            *flags, out = reader(str(cut))
            argv = ["artifact", *flags, str(tmp_path / out)]
            try:
                with pytest.raises(SystemExit) as exited:
                    main(argv)
            except BaseException as error:  # read as is, or a traceback
                failures.append(f"{what}: {type(error).__name__}: {error}"[:300])
                continue
            errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
            if exited.value.code != 1 or len(errors) != 1:
                failures.append(f"{what}: exit {exited.value.code}, errors {errors}")
            elif str(cut) not in errors[0] or "delete it" not in errors[0]:
                failures.append(f"{what}: the message does not name the file: {errors[0]}")
    record("truncated intermediates", failures, count)


# --- quoted paths: a working folder named with a space and a non-ASCII letter -------------

PATH_PLACEHOLDER = re.compile(r"\{(input|output|log)(\.\w+)?(:q)?\}")


def test_shell_lines_quote_their_paths_and_the_tiny_study_ran_in_a_spaced_folder(tiny_study):
    """Each path placeholder of a shell line ({input.X}, {output}, {log}) quoted with :q is
    one trial; the tiny study, run in such a folder (conftest.py), is one more, with its cost
    estimate, whose overlays are absolute paths."""
    failures, count = [], 0
    for source in [REPO / "Snakefile", *sorted((REPO / "workflow" / "rules").glob("*.smk"))]:
        for match in PATH_PLACEHOLDER.finditer(source.read_text()):
            count += 1
            if not match.group(3):
                failures.append(f"{source.name}: {match.group(0)} is not quoted (:q)")
    count += 1
    folder = tiny_study.parent.name
    if " " not in folder or folder.isascii() or not (tiny_study / "tables/cost.csv").exists():
        failures.append(f"the tiny study ran in {folder!r}, without its cost table")
    record("quoted paths", failures, count)
