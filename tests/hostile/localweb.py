"""A tiny scripted web for the hostile tests: a loopback HTTP proxy with fixed routes.

Routes are ``(host, path) -> (status, headers, body)``; every request is logged with
its headers. ``Sentinel`` listens on another loopback address (127.0.0.2 …) and counts
connections: the SSRF tests assert it was never reached.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

Route = tuple[int, Sequence[tuple[str, str]], bytes]
ROOT = Path(__file__).resolve().parents[2]


class ScriptedWeb:
    def __init__(self, routes: Mapping[tuple[str, str], Route]) -> None:
        self.routes = dict(routes)
        self.log: list[dict[str, Any]] = []
        web = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

            def do_GET(self) -> None:  # noqa: N802
                parts = urlsplit(self.path)
                host = parts.hostname or (self.headers.get("Host") or "").split(":")[0]
                web.log.append({"host": host, "path": parts.path, "headers": dict(self.headers.items())})
                status, headers, body = web.routes.get((host, parts.path), (404, [], b"not found"))
                self.send_response(status)
                for k, v in headers:
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def proxy_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> ScriptedWeb:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


class Sentinel:
    """Counts TCP connections to a forbidden loopback address."""

    def __init__(self, host: str = "127.0.0.2") -> None:
        self.sock = socket.socket()
        self.sock.bind((host, 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.host = host
        self.port = int(self.sock.getsockname()[1])
        self.connections = 0
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def __enter__(self) -> Sentinel:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self.thread.join(timeout=2)
        self.sock.close()


def run_probe(tmp_path: Path, requests: list[dict[str, Any]], *, sites: Mapping[str, Sequence[str]],
              settings: Mapping[str, Any] | None = None, proxy: str | None = None) -> tuple[list[dict[str, Any]],
                                                                                             dict[str, Any]]:
    """Run tests/hostile/_runner.py in a child process; returns (outcomes, stats)."""
    config = {"requests": requests, "sites": dict(sites),
              "settings": {"NOTICEWATCH_ALLOW_PRIVATE_NETWORKS": ["127.0.0.1/32"], **(settings or {})}}
    path = tmp_path / "probe.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k.lower() not in ("http_proxy", "https_proxy", "no_proxy")}
    env["SCRAPY_SETTINGS_MODULE"] = "crawler.settings"
    env["PYTHONPATH"] = str(ROOT)
    if proxy:
        env["http_proxy"] = env["https_proxy"] = proxy
    proc = subprocess.run([sys.executable, "-m", "tests.hostile._runner", str(path)], env=env, cwd=str(ROOT),
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    stats = rows.pop()["stats"] if rows and "stats" in rows[-1] else {}
    return rows, stats
