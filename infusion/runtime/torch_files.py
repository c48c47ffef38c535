"""Model and checkpoint files read as data, never as code.

:func:`read_data` is ``torch.load(..., weights_only=True)``: the unpickler builds tensors
(a generator's state is a uint8 tensor), dicts, lists, tuples, numbers, strings and None,
and refuses any other global (a class, a function such as ``os.system``) before calling it.
Researchers share model files; one whose unpickling would run code stops with
:class:`UnsafeFile`, one line naming the file and what it asked for.
"""

from __future__ import annotations

import io
import pickle
import re
from pathlib import Path

import torch

_GLOBAL = re.compile(r"GLOBAL ([\w.]+)")  # how torch's weights-only unpickler names a global


class UnsafeFile(ValueError):
    """A torch file that needs more than tensors and plain data; ``needs`` is what it named
    (e.g. ``posix.system``, or ``numpy.ndarray`` in checkpoints of older versions)."""

    def __init__(self, message: str, needs: str):
        super().__init__(message)
        self.needs = needs


def one_line(error: BaseException, limit: int = 300) -> str:
    """An exception's message on one line (torch's and pickle's span several), cut to
    ``limit`` characters (a state dict's errors list every key)."""
    text = " ".join(str(error).split()) or type(error).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


def read_data(
    source: str | Path | io.BytesIO, name: str, device: str | torch.device = "cpu"
) -> object:
    """The object saved in ``source`` (a path or a buffer; ``name`` is how messages call it).

    :class:`UnsafeFile` when it needs anything but tensors and plain data, ValueError naming
    it when it is not a torch file at all (truncated, corrupt, foreign), FileNotFoundError as
    is.
    """
    try:
        return torch.load(source, map_location=device, weights_only=True)
    except FileNotFoundError:
        raise
    except pickle.UnpicklingError as error:
        needed = _GLOBAL.search(str(error))
        if needed is not None:
            raise UnsafeFile(
                f"{name} is refused unread: it needs {needed.group(1)}, and model and "
                "checkpoint files are read as tensors and plain data only",
                needed.group(1),
            ) from None
        unreadable = error
    except Exception as error:  # truncated, corrupt or foreign files raise many kinds
        unreadable = error
    raise ValueError(
        f"{name} cannot be read as a model or checkpoint: {one_line(unreadable)}"
    ) from unreadable
