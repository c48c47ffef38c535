"""Running the workflow from tests: a fresh copy of its files, snakemake, the tiny study."""

import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TINY = "workflow/configs/tiny.yaml"


def workflow_copy(folder: Path) -> Path:
    """The workflow's files in a fresh folder, so that runs never touch the repository."""
    shutil.copy(REPO / "Snakefile", folder)
    shutil.copy(REPO / "config.yaml", folder)
    shutil.copytree(REPO / "workflow", folder / "workflow")
    shutil.copy(REPO / "profiles", folder, follow_symlinks=False)  # -> workflow/profiles
    return folder


def snakemake(folder: Path, *args, check=True) -> subprocess.CompletedProcess:
    result = subprocess.run(["snakemake", *args], cwd=folder, capture_output=True, text=True)
    if check and result.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed:\n{result.stderr[-4000:]}")
    return result
