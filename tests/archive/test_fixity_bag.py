"""verify (blob and WARC fixity) and the BagIt export, on a small real archive."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import bagit
import pytest
from click.testing import CliRunner
from sqlalchemy import select
from warcio.statusandheaders import StatusAndHeaders

from crawler.middlewares.warc import WarcFileWriter
from noticewatch.cli import root
from storage import repository as repo
from storage.bag import write_bag
from storage.blobstore import BlobStore
from storage.db import default_sqlite_url, make_engine, make_session_factory
from storage.fixity import FixityReport, verify_all, verify_warcs
from storage.migrate import upgrade
from storage.models import Blob
from storage.records import AttachmentRecord, StoredBlob
from tests.archive import samples
from tests.storage.factories import SITE_ROWS, make_record


def _warc_with_page(warc_dir: Path, url: str) -> str:
    writer = WarcFileWriter(warc_dir, max_size=1 << 20)
    body = "<html><body>通知正文</body></html>".encode()
    record = writer.builder.create_warc_record(
        url, "response", payload=io.BytesIO(body), length=len(body),
        http_headers=StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1"))
    refs, _ = writer.write([record])
    writer.close()
    return refs[0]


@pytest.fixture
def archive(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    monkeypatch.delenv("NOTICEWATCH_DATABASE_URL", raising=False)
    monkeypatch.delenv("NOTICEWATCH_CONFIG", raising=False)
    data = tmp_path / "data"
    data.mkdir()
    url = default_sqlite_url(data)
    upgrade(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    store = BlobStore(data)
    files = {"通知.pdf": samples.pdf(), "名单.xlsx": samples.xlsx()}
    stored = {name: store.put_bytes(content) for name, content in files.items()}
    notice_url = "http://www.mawei.gov.cn/xxgk/tzgg/202405/t20240501_1.htm"
    ref = _warc_with_page(data / "warc", notice_url)
    attachments = [
        AttachmentRecord(url=f"http://www.mawei.gov.cn/files/{i}", name=name,
                         blob=StoredBlob(sha256=sha, size=len(files[name]), media_type="application/pdf", path=rel,
                                         text="附件文字"))
        for i, (name, (sha, rel)) in enumerate(stored.items())
    ]
    with factory.begin() as session:
        repo.sync_sites(session, SITE_ROWS)
        repo.apply_notice(session, make_record(notice_url, attachments=attachments, warc_record=ref,
                                               fetched_at=datetime.now(UTC)))
        repo.apply_notice(session, make_record("http://www.gl.gov.cn/tzgg/1.htm", site_key="gulou",
                                               columns=["http://www.gl.gov.cn/tzgg/"], title="鼓楼通知",
                                               fetched_at=datetime.now(UTC)))
    yield {"data": data, "factory": factory, "store": store, "stored": stored, "ref": ref, "files": files}
    engine.dispose()


def _verify(archive: dict[str, Any], **kwargs: Any) -> FixityReport:
    with archive["factory"].begin() as session:
        return verify_all(session, archive["store"], archive["data"] / "warc", **kwargs)


def test_clean_archive_verifies_and_stamps(archive: dict[str, Any]) -> None:
    report = _verify(archive)
    assert report.ok and report.blobs_ok == 2 and report.warc_records == 2  # warcinfo + response
    with archive["factory"]() as session:
        assert all(b.verified_at is not None for b in session.scalars(select(Blob)))


def test_missing_corrupt_orphan_and_leftovers(archive: dict[str, Any]) -> None:
    store: BlobStore = archive["store"]
    (pdf_sha, _), (xlsx_sha, _) = archive["stored"].values()
    store.path_for(pdf_sha).unlink()
    path = store.path_for(xlsx_sha)
    data = bytearray(path.read_bytes())
    data[100] ^= 0xFF  # same size, different bytes
    path.write_bytes(bytes(data))
    orphan_sha, _ = store.put_bytes(b"nobody links me")
    (store.root / ".incoming-abc123").write_bytes(b"half a file")
    report = _verify(archive)
    assert not report.ok
    assert report.missing == [pdf_sha]
    assert len(report.corrupt) == 1 and report.corrupt[0].startswith(xlsx_sha)
    assert any(orphan_sha in o for o in report.orphans)
    assert report.incoming == ["blobs/.incoming-abc123"]
    quick = _verify(archive, quick=True)
    assert quick.missing == [pdf_sha] and quick.corrupt == []  # same size: only hashing sees it


def test_corrupt_and_missing_warc(archive: dict[str, Any]) -> None:
    warc_file = archive["data"] / "warc" / archive["ref"].split("#")[0]
    data = bytearray(warc_file.read_bytes())
    data[len(data) // 2] ^= 0x55
    warc_file.write_bytes(bytes(data))
    report = FixityReport()
    verify_warcs(archive["data"] / "warc", report)
    assert report.warc_problems
    warc_file.unlink()
    missing = _verify(archive)
    assert missing.warc_missing == [archive["ref"].split("#")[0]] and not missing.ok


def test_verify_command_exit_status(archive: dict[str, Any]) -> None:
    runner = CliRunner()
    env = {"NOTICEWATCH_DATA_DIR": str(archive["data"])}
    good = runner.invoke(root, ["verify"], env=env)
    assert good.exit_code == 0, good.output
    assert "verify: ok" in good.output and "2 checked, 2 ok" in good.output
    sha, _ = next(iter(archive["stored"].values()))
    archive["store"].path_for(sha).unlink()
    bad = runner.invoke(root, ["verify", "--quick"], env=env)
    assert bad.exit_code == 1 and f"MISSING blob {sha}" in bad.output


def test_bag_validates_and_holds_the_selection(archive: dict[str, Any], tmp_path: Path) -> None:
    target = tmp_path / "bag"
    with archive["factory"]() as session:
        result = write_bag(session, archive["store"], archive["data"] / "warc", target, site_key="mawei")
    assert (result.notices, result.attachments, result.warc_files, result.missing) == (1, 2, 1, [])
    bag = bagit.Bag(str(target))
    bag.validate()
    assert bag.info["Source-Organization"] == "noticewatch"
    assert {"Bagging-Date", "Payload-Oxum", "External-Description"} <= set(bag.info)
    assert "sha256" in bag.algorithms
    rows = [json.loads(line) for line in (target / "data" / "notices.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["site"] for r in rows] == ["mawei"]
    for att in rows[0]["attachments"]:
        assert (target / "data" / att["path"]).read_bytes() == archive["files"][att["name"]]
    with (target / "data" / "names.csv").open(encoding="utf-8") as fh:
        names = {r["name"] for r in csv.DictReader(fh)}
    assert names == set(archive["files"])
    # human names are data only: no payload file is named after one
    assert not any(p.name in archive["files"] for p in (target / "data").rglob("*"))
    assert (target / "data" / "warc" / archive["ref"].split("#")[0]).is_file()


def test_export_bag_command(archive: dict[str, Any], tmp_path: Path) -> None:
    target = tmp_path / "cli-bag"
    result = CliRunner().invoke(root, ["export", "--bag", str(target)], env={"NOTICEWATCH_DATA_DIR": str(archive["data"])})
    assert result.exit_code == 0, result.output
    bagit.Bag(str(target)).validate()
    assert len((target / "data" / "notices.jsonl").read_text(encoding="utf-8").splitlines()) == 2
    again = CliRunner().invoke(root, ["export", "--bag", str(target)], env={"NOTICEWATCH_DATA_DIR": str(archive["data"])})
    assert again.exit_code != 0 and "not empty" in again.output
