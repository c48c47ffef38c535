"""Reading the intermediates jobs pass on (npz, JSON, CSV), checked as they are read.

A file that does not parse, lacks a key or a column it must have, or holds fewer rows than
the study made stops the job with :class:`CorruptFile`: one line naming the file and saying
to delete it, so that the workflow remakes it (the writers of :mod:`infusion.runtime.atomic`
never leave a partial file, but a disk, a copy or a hand can). What "the rows the study
made" are is the reader's knowledge (e.g. Table A.1 holds the grid's rows); these functions
check what they are told to.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

PathLike = str | os.PathLike


class CorruptFile(ValueError):
    """``path`` is corrupt or truncated: the message names it and says to delete it."""

    def __init__(self, path: PathLike, problem: str):
        super().__init__(f"{path} is corrupt or truncated ({problem}): delete it to have it remade")


def _one_line(error: Exception) -> str:
    return " ".join(f"{type(error).__name__}: {error}".split())


def read_json(path: PathLike, *keys: str) -> dict:
    """A JSON record holding ``keys``."""
    try:
        record = json.loads(Path(path).read_text())
    except (ValueError, UnicodeDecodeError) as error:
        raise CorruptFile(path, _one_line(error)) from error
    missing = [key for key in keys if not isinstance(record, dict) or key not in record]
    if missing:
        raise CorruptFile(path, f"no {', '.join(map(repr, missing))}")
    return record


def read_npz(path: PathLike, *keys: str) -> dict[str, np.ndarray]:
    """The arrays ``keys`` of an npz file (every array when none is named), read in full so
    that a damaged member is found here."""
    try:
        with np.load(path, allow_pickle=False) as arrays:
            missing = [key for key in keys if key not in arrays.files]
            if missing:
                raise CorruptFile(path, f"no array {', '.join(map(repr, missing))}")
            return {key: arrays[key] for key in keys or arrays.files}
    except (FileNotFoundError, CorruptFile):
        raise
    except Exception as error:  # zip, zlib, pickle and format errors alike
        raise CorruptFile(path, _one_line(error)) from error


def read_csv(path: PathLike, columns: Iterable[str] = (), **options) -> pd.DataFrame:
    """A CSV table (``options`` go to :func:`pandas.read_csv`) holding ``columns``; a file
    whose last line is cut short (no final newline) is refused too."""
    with open(path, "rb") as file:
        file.seek(0, os.SEEK_END)
        if file.tell() == 0:
            raise CorruptFile(path, "empty")
        file.seek(-1, os.SEEK_END)
        if file.read(1) != b"\n":
            raise CorruptFile(path, "its last line is cut short")
    try:
        table = pd.read_csv(path, **options)
    except (ValueError, UnicodeDecodeError, pd.errors.ParserError) as error:
        raise CorruptFile(path, _one_line(error)) from error
    missing = [column for column in columns if column not in table.columns]
    if missing:
        raise CorruptFile(path, f"no column {', '.join(map(repr, missing))}")
    return table


def expect_rows(path: PathLike, table: pd.DataFrame, rows: int, what: str) -> pd.DataFrame:
    """``table`` (read from ``path``) with ``rows`` rows of ``what``, else :class:`CorruptFile`."""
    if len(table) != rows:
        raise CorruptFile(path, f"{len(table)} rows of {what}, the study made {rows}")
    return table
