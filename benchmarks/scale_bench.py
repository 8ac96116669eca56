"""Scale simulation: many small TRS-style sites behind one local server, 1 s politeness delay.

    .venv/bin/python benchmarks/scale_bench.py [--sites 500] [--modes one,two]

One local HTTP server (used as the crawl's proxy) plays ``--sites`` government sites
``www.s0000.gov.cn`` ... : robots.txt, a column of 2 list pages and 3 notices each.
The crawl runs with ``DOWNLOAD_DELAY=1`` per domain, AutoThrottle off and
``CONCURRENT_REQUESTS`` = 2 x sites, so the politeness budget is about 6 s per site
(robots + 2 lists + 3 notices, one request per second per domain) and a machine
that keeps hundreds of domains in flight finishes the cycle in little more. (Scrapy
counts a request waiting out its domain's delay as in flight, and a site's first
page waits inside the downloader for its robots.txt: two slots per domain, not one.)

Modes: ``one`` = ``noticewatch crawl`` (one Scrapy process, SQLite);
``two`` = two ``noticewatch worker`` processes sharing the crawl through Redis into a
temporary PostgreSQL database (skipped when either is down). Each mode runs in its
own process so ``ru_maxrss`` of its children is that mode's peak crawl-process RSS.
Prints one JSON line per mode and a summary table.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

POLITE = ("DOWNLOAD_DELAY=1", "AUTOTHROTTLE_ENABLED=False", "CONCURRENT_REQUESTS_PER_DOMAIN=1",
          "RETRY_ENABLED=False", "LOG_LEVEL=INFO",
          "NOTICEWATCH_ALLOW_PRIVATE_NETWORKS=127.0.0.1/32")
NOTICES_PER_SITE = 3


def host(i: int) -> str:
    return f"www.s{i:04d}.gov.cn"


def list_page(page: int) -> str:
    # Page 0 lists notices 0-1, page 1 notice 2; createPageHTML announces 2 pages.
    rows = "".join(
        f'<li><a href="./202401/t2024010{n + 1}_{n}.html" title="第{n}号通知">第{n}号通知</a>'
        f"<span>2024-01-0{n + 1}</span></li>"
        for n in ((0, 1) if page == 0 else (2,)))
    return (f'<html><head><meta charset="utf-8"><title>通知公告</title></head><body><ul class="list">{rows}</ul>'
            '<div class="page"><script>createPageHTML(2, ' f'{page}, "index", "html");</script></div></body></html>')


def notice_page(site: str, n: int) -> str:
    return (f'<html><head><meta charset="utf-8"><title>第{n}号通知</title></head><body>'
            f'<h1 class="title">{site} 第{n}号通知</h1><div class="info">发布时间：2024-01-0{n + 1} 10:00 '
            f'来源：区政府办</div><div class="TRS_Editor"><p>各单位：现将{site}的第{n}号事项通知如下。</p>'
            "</div></body></html>")


class FakeWeb(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass

    def do_GET(self) -> None:  # noqa: N802
        parts = urlsplit(self.path)
        site, path = parts.hostname or "", parts.path
        status, body = 404, "not found"
        if path == "/robots.txt":
            status, body = 200, "User-agent: *\nAllow: /\n"
        elif path in ("/zwgk/tzgg/", "/zwgk/tzgg/index.html"):
            status, body = 200, list_page(0)
        elif path == "/zwgk/tzgg/index_1.html":
            status, body = 200, list_page(1)
        elif path.startswith("/zwgk/tzgg/202401/t"):
            status, body = 200, notice_page(site, int(path.rsplit("_", 1)[1].split(".")[0]))
        data = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class BigBacklogServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024  # hundreds of domains connect at once; the default is 5


def serve() -> tuple[ThreadingHTTPServer, str]:
    server = BigBacklogServer(("127.0.0.1", 0), FakeWeb)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def write_registry(path: Path, count: int) -> None:
    sites = [{"key": f"s{i:04d}", "name": f"测试区{i}", "base_url": f"http://{host(i)}/", "family": "trs_wcm",
              "columns": [{"url": f"http://{host(i)}/zwgk/tzgg/", "name": "通知公告"}]} for i in range(count)]
    path.write_text(yaml.safe_dump({"sites": sites}, allow_unicode=True), encoding="utf-8")


def child_env(proxy: str, extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env.update({"http_proxy": proxy, "HTTP_PROXY": proxy, "PYTHONPATH": str(ROOT)}, **extra)
    return env


def run_mode(mode: str, sites: int, extra_settings: list[str] | None = None) -> dict[str, object]:
    from sqlalchemy import func, select

    from noticewatch.config import load_settings
    from noticewatch.store import open_store
    from storage.models import CrawlRun, Notice

    work = Path(tempfile.mkdtemp(prefix=f"scale-{mode}-"))
    registry = work / "sites.yaml"
    write_registry(registry, sites)
    server, proxy = serve()
    env_vars = {"NOTICEWATCH_DATA_DIR": str(work / "data"), "NOTICEWATCH_REGISTRY": str(registry)}
    pg_url = ""
    prefix = f"scalebench-{uuid.uuid4().hex[:8]}"
    if mode == "two":
        import redis

        from tests.pg import create_temp_database, pg_available

        if pg_available() is None:
            return {"mode": mode, "skipped": "PostgreSQL not reachable"}
        try:
            redis.Redis.from_url("redis://127.0.0.1:6379/0").ping()
        except Exception as exc:  # noqa: BLE001
            return {"mode": mode, "skipped": f"Redis not reachable: {exc}"}
        pg_url = create_temp_database("nw_scale")
        env_vars.update({"NOTICEWATCH_DATABASE_URL": pg_url, "NOTICEWATCH_REDIS_URL": "redis://127.0.0.1:6379/0"})
    settings = load_settings(env=env_vars, cwd=work)
    store = open_store(settings)  # migrate before the crawl processes start
    overrides: list[str] = []
    for pair in [*POLITE, f"CONCURRENT_REQUESTS={2 * sites}", *(extra_settings or [])]:
        overrides += ["-s", pair]
    cmd = [sys.executable, "-m", "noticewatch"]
    server_cpu_before = _cpu_seconds(resource.RUSAGE_SELF)
    started = time.monotonic()
    try:
        if mode == "one":
            procs = [subprocess.Popen([*cmd, "crawl", *overrides], env=child_env(proxy, env_vars), cwd=work,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
        else:
            procs = [subprocess.Popen([*cmd, "worker", "--prefix", prefix, "--idle-seconds", "5", *overrides],
                                      env=child_env(proxy, env_vars), cwd=work,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(2)]
        codes = [p.wait() for p in procs]
        elapsed = time.monotonic() - started
        server_cpu = _cpu_seconds(resource.RUSAGE_SELF) - server_cpu_before
        with store.factory() as session:
            stored = int(session.scalar(select(func.count()).select_from(Notice)) or 0)
            # Workers add their request counts to the shared run; its Scrapy stats are those
            # of the last worker to close, so elapsed is that worker's crawl time.
            runs = list(session.scalars(select(CrawlRun)))
        requests = sum(int((r.counts or {}).get("requests", 0)) for r in runs)
        scrapy_seconds = max((float((r.stats or {}).get("elapsed_time_seconds", 0)) for r in runs), default=0.0)
    finally:
        server.shutdown()
        store.close()
        if pg_url:
            from tests.pg import drop_database

            drop_database(pg_url)
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # Linux: KiB
    return {"mode": mode, "sites": sites, "exit_codes": codes, "seconds": round(elapsed, 1),
            "sites_per_minute": round(sites / elapsed * 60, 1), "notices": stored,
            "notices_expected": sites * NOTICES_PER_SITE, "peak_rss_mib": round(peak_kib / 1024, 1),
            "politeness_floor_seconds": 6, "requests": requests,
            "scrapy_seconds": round(scrapy_seconds, 1),
            "requests_per_second": round(requests / scrapy_seconds, 1) if scrapy_seconds else None,
            # CPU of every crawl process (noticewatch crawl/worker + scrapy) and of the fake web.
            "crawl_cpu_seconds": round(_cpu_seconds(resource.RUSAGE_CHILDREN), 1),
            "server_cpu_seconds": round(server_cpu, 1)}


def _cpu_seconds(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sites", type=int, default=500)
    parser.add_argument("--modes", default="one,two")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="extra Scrapy setting for the crawl processes (repeatable), for experiments")
    parser.add_argument("--run", help=argparse.SUPPRESS)  # internal: run one mode in this process
    args = parser.parse_args(argv)
    if args.run:
        print(json.dumps(run_mode(args.run, args.sites, args.set)), flush=True)
        return 0
    results = []
    for mode in args.modes.split(","):
        extra = [f"--set={pair}" for pair in args.set]
        out = subprocess.run([sys.executable, __file__, "--run", mode, "--sites", str(args.sites), *extra],
                             capture_output=True, text=True, timeout=900, check=True)
        result = json.loads(out.stdout.strip().splitlines()[-1])
        print(json.dumps(result), flush=True)
        results.append(result)
    print(f"\n{'mode':<6}{'sites':>7}{'seconds':>9}{'sites/min':>11}{'notices':>9}{'peak RSS MiB':>14}"
          f"{'req/s':>8}{'crawl CPU s':>13}")
    for r in results:
        if "skipped" in r:
            print(f"{r['mode']:<6} skipped: {r['skipped']}")
            continue
        print(f"{r['mode']:<6}{r['sites']:>7}{r['seconds']:>9}{r['sites_per_minute']:>11}"
              f"{r['notices']:>9}{r['peak_rss_mib']:>14}{r['requests_per_second']!s:>8}"
              f"{r['crawl_cpu_seconds']:>13}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
