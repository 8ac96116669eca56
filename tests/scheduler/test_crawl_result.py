"""What counts as a good crawl for `noticewatch crawl`'s exit code."""

from __future__ import annotations

from noticewatch.crawling import CrawlResult


def test_a_cycle_of_unchanged_lists_is_a_good_crawl() -> None:
    # Every list answered 304: nothing stored, but every site was read and judged quiet.
    unchanged = CrawlResult(run_id=7, sites=["a", "b"], counts={"requests": 4}, health={"a": "quiet", "b": "quiet"})
    assert unchanged.crawled_anything
    down = CrawlResult(run_id=8, sites=["a"], counts={"requests": 2, "failed": 2}, health={"a": "down"})
    assert not down.crawled_anything
    assert CrawlResult(run_id=9, sites=["a"], counts={"new": 1}).crawled_anything
