"""A BagIt bag (RFC 8493) of a selection of the archive, for hand-over to another archive.

Layout of the payload (``data/``):

- ``notices.jsonl``: the export rows (the stable export schema);
- ``blobs/ab/cd/<sha256>``: the attachments, at the same relative path the rows'
  ``attachments[].path`` give; human file names live only in the rows and in
  ``names.csv``, never as file system paths (they come from the server);
- ``warc/<YYYY>/<MM>/<file>.warc.gz``: the WARC files holding the selection's records
  (``notice_version.warc_record``, every version of each selected notice).

``bagit`` writes manifest-sha256, tagmanifest-sha256 and bag-info.txt (with
Bagging-Date and Payload-Oxum); we add Source-Organization and External-Description.
"""

from __future__ import annotations

import csv
import json
import shutil
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import bagit
from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.blobstore import BlobStore
from storage.export import iter_export_rows
from storage.models import NoticeVersion


@dataclass
class BagResult:
    path: Path
    notices: int
    attachments: int
    warc_files: int
    missing: list[str]  # files the rows point at that are not in the store


def _copy(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(src, dst)


def write_bag(session: Session, blobs: BlobStore, warc_dir: Path, target: Path, *, site_key: str | None = None,
              since: datetime | None = None, until: datetime | None = None, status: str | None = None,
              published_from: date | None = None, published_to: date | None = None,
              source_organization: str = "noticewatch", description: str | None = None) -> BagResult:
    """Write the bag into ``target`` (created; must not exist or be empty)."""
    if target.exists() and any(target.iterdir()):
        raise FileExistsError(f"{target} exists and is not empty")
    target.mkdir(parents=True, exist_ok=True)
    notices = 0
    notice_ids: list[int] = []
    attachments: dict[str, str] = {}  # sha256 -> relative path
    missing: list[str] = []
    with (target / "notices.jsonl").open("w", encoding="utf-8") as jsonl, \
            (target / "names.csv").open("w", encoding="utf-8", newline="") as names_fh:
        names = csv.writer(names_fh)
        names.writerow(["sha256", "path", "name", "url", "media_type", "notice_id"])
        for row in iter_export_rows(session, site_key=site_key, since=since, until=until, status=status,
                                    published_from=published_from, published_to=published_to):
            jsonl.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
            notices += 1
            notice_ids.append(int(row["id"]))
            for att in row.get("attachments") or []:
                sha = att.get("sha256")
                if not sha:
                    continue
                rel = BlobStore.relpath_for(sha)  # from the digest, never from a stored name
                names.writerow([sha, rel, att.get("name"), att.get("url"), att.get("media_type"), row["id"]])
                if sha in attachments:
                    continue
                source = blobs.path_for(sha)
                if source.is_file():
                    _copy(source, target / rel)
                    attachments[sha] = rel
                else:
                    missing.append(rel)
    warc_count = 0
    for rel in sorted(_warc_files_for(session, notice_ids)):
        source = (warc_dir / rel).resolve()
        if warc_dir.resolve() not in source.parents:
            continue  # a reference that escapes the WARC directory is not ours to copy
        if source.is_file():
            _copy(source, target / "warc" / rel)
            warc_count += 1
        else:
            missing.append(f"warc/{rel}")
    info: dict[str, Any] = {
        "Source-Organization": source_organization,
        "External-Description": description or _describe(site_key, since, until, status, notices,
                                                           published_from, published_to),
        "External-Identifier": f"noticewatch-export-{datetime.now().strftime('%Y%m%dT%H%M%S')}",
    }
    bagit.make_bag(str(target), bag_info=info, checksums=["sha256"])
    return BagResult(path=target, notices=notices, attachments=len(attachments), warc_files=warc_count,
                     missing=missing)


def _warc_files_for(session: Session, notice_ids: list[int]) -> set[str]:
    files: set[str] = set()
    for start in range(0, len(notice_ids), 500):
        batch = notice_ids[start:start + 500]
        refs = session.scalars(select(NoticeVersion.warc_record)
                               .where(NoticeVersion.notice_id.in_(batch), NoticeVersion.warc_record.is_not(None)))
        files.update(ref.split("#", 1)[0] for ref in refs if ref and "#" in ref)
    return files


def _describe(site_key: str | None, since: datetime | None, until: datetime | None, status: str | None,
              count: int, published_from: date | None = None, published_to: date | None = None) -> str:
    parts = [f"{count} notices archived by noticewatch"]
    if site_key:
        parts.append(f"site {site_key}")
    if since or until:
        parts.append(f"changed {since.date() if since else '…'} to {until.date() if until else '…'}")
    if published_from or published_to:
        parts.append(f"published {published_from or '…'} to {published_to or '…'}")
    if status:
        parts.append(f"status {status}")
    return "; ".join(parts) + ". Payload: notices.jsonl (export rows), names.csv, blobs/, warc/."
