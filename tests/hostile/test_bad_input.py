"""Bad user input and a bad environment: one clear line, a non-zero exit, nothing half-done.

Malformed registry YAML, bad cron expressions (registry and settings), bad search syntax,
a locked SQLite database, an unreachable database, a full disk and an export into a
missing directory. Commands run in-process through ``noticewatch.cli.main`` (the console
script's entry point, with its central database-error handler).
"""

from __future__ import annotations

import errno
import os
import sqlite3
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from noticewatch import cli
from noticewatch.demoweb import DemoWeb
from storage import db as storage_db
from storage.blobstore import BlobStore
from tests.e2e.harness import make_archive

UNREACHABLE = "postgresql+psycopg://postgres:hunter2@127.0.0.1:1/none"


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private data directory; no config file is picked up from the working directory."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NOTICEWATCH_DATA_DIR", str(tmp_path / "data"))
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def one_error_line(code: int, err: str) -> str:
    """Assert a failing exit with exactly one message line and no traceback; return it."""
    assert code != 0
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    return lines[0]


def write_registry(path: Path, body: str) -> Path:
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


GOOD_SITE = """\
    sites:
      - key: x
        name: 某区人民政府
        family: generic
        base_url: http://www.x.gov.cn/
        {extra}
        columns:
          - url: http://www.x.gov.cn/tzgg/
            name: 通知公告
    """


# ── registry YAML ──────────────────────────────────────────────────────────────────────

@pytest.mark.parametrize("body,expected", [
    ("sites:\n  - key: x\n    name: [unclosed\n", "line 4"),
    (GOOD_SITE.format(extra="bogus_key: 1"), "unknown key 'bogus_key'"),
    (GOOD_SITE.replace("        columns:\n          - url: http://www.x.gov.cn/tzgg/\n            name: 通知公告\n",
                       "        columns: 5\n").format(extra=""), "'columns' must be list"),
    ("sites: {x: 1}\n", "sites"),
    ("- a\n- b\n", "top level must be a mapping"),
], ids=["syntax", "unknown-key", "wrong-type", "wrong-shape", "top-level-list"])
@pytest.mark.parametrize("command", [("config", "check"), ("crawl", "--site", "x"), ("schedule", "--list")],
                         ids=lambda c: c[0])
def test_malformed_registry_is_one_line(env: Path, capsys: pytest.CaptureFixture[str],
                                        monkeypatch: pytest.MonkeyPatch, body: str, expected: str,
                                        command: tuple[str, ...]) -> None:
    registry = write_registry(env / "sites.yaml", body)
    monkeypatch.setenv("NOTICEWATCH_REGISTRY", str(registry))
    code, _out, err = run(capsys, *command)
    line = one_error_line(code, err)
    assert str(registry) in line and expected.lower() in line.lower(), line
    if command[0] == "crawl":  # refused before any run was recorded
        assert not (env / "data" / "noticewatch.sqlite3").exists() or _runs(env) == 0


def _runs(env: Path) -> int:
    with sqlite3.connect(env / "data" / "noticewatch.sqlite3") as conn:
        return int(conn.execute("select count(*) from crawl_run").fetchone()[0])


# ── cron expressions ───────────────────────────────────────────────────────────────────

@pytest.mark.parametrize("cron", ["61 * * * *", "*/5 * * *", "every tuesday"])
@pytest.mark.parametrize("command", [("config", "check"), ("schedule", "--list"), ("schedule", "--once")],
                         ids=lambda c: "-".join(c))
def test_bad_site_schedule_names_the_site(env: Path, capsys: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch, cron: str,
                                          command: tuple[str, ...]) -> None:
    registry = write_registry(env / "sites.yaml", GOOD_SITE.format(extra=f"schedule: {cron!r}"))
    monkeypatch.setenv("NOTICEWATCH_REGISTRY", str(registry))
    code, _out, err = run(capsys, *command)
    line = one_error_line(code, err)
    assert "site" in line and "'x'" in line or "site x" in line, line
    assert "schedule" in line and cron.split()[0] in line, line
    assert not (env / "data" / "noticewatch.sqlite3").exists() or _runs(env) == 0


@pytest.mark.parametrize("command", [("config", "check"), ("schedule", "--list"), ("schedule", "--once")],
                         ids=lambda c: "-".join(c))
def test_bad_default_schedule_names_the_variable(env: Path, capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch, command: tuple[str, ...]) -> None:
    monkeypatch.setenv("NOTICEWATCH_SCHEDULE_DEFAULT", "61 * * * *")
    code, _out, err = run(capsys, *command)
    line = one_error_line(code, err)
    assert "NOTICEWATCH_SCHEDULE_DEFAULT" in line and "61 * * * *" in line, line


# ── search syntax ──────────────────────────────────────────────────────────────────────

@pytest.mark.parametrize("query,expected", [('"通知', "unclosed quote"), ("通知 AND", "AND needs a word"),
                                            ("()", "empty parentheses"), ("(通知", ""), ("OR", "")])
def test_bad_search_syntax_is_a_message_not_a_database_error(env: Path, capsys: pytest.CaptureFixture[str],
                                                              query: str, expected: str) -> None:
    code, _out, err = run(capsys, "search", query)
    line = one_error_line(code, err)
    assert "cannot read the query" in line and expected in line, line
    for leak in ("sqlalchemy", "OperationalError", "sqlite3", "fts5", "syntax error near"):
        assert leak.lower() not in err.lower(), err


# ── unreachable database ───────────────────────────────────────────────────────────────

@pytest.mark.parametrize("command", [
    ("crawl", "--site", "mawei"), ("export", "-o", "out.jsonl"), ("search", "通知"), ("runs",),
    ("db", "upgrade"), ("serve", "--port", "1"), ("verify",), ("alerts", "send"),
], ids=lambda c: c[0] + ("-" + c[1] if c[0] == "db" else ""))
def test_unreachable_database_is_one_line(env: Path, capsys: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch, command: tuple[str, ...]) -> None:
    monkeypatch.setenv("NOTICEWATCH_DATABASE_URL", UNREACHABLE)
    code, _out, err = run(capsys, *command)
    line = one_error_line(code, err)
    assert code == 2
    assert line.startswith("Error: database unreachable: postgresql+psycopg://postgres:***@127.0.0.1:1/none"), line
    assert "hunter2" not in err  # the password is masked
    assert not (env / "out.jsonl").exists()


# ── locked SQLite database ─────────────────────────────────────────────────────────────

class ExclusiveLock:
    """``BEGIN EXCLUSIVE`` on the database from another connection (another process's crawl)."""

    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.conn.execute("BEGIN EXCLUSIVE")

    def release(self) -> None:
        self.conn.execute("COMMIT")
        self.conn.close()


@pytest.fixture
def migrated(env: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    code, _out, err = run(capsys, "db", "upgrade")
    assert code == 0, err
    return env / "data" / "noticewatch.sqlite3"


def test_readers_are_not_blocked_by_a_writer(migrated: Path, env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """WAL: search, export and runs read while another process holds the write lock."""
    lock = ExclusiveLock(migrated)
    try:
        assert run(capsys, "search", "通知")[0] == 0
        code, _out, err = run(capsys, "export", "-o", str(env / "out.jsonl"))
        assert code == 0, err
        assert (env / "out.jsonl").read_text() == ""
        assert run(capsys, "runs")[0] == 0
    finally:
        lock.release()


def test_writer_waits_for_a_short_lock(migrated: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """busy_timeout (30 s) turns a briefly held lock into a wait, not an error."""
    lock = ExclusiveLock(migrated)
    timer = threading.Timer(1.0, lock.release)
    timer.start()
    try:
        code, out, err = run(capsys, "subscriptions", "add", "--name", "锁", "--channel", "feed:", "--any", "通知")
    finally:
        timer.join()
    assert code == 0, err
    with sqlite3.connect(migrated) as conn:
        assert conn.execute("select name from subscription").fetchall() == [("锁",)]


def test_writer_gives_up_with_one_line_and_changes_nothing(
        migrated: Path, env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Past the busy timeout: "database is locked", exit 2, no row written.

    The timeout is a fixed 30 s (storage/db.py, no setting); the test shortens it by
    wrapping the connect hook so it does not wait half a minute.
    """
    original = storage_db._sqlite_pragmas

    def short_wait(dbapi_conn: Any, record: Any) -> None:
        original(dbapi_conn, record)
        dbapi_conn.execute("PRAGMA busy_timeout=200")

    monkeypatch.setattr(storage_db, "_sqlite_pragmas", short_wait)
    lock = ExclusiveLock(migrated)
    try:
        code, _out, err = run(capsys, "subscriptions", "add", "--name", "锁", "--channel", "feed:", "--any", "通知")
    finally:
        lock.release()
    line = one_error_line(code, err)
    assert code == 2 and line.startswith("Error: database is locked:"), line
    assert str(migrated) in line
    with sqlite3.connect(migrated) as conn:
        assert conn.execute("select count(*) from subscription").fetchone() == (0,)


# ── export target ──────────────────────────────────────────────────────────────────────

def test_export_into_a_missing_directory(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = env / "missing" / "notices.jsonl"
    code, _out, err = run(capsys, "export", "-o", str(target))
    line = one_error_line(code, err)
    assert "missing" in line and "does not exist" in line, line
    assert not target.parent.exists()


def test_export_failure_leaves_no_partial_file(env: Path, capsys: pytest.CaptureFixture[str],
                                               monkeypatch: pytest.MonkeyPatch, migrated: Path) -> None:
    from storage import repository

    def broken(*args: Any, **kwargs: Any) -> Iterator[dict[str, Any]]:
        yield {"id": 1}
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(repository, "iter_export_rows", broken)
    with pytest.raises(OSError):
        cli.main(["export", "-o", str(env / "out.jsonl")])
    assert not list(env.glob("*.jsonl")) and not list(env.glob(".*.part"))


# ── full disk ──────────────────────────────────────────────────────────────────────────

class _FullDisk:
    """A file object whose writes fail with ENOSPC after ``room`` bytes, as on a full disk."""

    def __init__(self, real: Any, room: int) -> None:
        self._real, self._room = real, room

    def write(self, data: bytes) -> int:
        if len(data) > self._room:
            self._real.write(data[: self._room])
            self._room = 0
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self._room -= len(data)
        return int(self._real.write(data))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def __enter__(self) -> _FullDisk:
        return self

    def __exit__(self, *exc: object) -> None:
        self._real.close()


def test_full_disk_leaves_no_half_written_blob(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import storage.blobstore as blobstore

    store = BlobStore(tmp_path)
    real_fdopen = os.fdopen
    monkeypatch.setattr(blobstore.os, "fdopen", lambda fd, mode: _FullDisk(real_fdopen(fd, mode), room=1000))
    with pytest.raises(OSError) as failure:
        store.put_chunks([b"x" * 600, b"y" * 600])
    assert failure.value.errno == errno.ENOSPC
    assert list(store.root.iterdir()) == []  # neither the temp file nor a blob under a digest name
    monkeypatch.undo()
    sha, _ = store.put_bytes(b"x" * 600 + b"y" * 600)  # with room again, the same bytes store fine
    assert store.hash_file(sha) == sha


SITECUSTOMIZE = '''
"""Test hook: every blob write in this process fails with ENOSPC (a full disk)."""
import errno, os
import storage.blobstore as _blobstore

_real_fdopen = os.fdopen


class _Full:
    def __init__(self, real):
        self._real = real

    def write(self, data):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def __getattr__(self, name):
        return getattr(self._real, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._real.close()


class _Os:
    def __getattr__(self, name):
        return getattr(os, name)

    @staticmethod
    def fdopen(fd, mode="r", *args, **kwargs):
        return _Full(_real_fdopen(fd, mode, *args, **kwargs))


_blobstore.os = _Os()
'''


def _full_disk_crawl(tmp_path: Path, demo_web: DemoWeb) -> tuple[Any, dict[str, Any]]:
    """Crawl mawei with every blob write failing (ENOSPC), in the real crawl process."""
    from sqlalchemy import text

    from noticewatch.commands.demo_cmd import DEMO_OVERRIDES, proxy_env
    from noticewatch.crawling import run_crawl

    archive = make_archive(tmp_path)
    hook = tmp_path / "fulldisk"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(SITECUSTOMIZE)
    child_env = proxy_env(demo_web.proxy_url)
    child_env["PYTHONPATH"] = os.pathsep.join([str(hook), str(Path(__file__).resolve().parents[2]),
                                              child_env.get("PYTHONPATH", "")])
    result = run_crawl(archive.settings, archive.store, archive.registry, site_keys=["mawei"],
                       overrides=(*DEMO_OVERRIDES, "ROBOTSTXT_OBEY=True"),
                       registry_paths=[str(archive.registry_path)], env=child_env)
    with archive.store.factory() as session:
        outcome = {
            "status": result.status, "counts": result.counts,
            "stored": session.execute(text(
                "select count(*) from version_attachment where blob_sha256 is not null")).scalar_one(),
            "reasons": set(session.execute(text(
                "select distinct skipped_reason from version_attachment where blob_sha256 is null")).scalars()),
        }
    return archive, outcome


def test_crawl_on_a_full_disk(tmp_path: Path, demo_web: DemoWeb, capsys: pytest.CaptureFixture[str],
                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Every blob write fails: no blob and no temp file left, no attachment recorded as
    archived, the reason readable, ``verify`` clean afterwards."""
    archive, outcome = _full_disk_crawl(tmp_path, demo_web)
    archive.store.close()
    assert outcome["counts"].get("attachments_failed", 0) > 0, outcome  # the hook really bit
    assert outcome["stored"] == 0, outcome
    assert outcome["reasons"] == {"[Errno 28] No space left on device"}, outcome
    blobs = archive.data_dir / "blobs"
    assert not blobs.exists() or not [p for p in blobs.rglob("*") if p.is_file()]
    monkeypatch.setenv("NOTICEWATCH_DATA_DIR", str(archive.data_dir))
    code, out, err = run(capsys, "verify")
    assert code == 0, out + err


def test_attachments_lost_to_a_full_disk_are_fetched_again(tmp_path: Path, demo_web: DemoWeb) -> None:
    archive, outcome = _full_disk_crawl(tmp_path, demo_web)
    try:
        # The run itself completes (notices are stored); the lost files are counted.
        assert outcome["counts"].get("attachments_failed", 0) > 0
        from sqlalchemy import text

        with archive.store.factory() as session:
            versions_before = session.execute(text("select count(*) from notice_version")).scalar_one()
        second = archive.crawl(demo_web.proxy_url, sites=["mawei"])
        assert second.counts.get("changed", 0) == 0  # filling in files is not an edit
        with archive.store.factory() as session:
            missing = session.execute(text(
                "select count(*) from version_attachment where blob_sha256 is null")).scalar_one()
            stored = session.execute(text(
                "select count(*) from version_attachment where blob_sha256 is not null")).scalar_one()
            versions_after = session.execute(text("select count(*) from notice_version")).scalar_one()
        assert stored > 0 and missing == 0
        assert versions_after == versions_before
    finally:
        archive.store.close()
