"""Crawling the local demo web from tests: every request goes through it as a proxy."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from crawler.registry import Registry, load_registry
from noticewatch.commands.demo_cmd import DEMO_OVERRIDES, proxy_env, write_demo_registry
from noticewatch.config import Settings, load_settings
from noticewatch.crawling import CrawlResult, run_crawl
from noticewatch.store import Store, open_store


@dataclass
class Archive:
    """A data directory with its settings, store and the demo registry."""

    data_dir: Path
    settings: Settings
    store: Store
    registry: Registry
    registry_path: Path

    def crawl(self, proxy_url: str, *, sites: Sequence[str] = (), overrides: Sequence[str] = ()) -> CrawlResult:
        return run_crawl(self.settings, self.store, self.registry, site_keys=sites,
                         overrides=(*DEMO_OVERRIDES, "ROBOTSTXT_OBEY=True", *overrides),
                         registry_paths=[str(self.registry_path)], env=proxy_env(proxy_url))


def make_archive(tmp_path: Path, *, database_url: str = "") -> Archive:
    data_dir = tmp_path / "data"
    import os

    env = {k: v for k, v in os.environ.items() if k.startswith("NOTICEWATCH_")}
    env["NOTICEWATCH_DATA_DIR"] = str(data_dir)
    if database_url:
        env["NOTICEWATCH_DATABASE_URL"] = database_url
    settings = load_settings(env=env, cwd=tmp_path)
    registry_path = write_demo_registry(data_dir)
    return Archive(data_dir=data_dir, settings=settings, store=open_store(settings),
                   registry=load_registry([registry_path]), registry_path=registry_path)
