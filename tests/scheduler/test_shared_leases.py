"""Workers sharing a lease holder: only the last one out judges health and frees the sites."""

from __future__ import annotations

from datetime import timedelta
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from sqlalchemy import event, select

from crawler.registry import load_registry
from noticewatch.commands.demo_cmd import DEMO_OVERRIDES, proxy_env
from noticewatch.config import load_settings
from noticewatch.crawling import _previous_run_broken, run_crawl
from noticewatch.store import open_store
from storage import runs
from storage import sites as site_store
from storage.models import RunLock
from tests.pg import create_temp_database, drop_database, require_pg
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


@pytest.mark.postgres
def test_a_sibling_committing_mid_check_is_not_taken_for_a_broken_run(tmp_path: Path) -> None:
    """Two workers start together; the other commits its run and lease while this one checks."""
    require_pg()
    url = create_temp_database("nw_siblings")
    settings = load_settings(env={"NOTICEWATCH_DATA_DIR": str(tmp_path / "data"),
                                  "NOTICEWATCH_DATABASE_URL": url}, cwd=tmp_path)
    store = open_store(settings)
    try:
        with store.factory.begin() as session:
            site_store.sync_sites(session, [_site("okua")])
            done = runs.start_run(session, site_key=None, trigger="worker")
            done.status = "finished"
        mine = store.factory()
        mine.begin()
        my_run = runs.start_run(mine, site_key=None, trigger="worker")
        runs.acquire_locks(mine, names=[f"run:{my_run.id}"], holder=HOLDER, ttl=timedelta(hours=1))
        sibling_id: list[int] = []

        def sibling_commits(*_args: object) -> None:
            # After this worker's first statement of the check, the sibling's transaction
            # (its run and its run lease) commits.
            if sibling_id:
                return
            with store.factory.begin() as other:
                run = runs.start_run(other, site_key=None, trigger="worker")
                runs.acquire_locks(other, names=[f"run:{run.id}"], holder=HOLDER, ttl=timedelta(hours=1))
                sibling_id.append(run.id)

        connection = mine.connection()
        event.listen(connection, "after_cursor_execute", sibling_commits)
        try:
            # The sibling's id is larger than ours here, so it only matters as a lease; make
            # the check look at a later run id so both runs count as "earlier".
            broken = _previous_run_broken(mine, ["okua"], my_run.id + 1000, HOLDER)
        finally:
            event.remove(connection, "after_cursor_execute", sibling_commits)
            mine.rollback()
            mine.close()
        assert sibling_id, "the sibling never committed"
        assert broken is False
    finally:
        store.close()
        drop_database(url)
