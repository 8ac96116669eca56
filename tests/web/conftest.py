"""A small filled archive on disk (SQLite + blob files) and the web app over it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from noticewatch.config import Settings, load_settings
from noticewatch.store import Store, open_store
from noticewatch.web import create_app
from storage import repository as repo
from storage.records import AttachmentRecord, NoticeRecord, StoredBlob
from tests.search.corpus import ATTACHMENT_BYTES, T0, fill

XSS_TITLE = '<script>alert("t")</script>关于<img src=x onerror=alert(1)>的通知'
XSS_BODY = ('<p onclick="alert(1)">正文内容<script>alert(2)</script>'
            '<a href="javascript:alert(3)">恶意链接</a><iframe src="http://evil.example/"></iframe></p>')
XSS_ATTACHMENT = '"><script>alert(4)</script>附件.pdf'
RAW_PAGE = b"<html><body><script>alert('archived')</script>archived page</body></html>"
ADMIN_TOKEN = "s3cret-token"


@dataclass
class Archive:
    settings: Settings
    store: Store
    ids: dict[str, int]
    data_dir: Path


def make_settings(data_dir: Path, **extra: str) -> Settings:
    return load_settings(env={}, cli={"data_dir": str(data_dir), **extra}, cwd=data_dir)


def _fill_extras(store: Store, ids: dict[str, int]) -> None:
    # Blob files behind the corpus' attachment rows (digests are placeholders there).
    for sha in ("a" * 64, "b" * 64):
        path = store.blobs.path_for(sha)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(ATTACHMENT_BYTES)
    raw_sha, _ = store.blobs.put_bytes(RAW_PAGE)
    xss_sha, _ = store.blobs.put_bytes(b"attachment with a hostile name")
    with store.factory.begin() as session:
        ids["xss"] = repo.apply_notice(session, NoticeRecord(
            site_key="mawei", column_urls=["http://www.mawei.gov.cn/tzgg/"],
            url="http://www.mawei.gov.cn/art/xss.html", canonical_url="http://www.mawei.gov.cn/art/xss.html",
            title=XSS_TITLE, published_at="2024-05-30T10:00:00+08:00", body_text="正文内容 恶意链接",
            body_html=XSS_BODY, issuing_org="<b>马尾区</b>", raw_sha256=raw_sha, fetched_at=T0,
            attachments=[AttachmentRecord(url="http://www.mawei.gov.cn/f/x.pdf", name=XSS_ATTACHMENT,
                                          blob=StoredBlob(sha256=xss_sha, size=30, media_type="text/html",
                                                          path=f"blobs/{xss_sha}", text="<script>x</script>"))],
        )).notice_id
        run = repo.start_run(session, site_key="mawei", trigger="manual")
        repo.record_fetch_error(session, run_id=run.id, site_key="mawei", url="http://www.mawei.gov.cn/x",
                                kind="http", detail="HTTP 500")
        repo.finish_run(session, run.id, status="finished", counts={"new": 7, "changed": 1}, stats={})
        ids["run"] = run.id
    ids["xss_sha"] = xss_sha  # type: ignore[assignment]


@pytest.fixture(scope="session")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Archive]:
    data_dir = tmp_path_factory.mktemp("webarchive")
    settings = make_settings(data_dir)
    store = open_store(settings)
    ids = fill(store.factory)
    _fill_extras(store, ids)
    yield Archive(settings, store, ids, data_dir)
    store.close()


@pytest.fixture(scope="session")
def client(archive: Archive) -> Iterator[TestClient]:
    with TestClient(create_app(archive.settings, store=archive.store)) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def admin_client(archive: Archive) -> Iterator[TestClient]:
    settings = make_settings(archive.data_dir, admin_token=ADMIN_TOKEN)
    with TestClient(create_app(settings, store=archive.store)) as test_client:
        yield test_client
