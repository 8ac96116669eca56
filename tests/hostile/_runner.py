"""Run the project's downloader stack over a few URLs in a child process; print outcomes as JSON.

``python -m tests.hostile._runner CONFIG.json``: CONFIG has ``requests`` (url, headers,
kind), ``sites`` (key -> allowed domains) and ``settings`` (overrides). Each outcome is
one JSON line: ``{"url", "ok", "status", "final_url", "kind", "error", "size"}``.
Used by the hostile tests to prove behaviour through the real middlewares without a
database (no item pipelines).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import scrapy
from scrapy.crawler import CrawlerProcess
from scrapy.utils.project import get_project_settings


class _Site:
    def __init__(self, key: str, domains: list[str]) -> None:
        self.key = key
        self._domains = tuple(domains)

    def domains(self) -> tuple[str, ...]:
        return self._domains


class ProbeSpider(scrapy.Spider):
    name = "probe"

    def __init__(self, config: dict[str, Any], out: list[dict[str, Any]], **kw: Any) -> None:
        super().__init__(**kw)
        self.config = config
        self.out = out
        self.sites_by_key = {k: _Site(k, v) for k, v in config["sites"].items()}
        self.allowed_domains = sorted({d for v in config["sites"].values() for d in v})

    async def start(self) -> Any:
        for spec in self.config["requests"]:
            yield scrapy.Request(spec["url"], headers=spec.get("headers") or {}, callback=self.done,
                                 errback=self.failed, dont_filter=True,
                                 meta={"nw_site": spec.get("site", "s"), "nw_kind": spec.get("kind", "notice"),
                                       "handle_httpstatus_list": list(range(400, 600)), "nw_origin": spec["url"]})

    def done(self, response: scrapy.http.Response) -> Iterator[Any]:
        self.out.append({"url": response.meta["nw_origin"], "ok": True, "status": response.status,
                         "final_url": response.url, "size": len(response.body), "kind": None, "error": None})
        return iter(())

    def failed(self, failure: Any) -> Iterator[Any]:
        request = failure.request
        self.out.append({"url": request.meta.get("nw_origin", request.url), "ok": False, "status": None,
                         "final_url": request.url, "size": None, "kind": request.meta.get("nw_error_kind"),
                         "error": f"{type(failure.value).__name__}: {failure.value}"})
        return iter(())


def main(argv: list[str]) -> int:
    config = json.loads(Path(argv[1]).read_text(encoding="utf-8"))
    settings = get_project_settings()
    settings.setdict({"ITEM_PIPELINES": {}, "ROBOTSTXT_OBEY": False, "WARC_ENABLED": False, "LOG_LEVEL": "WARNING",
                      "DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False, "TELNETCONSOLE_ENABLED": False,
                      "EXTENSIONS": {}}, priority="cmdline")
    settings.setdict(config.get("settings", {}), priority="cmdline")
    out: list[dict[str, Any]] = []
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(ProbeSpider)
    process.crawl(crawler, config=config, out=out)
    process.start()
    stats = crawler.stats.get_stats() if crawler.stats else {}
    for row in out:
        print(json.dumps(row, ensure_ascii=False))
    print(json.dumps({"stats": {k: v for k, v in stats.items() if isinstance(v, int | float | str)}}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
