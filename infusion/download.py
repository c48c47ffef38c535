"""Checksummed downloads with mirrors and retries.

A download streams into a temporary file beside its destination (see
:func:`infusion.atomic.atomic_path`) and is renamed into place only after its length and
MD5 checksum have been verified, so an interrupted or corrupt transfer never leaves a file
that looks complete.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import logging
import os
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import BinaryIO

from infusion.atomic import atomic_path

log = logging.getLogger(__name__)

CHUNK_BYTES = 1 << 20
PROGRESS_EVERY_BYTES = 64 << 20
USER_AGENT = "infusion-reproduction/0.1 (python urllib)"


class DownloadError(RuntimeError):
    """A file could not be downloaded, arrived truncated, or failed its checksum."""


class _ChecksumMismatch(DownloadError):
    """The file arrived complete but with the wrong content; retrying the same URL won't help."""


def md5sum(path: str | os.PathLike) -> str:
    """Return the hexadecimal MD5 digest of the file at ``path``."""
    with open(path, "rb") as f:
        return _stream_md5(f)


def gunzipped_md5sum(path: str | os.PathLike) -> str:
    """Return the hexadecimal MD5 digest of the decompressed content of the gzip file ``path``.

    It identifies the content whatever the compression (level, header time stamp), e.g. a
    copy re-compressed by a packager. ``ValueError`` naming the file if it is not gzip.
    """
    try:
        with gzip.open(path, "rb") as f:
            return _stream_md5(f)
    except (OSError, EOFError) as err:
        raise ValueError(f"{path}: not a readable gzip file ({err})") from err


def _stream_md5(f: BinaryIO) -> str:
    digest = hashlib.md5()
    for block in iter(lambda: f.read(CHUNK_BYTES), b""):
        digest.update(block)
    return digest.hexdigest()


def download(
    name: str,
    urls: list[str],
    dest: Path,
    md5: str,
    *,
    timeout: float = 60,
    retries: int = 3,
    backoff: float = 1.0,
) -> Path:
    """Download ``name`` to ``dest`` from the first of ``urls`` that delivers it intact.

    If ``dest`` already exists with checksum ``md5`` nothing is fetched. Otherwise each URL
    (canonical first, then mirrors; ``http(s)://`` or ``file://``) gets up to ``retries``
    attempts, sleeping ``backoff * 2**attempt`` seconds between them. A checksum mismatch or
    an HTTP 4xx answer moves on to the next URL at once, since retrying cannot fix them.

    Raises :class:`DownloadError` naming ``name`` and each URL with its last error when no
    URL delivers the file; a checksum mismatch is reported with the expected and actual
    MD5. No partial or temporary file is left behind.
    """
    dest = Path(dest)
    if dest.exists():
        if md5sum(dest) == md5:
            log.info("%s: already present at %s", name, dest)
            return dest
        log.warning("%s: %s has the wrong checksum; downloading it again", name, dest)

    errors: dict[str, Exception] = {}
    for url in urls:
        for attempt in range(retries):
            if attempt:
                time.sleep(backoff * 2 ** (attempt - 1))
            try:
                _fetch(name, url, dest, md5, timeout)
                return dest
            except (OSError, http.client.HTTPException, DownloadError) as err:
                errors[url] = err
                log.warning(
                    "%s: attempt %d/%d from %s failed: %s", name, attempt + 1, retries, url, err
                )
                if _is_permanent(err):
                    break
    listing = "\n".join(f"  {url}: {err}" for url, err in errors.items()) or "  (no URLs given)"
    raise DownloadError(f"could not download {name} to {dest}:\n{listing}")


def _is_permanent(err: Exception) -> bool:
    """Whether retrying the same URL is pointless (wrong content, or a client-side HTTP error)."""
    if isinstance(err, _ChecksumMismatch):
        return True
    return (
        isinstance(err, urllib.error.HTTPError)
        and 400 <= err.code < 500
        and err.code not in (408, 429)
    )


def _fetch(name: str, url: str, dest: Path, md5: str, timeout: float) -> None:
    """Make one attempt to stream ``url`` into ``dest``, verifying length and checksum."""
    log.info("%s: downloading from %s", name, url)
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    digest = hashlib.md5()
    received = 0
    next_report = PROGRESS_EVERY_BYTES
    with atomic_path(dest) as tmp:
        with urllib.request.urlopen(request, timeout=timeout) as response, open(tmp, "wb") as out:
            announced = response.headers.get("Content-Length")
            while chunk := response.read(CHUNK_BYTES):
                out.write(chunk)
                digest.update(chunk)
                received += len(chunk)
                if received >= next_report:
                    log.info("%s: %d bytes received", name, received)
                    next_report += PROGRESS_EVERY_BYTES
        if announced is not None and received < int(announced):
            raise DownloadError(f"truncated transfer: received {received} of {announced} bytes")
        actual = digest.hexdigest()
        if actual != md5:
            raise _ChecksumMismatch(f"checksum mismatch: expected md5 {md5}, got {actual}")
        log.info("%s: %d bytes received from %s, checksum verified", name, received, url)
