"""One loopback HTTP server for every demo site, usable as an HTTP proxy.

A crawler with ``http_proxy=http://127.0.0.1:PORT`` sends ``GET http://www.mawei.gov.cn/…``;
direct requests with a ``Host`` header work too. Nothing here resolves a name: the
site is picked from the request line or the Host header only.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import random
import signal
import socket
import struct
import sys
import threading
from collections.abc import Callable, Sequence
from datetime import UTC
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from . import fam_epoint, fam_fujian, fam_gkmlpt, fam_hanweb, fam_kaipu, fam_trs
from .files import CONTENT_TYPES, file_bytes
from .hostile import blocked_response, not_found, withdrawn_response
from .model import Attachment, Site
from .pages import Resp, esc
from .world import World

Route = Callable[[World, Site, str, str, dict[str, str], dict[str, str]], Resp | None]
ROUTES: dict[str, Route] = {
    "trs_wcm": fam_trs.route, "fujian": fam_fujian.route, "hanweb": fam_hanweb.route,
    "kaipu": fam_kaipu.route, "gkmlpt": fam_gkmlpt.route, "epoint": fam_epoint.route,
}
FAULTS = ("500", "503", "reset", "truncated", "tiny")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    web: DemoWeb


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "nginx"
    sys_version = ""
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        if self.server.web.verbose:
            super().log_message(format, *args)

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        self._handle("GET")

    def do_HEAD(self) -> None:  # noqa: N802
        self._handle("HEAD")

    def do_POST(self) -> None:  # noqa: N802
        self._handle("POST")

    # ------------------------------------------------------------------ dispatch
    def _target(self) -> tuple[str, str, str]:
        if self.path.startswith(("http://", "https://")):
            parts = urlsplit(self.path)
            host, path, query = parts.hostname or "", parts.path or "/", parts.query
        else:
            parts = urlsplit(self.path)
            host = (self.headers.get("Host") or "").rsplit(":", 1)[0] if not (
                self.headers.get("Host") or "").startswith("[") else ""
            path, query = parts.path or "/", parts.query
        return host.lower().strip("."), path, query

    def _handle(self, method: str) -> None:
        web = self.server.web
        host, path, query = self._target()
        logged = path + ("?" + query if query else "")
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length > 0 else b""
        form = dict(parse_qsl(raw.decode("utf-8", "replace"))) if raw else {}
        params = dict(parse_qsl(query, keep_blank_values=True))
        if path == "/__health":
            self._send(method, Resp(body="ok", ctype="text/plain"), None, host, logged)
            return
        world = web.world
        with world.lock:
            site = world.site_by_host(host)
            if site is None:
                resp = _index(world) if host.startswith("127.") or host == "localhost" else not_found()
                self._send(method, resp, None, host, logged)
                return
            if site.down:
                web._log(method, host, logged, 0)
                self._abort()
                return
            if site.blocked:
                self._send(method, blocked_response(site.blocked), None, host, logged)
                return
            fault = web._roll_fault(site) if path != "/robots.txt" else None
            resp = _route(world, site, method, path, params, form)
        if fault in ("500", "503"):
            hdrs = [("Retry-After", "1")] if fault == "503" else []
            resp = Resp(status=int(fault), body=f"<html><body><h1>{fault} Service Error</h1></body></html>",
                        headers=hdrs, cacheable=False)
        elif fault == "reset":
            web._log(method, host, logged, 0)
            self._abort()
            return
        elif fault == "tiny":
            resp = Resp(body=b"\r\n", ctype="text/html", cacheable=False)
        self._send(method, resp, site, host, logged, truncate=fault == "truncated")

    def _abort(self) -> None:
        """Close with a TCP reset: what a crashed or overloaded upstream looks like."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass

    # ------------------------------------------------------------------ output
    def _send(self, method: str, resp: Resp, site: Site | None, host: str, logged: str,
              truncate: bool = False) -> None:
        body = resp.body
        if isinstance(body, str):
            enc = "gb18030" if "gb2312" in resp.ctype.lower() else "utf-8"
            body = body.encode(enc)
        status = resp.status
        headers = list(resp.headers)
        if status == 200 and resp.cacheable:
            basis = resp.etag_basis.encode() if resp.etag_basis else body
            etag = '"' + hashlib.sha1(basis).hexdigest()[:16] + '"'
            lm = resp.last_modified or self.server.web.world_epoch
            lm_text = format_datetime(lm.astimezone(UTC), usegmt=True)
            headers += [("ETag", etag), ("Last-Modified", lm_text)]
            if _not_modified(self.headers.get("If-None-Match"), self.headers.get("If-Modified-Since"),
                             etag, lm):
                status, body = 304, b""
        if status != 304 and len(body) > 2 and site is not None and _wants_gzip(site, self.headers):
            body = gzip.compress(body, mtime=0)
            headers += [("Content-Encoding", "gzip"), ("Vary", "Accept-Encoding")]
        self.server.web._log(method, host, logged, status)
        self.send_response(status)
        if status != 304:
            self.send_header("Content-Type", resp.ctype)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        if truncate:
            self.send_header("Connection", "close")
        self.end_headers()
        if method == "HEAD" or status == 304:
            return
        if truncate:  # promise the full length, send half, hang up
            self.wfile.write(body[: max(1, len(body) // 2)])
            self.wfile.flush()
            self._abort()
            return
        self.wfile.write(body)


def _wants_gzip(site: Site, headers: Any) -> bool:
    if site.gzip == "force":
        return True
    return site.gzip == "accept" and "gzip" in (headers.get("Accept-Encoding") or "").lower()


def _not_modified(inm: str | None, ims: str | None, etag: str, lm: Any) -> bool:
    if inm:
        return etag in [t.strip().removeprefix("W/") for t in inm.split(",")] or inm.strip() == "*"
    if ims:
        try:
            since = parsedate_to_datetime(ims)
        except (TypeError, ValueError):
            return False
        return since is not None and lm.replace(microsecond=0) <= since
    return False


def _route(world: World, site: Site, method: str, path: str, params: dict[str, str],
           form: dict[str, str]) -> Resp:
    if path == "/robots.txt":
        return Resp(body="User-agent: *\nAllow: /\nDisallow: /private/\n", ctype="text/plain")
    if path.startswith("/private/"):
        return Resp(body="<html><body>内部资料，请勿抓取。</body></html>", ctype="text/html; charset=utf-8")
    n = world.notice_at(site.host, path)
    if n is not None and not n.live:
        return withdrawn_response(n.withdrawn or "404", site.url(site.column(n.home).entry))
    att = world.files.get((site.host, path))
    if att is not None:
        return _file(att)
    if path in ("/", "/index.html", "/index.htm", "/index.shtml"):
        return _home(site)
    resp = ROUTES[site.family](world, site, method, path, params, form)
    return resp if resp is not None else not_found()


def _file(att: Attachment) -> Resp:
    headers = []
    if att.disposition == "utf8":
        from urllib.parse import quote

        headers.append(("Content-Disposition", f"attachment; filename*=UTF-8''{quote(att.name)}"))
    elif att.disposition == "gbk":
        # Raw GBK bytes in a quoted filename, as many Java servers send; http.server
        # encodes header values as latin-1, so smuggle the bytes through that codec.
        headers.append(("Content-Disposition",
                        'attachment; filename="' + att.name.encode("gbk").decode("latin-1") + '"'))
    return Resp(body=file_bytes(att), ctype=CONTENT_TYPES[att.kind], headers=headers,
                etag_basis=f"{att.key}-{att.version}")


def _home(site: Site) -> Resp:
    links = "".join(f'<li><a href="{c.entry}">{esc(c.name)}</a></li>' for c in site.columns
                    if not c.hostile)
    body = (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{esc(site.name)}</title></head>'
            f"<body><h1>{esc(site.name)}</h1><ul>{links}</ul></body></html>")
    return Resp(body=body, ctype="text/html; charset=utf-8")


def _index(world: World) -> Resp:
    rows = "".join(f"<li>{esc(s.name)}: http://{s.host}/ ({s.family})</li>" for s in world.sites.values())
    return Resp(body=f'<html><head><meta charset="utf-8"><title>demo web</title></head><body>'
                f"<p>Use this server as an HTTP proxy.</p><ul>{rows}</ul></body></html>",
                ctype="text/html; charset=utf-8")


class DemoWeb:
    """The fixture web: ``with DemoWeb() as web: ... web.proxy_url ...``."""

    def __init__(self, world: World | None = None, host: str = "127.0.0.1", port: int = 0,
                 seed: int = 2024, verbose: bool = False) -> None:
        if not host.startswith("127."):
            raise ValueError("the demo web binds loopback addresses only")
        self.world = world or World(seed)
        self.host = host
        self.verbose = verbose
        self.requests: list[tuple[str, str, str, int]] = []
        self._req_lock = threading.Lock()
        self._fault_rngs: dict[str, random.Random] = {}
        self._httpd = _Server((host, port), _Handler, bind_and_activate=True)
        self._httpd.web = self
        self._thread: threading.Thread | None = None
        self.world_epoch = self.world.clock

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def proxy_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> DemoWeb:
        if self._thread is None:
            self._thread = threading.Thread(target=self._httpd.serve_forever, name="demoweb",
                                            kwargs={"poll_interval": 0.1}, daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._httpd.server_close()

    def __enter__(self) -> DemoWeb:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def set_behaviour(self, site_key: str, **kw: Any) -> None:
        """``fault_rate=0.3``, ``blocked="412"|"521"|"403"|None``, ``down=True``."""
        self.world.set_behaviour(site_key, **kw)

    def clear_requests(self) -> None:
        with self._req_lock:
            self.requests.clear()

    def _log(self, method: str, host: str, path: str, status: int) -> None:
        with self._req_lock:
            self.requests.append((method, host, path, status))

    def _roll_fault(self, site: Site) -> str | None:
        if site.fault_rate <= 0:
            return None
        rng = self._fault_rngs.setdefault(site.key, random.Random(f"{self.world.seed}:faults:{site.key}"))
        if rng.random() >= site.fault_rate:
            return None
        return rng.choice(FAULTS)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="noticewatch demo-web",
                                 description="Serve the demo district sites; use as an HTTP proxy.")
    ap.add_argument("--port", type=int, default=8765)
    ap.add_argument("--host", default="127.0.0.1", help="a loopback address")
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--verbose", action="store_true", help="log requests to stderr")
    args = ap.parse_args(argv)
    web = DemoWeb(host=args.host, port=args.port, seed=args.seed, verbose=args.verbose).start()
    stop = threading.Event()

    def _stop(signum: int, frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    print(f"demo web on {web.proxy_url} - use it as http_proxy; Ctrl-C stops", file=sys.stdout, flush=True)
    while not stop.wait(0.5):  # a timed wait keeps signal handling prompt
        pass
    web.stop()
    return 0
