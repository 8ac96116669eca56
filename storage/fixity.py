"""Fixity checks: do the stored bytes still say what the database says they say?

Blobs are re-hashed (1 MiB chunks, a few threads: hashlib releases the GIL) and
compared with their content address; WARC files are read record by record with
warcio's digest checking (``WARC-Block-Digest``/``WARC-Payload-Digest``). Quick mode
checks presence and sizes only. A digest name whose bytes do not hash to it is
*corrupt*; a half-written temp file (``.incoming-*``) is *left over*, never good.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import re
import zlib
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from storage.blobstore import BlobStore
from storage.clock import utcnow
from storage.models import Blob, NoticeVersion

CHUNK = 1 << 20
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


@dataclass
class FixityReport:
    blobs_checked: int = 0
    blobs_ok: int = 0
    missing: list[str] = field(default_factory=list)  # sha256 in the DB, no file
    corrupt: list[str] = field(default_factory=list)  # "sha256: why"
    orphans: list[str] = field(default_factory=list)  # files under blobs/ the DB does not know
    incoming: list[str] = field(default_factory=list)  # temp files a killed write left
    warc_files: int = 0
    warc_records: int = 0
    warc_problems: list[str] = field(default_factory=list)  # "file: why"
    warc_missing: list[str] = field(default_factory=list)  # referenced by notice versions, absent

    @property
    def ok(self) -> bool:
        return not (self.missing or self.corrupt or self.warc_problems or self.warc_missing)

    def lines(self) -> Iterator[str]:
        yield (f"blobs: {self.blobs_checked} checked, {self.blobs_ok} ok, {len(self.missing)} missing, "
               f"{len(self.corrupt)} corrupt, {len(self.orphans)} orphans, {len(self.incoming)} left-over temp files")
        yield (f"warc: {self.warc_files} files, {self.warc_records} records, {len(self.warc_problems)} problems, "
               f"{len(self.warc_missing)} referenced files missing")
        findings = (("MISSING blob", self.missing), ("CORRUPT blob", self.corrupt),
                    ("MISSING warc", self.warc_missing), ("CORRUPT warc", self.warc_problems),
                    ("orphan", self.orphans), ("left-over temp file", self.incoming))
        for label, entries in findings:
            for entry in entries:
                yield f"{label} {entry}"


def hash_path(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _check_blob(store: BlobStore, sha: str, size: int, quick: bool) -> tuple[str, str | None]:
    """(sha, problem) where problem is None, "missing" or a corruption detail."""
    path = store.path_for(sha)
    try:
        actual_size = path.stat().st_size
    except FileNotFoundError:
        return sha, "missing"
    if actual_size != size:
        return sha, f"size {actual_size}, expected {size}"
    if quick:
        return sha, None
    actual = hash_path(path)
    return sha, None if actual == sha else f"hashes to {actual}"


def verify_blobs(session: Session, store: BlobStore, report: FixityReport, *, quick: bool = False,
                 workers: int = 4, now: datetime | None = None) -> None:
    """Check every blob row against its file; stamp ``verified_at`` on good ones (full mode)."""
    now = now or utcnow()
    rows = session.execute(select(Blob.sha256, Blob.size).order_by(Blob.sha256)).all()
    known = {sha for sha, _ in rows}
    good: list[str] = []
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for sha, problem in pool.map(lambda r: _check_blob(store, r[0], r[1], quick), rows):
            report.blobs_checked += 1
            if problem is None:
                report.blobs_ok += 1
                good.append(sha)
            elif problem == "missing":
                report.missing.append(sha)
            else:
                report.corrupt.append(f"{sha}: {problem}")
    if not quick:
        for start in range(0, len(good), 500):
            session.execute(update(Blob).where(Blob.sha256.in_(good[start:start + 500]))
                            .values(verified_at=now).execution_options(synchronize_session=False))
    _scan_blob_dir(store, known, report)


def _scan_blob_dir(store: BlobStore, known: set[str], report: FixityReport) -> None:
    if not store.root.is_dir():
        return
    for dirpath, _dirs, files in os.walk(store.root):
        for name in files:
            path = Path(dirpath) / name
            rel = path.relative_to(store.data_dir).as_posix()
            if name.startswith(".incoming-"):
                report.incoming.append(rel)
            elif not _HEX64.match(name) or name not in known:
                report.orphans.append(rel)


def warc_files(warc_dir: Path) -> list[Path]:
    if not warc_dir.is_dir():
        return []
    return sorted(p for p in warc_dir.rglob("*.warc.gz") if p.is_file())


def _gzip_intact(path: Path) -> str | None:
    """None if every gzip member inflates and passes its CRC/length trailer, else why not.

    warcio does not look at member trailers, so a file torn inside the last member's
    trailer would otherwise pass.
    """
    try:
        with gzip.open(path, "rb") as fh:
            while fh.read(CHUNK):
                pass
    except (OSError, EOFError, zlib.error) as exc:
        return f"gzip: {type(exc).__name__}: {exc}"
    return None


def check_warc_file(path: Path) -> tuple[int, list[str]]:
    """(records read, problems): every gzip member must inflate and every digest verify."""
    from warcio.archiveiterator import ArchiveIterator

    records, problems = 0, []
    torn = _gzip_intact(path)
    if torn:
        problems.append(torn)
    try:
        with path.open("rb") as fh:
            iterator = ArchiveIterator(fh, check_digests=True)
            for record in iterator:
                while record.raw_stream.read(CHUNK):
                    pass
                records += 1
                if record.digest_checker.passed is False:
                    where = f"offset {iterator.get_record_offset()}"
                    problems.extend(f"{where}: {p}" for p in record.digest_checker.problems)
    except Exception as exc:  # noqa: BLE001 - zlib, warcio and OS errors all mean "unreadable"
        problems.append(f"unreadable after {records} records: {type(exc).__name__}: {exc}")
    return records, problems


def referenced_warc_files(session: Session) -> set[str]:
    """WARC paths (relative to the WARC directory) that notice versions point at."""
    refs = session.scalars(select(NoticeVersion.warc_record).where(NoticeVersion.warc_record.is_not(None))
                           .distinct())
    return {ref.split("#", 1)[0] for ref in refs if ref and "#" in ref}


def verify_warcs(warc_dir: Path, report: FixityReport, *, referenced: Iterable[str] = (), quick: bool = False,
                 workers: int = 2) -> None:
    files = warc_files(warc_dir)
    report.warc_files = len(files)
    for rel in sorted(set(referenced)):
        if not (warc_dir / rel).is_file():
            report.warc_missing.append(rel)
    if quick:
        return
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for path, (count, problems) in zip(files, pool.map(check_warc_file, files), strict=True):
            report.warc_records += count
            rel = path.relative_to(warc_dir).as_posix()
            report.warc_problems.extend(f"{rel}: {p}" for p in problems)


def verify_all(session: Session, store: BlobStore, warc_dir: Path, *, quick: bool = False,
               workers: int = 4) -> FixityReport:
    """The whole check; the caller commits (``verified_at`` stamps) or rolls back."""
    report = FixityReport()
    verify_blobs(session, store, report, quick=quick, workers=workers)
    verify_warcs(warc_dir, report, referenced=referenced_warc_files(session), quick=quick, workers=workers)
    return report
