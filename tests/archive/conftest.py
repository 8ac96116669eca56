"""A local HTTP server (127.0.0.1 only) for the archive tests."""

from __future__ import annotations

import gzip
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

PAGE = "<html><head><meta charset='utf-8'><title>通知</title></head><body><p>关于做好防汛工作的通知</p></body></html>"
PAGE_GZ = gzip.compress(PAGE.encode("utf-8"), mtime=0)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:  # keep test output quiet
        pass

    def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if status != 304:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if status != 304:
            self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        if self.path == "/robots.txt":
            self._send(200, b"User-agent: *\nDisallow: /private/\n", {"Content-Type": "text/plain"})
        elif self.path in ("/page.html", "/same.html"):  # same payload under two URLs
            self._send(200, PAGE_GZ, {"Content-Type": "text/html; charset=utf-8", "Content-Encoding": "gzip"})
        elif self.path == "/redirect":
            self._send(302, b"", {"Location": "/page.html"})
        elif self.path == "/etag":
            if self.headers.get("If-None-Match") == '"v1"':
                self._send(304, b"", {"ETag": '"v1"'})
            else:
                self._send(200, b"etag body", {"ETag": '"v1"', "Content-Type": "text/plain"})
        elif self.path == "/chunked":
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for piece in (b"first part, ", b"second part"):
                self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
        elif self.path.startswith("/download"):
            self._send(200, b"%PDF-1.4 fake", {"Content-Type": "application/octet-stream",
                                              "Content-Disposition": self.headers.get("X-Want-Disposition", "")})
        else:
            self._send(404, b"not here", {"Content-Type": "text/plain"})


@pytest.fixture(scope="session")
def http_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
