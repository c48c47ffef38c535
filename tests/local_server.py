"""A local HTTP server on 127.0.0.1 for the offline download tests."""

import contextlib
import functools
import http.server
import threading
from pathlib import Path


@contextlib.contextmanager
def serve(handler):
    """Serve requests with ``handler`` (a request-handler class) on a free port of 127.0.0.1;
    yield the base URL (no trailing slash). The server is shut down on exit."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


class QuietFiles(http.server.SimpleHTTPRequestHandler):
    """Serves a folder's files without logging each request."""

    def log_message(self, *args):
        pass


@contextlib.contextmanager
def http_folder(folder: Path):
    """Serve ``folder``'s files; yield its base URL (with a trailing slash)."""
    with serve(functools.partial(QuietFiles, directory=str(folder))) as url:
        yield url + "/"
