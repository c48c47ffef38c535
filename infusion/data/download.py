"""Checksummed downloads with mirrors and retries.

A download streams into a temporary file beside its destination (see
:func:`infusion.runtime.atomic.atomic_path`) and is renamed into place only after its length and
checksums (the MD5, the leading digits of the SHA-256, or both) have been verified, so an
interrupted or corrupt transfer never leaves a file that looks complete.
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

from infusion.runtime.atomic import atomic_path

log = logging.getLogger(__name__)

CHUNK_BYTES = 1 << 20
PROGRESS_EVERY_BYTES = 64 << 20
USER_AGENT = "infusion-reproduction/0.1 (python urllib)"


class DownloadError(RuntimeError):
    """A file could not be downloaded, arrived truncated, or failed its checksum."""


class _ChecksumMismatch(DownloadError):
    """The file arrived complete but with the wrong content; retrying the same URL won't help."""


class Digests:
    """The MD5 and SHA-256 of bytes fed chunk by chunk: one pass over the data gives both."""

    def __init__(self) -> None:
        self._md5 = hashlib.md5()
        self._sha256 = hashlib.sha256()

    def update(self, chunk: bytes) -> None:
        self._md5.update(chunk)
        self._sha256.update(chunk)

    @property
    def md5(self) -> str:
        return self._md5.hexdigest()

    @property
    def sha256(self) -> str:
        return self._sha256.hexdigest()

    def mismatch(self, md5: str | None = None, sha256_prefix: str | None = None) -> str | None:
        """What differs from the expected ``md5`` and leading digits of the SHA-256, or None.

        Each expectation that is None is not checked. The text reads "expected md5 A, got B;
        expected sha256 prefix P, got Q" for those that fail.
        """
        problems = []
        if md5 is not None and self.md5 != md5:
            problems.append(f"expected md5 {md5}, got {self.md5}")
        if sha256_prefix is not None and not self.sha256.startswith(sha256_prefix):
            actual = self.sha256[: len(sha256_prefix)]
            problems.append(f"expected sha256 prefix {sha256_prefix}, got {actual}")
        return "; ".join(problems) or None


def _stream_digests(f: BinaryIO) -> Digests:
    digests = Digests()
    for block in iter(lambda: f.read(CHUNK_BYTES), b""):
        digests.update(block)
    return digests


def file_digests(path: str | os.PathLike) -> Digests:
    """The :class:`Digests` of the file at ``path``."""
    with open(path, "rb") as f:
        return _stream_digests(f)


def md5sum(path: str | os.PathLike) -> str:
    """Return the hexadecimal MD5 digest of the file at ``path``."""
    return file_digests(path).md5


def gunzipped_md5sum(path: str | os.PathLike) -> str:
    """Return the hexadecimal MD5 digest of the decompressed content of the gzip file ``path``.

    It identifies the content whatever the compression (level, header time stamp), e.g. a
    copy re-compressed by a packager. ``ValueError`` naming the file if it is not gzip.
    """
    try:
        with gzip.open(path, "rb") as f:
            return _stream_digests(f).md5
    except (OSError, EOFError) as err:
        raise ValueError(f"{path}: not a readable gzip file ({err})") from err


def download(
    name: str,
    urls: list[str],
    dest: Path,
    md5: str | None = None,
    *,
    sha256_prefix: str | None = None,
    timeout: float = 60,
    retries: int = 3,
    backoff: float = 1.0,
) -> Path:
    """Download ``name`` to ``dest`` from the first of ``urls`` that delivers it intact.

    Intact: of checksum ``md5`` and with a SHA-256 starting with ``sha256_prefix`` (the
    leading hex digits torch.hub puts in its file names), each checked when given; at least
    one must be. If ``dest`` already exists intact nothing is fetched. Otherwise each URL
    (canonical first, then mirrors; ``http(s)://`` or ``file://``) gets up to ``retries``
    attempts, sleeping ``backoff * 2**attempt`` seconds between them. A checksum mismatch or
    an HTTP 4xx answer moves on to the next URL at once, since retrying cannot fix them.

    Raises :class:`DownloadError` naming ``name`` and each URL with its last error when no
    URL delivers the file; a checksum mismatch is reported with the expected and actual
    digests. No partial or temporary file is left behind.
    """
    if md5 is None and sha256_prefix is None:
        raise ValueError(f"{name}: no checksum given to verify the download against")
    dest = Path(dest)
    if dest.exists():
        if file_digests(dest).mismatch(md5, sha256_prefix) is None:
            log.info("%s: already present at %s", name, dest)
            return dest
        log.warning("%s: %s has the wrong checksum; downloading it again", name, dest)

    errors: dict[str, Exception] = {}
    for url in urls:
        for attempt in range(retries):
            if attempt:
                time.sleep(backoff * 2 ** (attempt - 1))
            try:
                _fetch(name, url, dest, md5, sha256_prefix, timeout)
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


def _fetch(
    name: str, url: str, dest: Path, md5: str | None, sha256_prefix: str | None, timeout: float
) -> None:
    """Make one attempt to stream ``url`` into ``dest``, verifying length and checksums."""
    log.info("%s: downloading from %s", name, url)
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    digests = Digests()
    received = 0
    next_report = PROGRESS_EVERY_BYTES
    with atomic_path(dest) as tmp:
        with urllib.request.urlopen(request, timeout=timeout) as response, open(tmp, "wb") as out:
            announced = response.headers.get("Content-Length")
            while chunk := response.read(CHUNK_BYTES):
                out.write(chunk)
                digests.update(chunk)
                received += len(chunk)
                if received >= next_report:
                    log.info("%s: %d bytes received", name, received)
                    next_report += PROGRESS_EVERY_BYTES
        if announced is not None and received < int(announced):
            raise DownloadError(f"truncated transfer: received {received} of {announced} bytes")
        mismatch = digests.mismatch(md5, sha256_prefix)
        if mismatch is not None:
            raise _ChecksumMismatch(f"checksum mismatch: {mismatch}")
        log.info("%s: %d bytes received from %s, checksum verified", name, received, url)
