"""ExtractPipeline fills text/extraction_error into each stored file's result dict."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from scrapy.exceptions import NotConfigured
from scrapy.utils.test import get_crawler

from crawler.items import NoticeItem
from crawler.parsing.types import ParsedNotice
from pipeline.extract import ExtractPipeline
from pipeline.persist import notice_record
from storage import mediatype as mt
from storage.blobstore import BlobStore
from tests.archive import samples


def _item(data_dir: Path) -> NoticeItem:
    store = BlobStore(data_dir)
    files = []
    for name, data, media_type in (("通知.pdf", samples.pdf(), mt.PDF), ("扫描件.pdf", samples.pdf(scanned=True), mt.PDF),
                                   ("公文.ofd", samples.ofd(), mt.OFD)):
        sha, rel = store.put_bytes(data)
        files.append({"url": f"http://www.x.gov.cn/{sha[:6]}", "name": name, "sha256": sha, "size": len(data),
                      "media_type": media_type, "path": rel})
    return NoticeItem(site_key="x", column_urls=[], url="http://www.x.gov.cn/n.htm",
                      canonical_url="http://www.x.gov.cn/n.htm",
                      parsed=ParsedNotice(url="http://www.x.gov.cn/n.htm", title="通知"),
                      fetched_at=datetime.now(UTC), files=files)


def test_pipeline_extracts_into_results_and_records(tmp_path: Path) -> None:
    pipe = ExtractPipeline.from_crawler(get_crawler(settings_dict={"FILES_STORE": str(tmp_path)}))
    item = _item(tmp_path)
    # process_item runs this same call in a worker thread; here it runs inline (no reactor).
    for result in item.files:
        outcome = pipe.extract_file(result)
        result["text"], result["extraction_error"] = outcome.text, outcome.error
    texts = {f["name"]: (f["text"], f["extraction_error"]) for f in item.files}
    assert samples.TITLE in (texts["通知.pdf"][0] or "").replace(" ", "")
    assert texts["扫描件.pdf"] == (None, "no text layer (scanned?)")
    assert (texts["公文.ofd"][0] or "").startswith(samples.TITLE)
    blobs = [a.blob for a in notice_record(item, run_id=None).attachments]
    assert [b.extraction_error for b in blobs if b] == [None, "no text layer (scanned?)", None]


def test_disabled_by_setting() -> None:
    with pytest.raises(NotConfigured):
        ExtractPipeline.from_crawler(get_crawler(settings_dict={"EXTRACT_ENABLED": False}))


def test_worker_process_gives_the_same_results(tmp_path: Path) -> None:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    pipe = ExtractPipeline.from_crawler(get_crawler(settings_dict={"FILES_STORE": str(tmp_path)}))
    pipe.pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
    try:
        outcomes = [pipe.extract_file(result) for result in _item(tmp_path).files]
    finally:
        pipe.close_spider()
    assert [o.error for o in outcomes] == [None, "no text layer (scanned?)", None]
    assert samples.TITLE in (outcomes[0].text or "").replace(" ", "")
