"""The artifact registry: one id per table and figure, the same name for its output, rule,
function and command, and the command's flags read from the function's parameters."""

from __future__ import annotations

import inspect
import json
import re

import pandas as pd
import pytest
from workflow_runs import REPO

from infusion.cli import main
from infusion.cli.catalogue import registered
from infusion.paper.artifacts import artifact

# The paper's artifacts and the report's own, as the naming scheme lists them.
PAPER_IDS = {
    "fig3.1", "fig3.2", "fig3.3", "fig3.4", "fig3.5", "fig3.6", "figA.1", "figA.2", "figA.3",
    "figA.4", "table3.1", "table3.2", "tableA.1", "tableA.1-images",
}  # fmt: skip
REPORT_IDS = {
    "grid", "runtimes", "claims", "scorecard", "fidelity-table", "fidelity-figure", "proposals",
    "convergence", "lower-bound-training", "verdicts", "sampling-steps", "parzen-trust",
    "ladder",
}  # fmt: skip


def snake_case(artifact_id: str) -> str:
    """fig3.2 -> fig_3_2, tableA.1-images -> table_a_1_images."""
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z0-9])", "_", artifact_id)
    return re.sub(r"[.-]", "_", spaced).lower()


def rule_blocks() -> dict[str, str]:
    """Rule name -> its text, from every rule file."""
    text = "\n".join(path.read_text() for path in (REPO / "workflow/rules").glob("*.smk"))
    return dict(re.findall(r"^rule (\w+):\n(.*?)(?=^\S|\Z)", text, flags=re.M | re.S))


def input_names(block: str) -> set[str]:
    """The named inputs of a rule's text."""
    section = re.search(r"^    input:\n(.*?)(?=^    \w+:)", block, flags=re.M | re.S)
    return set(re.findall(r"^        (\w+)=", section.group(1), flags=re.M)) if section else set()


def test_every_artifact_is_registered_under_its_snake_case_function():
    artifacts = registered()
    assert set(artifacts) == PAPER_IDS | REPORT_IDS
    assert snake_case("tableA.1-images") == "table_a_1_images"
    for artifact_id, function in artifacts.items():
        assert function.__name__ == snake_case(artifact_id), artifact_id


def test_each_artifact_s_rule_has_its_name_and_passes_its_inputs_as_flags():
    """Rule fig_3_2 calls `infusion artifact fig3.2`, each named input X as --X {input.X:q} or
    quoted by a helper (the grid's run records are read from the run folders that --runs
    names); the study's config files, where an artifact reads them, as --config and
    --configfile."""
    rules = rule_blocks()
    for artifact_id, function in registered().items():
        block = rules[snake_case(artifact_id)]
        assert re.search(rf'"artifact {re.escape(artifact_id)} ', block), artifact_id
        if artifact_id == "grid":
            assert input_names(block) == {"summaries", "bounds", "metrics"}
            continue
        parameters = set(inspect.signature(function).parameters)
        reads_study = {"config", "configfile"} <= parameters
        if reads_study:
            assert {"config", "overlays"} <= input_names(block), artifact_id
            assert "--config {input.config:q} --configfile {input.overlays:q}" in block
        if artifact_id in ("ladder", "lower-bound-training"):  # read their plan from the
            # study's config files, and the files of every run where the plan puts them
            assert input_names(block) == {"config", "overlays", "scores"}
            continue
        named = input_names(block) - ({"config", "overlays"} if reads_study else set())
        assert named <= parameters, artifact_id
        for name in named:
            flag = name.replace("_", "-")
            # as {input.X:q}, or quoted by shlex.quote or a helper of common.smk that does
            quoted = rf"--{flag} \{{(input\.{name}:q\}}|shlex\.quote\(input\.{name}\b)"
            quoted += rf"|\w+_flags?\(input\.{name}\b"
            assert re.search(quoted, block), (artifact_id, name)  # quoted (paths with spaces)


def test_every_rule_logs_under_its_own_folder():
    for rule, block in rule_blocks().items():
        if rule == "all":  # no job, no log
            continue
        log = re.search(r"^    log:\n\s+(.*)\n", block, flags=re.M).group(1)
        assert re.match(rf'"results/logs/{rule}/|run_file\("results/logs/{rule}"', log), rule


def write_parzen(path, mean: float) -> str:
    record = {"split": "test", "sigma": 0.17, "mean": mean, "stderr": 1.0, "samples": 50}
    path.write_text(json.dumps(record))
    return str(path)


def test_an_optional_list_flag_may_be_given_empty():
    """A rule passes no overlays as a bare --configfile (its input list expands to nothing):
    an optional list flag takes none; a required one still needs a value."""
    from infusion.paper.artifacts import argument_parser

    def made(out: str, inputs: list[str], configfile: list[str] = ()) -> None: ...

    parser = argument_parser("made", made)
    args = parser.parse_args(["--out", "o", "--inputs", "a", "--configfile"])
    assert args.configfile == [] and args.inputs == ["a"]
    with pytest.raises(SystemExit):
        parser.parse_args(["--out", "o", "--inputs", "--configfile"])


def test_a_list_flag_takes_one_file_per_seed(tmp_path):
    files = [write_parzen(tmp_path / f"p{seed}.json", mean) for seed, mean in [(0, 10), (1, 14)]]
    out = tmp_path / "fig3.4.csv"
    main(["artifact", "fig3.4", "--parzen", *files, "--out", str(out)])
    ours = pd.read_csv(out).dropna(subset=["mean"]).iloc[0]
    assert (ours["mean"], ours.seeds, ours.seed_mean) == (10.0, 2, 12.0)


def test_the_study_s_config_files_and_int_flags_reach_the_scorecard(tmp_path):
    """Through the command line: the study's config files, the overlays merged in order (the
    second's epochs win), the notes a list, to the claims and the scorecard; the optional
    Table 3.2 absent."""
    from test_tables import CONFIG, evaluation, grid_of, make_run, write_json, write_study

    run = make_run(tmp_path, "run", 5, 0.0, 0.1, 1400.0)
    write_json(tmp_path / "test.json", evaluation("test", 1300.0))
    write_json(tmp_path / "train.json", evaluation("train", 1200.0))
    parzen = write_parzen(tmp_path / "parzen.json", 250.0)
    t = {name: str(tmp_path / name) for name in ("grid.csv", "a1.csv", "t31.csv", "f34.csv")}
    main(["artifact", "grid", "--runs", f"b={run}", "--out", t["grid.csv"],
          "--curves-out", str(tmp_path / "curves.csv")])  # fmt: skip
    main(["artifact", "tableA.1", "--grid", t["grid.csv"], "--out", t["a1.csv"]])
    main(["artifact", "table3.1", "--test", str(tmp_path / "test.json"),
          "--train", str(tmp_path / "train.json"), "--out", t["t31.csv"]])  # fmt: skip
    main(["artifact", "fig3.4", "--parzen", parzen, "--out", t["f34.csv"]])
    probe = {
        "report.study": "probe", "report.notes": ["first note", "second note"],
        "dataset": "digits", "training.epochs": 5, "model.hidden": 12,
        "training.batch_size": 3, "evaluation.chains": 1234, "sampling.samples": 50,
        "grid": grid_of(("b", 5, 0.0, 0.1)), "data.cifar10.enabled": False,
        "data.celeba.enabled": False, "data.tfd.enabled": False, "verdicts.enabled": False,
    }  # fmt: skip
    overlays = [str(write_study(tmp_path, probe)),
                str(write_study(tmp_path, {"training.epochs": 7}, "epochs.yaml"))]  # fmt: skip
    claims = str(tmp_path / "claims.csv")
    main(["artifact", "claims", "--config", str(CONFIG), "--configfile", *overlays,
          "--table-a-1", t["a1.csv"], "--fig-3-4", t["f34.csv"], "--out", claims])  # fmt: skip
    # the claims read the study: its scale (digits: Fig 3.4's claim at another scale)
    by_id = pd.read_csv(claims).set_index("id")
    assert by_id.verdict["parzen-above-baselines"] == "not run (other scale)"
    page = tmp_path / "front_page.rst"
    main(["artifact", "scorecard", "--config", str(CONFIG), "--configfile", *overlays,
          "--table-a-1", t["a1.csv"], "--table-3-1", t["t31.csv"], "--fig-3-4", t["f34.csv"],
          "--claims", claims, "--out", str(tmp_path / "card.csv"),
          "--page-out", str(page)])  # fmt: skip
    text = page.read_text()
    for setting, value in (("Epochs", "7"), ("Hidden units", "12"), ("IS chains", "1,234"),
                           ("Batch size", "3"), ("Grid points", "1")):  # fmt: skip
        assert f"   * - {setting}\n     - {value}\n" in text, setting
    assert "The *probe* study" in text and "- first note\n- second note" in text
    # claims.csv on the page
    assert "**infusion-beats-rate-0**" in text
    card = pd.read_csv(tmp_path / "card.csv")
    assert not card.quantity.str.startswith("Table 3.2").any()
    assert "Table A.1 (b), test lower bound: T = 5, omega = 0.1 (increasing)" in set(card.quantity)


def test_an_unknown_artifact_or_a_missing_flag_stops_with_one_line(tmp_path, caplog):
    with pytest.raises(SystemExit) as stopped:
        main(["artifact", "fig9.9", "--out", str(tmp_path / "x.png")])
    assert stopped.value.code == 1
    assert "unknown artifact 'fig9.9'" in caplog.text and "tableA.1-images" in caplog.text
    with pytest.raises(SystemExit) as stopped:
        main(["artifact", "fig3.2", "--out", str(tmp_path / "x.png")])
    assert stopped.value.code == 2  # argparse: "the following arguments are required: --chains"


def test_an_id_is_registered_once():
    with pytest.raises(ValueError, match="registered twice"):
        artifact("fig3.1")(lambda out: None)
