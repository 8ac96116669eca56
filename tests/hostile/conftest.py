"""Hostile-web tests: hypothesis profiles and Scrapy component helpers.

Fuzz profiles: "ci" (default, short) and "long" (thorough, minutes):
``HYPOTHESIS_PROFILE=long .venv/bin/pytest tests/hostile/test_fuzz.py``.
No test here sends a packet beyond loopback: SSRF targets are 127.0.0.2 and friends,
unit tests of the address classifier never connect, and crawls go through the local
demo web as a proxy.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from hypothesis import HealthCheck, settings
from scrapy.crawler import Crawler
from scrapy.utils.test import get_crawler

settings.register_profile("ci", max_examples=60, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("long", max_examples=3000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


class FakeSite:
    def __init__(self, key: str, domains: Sequence[str]) -> None:
        self.key = key
        self._domains = tuple(domains)

    def domains(self) -> tuple[str, ...]:
        return self._domains


class FakeSpider:
    """What the middlewares read from the spider: sites_by_key and allowed_domains."""

    def __init__(self, sites: Mapping[str, Sequence[str]]) -> None:
        self.sites_by_key = {k: FakeSite(k, v) for k, v in sites.items()}
        self.allowed_domains = sorted({d for v in sites.values() for d in v})


def crawler_with(settings_dict: Mapping[str, Any] | None = None,
                 sites: Mapping[str, Sequence[str]] | None = None) -> Crawler:
    crawler = get_crawler(settings_dict=dict(settings_dict or {}))
    crawler.stats.open_spider()  # type: ignore[union-attr,call-arg]
    spider = FakeSpider(sites or {"s": ["www.site.gov.cn"]})
    spider.crawler = crawler  # type: ignore[attr-defined]  (get_retry_request reads it)
    crawler.spider = spider  # type: ignore[assignment]
    return crawler
