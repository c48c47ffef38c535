"""The grid of training runs (Fig A.1, Table A.1) aggregated into ``grid.csv`` and
``curves.csv``, and the panels' conventions the tables share: which rate a panel varies,
when two rates are the same grid point, Table A.1's value at a point.

Artifact ``grid`` (:func:`grid`): the tables and figures of the grid read only its CSVs.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from infusion import published as paper
from infusion.paper.artifacts import artifact
from infusion.paper.tidy import (
    SEED_COLUMNS,
    PathLike,
    common_proposal,
    expect_split,
    one_or_more,
    seed_statistics,
    write_csv,
)
from infusion.runtime.reading import CorruptFile, read_csv, read_json

METRICS_COLUMNS = ("epoch", "train_lower_bound", "valid_lower_bound")  # of metrics.csv

RATE_TOLERANCE = 1e-9  # two rates closer than this are the same grid point
# Fig A.1 / Table A.1 panels whose varied rate is alpha0: (a) has one step, so omega is moot;
# (e) and (f) use a constant rate (omega = 0). Panels (b)-(d) vary omega.
ALPHA0_PANELS = ("a", *paper.CONSTANT_RATE_OPTIMA)
PANELS = tuple(sorted({*paper.TABLE_A1, *paper.CONSTANT_RATE_OPTIMA}))
GRID_COLUMNS = [
    "panel", "steps", "alpha0", "omega", "rate", "best_epoch", "best_valid_lower_bound",
    "test_lower_bound", "proposal", "paper_test_lower_bound", "difference", *SEED_COLUMNS,
    "train_seconds", "run",
]  # fmt: skip
CURVE_COLUMNS = [
    "panel", "steps", "alpha0", "omega", "rate", "epoch", "train_lower_bound",
    "valid_lower_bound",
]  # fmt: skip


def rate_name(panel: str) -> str:
    """The rate a panel varies: alpha0 for (a), (e), (f), omega for (b)-(d)."""
    return "alpha0" if panel in ALPHA0_PANELS else "omega"


def same_rate(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=0.0, abs_tol=RATE_TOLERANCE)


def _check_panel(panel: str) -> None:
    if panel not in PANELS:
        raise ValueError(f"unknown Table A.1 panel {panel!r}; expected one of {PANELS}")


def _paper_lower_bound(panel: str, steps: int, rate: float) -> float:
    """Table A.1's test lower bound at (panel, rate); NaN where the paper lists none, or
    where the study's panel has another number of steps than the paper's."""
    if steps != paper.PANEL_STEPS[panel]:
        return math.nan
    rows = paper.TABLE_A1.get(panel, {})
    return next((value for r, value in rows.items() if same_rate(r, rate)), math.nan)


def _test_bound(run: Path) -> dict:
    """A run's ``test_bound.json`` (``infusion evaluate`` on the test split)."""
    bound_path = run / "test_bound.json"
    bound = read_json(bound_path, "proposal", "lower_bound")
    expect_split(bound["settings"]["split"], "test", bound_path)
    return bound


def _load_run(panel: str, runs: PathLike | list[PathLike]) -> tuple[dict, pd.DataFrame]:
    """One grid row and the run's training curve, tagged with the panel's axes.

    ``runs``: the grid point's run folder, or its folders under each training seed (first
    seed first: its run fills the row and the curve, all give the seed columns)."""
    _check_panel(panel)
    run, *others = (Path(r) for r in one_or_more(runs))
    summary = read_json(run / "summary.json")
    metrics = read_csv(run / "metrics.csv", METRICS_COLUMNS)
    if summary["best_epoch"] not in set(metrics["epoch"]):
        raise CorruptFile(run / "metrics.csv", f"no row of the best epoch {summary['best_epoch']}")
    model = summary["model_settings"]
    for other in others:
        other_model = read_json(other / "summary.json")["model_settings"]
        if other_model != model:
            raise ValueError(f"{other} is not the grid point of {run} under another seed")
    axes = {
        "panel": panel,
        "steps": model["steps"],
        "alpha0": model["alpha0"],
        "omega": model["omega"],
        "rate": model[rate_name(panel)],
    }
    bounds = [_test_bound(r) for r in (run, *others)]
    test = bounds[0]["lower_bound"]["mean"]
    reference = _paper_lower_bound(panel, axes["steps"], axes["rate"])
    row = axes | {
        "best_epoch": summary["best_epoch"],
        "best_valid_lower_bound": summary["best_valid_lower_bound"],
        "test_lower_bound": test,
        "proposal": common_proposal(bounds, [r / "test_bound.json" for r in (run, *others)]),
        "paper_test_lower_bound": reference,
        "difference": test - reference,
        **seed_statistics([bound["lower_bound"]["mean"] for bound in bounds]),
        "train_seconds": summary["train_seconds"],
        "run": str(run),
    }
    curve = metrics[list(METRICS_COLUMNS)].assign(**axes)
    return row, curve[CURVE_COLUMNS]


def _check_grid(grid: pd.DataFrame) -> None:
    """One step count per panel, one run per (panel, rate), omega = 0 on constant panels."""
    mixed = grid.groupby("panel")["steps"].nunique()
    if (mixed > 1).any():
        raise ValueError(f"panels mix step counts: {sorted(mixed[mixed > 1].index)}")
    for panel, rates in grid.groupby("panel")["rate"]:
        ordered = rates.sort_values().to_numpy()
        if any(same_rate(a, b) for a, b in zip(ordered[:-1], ordered[1:], strict=True)):
            raise ValueError(f"panel {panel} has two runs at the same rate")
    constant = grid[grid["panel"].isin(list(paper.CONSTANT_RATE_OPTIMA)) & (grid["omega"] != 0)]
    if not constant.empty:
        raise ValueError(f"constant-rate panels hold runs with omega != 0: {list(constant.run)}")


def aggregate_grid(
    runs: list[tuple[str, PathLike | list[PathLike]]], grid_out: PathLike, curves_out: PathLike
) -> pd.DataFrame:
    """Tidy the grid of training runs into ``grid.csv`` and ``curves.csv``.

    ``runs`` lists (panel letter, run folder), or (panel letter, [its folder under each
    training seed, first seed first]) for the seed columns; a run may appear under several
    panels (the omega = 0 point of a 10-step increasing grid is also the alpha0 = 0 point of the
    constant one) and then gives one row per panel. ``grid.csv`` has one row per entry
    (:data:`GRID_COLUMNS`), sorted by panel and rate, where ``rate`` is the rate the panel
    varies and ``difference`` = ours - paper (NaN where Table A.1 lists no value);
    ``curves.csv`` holds every epoch of every run (:data:`CURVE_COLUMNS`). All inputs are
    read before anything is written: a missing file raises FileNotFoundError naming it and
    leaves both outputs untouched. Returns the grid.
    """
    if not runs:
        raise ValueError("no runs to aggregate")
    loaded = [_load_run(panel, run) for panel, run in runs]
    grid = pd.DataFrame([row for row, _ in loaded], columns=GRID_COLUMNS)
    grid = grid.sort_values(["panel", "rate"], kind="stable", ignore_index=True)
    _check_grid(grid)
    curves = pd.concat([curve for _, curve in loaded])
    curves = curves.sort_values(["panel", "rate", "epoch"], kind="stable", ignore_index=True)
    write_csv(curves, curves_out)
    return write_csv(grid, grid_out)


def _panel_runs(entry: str) -> tuple[str, list[str]]:
    """``"PANEL=RUN_FOLDER[,RUN_FOLDER ...]"`` -> (panel, [run folders])."""
    panel, sep, folders = entry.partition("=")
    if not (sep and panel and folders):
        raise ValueError(f"--runs expects PANEL=RUN_FOLDER[,RUN_FOLDER ...], got {entry!r}")
    return panel, folders.split(",")


@artifact("grid")
def grid(runs: list[str], out: PathLike, curves_out: PathLike) -> pd.DataFrame:
    """``grid.csv`` (``out``) and ``curves.csv`` of the grid's runs (:func:`aggregate_grid`).

    ``runs``: one ``PANEL=RUN_FOLDER[,RUN_FOLDER ...]`` per point of each panel, the grid
    point's run folder under each training seed, first seed first. The run folders hold the
    records the rule declares as inputs: ``summary.json``, ``metrics.csv``,
    ``test_bound.json``.
    """
    return aggregate_grid([_panel_runs(entry) for entry in runs], out, curves_out)
