"""A minimal Scrapy crawl with WARC capture, run in a subprocess by the tests.

``python -m tests.archive.crawl_script WARC_DIR OUT_JSON URL...``: fetches each URL
once (robots.txt obeyed), writes what each response's meta said about its record.
"""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator
from typing import Any

import scrapy
from scrapy.crawler import CrawlerProcess


class FetchSpider(scrapy.Spider):
    name = "fetch"
    custom_settings = {"HTTPERROR_ALLOWED_CODES": [304, 404]}

    def __init__(self, urls: list[str], results: list[dict[str, Any]], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.urls = urls
        self.results = results

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for url in self.urls:
            headers = {"If-None-Match": '"v1"'} if url.endswith("/etag") else {}
            yield scrapy.Request(url, headers=headers, meta={"nw_site": "local", "nw_kind": "notice"},
                                 dont_filter=True)

    def parse(self, response: scrapy.http.Response) -> None:
        self.results.append({"url": response.url, "status": response.status, "body": response.body.decode("utf-8", "replace"),
                             "warc_record": response.meta.get("warc_record"),
                             "warc_capture": response.meta.get("warc_capture")})


def main(argv: list[str]) -> None:
    warc_dir, out, *urls = argv
    results: list[dict[str, Any]] = []
    process = CrawlerProcess(settings={
        "DOWNLOADER_MIDDLEWARES": {"crawler.middlewares.warc.WarcCaptureMiddleware": 650},
        "WARC_DIR": warc_dir, "WARC_MAX_SIZE": 4096, "ROBOTSTXT_OBEY": True, "LOG_LEVEL": "WARNING",
        "TELNETCONSOLE_ENABLED": False, "CONCURRENT_REQUESTS": 1, "COOKIES_ENABLED": False,
    })
    crawler = process.create_crawler(FetchSpider)
    process.crawl(crawler, urls=urls, results=results)
    process.start()
    stats = crawler.stats.get_stats() if crawler.stats else {}
    with open(out, "w", encoding="utf-8") as fh:
        json.dump({"results": results, "stats": {k: v for k, v in stats.items() if k.startswith("archive/")}}, fh)


if __name__ == "__main__":
    main(sys.argv[1:])
