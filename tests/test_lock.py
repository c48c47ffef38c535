"""The lock file pins every dependency of pyproject (and its test extra) at a version its range
allows, and the conda environment pins the same versions."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements.lock"


def lock_pins(lines) -> dict[str, Version]:
    """``name==version`` lines -> {canonical name: version}; comments, blank and indented
    (annotation) lines are skipped, every other line must be one exact pin."""
    pins = {}
    for line in lines:
        if not line.strip() or line.lstrip().startswith("#") or line[0].isspace():
            continue
        requirement = Requirement(line.split(" #")[0])
        (specifier,) = requirement.specifier
        assert specifier.operator == "==", line
        pins[canonicalize_name(requirement.name)] = Version(specifier.version)
    return pins


def locked_python(text: str) -> str:
    """The Python version the lock was compiled for, from the command in its header."""
    (version,) = set(re.findall(r"--python-version (\d+\.\d+)", text))
    return version


def declared(pyproject: Path) -> list[Requirement]:
    project = tomllib.loads(pyproject.read_text())["project"]
    return [
        Requirement(r) for r in project["dependencies"] + project["optional-dependencies"]["test"]
    ]


def unmet(requirements: list[Requirement], pins: dict[str, Version], python: str) -> list[str]:
    """Each requirement that applies on ``python`` and that ``pins`` lacks or violates."""
    problems = []
    for requirement in requirements:
        if requirement.marker and not requirement.marker.evaluate({"python_version": python}):
            continue
        version = pins.get(canonicalize_name(requirement.name))
        if version is None:
            problems.append(f"{requirement.name}: not in the lock")
        elif not requirement.specifier.contains(version, prereleases=True):
            problems.append(f"{requirement.name}: locked {version}, wants {requirement.specifier}")
    return problems


def test_the_lock_pins_every_declared_dependency_within_its_range():
    text = LOCK.read_text()
    pins = lock_pins(text.splitlines())
    requirements = declared(ROOT / "pyproject.toml")
    assert len(requirements) > 10 and {"torch", "torchvision", "pytest"} <= set(pins)
    assert unmet(requirements, pins, locked_python(text)) == []


def test_a_missing_or_excluded_pin_is_reported():
    pins = lock_pins(["numpy==2.0.0", "torch==2.1.0  # old", "    # via x", "# note"])
    assert pins == {"numpy": Version("2.0.0"), "torch": Version("2.1.0")}
    wanted = [Requirement(r) for r in ["NumPy>=1.24", "torch>=2.4", "Py_YAML>=6"]]
    wanted.append(Requirement("tomli>=1.1; python_version < '3.11'"))  # not on 3.11
    assert unmet(wanted, pins, "3.11") == [
        "torch: locked 2.1.0, wants >=2.4",
        "Py_YAML: not in the lock",
    ]
    assert unmet(wanted[3:], pins, "3.10") == ["tomli: not in the lock"]


def test_the_conda_environment_pins_the_lock_s_versions():
    environment = yaml.safe_load((ROOT / "workflow/envs/infusion.yaml").read_text())
    python = next(d for d in environment["dependencies"] if str(d).startswith("python="))
    (pip,) = [d["pip"] for d in environment["dependencies"] if isinstance(d, dict)]
    assert python == f"python={locked_python(LOCK.read_text())}"
    assert lock_pins([line for line in pip if line != "-e ../.."]) == lock_pins(
        LOCK.read_text().splitlines()
    )
    assert "-e ../.." in pip  # the repository itself
