"""Site health over real crawls of the demo web: ok, quiet, layout changed, blocked (and backed off), down.

Also what `noticewatch runs` and `runs show` print about those runs.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, update

from noticewatch.cli import root
from noticewatch.demoweb import DemoWeb, server
from storage.clock import utcnow
from storage.models import CrawlRun, FetchError, Notice, Site
from tests.e2e.harness import Archive, make_archive

pytestmark = pytest.mark.slow
# A down site is retried quickly: the verdict, not the patience, is under test.
FAST_RETRY = ("RETRY_TIMES=1", "NOTICEWATCH_RETRY_BACKOFF_BASE=0.01", "NOTICEWATCH_RETRY_BACKOFF_MAX=0.05",
              "DOWNLOAD_TIMEOUT=10")


def _sites(archive: Archive) -> dict[str, Site]:
    with archive.store.factory() as session:
        return {s.key: s for s in session.scalars(select(Site))}


def _run(archive: Archive, run_id: int | None) -> CrawlRun:
    assert run_id is not None
    with archive.store.factory() as session:
        run = session.get(CrawlRun, run_id)
        assert run is not None
        return run


def _cli(archive: Archive, monkeypatch: pytest.MonkeyPatch, *args: str) -> str:
    monkeypatch.setenv("NOTICEWATCH_DATA_DIR", str(archive.data_dir))
    result = CliRunner().invoke(root, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def _strip_list_rows(site_key: str) -> Any:
    """A TRS route whose list pages for ``site_key`` lost their rows: a redesign the parser misses."""
    original = server.ROUTES["trs_wcm"]

    def route(world: Any, site: Any, method: str, path: str, params: dict, form: dict) -> Any:
        resp = original(world, site, method, path, params, form)
        if site.key != site_key or resp is None or world.notice_at(site.host, path) is not None:
            return resp
        resp.body = re.sub(r"<li>.*?</li>", "", str(resp.body))
        return resp

    return route


def test_ok_quiet_and_layout_changed(tmp_path: Path, demo_web: DemoWeb, monkeypatch: pytest.MonkeyPatch) -> None:
    archive = make_archive(tmp_path)
    sites = ["mawei", "cangshan", "gulou"]
    first = archive.crawl(demo_web.proxy_url, sites=sites)
    assert first.status == "finished"
    assert first.health == {"mawei": "ok", "cangshan": "ok", "gulou": "ok"}
    # cangshan reposts a mawei notice verbatim (gulou an edited one): the run counts each
    # notice it linked to an earlier copy, once.
    with archive.store.factory() as session:
        linked = session.scalar(select(func.count()).select_from(Notice).where(Notice.duplicate_of_id.is_not(None)))
    assert linked and first.counts.get("duplicate") == linked
    figures = _run(archive, first.run_id).stats["sites"]
    assert sum(f.get("duplicate", 0) for f in figures.values()) == linked
    assert sum(f.get("new", 0) for f in figures.values()) == first.counts["new"]
    assert all(f["lists_parsed"] > 0 and f["list_entries"] > 0 for f in figures.values())
    assert "new from" in (_sites(archive)["gulou"].health_detail or "")

    second = archive.crawl(demo_web.proxy_url, sites=sites)
    assert second.health == {"mawei": "quiet", "cangshan": "quiet", "gulou": "quiet"}
    assert second.counts.get("duplicate", 0) == 0 and second.counts.get("new", 0) == 0

    monkeypatch.setitem(server.ROUTES, "trs_wcm", _strip_list_rows("gulou"))
    third = archive.crawl(demo_web.proxy_url, sites=sites)
    assert third.health == {"mawei": "quiet", "cangshan": "quiet", "gulou": "layout_changed"}
    gulou = _sites(archive)["gulou"]
    assert gulou.health == "layout_changed" and "http://www.gulou.gov.cn/zwgk/tzgg/" in (gulou.health_detail or "")
    assert third.counts.get("withdrawn", 0) == 0  # an empty list withdraws nothing

    listing = _cli(archive, monkeypatch, "runs")
    header, *rows = listing.splitlines()
    assert header.split()[-7:] == ["new", "changed", "withdrawn", "duplicate", "failed", "blocked", "sites"]
    by_id = {int(r.split()[0]): r.split() for r in rows}
    assert set(by_id) == {first.run_id, second.run_id, third.run_id}
    first_row = by_id[first.run_id or 0]
    new, changed, withdrawn, duplicate, failed, blocked = map(int, first_row[-7:-1])
    assert (new, duplicate) == (first.counts["new"], linked) and blocked == 0
    assert first_row[-1] == "cangshan,gulou,mawei"

    detail = _cli(archive, monkeypatch, "runs", "show", str(third.run_id))
    assert re.search(r"^gulou\s+layout_changed\s", detail, re.M), detail
    assert re.search(r"^mawei\s+quiet\s", detail, re.M), detail
    assert "parsed to nothing where earlier runs found notices" in detail


def test_blocked_site_is_backed_off_and_down_site_reported(tmp_path: Path, demo_web: DemoWeb,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    archive = make_archive(tmp_path)
    demo_web.set_behaviour("gulou", blocked="412")
    demo_web.set_behaviour("jiangbei", down=True)
    first = archive.crawl(demo_web.proxy_url, sites=["gulou", "jiangbei"], overrides=FAST_RETRY)
    assert first.status == "finished"
    assert first.health == {"gulou": "blocked", "jiangbei": "down"}
    sites = _sites(archive)
    assert sites["gulou"].blocked_until is not None and sites["jiangbei"].blocked_until is None
    assert sites["jiangbei"].health == "down"
    assert "no list page could be fetched" in (sites["jiangbei"].health_detail or "")
    with archive.store.factory() as session:
        blocked_rows = session.scalar(select(func.count()).select_from(FetchError).where(
            FetchError.run_id == first.run_id, FetchError.kind == "blocked"))
    assert blocked_rows and first.counts.get("blocked") == blocked_rows
    assert first.counts.get("failed", 0) > 0  # the down site's lists

    detail = _cli(archive, monkeypatch, "runs", "show", str(first.run_id))
    assert re.search(r"^gulou\s+blocked\s", detail, re.M) and re.search(r"^jiangbei\s+down\s", detail, re.M)
    assert re.search(rf"^  blocked \({blocked_rows}\): gulou {blocked_rows}$", detail, re.M), detail

    # While backed off, gulou is not asked at all; alone, it makes a recorded "skipped" run.
    demo_web.set_behaviour("jiangbei", down=False)
    demo_web.clear_requests()
    skipped = archive.crawl(demo_web.proxy_url, sites=["gulou"])
    assert skipped.status == "skipped" and skipped.skipped_blocked == ["gulou"]
    assert _run(archive, skipped.run_id).status == "skipped"
    both = archive.crawl(demo_web.proxy_url, sites=["gulou", "jiangbei"])
    assert both.sites == ["jiangbei"] and both.skipped_blocked == ["gulou"]
    assert both.health == {"jiangbei": "ok"}
    assert "gulou" in _run(archive, both.run_id).stats["skipped_blocked"]
    assert not [r for r in demo_web.requests if r[1] == "www.gulou.gov.cn"]
    listing = _cli(archive, monkeypatch, "runs")
    assert re.search(rf"^\s*{skipped.run_id} .* skipped .*gulou$", listing, re.M), listing
    assert "backed off until" in _cli(archive, monkeypatch, "runs", "show", str(both.run_id))

    # Once the back-off has passed, the unblocked site is crawled again and healthy.
    demo_web.set_behaviour("gulou", blocked=None)
    with archive.store.factory.begin() as session:
        session.execute(update(Site).where(Site.key == "gulou").values(blocked_until=utcnow() - timedelta(minutes=1)))
    again = archive.crawl(demo_web.proxy_url, sites=["gulou"])
    assert again.sites == ["gulou"] and again.health == {"gulou": "ok"}
    assert _sites(archive)["gulou"].blocked_until is None
