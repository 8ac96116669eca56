"""Workers sharing a lease holder: only the last one out judges health and frees the sites."""

from __future__ import annotations

from datetime import timedelta
from http.server import ThreadingHTTPServer
from pathlib import Path

import yaml
from sqlalchemy import select

from crawler.registry import load_registry
from noticewatch.commands.demo_cmd import DEMO_OVERRIDES, proxy_env
from noticewatch.config import load_settings
from noticewatch.crawling import run_crawl
from noticewatch.store import open_store
from storage import runs
from storage.models import RunLock
from tests.scheduler.test_politeness import _site, fake_proxy  # noqa: F401 - the fixture

HOLDER = "distributed:test"


def test_first_worker_done_leaves_sites_to_a_live_sibling(tmp_path: Path,
                                                          fake_proxy: ThreadingHTTPServer) -> None:  # noqa: F811
    registry_path = tmp_path / "sites.yaml"
    registry_path.write_text(yaml.safe_dump({"sites": [_site("okua")]}), encoding="utf-8")
    settings = load_settings(env={"NOTICEWATCH_DATA_DIR": str(tmp_path / "data")}, cwd=tmp_path)
    store = open_store(settings)
    proxy = f"http://127.0.0.1:{fake_proxy.server_address[1]}"

    def crawl() -> dict[str, str]:
        result = run_crawl(settings, store, load_registry([registry_path]), registry_paths=[str(registry_path)],
                           overrides=DEMO_OVERRIDES, env=proxy_env(proxy), holder=HOLDER)
        assert result.status == "finished", result
        return result.health

    def leases() -> dict[str, str]:
        with store.factory() as session:
            return {lock.name: lock.holder for lock in session.scalars(select(RunLock))}

    try:
        # A sibling worker of the same crawl is still running (it holds its run lease).
        with store.factory.begin() as session:
            runs.acquire_locks(session, names=["run:424242"], holder=HOLDER, ttl=timedelta(hours=1))
        assert crawl() == {}  # not judged from this worker's share alone
        assert leases() == {"run:424242": HOLDER, "site:okua": HOLDER}  # still the crawl's

        with store.factory.begin() as session:  # the sibling finishes
            runs.release_locks(session, names=["run:424242"], holder=HOLDER)
        assert crawl() == {"okua": "quiet"}  # the last one out judges, then frees everything
        assert leases() == {}
    finally:
        store.close()
