"""Where a dataset preparer finds its raw files: base URLs to download from, or a local path.

A :class:`Source` reaches each preparer of :mod:`infusion.data.registry`. Downloads go through
:func:`infusion.data.download.download` (checksummed, retried, never partial); local files are
checked against the same published checksums with :func:`checked_file`, and local gzip
files also against the checksum of their decompressed content with :func:`checked_gzip`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from infusion.data.download import download, gunzipped_md5sum, md5sum

log = logging.getLogger(__name__)

Splits = dict[str, np.ndarray]  # what a preparer returns: uint8 train, valid, test (N, C, H, W)


@dataclass(frozen=True)
class Source:
    """The raw files of one dataset.

    ``urls`` are base URLs (``https://``, ``http://`` or ``file://`` folders holding the
    dataset's files), tried in order; ``path`` is a local file or folder given by the user;
    downloads are kept in ``cache_dir``. ``md5`` and ``content_md5`` map file names to
    checksums that replace the preparer's (config keys ``data.<name>.md5`` and
    ``data.<name>.content_md5``; flags ``--md5`` and ``--content-md5``).
    """

    cache_dir: Path
    urls: tuple[str, ...] = ()
    path: Path | None = None
    md5: Mapping[str, str] = field(default_factory=dict)
    content_md5: Mapping[str, str] = field(default_factory=dict)

    def fetch(self, filename: str, md5: str) -> Path:
        """Download ``filename`` from the first base URL that delivers it with checksum ``md5``."""
        md5 = self.md5.get(filename, md5)
        urls = [base.rstrip("/") + "/" + filename for base in self.urls]
        return download(filename, urls, Path(self.cache_dir) / filename, md5)

    def gzip_file(self, filename: str, md5: str, content_md5: str | None = None) -> Path:
        """The gzip file ``filename``: read from the folder ``path`` if given, else downloaded.

        ``md5`` is the published checksum of the file, ``content_md5`` that of its
        decompressed content (``None`` where unknown). A local copy may match either (see
        :func:`checked_gzip`); a download must match ``md5`` (see :meth:`fetch`).
        """
        if self.path is None:
            return self.fetch(filename, md5)
        return checked_gzip(
            self.path / filename,
            self.md5.get(filename, md5),
            self.content_md5.get(filename, content_md5),
        )


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


def checked_gzip(path: Path, md5: str, content_md5: str | None) -> Path:
    """Return the gzip file ``path`` if it has checksum ``md5`` or, failing that, if its
    decompressed content has checksum ``content_md5`` (a copy compressed anew, as Debian's
    packages are); the log says which matched.

    Else ``ValueError`` naming the file, both expected checksums and both actual ones; a
    missing file raises ``FileNotFoundError``.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist")
    actual = md5sum(path)
    if actual == md5:
        log.info("%s: md5 %s, the published file's", path, actual)
        return path
    actual_content = gunzipped_md5sum(path)
    if actual_content == content_md5:
        log.info(
            "%s: md5 %s is not the published %s, but its decompressed content has the expected"
            " md5 %s: the same content, compressed anew",
            path,
            actual,
            md5,
            actual_content,
        )
        return path
    raise ValueError(
        f"{path}: checksum mismatch: expected md5 {md5} of the file or {content_md5} of its"
        f" decompressed content, got {actual} and {actual_content}"
    )
