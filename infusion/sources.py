"""Where a dataset preparer finds its raw files: base URLs to download from, or a local path.

A :class:`Source` reaches each preparer of :mod:`infusion.data`. Downloads go through
:func:`infusion.download.download` (checksummed, retried, never partial); local files are
checked against the same published checksums with :func:`checked_file`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from infusion.download import download, md5sum


@dataclass(frozen=True)
class Source:
    """The raw files of one dataset.

    ``urls`` are base URLs (``https://``, ``http://`` or ``file://`` folders holding the
    dataset's files), tried in order; ``path`` is a local file or folder given by the user;
    downloads are kept in ``cache_dir``.
    """

    cache_dir: Path
    urls: tuple[str, ...] = ()
    path: Path | None = None

    def fetch(self, filename: str, md5: str) -> Path:
        """Download ``filename`` from the first base URL that delivers it with checksum ``md5``."""
        urls = [base.rstrip("/") + "/" + filename for base in self.urls]
        return download(filename, urls, Path(self.cache_dir) / filename, md5)


def base_urls(dataset: str, defaults: Sequence[str], override: Sequence[str] | None = None):
    """Base URLs of ``dataset``: ``override``, else ``$INFUSION_<DATASET>_URLS``, else ``defaults``.

    The environment variable (e.g. ``INFUSION_MNIST_URLS``, ``INFUSION_CIFAR10_URLS``) is a
    comma-separated list of base URLs, tried in order.
    """
    if override:
        return list(override)
    from_env = os.environ.get(url_variable(dataset), "").split(",")
    return [url.strip() for url in from_env if url.strip()] or list(defaults)


def url_variable(dataset: str) -> str:
    """The environment variable that overrides ``dataset``'s base URLs."""
    return f"INFUSION_{dataset.upper()}_URLS"


def checked_file(path: Path, md5: str) -> Path:
    """Return ``path`` if it has checksum ``md5``; else ``ValueError`` naming the file and both.

    A missing file raises ``FileNotFoundError``.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist")
    actual = md5sum(path)
    if actual != md5:
        raise ValueError(
            f"{path}: checksum mismatch: expected md5 {md5}, got {actual} (not the official file?)"
        )
    return path
