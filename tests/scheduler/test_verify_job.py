"""The scheduler's nightly fixity job runs `noticewatch verify` and reports its verdict."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from noticewatch.demoweb import DemoWeb
from noticewatch.scheduler import CrawlService
from storage.models import Blob
from tests.e2e.harness import make_archive


def test_verify_job_passes_then_catches_a_corrupt_blob(tmp_path: Path, demo_web: DemoWeb,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    archive = make_archive(tmp_path)
    archive.crawl(demo_web.proxy_url, sites=["mawei"])
    # The verify child process reads its configuration from the environment.
    monkeypatch.setenv("NOTICEWATCH_DATA_DIR", str(archive.data_dir))
    service = CrawlService(settings=archive.settings, store=archive.store, registry=archive.registry)
    assert service.verify() == 0
    with archive.store.factory() as session:
        blob = session.scalars(select(Blob)).first()
        assert blob is not None
        path = archive.data_dir / blob.path
    path.chmod(0o644)
    path.write_bytes(b"not what was archived")
    assert service.verify() == 1
    archive.store.close()
