"""The files the report's tables are made of: the runs' JSON records in, tidy CSVs out.

Results flow as in cbg-ethz/bmi: every training run leaves a small record (``summary.json``,
``metrics.csv``, ``test_bound.json``, the final model's estimates); the grid aggregation
(:mod:`infusion.paper.grid`) and the tables (:mod:`infusion.paper.tables`) read them and
write tidy CSVs, atomically; the scorecard (:mod:`infusion.paper.scorecard`) reads those.
Every table that has run under several training seeds carries :data:`SEED_COLUMNS`.
"""

from __future__ import annotations

import os

import pandas as pd

from infusion.runtime.atomic import atomic_path
from infusion.runtime.reading import read_csv

PathLike = str | os.PathLike

# Over training seeds (config training.seeds): how many, the mean and the std (ddof 1; NaN
# for one seed) of a quantity; the other columns describe the first seed's run.
SEED_COLUMNS = ["seeds", "seed_mean", "seed_std"]
# Integer columns that may hold NaN (rows the study did not run): nullable in pandas.
INT_COLUMNS = (
    "steps", "best_epoch", "examples_test", "examples_train", "chains", "samples", "seeds",
    "images", "splits",
)  # fmt: skip


def read_table(path: PathLike, columns: list[str] = ()) -> pd.DataFrame:
    """A CSV written by these modules, holding ``columns``, with its integer columns as
    nullable integers (checked as :func:`infusion.runtime.reading.read_csv` reads)."""
    return read_csv(path, columns, dtype=dict.fromkeys(INT_COLUMNS, "Int64"))


def write_csv(frame: pd.DataFrame, out: PathLike) -> pd.DataFrame:
    with atomic_path(out) as tmp:
        frame.to_csv(tmp, index=False)
    return frame


def expect_split(found: str, expected: str, path: PathLike) -> None:
    """Guard against swapped inputs: ``path`` must hold an estimate on ``expected``."""
    if found != expected:
        raise ValueError(f"{path} scores the {found!r} split, expected {expected!r}")


def one_or_more(paths: PathLike | list[PathLike]) -> list[PathLike]:
    """One path or a list of them (one per training seed, first seed first)."""
    return [paths] if isinstance(paths, str | os.PathLike) else list(paths)


def common_proposal(records: list[dict], paths: list[PathLike]) -> str:
    """The name of the proposal q (``infusion evaluate``'s ``proposal`` key) that made every
    estimate of ``records`` (read from ``paths``, one per training seed); ``ValueError``
    naming the files when they were made under different proposals."""
    names = {record["proposal"] for record in records}
    if len(names) != 1:
        raise ValueError(
            f"{', '.join(map(str, paths))}: estimates under different proposals {sorted(names)}"
        )
    return names.pop()


def seed_statistics(values: list[float]) -> dict:
    """:data:`SEED_COLUMNS` of one quantity's values over training seeds."""
    series = pd.Series(values, dtype=float)
    return {"seeds": len(series), "seed_mean": series.mean(), "seed_std": series.std(ddof=1)}
