"""Atomic file writes: write to a temporary file beside the target, then rename.

An interrupted job therefore never leaves a file that looks complete. Every writer in the
package goes through :func:`atomic_path`. A full disk stops the write with
:class:`DiskFullError`, naming the file; the temporary file is removed and the previous
version of the target, if any, is left as it was. A target that cannot be written (a
folder, a read-only place) stops it with :class:`UnwritableError`, naming the target, never
the temporary file.
"""

from __future__ import annotations

import contextlib
import errno
import glob
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

_UMASK = os.umask(0)
os.umask(_UMASK)


class DiskFullError(OSError):
    """No space left on the device while writing ``path``; the message names the file."""

    def __init__(self, path: Path):
        message = f"disk full: no space left on the device to write {path}"
        super().__init__(errno.ENOSPC, message, str(path))

    def __str__(self) -> str:
        return self.strerror


class UnwritableError(OSError):
    """``path`` cannot be written (a folder by that name, no permission, a read-only disk)."""

    def __init__(self, path: Path, error: OSError):
        if path.is_dir():
            reason = "a folder of that name is in the way"
        elif error.errno in (errno.EEXIST, errno.ENOTDIR):
            reason = "a file is in the way of its folder"
        else:
            reason = error.strerror
        super().__init__(error.errno, f"cannot write {path}: {reason}", str(path))

    def __str__(self) -> str:
        return self.strerror


# errors of creating, renaming or writing the file that are the target's, not the data's
_UNWRITABLE = (errno.EACCES, errno.EPERM, errno.EROFS, errno.EISDIR, errno.ENOTDIR, errno.EEXIST)


def _is_disk_full(error: BaseException) -> bool:
    """Whether ``error``, or an error it was raised from or while handling, is ENOSPC."""
    while error is not None:
        if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        error = error.__cause__ or error.__context__
    return False


def remove_stale_temporaries(path: Path) -> None:
    """Remove the temporary files of earlier writes of ``path`` (``.NAME.XXXX.SUFFIX``): a
    writer killed with SIGKILL cannot remove its own, and its job's rerun writes here again.
    (One job writes a given output at a time: Snakemake locks the folder.)"""
    for stale in path.parent.glob(f".{glob.escape(path.name)}.*{glob.escape(path.suffix)}"):
        stale.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path in the target's folder; rename it onto ``path`` on success.

    On any exception the temporary file is removed and ``path`` is left untouched; a full
    disk is raised as :class:`DiskFullError`. The data are flushed to the disk (fsync)
    before the rename, so that a disk that fills up late still fails here, not afterwards.
    The temporary name keeps the target's suffix, so libraries that infer the format
    from the suffix (matplotlib, numpy) behave as they would on ``path`` itself.
    """
    path = Path(path)
    try:
        if path.is_dir():
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
        path.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(path)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix)
    except OSError as error:
        if error.errno in _UNWRITABLE:
            raise UnwritableError(path, error) from error
        raise
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; give the file ordinary permissions
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        with open(tmp_path, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp_path, path)
    except Exception as error:
        if _is_disk_full(error):
            raise DiskFullError(path) from error
        if isinstance(error, OSError) and error.errno in _UNWRITABLE:
            raise UnwritableError(path, error) from error
        raise
    finally:
        tmp_path.unlink(missing_ok=True)


def write_text(path: str | os.PathLike, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def write_json(path: str | os.PathLike, obj) -> None:
    write_text(path, json.dumps(obj, indent=2, sort_keys=True) + "\n")


def write_bytes(path: str | os.PathLike, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_torch(path: str | os.PathLike, obj) -> None:
    """torch.save ``obj`` to ``path`` through a Python file, so that a full disk raises
    ENOSPC (torch's own writer, given a path, reports it as an unspecific RuntimeError)."""
    import torch

    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            torch.save(obj, f)


def write_npz(path: str | os.PathLike, **arrays: np.ndarray) -> None:
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez_compressed(f, **arrays)
