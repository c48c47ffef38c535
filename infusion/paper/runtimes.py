"""Artifact ``runtimes``: per-job wall time and peak memory from Snakemake's benchmark files."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from infusion.paper.artifacts import artifact
from infusion.paper.tidy import PathLike, write_csv
from infusion.runtime.reading import read_csv

RUNTIME_COLUMNS = ["rule", "job", "seconds", "max_rss_mb"]


def _read_benchmark(path: Path) -> dict:
    """Wall time (s) and peak resident memory (MB) of one Snakemake benchmark file.

    Rows are averaged (a rule with ``repeat()`` writes several); "NA" and "-" (no data
    collected) give NaN memory.
    """
    try:
        frame = read_csv(path, ("s", "max_rss"), sep="\t", na_values=["NA", "-"])
        seconds = pd.to_numeric(frame["s"]).mean()
        rss = pd.to_numeric(frame["max_rss"]).mean()
    except (KeyError, ValueError) as err:  # pandas parser errors are ValueErrors
        raise ValueError(f"malformed Snakemake benchmark file {path}: {err!r}") from err
    if pd.isna(seconds):
        raise ValueError(f"malformed Snakemake benchmark file {path}: no running time")
    return {"rule": path.parent.name, "job": path.stem, "seconds": seconds, "max_rss_mb": rss}


@artifact("runtimes")
def runtimes(benchmarks: list[PathLike], out: PathLike) -> pd.DataFrame:
    """One row per benchmark file ``.../{rule}/{job}.tsv`` (:data:`RUNTIME_COLUMNS`).

    Sorted by rule then job; a malformed file raises ValueError naming it.
    """
    rows = [_read_benchmark(Path(path)) for path in benchmarks]
    table = pd.DataFrame(rows, columns=RUNTIME_COLUMNS)
    return write_csv(table.sort_values(["rule", "job"], ignore_index=True), out)
