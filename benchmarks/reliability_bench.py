"""Reliability run: crawl the fixture web under faults, blocks, a trap and SSRF bait.

    .venv/bin/python benchmarks/reliability_bench.py [--fault-rate 0.3]

Two crawls through the local demo web (as the proxy) of every demo site plus the
hostile ones (412/521/403 blocked, one down, the never-ending gulou trap column):
a baseline, then five new notices are published and the world is crawled again. One
huangpu notice links its attachments to forbidden targets (127.0.0.2, the cloud
metadata address, an offsite host, ``file://``); a sentinel socket on 127.0.0.2 counts
any connection. Prints notices expected vs archived, duplicates, alert events expected
vs recorded (delivery to channels is measured by alerts_bench.py), forbidden requests
attempted (refused by the guard) vs made, and the crawl processes' peak memory.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from noticewatch.demoweb import DemoWeb  # noqa: E402
from storage.models import AlertEvent, Notice  # noqa: E402
from tests.hostile.archive_tools import crawl, hostile_archive, snapshot  # noqa: E402
from tests.hostile.localweb import Sentinel  # noqa: E402


def _bait(web: DemoWeb, sentinel_port: int) -> list[str]:
    """Point one huangpu notice's attachment links at forbidden targets."""
    world = web.world
    targets = [f"http://127.0.0.2:{sentinel_port}/secret", "http://169.254.169.254/latest/meta-data/",
               "http://evil.example/x.pdf", "file:///etc/passwd"]
    with world.lock:
        notice = next(n for n in world.notices.values() if n.site_key == "huangpu" and n.live and n.attachments)
        for i, url in enumerate(targets):
            if i < len(notice.attachments):
                notice.attachments[i].link = url
            else:
                from copy import copy

                extra = copy(notice.attachments[0]) if notice.attachments else None
                if extra is None:
                    continue
                extra.link = url
                notice.attachments.append(extra)
    return targets


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fault-rate", type=float, default=0.3)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="nw-reliability-"))
    archive = hostile_archive(tmp)
    started = time.monotonic()
    with Sentinel("127.0.0.2") as sentinel, DemoWeb() as web:
        for key in web.world.sites:
            web.set_behaviour(key, fault_rate=args.fault_rate)
        _bait(web, sentinel.port)
        first = crawl(archive, web.proxy_url)
        added = [web.world.add_notice("mawei", "/xjwz/zwgk/tzgg/", attachments=1) for _ in range(3)]
        added += [web.world.add_notice("yuhang", "/col/col1229/", attachments=0) for _ in range(2)]
        second = crawl(archive, web.proxy_url)
        truth = web.world.ground_truth()
        forbidden_hosts = {"127.0.0.2", "169.254.169.254", "evil.example"}
        made_via_proxy = sum(1 for _m, host, _p, _s in web.requests if host in forbidden_hosts)
        connections = sentinel.connections
        statuses = [s for _m, _h, _p, s in web.requests]
    wall = time.monotonic() - started
    expected = {n["url"] for n in truth}
    got = snapshot(archive)
    archived = {row["url"] for row in got.values()}
    with archive.store.factory() as session:
        rows = session.scalar(select(func.count()).select_from(Notice)) or 0
        events = session.scalar(select(func.count()).select_from(AlertEvent).where(AlertEvent.run_id == second.run_id))
    refused = 0  # stopped before sending: OffsiteMiddleware (plain requests) or the address guard
    for result in (first, second):
        with archive.store.factory() as session:
            from storage.models import CrawlRun

            run = session.get(CrawlRun, result.run_id)
            stats = (run.stats or {}) if run else {}
            refused += int(stats.get("guard/refused", 0)) + int(stats.get("offsite/filtered", 0))
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"fault rate {args.fault_rate:.0%}; faults served: {statuses.count(500)} x500, {statuses.count(503)} x503, "
          f"{statuses.count(0)} resets; runs: {first.status}, {second.status}; wall {wall:.1f} s")
    print(f"notices expected {len(expected)}, archived {len(expected & archived)} "
          f"(missing {len(expected - archived)}, unexpected {len(archived - expected)})")
    print(f"duplicates (stored rows - distinct notices): {rows - len(archived)}")
    print(f"alert events expected {len(added)} (new notices after the baseline), recorded {events}")
    print(f"blocked answers reported: run 1 {first.counts.get('blocked', 0)}, run 2 {second.counts.get('blocked', 0)}")
    print(f"forbidden requests attempted {refused} (refused before sending), made {made_via_proxy + connections}")
    print(f"peak RSS of the crawl processes: {peak:.0f} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
