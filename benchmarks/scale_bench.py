"""Scale simulation: many small TRS-style sites behind one local server, 1 s politeness delay.

    .venv/bin/python benchmarks/scale_bench.py [--sites 500] [--modes one,two] [--changed-share 0.05]

One local HTTP server (used as the crawl's proxy) plays ``--sites`` government sites
``www.s0000.gov.cn`` ... : robots.txt, a column of 2 list pages and 3 notices each.
Every page carries an ETag and a Last-Modified and is answered 304 when a request's
If-None-Match (or, without it, If-Modified-Since) still matches. The crawl runs with
``DOWNLOAD_DELAY=1`` per domain, AutoThrottle off and ``CONCURRENT_REQUESTS`` = 2 x sites.

Each mode runs three cycles against the same store, each timed on its own:

* ``first``: the empty store meets every site (robots + 2 lists + 3 notices = 6 requests
  per site: a politeness budget of about 6 s, five 1-s gaps plus the last answer);
* ``unchanged``: the same sites again, nothing changed (robots.txt comes from the
  24-hour cache, so 1 request per site, the list's 304: a budget of about 1 s);
* ``changed``: ``--changed-share`` of the sites (5 %) list one new notice on their first
  page (list 200, page 2, the new notice = 3 requests on those sites: about 3 s; with
  Scrapy's delay randomisation, 0.5-1.5 s per gap, the slowest of 25 sites needs ~2.7 s
  of gaps).

(Scrapy counts a request waiting out its domain's delay as in flight, and a site's
first page waits inside the downloader for its robots.txt: two slots per domain.)

Modes: ``one`` = ``noticewatch crawl`` (one Scrapy process, SQLite); ``two`` = two
``noticewatch worker`` processes sharing each cycle through Redis into a temporary
PostgreSQL database (skipped when either is down; workers stop once both are idle and
the queue is empty, or at the latest after a 5 s idle wait). Peak RSS per cycle is ``ru_maxrss`` from ``wait4`` of the crawl command: its
largest process (the command, its Scrapy child or the writer process). Prints one JSON
line per mode and a summary table.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DELAY = 1
POLITE = (f"DOWNLOAD_DELAY={DELAY}", "AUTOTHROTTLE_ENABLED=False", "CONCURRENT_REQUESTS_PER_DOMAIN=1",
          "RETRY_ENABLED=False", "LOG_LEVEL=INFO",
          "NOTICEWATCH_ALLOW_PRIVATE_NETWORKS=127.0.0.1/32")
NOTICES_PER_SITE = 3
NEW_NOTICE = 3  # the notice a changed site adds
# Requests one site needs in each cycle (changed: the changed sites, the slowest ones).
REQUESTS_PER_SITE = {"first": 6, "unchanged": 1, "changed": 3}  # robots.txt cached after the first
BASE_TIME = 1704067200.0  # 2024-01-01 00:00 UTC: Last-Modified of the original pages

# Sites (by number) that list the new notice; the benchmark changes it between cycles.
CHANGED: set[int] = set()


def host(i: int) -> str:
    return f"www.s{i:04d}.gov.cn"


def site_number(site: str) -> int:
    try:
        return int(site.split(".")[1][1:])
    except (IndexError, ValueError):
        return -1


def list_page(page: int, changed: bool) -> str:
    # Page 0 lists notices 0-1 (and the new one, when changed), page 1 notice 2;
    # createPageHTML announces 2 pages.
    numbers = ((NEW_NOTICE, 0, 1) if changed else (0, 1)) if page == 0 else (2,)
    rows = "".join(
        f'<li><a href="./202401/t2024010{n + 1}_{n}.html" title="第{n}号通知">第{n}号通知</a>'
        f"<span>2024-01-0{n + 1}</span></li>" for n in numbers)
    return (f'<html><head><meta charset="utf-8"><title>通知公告</title></head><body><ul class="list">{rows}</ul>'
            '<div class="page"><script>createPageHTML(2, ' f'{page}, "index", "html");</script></div></body></html>')


def notice_page(site: str, n: int) -> str:
    # The heading matches the list row's title: a differing one would make every
    # listed notice look edited and be fetched again (conditionally).
    return (f'<html><head><meta charset="utf-8"><title>第{n}号通知</title></head><body>'
            f'<h1 class="title">第{n}号通知</h1><div class="info">发布时间：2024-01-0{n + 1} 10:00 '
            f'来源：区政府办</div><div class="TRS_Editor"><p>各单位：现将{site}的第{n}号事项通知如下。</p>'
            "</div></body></html>")


class FakeWeb(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass

    def do_GET(self) -> None:  # noqa: N802
        parts = urlsplit(self.path)
        site, path = parts.hostname or "", parts.path
        changed = site_number(site) in CHANGED
        status, body, modified = 404, "not found", BASE_TIME
        if path == "/robots.txt":
            status, body = 200, "User-agent: *\nAllow: /\n"
        elif path in ("/zwgk/tzgg/", "/zwgk/tzgg/index.html"):
            status, body = 200, list_page(0, changed)
            modified += 86400 * 3 if changed else 0
        elif path == "/zwgk/tzgg/index_1.html":
            status, body = 200, list_page(1, changed)
        elif path.startswith("/zwgk/tzgg/202401/t"):
            status, body = 200, notice_page(site, int(path.rsplit("_", 1)[1].split(".")[0]))
        data = body.encode("utf-8")
        if status == 200 and path != "/robots.txt":
            etag = '"' + hashlib.sha1(data).hexdigest()[:16] + '"'
            last_modified = formatdate(modified, usegmt=True)
            if self._not_modified(etag, last_modified):
                self.send_response(304)
                self.send_header("ETag", etag)
                self.send_header("Last-Modified", last_modified)
                self.end_headers()
                return
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        if status == 200 and path != "/robots.txt":
            self.send_header("ETag", etag)
            self.send_header("Last-Modified", last_modified)
        self.end_headers()
        self.wfile.write(data)

    def _not_modified(self, etag: str, last_modified: str) -> bool:
        # RFC 9110: If-None-Match, when present, decides; If-Modified-Since only without it.
        if_none_match = self.headers.get("If-None-Match")
        if if_none_match is not None:
            return etag in [t.strip() for t in if_none_match.split(",")] or if_none_match.strip() == "*"
        since = self.headers.get("If-Modified-Since")
        return since is not None and since == last_modified


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


def _wait(proc: subprocess.Popen[bytes]) -> tuple[int, resource.struct_rusage]:
    """Exit code and resource usage of one child, including its waited-for descendants."""
    _pid, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, usage


def run_cycle(cycle: str, mode: str, sites: int, *, cmd_env: dict[str, str], work: Path, prefix: str,
              overrides: list[str], store: Any) -> dict[str, object]:
    from sqlalchemy import func, select

    from storage.models import CrawlRun, Notice

    with store.factory() as session:
        last_run = int(session.scalar(select(func.max(CrawlRun.id))) or 0)
    cmd = [sys.executable, "-m", "noticewatch"]
    server_cpu_before = _cpu_seconds(resource.RUSAGE_SELF)
    started = time.monotonic()
    if mode == "one":
        procs = [subprocess.Popen([*cmd, "crawl", *overrides], env=cmd_env, cwd=work,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    else:
        procs = [subprocess.Popen([*cmd, "worker", "--prefix", prefix, "--idle-seconds", "5", *overrides],
                                  env=cmd_env, cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                 for _ in range(2)]
    waited = [_wait(p) for p in procs]
    elapsed = time.monotonic() - started
    server_cpu = _cpu_seconds(resource.RUSAGE_SELF) - server_cpu_before
    with store.factory() as session:
        stored = int(session.scalar(select(func.count()).select_from(Notice)) or 0)
        runs = list(session.scalars(select(CrawlRun).where(CrawlRun.id > last_run)))
    counts: dict[str, int] = {}
    for run in runs:
        for key, value in (run.counts or {}).items():
            counts[key] = counts.get(key, 0) + int(value)
    not_modified = sum(int((r.stats or {}).get("downloader/response_status_count/304", 0)) for r in runs)
    scrapy_seconds = max((float((r.stats or {}).get("elapsed_time_seconds", 0)) for r in runs), default=0.0)
    # Site → verdict: the runs of one distributed cycle all record the cycle's verdicts.
    verdicts: dict[str, str] = {}
    judged = 0
    for run in runs:
        for site, verdict in ((run.stats or {}).get("health") or {}).items():
            if site in verdicts and verdicts[site] != verdict["status"]:
                verdicts[site] = "conflicting"
            else:
                verdicts.setdefault(site, verdict["status"])
            judged += 1
    health: dict[str, int] = {}
    for status in verdicts.values():
        health[status] = health.get(status, 0) + 1
    requests = counts.get("requests", 0)
    budget = REQUESTS_PER_SITE[cycle] * DELAY
    return {"cycle": cycle, "exit_codes": [code for code, _ in waited], "seconds": round(elapsed, 1),
            "politeness_budget_seconds": budget, "times_budget": round(elapsed / budget, 1),
            "sites_per_minute": round(sites / elapsed * 60, 1), "requests": requests,
            "not_modified": not_modified, "notices": stored,
            "found": {k: counts.get(k, 0) for k in ("new", "changed", "seen", "withdrawn", "duplicate", "failed")},
            "health": health, "verdicts_recorded": judged, "scrapy_seconds": round(scrapy_seconds, 1),
            "outside_scrapy_seconds": round(elapsed - scrapy_seconds, 1) if mode == "one" else None,
            "peak_rss_mib": round(max(u.ru_maxrss for _, u in waited) / 1024, 1),  # Linux: KiB
            "crawl_cpu_seconds": round(sum(u.ru_utime + u.ru_stime for _, u in waited), 1),
            "server_cpu_seconds": round(server_cpu, 1)}


def run_mode(mode: str, sites: int, extra_settings: list[str] | None = None, *,
             changed_share: float = 0.05, cycles: tuple[str, ...] = ("first", "unchanged", "changed"),
             ) -> dict[str, object]:
    from noticewatch.config import load_settings
    from noticewatch.store import open_store

    work = Path(tempfile.mkdtemp(prefix=f"scale-{mode}-"))
    registry = work / "sites.yaml"
    write_registry(registry, sites)
    CHANGED.clear()
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
    results = []
    try:
        for cycle in cycles:
            if cycle == "changed":
                step = max(1, round(1 / changed_share)) if changed_share > 0 else 0
                CHANGED.update(range(0, sites, step) if step else ())
            result = run_cycle(cycle, mode, sites, cmd_env=child_env(proxy, env_vars), work=work, prefix=prefix,
                               overrides=overrides, store=store)
            result["changed_sites"] = len(CHANGED)
            results.append(result)
    finally:
        server.shutdown()
        store.close()
        if pg_url:
            from tests.pg import drop_database

            drop_database(pg_url)
        shutil.rmtree(work, ignore_errors=True)
    return {"mode": mode, "sites": sites, "load_average": [round(x, 2) for x in os.getloadavg()],
            "cycles": results}


def _cpu_seconds(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sites", type=int, default=500)
    parser.add_argument("--modes", default="one,two")
    parser.add_argument("--changed-share", type=float, default=0.05,
                        help="share of the sites that gain one notice before the last cycle")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="extra Scrapy setting for the crawl processes (repeatable), for experiments")
    parser.add_argument("--run", help=argparse.SUPPRESS)  # internal: run one mode in this process
    args = parser.parse_args(argv)
    if args.run:
        print(json.dumps(run_mode(args.run, args.sites, args.set, changed_share=args.changed_share)), flush=True)
        return 0
    results = []
    for mode in args.modes.split(","):
        extra = [f"--set={pair}" for pair in args.set]
        out = subprocess.run([sys.executable, __file__, "--run", mode, "--sites", str(args.sites),
                              "--changed-share", str(args.changed_share), *extra],
                             capture_output=True, text=True, timeout=1800, check=True)
        result = json.loads(out.stdout.strip().splitlines()[-1])
        print(json.dumps(result), flush=True)
        results.append(result)
    print(f"\n{'mode':<5}{'cycle':<10}{'s':>7}{'budget s':>9}{'x budget':>9}{'sites/min':>10}{'requests':>9}"
          f"{'304s':>6}{'new':>5}{'notices':>8}{'outside Scrapy s':>17}{'peak RSS MiB':>13}{'CPU s':>7}")
    for r in results:
        if "skipped" in r:
            print(f"{r['mode']:<5} skipped: {r['skipped']}")
            continue
        for c in r["cycles"]:
            print(f"{r['mode']:<5}{c['cycle']:<10}{c['seconds']:>7}{c['politeness_budget_seconds']:>9}"
                  f"{c['times_budget']:>9}{c['sites_per_minute']:>10}{c['requests']:>9}{c['not_modified']:>6}"
                  f"{c['found']['new']:>5}{c['notices']:>8}{c['outside_scrapy_seconds']!s:>17}"
                  f"{c['peak_rss_mib']:>13}{c['crawl_cpu_seconds']:>7}")
        print(f"      load average at the end: {r['load_average']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
