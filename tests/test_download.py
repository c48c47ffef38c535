"""Offline tests of infusion.data.download against a local HTTP server on 127.0.0.1."""

from __future__ import annotations

import gzip
import hashlib
import http.server

import pytest
from local_server import serve

from infusion.data.download import DownloadError, download, gunzipped_md5sum, md5sum

PAYLOAD = bytes(range(256)) * 64
PAYLOAD_MD5 = hashlib.md5(PAYLOAD).hexdigest()
PAYLOAD_SHA256 = hashlib.sha256(PAYLOAD).hexdigest()
WRONG_MD5 = "0" * 32


class _Handler(http.server.BaseHTTPRequestHandler):
    """Serves ``/good.bin``, a truncated ``/truncated.bin``; anything else is a 404."""

    requests: list[str]

    def do_GET(self):  # noqa: N802 (name fixed by BaseHTTPRequestHandler)
        self.requests.append(self.path)
        if self.path == "/good.bin":
            self._send(PAYLOAD, len(PAYLOAD))
        elif self.path == "/truncated.bin":
            self._send(PAYLOAD[:100], len(PAYLOAD))
        else:
            self.send_error(404)

    def _send(self, body: bytes, announced: int) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(announced))
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    """Yield ``(base_url, requests)``: the server's address and the paths it was asked for."""
    requests: list[str] = []
    handler = type("Handler", (_Handler,), {"requests": requests})
    with serve(handler) as url:
        yield url, requests


def _get(urls, dest, md5=PAYLOAD_MD5):
    return download("payload.bin", urls, dest, md5, timeout=5, retries=2, backoff=0)


def test_good_file_downloads_and_verifies(server, tmp_path):
    base, _ = server
    dest = tmp_path / "payload.bin"
    assert _get([f"{base}/good.bin"], dest) == dest
    assert dest.read_bytes() == PAYLOAD
    assert md5sum(dest) == PAYLOAD_MD5
    assert [p.name for p in tmp_path.iterdir()] == ["payload.bin"]


def test_checksum_mismatch_names_file_and_both_checksums(server, tmp_path):
    base, requests = server
    with pytest.raises(DownloadError) as info:
        _get([f"{base}/good.bin"], tmp_path / "payload.bin", md5=WRONG_MD5)
    message = str(info.value)
    assert "payload.bin" in message
    assert WRONG_MD5 in message
    assert PAYLOAD_MD5 in message
    assert requests == ["/good.bin"], "a checksum mismatch is not retried on the same URL"
    assert list(tmp_path.iterdir()) == []


def test_truncated_response_fails_cleanly(server, tmp_path):
    base, requests = server
    with pytest.raises(DownloadError, match="payload.bin") as info:
        _get([f"{base}/truncated.bin"], tmp_path / "payload.bin")
    assert "truncated" in str(info.value).lower() or "incomplete" in str(info.value).lower()
    assert len(requests) == 2, "a truncated transfer is retried"
    assert list(tmp_path.iterdir()) == []


def test_missing_everywhere_lists_each_url(server, tmp_path):
    base, _ = server
    urls = [f"{base}/missing.bin", f"{base}/mirror/missing.bin"]
    with pytest.raises(DownloadError) as info:
        _get(urls, tmp_path / "payload.bin")
    message = str(info.value)
    assert "payload.bin" in message
    for url in urls:
        assert url in message
    assert "404" in message
    assert list(tmp_path.iterdir()) == []


def test_falls_back_to_mirror(server, tmp_path):
    base, requests = server
    dest = tmp_path / "payload.bin"
    _get([f"{base}/missing.bin", f"{base}/good.bin"], dest)
    assert dest.read_bytes() == PAYLOAD
    assert requests == ["/missing.bin", "/good.bin"], "a 404 is not retried on the same URL"


def test_file_url(tmp_path):
    source = tmp_path / "source" / "payload.bin"
    source.parent.mkdir()
    source.write_bytes(PAYLOAD)
    dest = tmp_path / "cache" / "payload.bin"
    _get([source.as_uri()], dest)
    assert dest.read_bytes() == PAYLOAD


def test_existing_good_file_is_not_downloaded_again(server, tmp_path):
    base, requests = server
    dest = tmp_path / "payload.bin"
    dest.write_bytes(PAYLOAD)
    assert _get([f"{base}/good.bin"], dest) == dest
    assert requests == []


def test_existing_corrupt_file_is_replaced(server, tmp_path):
    base, _ = server
    dest = tmp_path / "payload.bin"
    dest.write_bytes(b"stale")
    _get([f"{base}/good.bin"], dest)
    assert dest.read_bytes() == PAYLOAD


def test_sha256_prefix_alone_verifies_a_download(server, tmp_path):
    base, _ = server
    dest = tmp_path / "payload.bin"
    download("payload.bin", [f"{base}/good.bin"], dest, sha256_prefix=PAYLOAD_SHA256[:8])
    assert dest.read_bytes() == PAYLOAD
    assert [p.name for p in tmp_path.iterdir()] == ["payload.bin"]


def test_sha256_prefix_mismatch_names_both_prefixes_and_leaves_nothing(server, tmp_path):
    base, requests = server
    wrong = "6726825d"
    assert not PAYLOAD_SHA256.startswith(wrong)
    with pytest.raises(DownloadError) as info:
        download("payload.bin", [f"{base}/good.bin"], tmp_path / "payload.bin",
                 PAYLOAD_MD5, sha256_prefix=wrong, retries=2, backoff=0)  # fmt: skip
    message = str(info.value)
    assert f"expected sha256 prefix {wrong}, got {PAYLOAD_SHA256[:8]}" in message
    assert "md5" not in message, "the MD5 matched: only the SHA-256 is reported"
    assert requests == ["/good.bin"]
    assert list(tmp_path.iterdir()) == []


def test_existing_file_with_the_right_md5_but_another_sha256_is_replaced(server, tmp_path):
    base, requests = server
    dest = tmp_path / "payload.bin"
    dest.write_bytes(PAYLOAD)
    download("payload.bin", [f"{base}/good.bin"], dest, PAYLOAD_MD5,
             sha256_prefix=PAYLOAD_SHA256[:8])  # fmt: skip
    assert requests == []
    with pytest.raises(DownloadError, match="expected sha256 prefix"):
        download("payload.bin", [f"{base}/good.bin"], dest, PAYLOAD_MD5,
                 sha256_prefix="0" * 8, retries=1)  # fmt: skip
    assert requests == ["/good.bin"], "the present file failed its SHA-256: fetched again"


def test_a_download_needs_some_checksum(tmp_path):
    with pytest.raises(ValueError, match="payload.bin: no checksum"):
        download("payload.bin", ["file:///nowhere"], tmp_path / "payload.bin")


def test_gunzipped_md5sum_identifies_content_whatever_its_compression(tmp_path):
    fast, packaged = tmp_path / "fast.gz", tmp_path / "packaged.gz"
    fast.write_bytes(gzip.compress(PAYLOAD, compresslevel=1, mtime=0))
    packaged.write_bytes(gzip.compress(PAYLOAD, compresslevel=9, mtime=1_591_347_949))
    assert md5sum(fast) != md5sum(packaged)
    assert gunzipped_md5sum(fast) == gunzipped_md5sum(packaged) == PAYLOAD_MD5
    plain = tmp_path / "plain.bin"
    plain.write_bytes(PAYLOAD)
    with pytest.raises(ValueError, match="plain.bin: not a readable gzip file"):
        gunzipped_md5sum(plain)
