"""Fault injection: a crawl at a 30% fault rate ends with the archive of a fault-free crawl.

The demo web answers 30% of page and file requests on every site with a 500, a 503
(Retry-After), a TCP reset, a truncated body or a 2-byte body. Blocked sites (412 $_ts,
521 __jsl_clearance, 403) and a down site are in the registry too, as is the gulou
trap column whose pagination never ends.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from noticewatch.demoweb import DemoWeb
from tests.hostile.archive_tools import crawl, fetch_errors, hostile_archive, snapshot

pytestmark = pytest.mark.slow
# One site per family plus the hostile ones keeps the two crawls short.
SITES = ("mawei", "gulou", "jiangning", "yuhang", "jiangbei", "huangpu", "wuzhong",
         "blocked412", "blocked521", "blocked403", "downsite")


def test_faulty_web_gives_the_same_archive(tmp_path: Path) -> None:
    clean = hostile_archive(tmp_path / "clean")
    with DemoWeb() as web:
        reference = crawl(clean, web.proxy_url, sites=SITES)
    assert reference.status == "finished"
    expected = snapshot(clean)
    assert len(expected) > 250

    faulty = hostile_archive(tmp_path / "faulty")
    with DemoWeb() as web:
        for key in web.world.sites:
            web.set_behaviour(key, fault_rate=0.3)
        result = crawl(faulty, web.proxy_url, sites=SITES)
        statuses = [status for _m, _h, _p, status in web.requests]
    assert result.status == "finished"
    assert statuses.count(500) + statuses.count(503) + statuses.count(0) > 50  # faults really happened
    got = snapshot(faulty)
    assert set(got) == set(expected)
    different = [url for url in expected if got[url] != expected[url]]
    assert not different, (different[:3], [got[u] for u in different[:1]], [expected[u] for u in different[:1]])

    errors = fetch_errors(faulty, result.run_id)
    blocked_sites = {site for site, kind, _url in errors if kind == "blocked"}
    assert {"blocked412", "blocked521", "blocked403"} <= blocked_sites
    assert any(site == "downsite" for site, _k, _u in errors)  # reported, not silently skipped
    assert result.counts.get("blocked", 0) >= 3
    assert not any(kind == "http" and site not in ("gulou",) for site, kind, _u in errors), errors
    # the trap column ended: the crawl finished, and it was reported
    assert any(kind == "trap" for _s, kind, _u in errors) or "gulou" in {s for s, k, _ in errors}
    # no block page was retried in a storm: each blocked site saw a handful of requests at most
    with DemoWeb() as probe:
        blocked_hosts = {probe.world.site(k).host for k in ("blocked412", "blocked521", "blocked403")}
    assert all(sum(1 for _m, host, _p, _s in web.requests if host == h) <= 6 for h in blocked_hosts)
