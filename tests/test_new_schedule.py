"""A new kind of rate schedule, added as a new user would: one function beside the others in
``infusion/schedules.py`` and its settings field in ``infusion/settings.py``, nothing else.

The edit (:data:`EDITS`) is made to a copy of the package, which the commands and snakemake
run from (``PYTHONPATH``). With it, the new kind trains, is scored by both estimators, is
reloaded from its model file and is planned by the workflow; and the new field, at its
default, leaves a finished study's jobs as they are.

The geometric kind, alpha^(t) = alpha0 * ratio^t, is checked against schedules computed
apart from it: at 2 steps, alpha0 0.1 and ratio 2 its rates 0.1, 0.2 are the linear
schedule's of omega 0.1, so the model it trains is the linear one's, weight for weight, and
scoring it under its own chain gives the numbers of the named linear schedule
``paper-a0.1-w0.1``; its own omega (0.3) would give other rates, and other numbers.
"""

import json
import os
import re
import shutil
import subprocess
import sys

import pytest
import yaml
from workflow_runs import REPO, TINY, workflow_copy

GEOMETRIC = '''

def geometric(model) -> list[float]:
    """alpha^(t) = alpha0 * ratio^t."""
    return [model.alpha0 * model.ratio**t for t in range(model.steps)]
'''
# file -> [(the text the edit goes after, the text it adds)]
EDITS = {
    "schedules.py": [
        ("    return [start + t * model.omega for t in range(model.steps)]\n", GEOMETRIC),
        ('SCHEDULES = {"linear": linear', ', "geometric": geometric'),
    ],
    "settings.py": [
        (
            '    schedule: str = "linear"\n',
            "    ratio: float = 2.0  # geometric: each rate is the one before times ratio\n",
        ),
    ],
}


@pytest.fixture(scope="module")
def edited_package(tmp_path_factory):
    """A copy of the package with :data:`EDITS` made; the folder to put on PYTHONPATH."""
    root = tmp_path_factory.mktemp("edited")
    shutil.copytree(REPO / "infusion", root / "infusion",
                    ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
    for name, edits in EDITS.items():
        path = root / "infusion" / name
        text = path.read_text()
        for anchor, addition in edits:
            assert text.count(anchor) == 1, f"{name}: the edit's anchor {anchor!r} moved"
            text = text.replace(anchor, anchor + addition)
        path.write_text(text)
    return root


def run(package, *args, cwd=None) -> subprocess.CompletedProcess:
    """A command with the edited package first on the path (run in ``cwd``, else the
    package's folder: ``python -c`` puts its folder first); stops the test when it fails."""
    env = {**os.environ, "PYTHONPATH": str(package)}
    result = subprocess.run(args, cwd=cwd or package, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def train(package, data, out, *flags):
    small = ["--hidden", "16", "--epochs", "2", "--batch-size", "64", "--train-size", "256",
             "--curve-examples", "64", "--chain-targets", "0", "--device", "cpu"]  # fmt: skip
    run(package, "infusion", "train", "--data", str(data), "--out", str(out),
        "--checkpoint", str(out) + ".ckpt", "--steps", "2", "--alpha0", "0.1", *small,
        *flags)  # fmt: skip
    return out / "model.pt"


def evaluate(package, model, data, out, proposal):
    run(package, "infusion", "evaluate", "--model", str(model), "--data", str(data),
        "--out", str(out), "--examples", "20", "--chains", "6", "--repetitions", "2",
        "--isotropic-examples", "0", "--device", "cpu", "--proposal", proposal)  # fmt: skip
    estimates = json.loads(out.read_text())
    return estimates["lower_bound"], estimates["importance"]


def test_a_new_schedule_kind_trains_scores_reloads_and_is_planned(
    edited_package, digits_npz, tmp_path
):
    geometric = train(edited_package, digits_npz, tmp_path / "geometric",
                      "--omega", "0.3", "--schedule", "geometric", "--ratio", "2")  # fmt: skip
    linear = train(edited_package, digits_npz, tmp_path / "linear", "--omega", "0.1")
    own_omega = train(edited_package, digits_npz, tmp_path / "own-omega", "--omega", "0.3")

    # training drew its chains at the kind's rates: the linear model of the same rates,
    # weight for weight, and not that of its own omega's linear rates
    compare = (
        "import sys, torch\n"
        "a, b, c = (torch.load(p, weights_only=True)['state'] for p in sys.argv[1:])\n"
        "print(all(torch.equal(a[k], b[k]) for k in a), all(torch.equal(a[k], c[k]) for k in a))"
    )
    same = run(edited_package, sys.executable, "-c", compare, str(geometric), str(linear),
               str(own_omega)).stdout.split()  # fmt: skip
    assert same == ["True", "False"]

    # reloaded: its settings keep the kind and its field, and its process the kind's rates,
    # here at 5 steps (clipped at 1 as footnote 2 clips the linear kind)
    reload = (
        "import sys, dataclasses, json\n"
        "from infusion.nets.model import load_model\n"
        "from infusion.process.infusion_process import InfusionProcess\n"
        "model, _ = load_model(sys.argv[1])\n"
        "longer = dataclasses.replace(model.settings, steps=5)\n"
        "print(json.dumps([model.settings.schedule, model.settings.ratio,\n"
        "                  list(InfusionProcess.of(longer, (1, 8, 8)).rates)]))"
    )
    kind, ratio, rates = json.loads(run(edited_package, sys.executable, "-c", reload,
                                        str(geometric)).stdout)  # fmt: skip
    assert (kind, ratio) == ("geometric", 2.0)
    assert rates == pytest.approx([min(0.1 * 2.0**t, 1.0) for t in range(5)])

    # both estimators score it under its own chain: the named linear schedule of its rates,
    # draw for draw, and not the linear schedule of its omega
    own = evaluate(edited_package, geometric, digits_npz, tmp_path / "own.json", "own")
    named = evaluate(edited_package, geometric, digits_npz, tmp_path / "named.json",
                     "paper-a0.1-w0.1")  # fmt: skip
    other = evaluate(edited_package, geometric, digits_npz, tmp_path / "other.json",
                     "paper-a0.1-w0.3")  # fmt: skip
    assert own == named
    assert own[0] != other[0] and own[1] != other[1]

    # the plan of a study of the kind passes its flags to every training (the tiny study,
    # whose cross-scoring names the variants' chains as linear schedules, without it: with
    # it, the plan stops before any job, naming the key)
    (tmp_path / "study").mkdir()
    folder = workflow_copy(tmp_path / "study")
    (folder / "crossed.yaml").write_text(yaml.safe_dump({"model": {"schedule": "geometric"}}))
    env = {**os.environ, "PYTHONPATH": str(edited_package)}
    refused = subprocess.run(["snakemake", "-n", "--configfile", TINY, "crossed.yaml"],
                             cwd=folder, env=env, capture_output=True, text=True)  # fmt: skip
    assert refused.returncode != 0
    said = refused.stdout + refused.stderr
    assert "invalid config key 'model.schedule'" in said, said[-2000:]
    study = {"model": {"schedule": "geometric", "ratio": 1.5}, "cross_scoring": {"enabled": False}}
    (folder / "geometric.yaml").write_text(yaml.safe_dump(study))
    plan = run(edited_package, "snakemake", "-n", "-p", "--configfile", TINY, "geometric.yaml",
               cwd=folder).stdout  # fmt: skip
    trainings = [line for line in plan.splitlines() if " train --data " in line]
    assert trainings
    for line in trainings:
        assert "--schedule geometric " in line and "--ratio 1.5 " in line, line


def test_a_new_model_field_at_its_default_leaves_a_finished_study_as_it_is(
    edited_package, tiny_study
):
    """The finished tiny study, planned again by the edited package (a model field more, at
    its default): nothing to do. The field at another value changes the params of its
    trainings, which snakemake then reruns: the dry run does see the params."""
    folder = tiny_study.parent
    plan = run(edited_package, "snakemake", "-n", "--configfile", TINY, cwd=folder).stdout
    assert "Nothing to be done" in plan, plan[-3000:]
    (folder / "ratio.yaml").write_text(yaml.safe_dump({"model": {"ratio": 3.0}}))
    plan = run(edited_package, "snakemake", "-n", "--configfile", TINY, "ratio.yaml",
               cwd=folder).stdout  # fmt: skip
    assert "Params have changed" in plan, plan[-3000:]
    assert re.search(r"^train\s+[1-9]", plan, re.MULTILINE), plan[-3000:]
