"""``noticewatch subscriptions …`` and ``noticewatch alerts …`` end to end."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from noticewatch.cli import root
from noticewatch.store import open_store
from tests.alerts.conftest import WebhookReceiver, add_site, make_settings, publish


def test_subscription_commands(tmp_path: Path, webhook: WebhookReceiver, monkeypatch) -> None:
    monkeypatch.setenv("NOTICEWATCH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("NOTICEWATCH_PUBLIC_BASE_URL", "http://archive.example")
    runner = CliRunner()

    def run(*args: str, code: int = 0) -> str:
        result = runner.invoke(root, list(args), catch_exceptions=False)
        assert result.exit_code == code, result.output
        return result.output

    out = run("subscriptions", "add", "--name", "土地", "--channel", f"webhook+{webhook.url}/h",
              "--any", "土地", "--none", "招聘", "--kind", "new", "--site", "mawei")
    assert "added subscription #1 土地 (instant)" in out
    secret = out.split("webhook signing secret: ", 1)[1].split()[0]
    webhook.secrets["/h"] = secret
    assert "unknown scheme" in run("subscriptions", "add", "--name", "x", "--channel", "bogus://y", code=2)
    assert "already exists" in run("subscriptions", "add", "--name", "土地", "--channel", "feed:", code=1)

    listing = run("subscriptions", "list")
    assert "土地" in listing and f"webhook+http://127.0.0.1:{webhook.url.rsplit(':', 1)[1]}/…" in listing
    assert '"any": ["土地"]' in run("subscriptions", "show", "土地")

    assert "test alert sent" in run("subscriptions", "test", "1")
    assert webhook.received[-1]["verified"] and webhook.received[-1]["payload"]["type"] == "test"

    settings = make_settings(tmp_path, public_base_url="http://archive.example")
    store = open_store(settings)
    try:
        add_site(store)
        publish(store, "a", "土地出让公告")
    finally:
        store.close()
    assert "sent 1" in run("alerts", "send")
    log = run("alerts", "log")
    assert "sent" in log and "土地出让公告" in log
    assert "no deliveries failed" in run("alerts", "log", "--failed")
    assert "wrote 4 feeds" in run("alerts", "feeds", "--out", str(tmp_path / "feeds"))
    assert "removed subscription #1 土地" in run("subscriptions", "remove", "土地")
    assert "no subscription" in run("subscriptions", "show", "土地", code=1)
