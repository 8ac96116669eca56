"""Incremental crawl benchmark on the demo web.

Prints, for a second run over an unchanged world and for a run after a known set of
changes: requests made versus the minimum needed (list page 1 of each column plus
what changed), and whether every change was caught.

    .venv/bin/python benchmarks/incremental_bench.py
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from crawler.registry import load_registry
from noticewatch.commands.demo_cmd import DEMO_OVERRIDES, proxy_env, write_demo_registry
from noticewatch.config import load_settings
from noticewatch.crawling import run_crawl
from noticewatch.demoweb import DemoWeb
from noticewatch.store import open_store


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp, DemoWeb() as web:
        data = Path(tmp) / "data"
        env = {"NOTICEWATCH_DATA_DIR": str(data), "NOTICEWATCH_RECHECK_DAYS": os.environ.get("RECHECK", "0")}
        settings = load_settings(env=env, cwd=Path(tmp))
        reg_path = write_demo_registry(data)
        registry = load_registry([reg_path])
        store = open_store(settings)
        columns = sum(len(s.columns) for s in registry.sites)

        def crawl() -> tuple[dict[str, int], int]:
            web.clear_requests()
            result = run_crawl(settings, store, registry, overrides=DEMO_OVERRIDES,
                               registry_paths=[str(reg_path)], env=proxy_env(web.proxy_url))
            made = [r for r in web.requests if not r[2].startswith("/robots.txt")]
            return result.counts, len(made)

        counts, made = crawl()
        print(f"first run:      {counts.get('new', 0)} new notices, {made} requests")
        counts, made = crawl()
        print(f"unchanged world: {made} requests for {columns} columns (target ≤ {columns}); "
              f"new {counts.get('new', 0)}, changed {counts.get('changed', 0)}, withdrawn {counts.get('withdrawn', 0)}")

        world = web.world
        truth = [t for t in world.ground_truth() if t["site"] == "mawei" and not t.get("repost_of")]
        world.add_notice("mawei", "/xjwz/zwgk/zcwjk/", title="基准测试新增通知")
        world.edit_notice(truth[0]["id"], title=truth[0]["title"] + "（修订）")
        world.withdraw_notice(truth[2]["id"], how="404")
        counts, made = crawl()
        minimum = columns + 1 + 1 + 1  # list page 1 of each column + the new, edited and withdrawn pages
        caught = counts.get("new", 0) == 1 and counts.get("changed", 0) == 1 and counts.get("withdrawn", 0) == 1
        print(f"changed world:   {made} requests (minimum needed ≈ {minimum}); new {counts.get('new', 0)}, "
              f"changed {counts.get('changed', 0)}, withdrawn {counts.get('withdrawn', 0)}; "
              f"every change caught: {caught}")
        store.close()


if __name__ == "__main__":
    main()
