"""SSRF through redirects and credentials across hosts, through the real downloader stack.

The scripted web is the crawl's HTTP proxy on 127.0.0.1 (allow-listed); targets are
fake names it answers for, so nothing is resolved. The forbidden target is a sentinel
listening on 127.0.0.2: it must see no connection at all.
"""

from __future__ import annotations

from pathlib import Path

from tests.hostile.localweb import ScriptedWeb, Sentinel, run_probe

SITES = {"s": ["a.test", "b.test"]}


def _by_url(rows: list[dict]) -> dict[str, dict]:
    return {r["url"]: r for r in rows}


def test_redirect_hops_to_forbidden_targets_are_refused(tmp_path: Path) -> None:
    with Sentinel("127.0.0.2") as sentinel:
        forbidden = f"http://127.0.0.2:{sentinel.port}/secret"
        routes = {
            ("a.test", "/to-private"): (302, [("Location", forbidden)], b""),
            ("a.test", "/to-mapped"): (302, [("Location", f"http://[::ffff:127.0.0.2]:{sentinel.port}/")], b""),
            ("a.test", "/to-metadata"): (301, [("Location", "http://169.254.169.254/latest/meta-data/")], b""),
            ("a.test", "/to-evil"): (302, [("Location", "http://evil.test/")], b""),
            ("a.test", "/hop1"): (302, [("Location", "http://b.test/hop2")], b""),
            ("b.test", "/hop2"): (302, [("Location", forbidden)], b""),
            ("a.test", "/fine"): (302, [("Location", "http://b.test/land")], b""),
            ("b.test", "/land"): (200, [("Content-Type", "text/html")], b"<html>landed" + b"." * 100 + b"</html>"),
        }
        with ScriptedWeb(routes) as web:
            urls = [f"http://a.test{p}" for p in ("/to-private", "/to-mapped", "/to-metadata", "/to-evil",
                                                    "/hop1", "/fine")]
            rows, stats = run_probe(tmp_path, [{"url": u} for u in urls] + [{"url": forbidden}],
                                    sites=SITES, proxy=web.proxy_url)
            logged_hosts = {entry["host"] for entry in web.log}
        assert sentinel.connections == 0
    out = _by_url(rows)
    for path in ("/to-private", "/to-mapped", "/to-metadata", "/to-evil", "/hop1"):
        row = out[f"http://a.test{path}"]
        assert row["ok"] is False and row["kind"] == "refused_address", row
    assert out[forbidden]["kind"] == "refused_address"
    assert out["http://a.test/fine"]["status"] == 200
    assert out["http://a.test/fine"]["final_url"] == "http://b.test/land"
    # the refused hops never reached the proxy either
    assert "evil.test" not in logged_hosts and "169.254.169.254" not in logged_hosts
    assert stats["guard/refused"] == 6


def test_cookies_and_authorization_do_not_cross_hosts(tmp_path: Path) -> None:
    routes = {
        ("a.test", "/login"): (302, [("Set-Cookie", "sid=secret-a; Path=/"), ("Location", "http://a.test/same")], b""),
        ("a.test", "/same"): (302, [("Location", "http://b.test/other")], b""),
        ("b.test", "/other"): (200, [("Content-Type", "text/html")], b"<html>" + b"x" * 100 + b"</html>"),
    }
    with ScriptedWeb(routes) as web:
        rows, _stats = run_probe(
            tmp_path, [{"url": "http://a.test/login", "headers": {"Authorization": "Basic dXNlcjpwdw=="}}],
            sites=SITES, proxy=web.proxy_url)
        log = {(e["host"], e["path"]): {k.lower(): v for k, v in e["headers"].items()} for e in web.log}
    assert rows[0]["status"] == 200
    same_host = log[("a.test", "/same")]
    assert same_host.get("cookie") == "sid=secret-a" and "authorization" in same_host
    other_host = log[("b.test", "/other")]
    assert "cookie" not in other_host
    assert "authorization" not in other_host
