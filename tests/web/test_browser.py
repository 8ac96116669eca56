"""Headless Chromium against the real server: search, open a notice, diff, download."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.search.corpus import ATTACHMENT_BYTES
from tests.web.conftest import Archive

pytestmark = pytest.mark.browser
CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]


def _require_chromium() -> None:
    if CHROMIUM.exists():
        return
    reason = f"{CHROMIUM} is missing (apt-get install chromium)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason}; CI=true: browser tests must run")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def base_url(archive: Archive) -> Iterator[str]:
    import uvicorn

    from noticewatch.web import create_app

    server = uvicorn.Server(uvicorn.Config(create_app(archive.settings, store=archive.store),
                                           host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def page(base_url: str) -> Iterator[object]:
    _require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        context = browser.new_context(accept_downloads=True, java_script_enabled=True)
        errors: list[str] = []
        tab = context.new_page()
        tab.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        yield tab
        context.close()
        browser.close()


def test_search_open_diff_download(page, base_url: str, archive: Archive, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    page.goto(base_url + "/")
    page.fill("input[name=q]", "垃圾分类")
    page.click("button[type=submit]")
    page.wait_for_url("**/?q=*")
    assert "找到 2 条结果" in page.inner_text("main")
    assert page.locator("mark", has_text="垃圾分类").count() >= 2

    page.click(f"a[href='/notices/{archive.ids['garbage']}']")
    page.wait_for_url(f"**/notices/{archive.ids['garbage']}")
    assert page.inner_text("h1") == "关于做好生活垃圾分类工作的通知"

    page.click("a.difflink")
    page.wait_for_url("**/diff?*")
    assert page.locator("tr.insert ins", has_text="三、严格考核。").count() == 1

    page.goto(f"{base_url}/notices/{archive.ids['exam']}")
    with page.expect_download() as info:
        page.click("a.download")
    download = info.value
    assert download.suggested_filename == "报名登记表.pdf"
    saved = tmp_path / "got.pdf"
    download.save_as(saved)
    assert saved.read_bytes() == ATTACHMENT_BYTES


def test_hostile_notice_runs_no_script(page, base_url: str, archive: Archive) -> None:  # type: ignore[no-untyped-def]
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(f"{base_url}/notices/{archive.ids['xss']}")
    page.goto(f"{base_url}/notices/{archive.ids['xss']}/versions/1/archived")
    page.goto(base_url + "/?q=" + "恶意链接")
    page.wait_for_timeout(300)
    assert dialogs == []
    page.goto(f"{base_url}/notices/{archive.ids['xss']}")
    assert "正文内容" in page.inner_text("section.body")
