"""The command line's help: every flag of every command says what it is and its default (or
that it is required), once; a settings flag's help is its field's comment in settings.py,
read here from the source text by a regex of the test's own; its choices are listed and
enforced."""

from __future__ import annotations

import argparse
import re

import pytest
from workflow_runs import REPO

from infusion import settings as S
from infusion.cli import build_parser

SETTINGS_SOURCE = (REPO / "infusion" / "settings.py").read_text()
# One option's entry in the help: its flag(s) at two spaces, then its text, indented further
ENTRY = re.compile(r"^  (-[^\n]*?)(?:  +|\n {10,})(.*?)(?=^  -|\Z)", re.S | re.M)


@pytest.fixture(autouse=True)
def wide_help(monkeypatch):
    """Help printed unwrapped (argparse wraps at $COLUMNS), so that texts compare whole."""
    monkeypatch.setenv("COLUMNS", "10000")


def subparsers() -> dict[str, argparse.ArgumentParser]:
    (action,) = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(action.choices)


def help_entries(command: str) -> dict[str, str]:
    """--flag -> its help text, whitespace collapsed, from ``infusion COMMAND --help``."""
    text = subparsers()[command].format_help()
    options = text[text.index("options:") :]
    entries = {}
    for match in ENTRY.finditer(options):
        flag = match.group(1).split()[0].rstrip(",")
        entries[flag] = " ".join(match.group(2).split())
    return entries


def comment_of(field: str, cls: str) -> str:
    """The comment beside ``field`` of the dataclass ``cls`` in settings.py, or the comment
    lines right above it, whitespace collapsed."""
    body = SETTINGS_SOURCE[re.search(rf"^class {cls}\b", SETTINGS_SOURCE, re.M).start() :]
    body = body[: body.find("\n@dataclass") if "\n@dataclass" in body else None]
    match = re.search(rf"((?:^    #.*\n)*)^    {field}: [^#\n]*(?:#(.*))?$", body, re.M)
    above = " ".join(line.strip().lstrip("#").strip() for line in match.group(1).splitlines())
    return " ".join(f"{above} {match.group(2) or ''}".split())


@pytest.mark.parametrize(
    "command",
    ["train", "evaluate", "convergence", "search-proposal", "sample", "inpaint", "parzen",
     "inception", "prepare", "cost"],
)  # fmt: skip
def test_every_flag_has_a_help_text_and_its_default_once(command):
    entries = help_entries(command)
    flags = {
        option
        for action in subparsers()[command]._actions
        for option in action.option_strings
        if option.startswith("--") and option != "--help"
    }
    assert flags and flags <= set(entries), flags - set(entries)
    for flag in flags:
        text = entries[flag]
        said = text.count("(default: ") + text.count("(required)")
        if "default" not in text and "required" not in text:
            pytest.fail(f"{command} {flag}: no default in {text!r}")
        assert said <= 1 and "(default: None)" not in text, f"{command} {flag}: {text!r}"
        assert len(text.replace("(required)", "").strip()) > 8, f"{command} {flag}: {text!r}"


@pytest.mark.parametrize(
    "command, flag, field, cls",
    [
        ("train", "--steps", "steps", "ModelSettings"),  # the comment beside the field
        ("train", "--rate-index", "rate_index", "ModelSettings"),  # the lines above it
        ("train", "--keep", "keep", "TrainSettings"),
        ("evaluate", "--proposal", "proposal", "EvalSettings"),
        ("evaluate", "--chains", "chains", "EvalSettings"),
        ("parzen", "--sigma-grid", "sigma_grid", "ParzenSettings"),
    ],
)
def test_a_settings_flag_s_help_is_its_field_s_comment(command, flag, field, cls):
    comment = comment_of(field, cls)
    assert len(comment) > 10
    assert help_entries(command)[flag].startswith(comment)


def test_the_defaults_shown_are_the_dataclass_defaults():
    entries = help_entries("train")
    assert entries["--steps"].endswith("(default: 15)")
    assert entries["--omega"].endswith("(default: 0.01)")
    assert entries["--data"].endswith("(required)")
    assert help_entries("evaluate")["--chains"].endswith(f"(default: {S.EvalSettings.chains})")


def test_choices_are_listed_and_a_wrong_one_stops_naming_them(capsys):
    text = subparsers()["train"].format_help()
    assert "--network {mlp,conv}" in text and "--keep {best,last}" in text
    assert "--precision {fp32,tf32,bf16}" in text
    with pytest.raises(SystemExit) as stopped:
        build_parser().parse_args(["train", "--data", "d", "--out", "o", "--checkpoint", "c",
                                   "--network", "rnn"])  # fmt: skip
    assert stopped.value.code == 2
    assert "invalid choice: 'rnn'" in capsys.readouterr().err


def test_the_module_docstring_lists_every_command():
    import infusion.cli

    for command in subparsers():
        assert f"infusion {command} " in infusion.cli.__doc__, command
