"""A crawl's leases are short and renewed while its process runs, so a dead machine frees its sites soon."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from noticewatch.lease_keeper import LeaseKeeper
from storage import runs
from storage.clock import as_utc, utcnow
from storage.models import RunLock
from tests.e2e.harness import Archive, make_archive

HOLDER = "host:1:abc"


def _expiry(archive: Archive, name: str) -> datetime:
    with archive.store.factory() as session:
        expires = session.scalar(select(RunLock.expires_at).where(RunLock.name == name))
    assert expires is not None
    return as_utc(expires)


def test_leases_are_renewed_while_the_process_runs(tmp_path: Path) -> None:
    archive = make_archive(tmp_path)
    with archive.store.factory.begin() as session:
        runs.acquire_locks(session, names=["site:a", "run:1"], holder=HOLDER, ttl=timedelta(seconds=1))
    keeper = LeaseKeeper(archive.store, names=["site:a", "run:1"], holder=HOLDER, ttl=timedelta(seconds=60),
                         every=0.2)
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(1.5)"])
    assert keeper.wait(sleeper) == 0
    assert keeper.renewals >= 1
    # Taken for 1 s, held after 1.5 s, and for about a minute more: renewed, not expired.
    soon = utcnow() + timedelta(seconds=30)
    assert _expiry(archive, "site:a") > soon and _expiry(archive, "run:1") > soon


def test_a_failed_renewal_is_logged_and_the_wait_goes_on(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    archive = make_archive(tmp_path)
    keeper = LeaseKeeper(archive.store, names=["site:a"], holder=HOLDER, every=0.1)

    class Broken:
        def begin(self) -> None:
            raise ConnectionError("database went away")

    archive.store.factory = Broken()  # type: ignore[assignment]
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(0.5)"])
    assert keeper.wait(sleeper) == 0
    assert keeper.renewals == 0
    assert "could not renew the crawl's leases (database went away)" in caplog.text


def test_a_lease_taken_by_another_crawl_is_reported(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    archive = make_archive(tmp_path)
    with archive.store.factory.begin() as session:
        runs.acquire_locks(session, names=["site:b"], holder="other-host:9", ttl=timedelta(minutes=5))
    keeper = LeaseKeeper(archive.store, names=["site:a", "site:b"], holder=HOLDER, every=0.0)
    keeper.tick()
    assert "leases lost to another crawl: site:b" in caplog.text


def test_no_renewal_after_the_longest_run(tmp_path: Path) -> None:
    archive = make_archive(tmp_path)
    keeper = LeaseKeeper(archive.store, names=["site:a"], holder=HOLDER, every=0.0, max_run=timedelta(0))
    keeper.tick()
    assert keeper.renewals == 0
    with archive.store.factory() as session:
        assert session.scalars(select(RunLock)).all() == []
