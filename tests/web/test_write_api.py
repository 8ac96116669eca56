"""The admin API: adding and checking sites through the demo web (as http_proxy), and
subscriptions end to end with a real webhook receiver on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import select

from noticewatch.demoweb import DemoWeb
from noticewatch.web import create_app
from storage.models import Column, Site
from tests.alerts.conftest import WebhookReceiver, webhook  # noqa: F401 (fixture)
from tests.web.conftest import ADMIN_TOKEN, make_settings

YUHANG = "http://www.yuhang.gov.cn/col/col1229/index.html"  # hanweb; not in the bundled registry
HP = "http://www.hp.gov.cn/gkmlpt/index"  # gkmlpt
AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture
def app_client(tmp_path: Path) -> Iterator[TestClient]:
    """A fresh archive (bundled registry, no user sites.yaml yet) with the admin token."""
    settings = make_settings(tmp_path / "data", admin_token=ADMIN_TOKEN, download_delay="0")
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture
def proxied(demo_web: DemoWeb, monkeypatch: pytest.MonkeyPatch) -> DemoWeb:
    """Discovery (urllib, ``getproxies()``) reaches the fake hosts only through the demo web."""
    for name in ("http_proxy", "HTTP_PROXY"):
        monkeypatch.setenv(name, demo_web.proxy_url)
    for name in ("no_proxy", "NO_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    return demo_web


def _user_registry(tmp_path: Path) -> list[dict[str, Any]]:
    path = tmp_path / "data" / "sites.yaml"
    return yaml.safe_load(path.read_text(encoding="utf-8"))["sites"] if path.exists() else []


# ── sites ──────────────────────────────────────────────────────────────────────────────

def test_add_site_detects_the_family_records_and_syncs(app_client: TestClient, proxied: DemoWeb,
                                                       tmp_path: Path) -> None:
    answer = app_client.post("/api/sites", json={"url": YUHANG}, headers=AUTH)
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["family"] == "hanweb" and body["detection"]["family"] == "hanweb"
    assert body["confidence"] == body["detection"]["ranking"][0]["confidence"] >= 0.6
    assert body["detection"]["level"] == "high" and body["warnings"] == []
    ranking = body["detection"]["ranking"]
    assert len(ranking) > 3 and ranking == sorted(ranking, key=lambda s: -s["confidence"])
    assert body["detection"]["sample_title"]
    site = body["site"]
    assert (site["key"], site["family"], site["name"], site["verified"]) == ("yuhang", "hanweb",
                                                                             "杭州市余杭区人民政府", False)
    assert [c["url"] for c in site["columns"]] == [YUHANG]
    # Written to <data_dir>/sites.yaml ...
    (row,) = _user_registry(tmp_path)
    assert (row["key"], row["family"], row["columns"][0]["url"]) == ("yuhang", "hanweb", YUHANG)
    assert body["registry_file"] == str(tmp_path / "data" / "sites.yaml")
    # ... and to the store, visible to the read API.
    assert app_client.get("/api/sites/yuhang").json()["family"] == "hanweb"
    with app_client.app.state.store.factory() as session:  # type: ignore[attr-defined]
        stored = session.scalars(select(Site).where(Site.key == "yuhang")).one()
        assert stored.domain == "www.yuhang.gov.cn"
        assert session.scalars(select(Column.url).where(Column.site_id == stored.id)).all() == [YUHANG]
    # Only the site's own host was contacted, through the proxy.
    assert {host for _m, host, _p, _s in proxied.requests} == {"www.yuhang.gov.cn"}


def test_duplicates_bad_family_and_unreachable_pages_are_400(app_client: TestClient, proxied: DemoWeb,
                                                             tmp_path: Path) -> None:
    assert app_client.post("/api/sites", json={"url": YUHANG}, headers=AUTH).status_code == 201
    proxied.clear_requests()
    again = app_client.post("/api/sites", json={"url": YUHANG}, headers=AUTH)
    assert again.status_code == 400 and "already a column of site 'yuhang'" in again.json()["detail"]
    same_host = app_client.post("/api/sites", json={"url": "http://www.yuhang.gov.cn/col/col9/index.html"},
                                headers=AUTH)
    assert same_host.status_code == 400 and "already site 'yuhang'" in same_host.json()["detail"]
    taken = app_client.post("/api/sites", json={"url": HP, "key": "mawei"}, headers=AUTH)  # a bundled key
    assert taken.status_code == 400 and "site 'mawei' already exists" in taken.json()["detail"]
    family = app_client.post("/api/sites", json={"url": HP, "family": "wordpress"}, headers=AUTH)
    assert family.status_code == 400 and "unknown family 'wordpress'" in family.json()["detail"]
    assert proxied.requests == []  # all refused before fetching anything
    proxied.set_behaviour("huangpu", down=True)
    down = app_client.post("/api/sites", json={"url": HP}, headers=AUTH)
    assert down.status_code == 400 and down.json()["detail"].startswith(f"cannot fetch {HP}")
    assert [r["key"] for r in _user_registry(tmp_path)] == ["yuhang"]


def test_family_asked_for_is_recorded_with_a_warning(app_client: TestClient, proxied: DemoWeb) -> None:
    answer = app_client.post("/api/sites", json={"url": HP, "family": "trs_wcm", "key": "hp-trs", "name": "黄埔"},
                             headers=AUTH)
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["detection"]["family"] == "gkmlpt" and body["family"] == "trs_wcm"
    assert (body["site"]["key"], body["site"]["name"], body["site"]["family"]) == ("hp-trs", "黄埔", "trs_wcm")
    assert any("as asked, although gkmlpt scored best" in w for w in body["warnings"])


def test_check_extracts_without_storing(app_client: TestClient, proxied: DemoWeb, tmp_path: Path) -> None:
    answer = app_client.post("/api/sites/check", json={"url": YUHANG}, headers=AUTH)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["ok"] is True and body["family"] == "hanweb" and body["known_site"] is None
    assert body["detection"]["family"] == "hanweb" and len(body["entries"]) >= 10
    truth = {t["url"]: t for t in proxied.world.ground_truth()}
    assert len(body["notices"]) == 2
    for item in body["notices"]:
        assert item["error"] is None
        assert item["notice"]["title"] == truth[item["url"]]["title"]
        assert item["notice"]["published_at"] == truth[item["url"]]["published_at"]
    assert _user_registry(tmp_path) == []
    assert app_client.get("/api/sites").json() == []  # nothing stored
    forced = app_client.post("/api/sites/check", json={"url": HP, "family": "gkmlpt", "notices": 1}, headers=AUTH)
    assert forced.status_code == 200 and forced.json()["detection"] is None
    assert len(forced.json()["notices"]) == 1 and forced.json()["ok"] is True


def test_site_endpoints_need_the_token(tmp_path: Path, app_client: TestClient, proxied: DemoWeb) -> None:
    with TestClient(create_app(make_settings(tmp_path / "ro"))) as read_only:
        assert read_only.post("/api/sites", json={"url": YUHANG}).status_code == 403
        assert read_only.post("/api/sites/check", json={"url": YUHANG}).status_code == 403
    assert app_client.post("/api/sites", json={"url": YUHANG}).status_code == 401
    wrong = app_client.post("/api/sites/check", json={"url": YUHANG}, headers={"Authorization": "Bearer x"})
    assert wrong.status_code == 401
    assert proxied.requests == []  # no outbound request without the token


# ── subscriptions ──────────────────────────────────────────────────────────────────────

def test_subscriptions_crud_masks_secrets(app_client: TestClient, webhook: WebhookReceiver) -> None:  # noqa: F811
    created = app_client.post("/api/subscriptions", headers=AUTH, json={
        "name": "土地征收", "channel": f"webhook+{webhook.url}/h/private-path", "any": ["土地", "征收"],
        "none": ["招聘"], "sites": ["mawei"], "kinds": ["new", "changed"], "doc_no": r"马政〔2024〕\d+号"})
    assert created.status_code == 201, created.text
    sub = created.json()
    secret = sub["secret"]
    assert len(secret) >= 32 and secret != "********"
    assert sub["feed_url"].endswith(f"?token={secret}")
    assert sub["channel"] == f"webhook+{webhook.url}/…"  # the path may hold a token
    assert sub["filters"] == {"sites": ["mawei"], "any": ["土地", "征收"], "none": ["招聘"],
                              "kinds": ["new", "changed"], "doc_no": r"马政〔2024〕\d+号"}
    mail = app_client.post("/api/subscriptions", headers=AUTH, json={
        "name": "mail", "channel": "smtp://alice:hunter2@127.0.0.1:2525/?to=a@b.cn", "mode": "daily"})
    assert mail.status_code == 201, mail.text
    listing = app_client.get("/api/subscriptions", headers=AUTH)
    assert listing.status_code == 200
    assert [s["name"] for s in listing.json()] == ["土地征收", "mail"]
    text = listing.text
    assert secret not in text and "hunter2" not in text and "alice" not in text and "private-path" not in text
    assert all(s["secret"] == "********" and s["feed_url"].endswith("?token=********") for s in listing.json())
    one = app_client.get(f"/api/subscriptions/{sub['id']}", headers=AUTH)
    assert one.status_code == 200 and secret not in one.text
    assert one.json()["recent_deliveries"] == [] and one.json()["mode"] == "instant"
    assert app_client.get(f"/api/subscriptions/{mail.json()['id']}", headers=AUTH).json()["channel"] == \
        "smtp://127.0.0.1:2525/…"
    assert app_client.delete(f"/api/subscriptions/{sub['id']}", headers=AUTH).status_code == 204
    assert app_client.get(f"/api/subscriptions/{sub['id']}", headers=AUTH).status_code == 404
    assert app_client.delete(f"/api/subscriptions/{sub['id']}", headers=AUTH).status_code == 404
    assert [s["name"] for s in app_client.get("/api/subscriptions", headers=AUTH).json()] == ["mail"]


def test_subscription_validation_is_the_clis(app_client: TestClient) -> None:
    def add(**body: object) -> tuple[int, str]:
        answer = app_client.post("/api/subscriptions", headers=AUTH, json={"name": "s", "channel": "feed:", **body})
        return answer.status_code, answer.text

    assert add()[0] == 201
    assert add() == (400, '{"detail":"a subscription named \'s\' already exists"}')
    status, text = add(name="t", channel="no-scheme")
    assert status == 400 and "has no scheme" in text
    status, text = add(name="t", channel="webhook+https:///nohost")
    assert status == 400 and "has no host" in text
    status, text = add(name="t", doc_no="马政〔(")
    assert status == 400 and "doc_no" in text
    status, text = add(name="t", site=["mawei"])  # a typo must not widen the subscription silently
    assert status == 422 and "extra" in text.lower()
    assert add(name="t", kinds=["deleted"])[0] == 422
    assert add(name="t", mode="hourly")[0] == 422
    assert [s["name"] for s in app_client.get("/api/subscriptions", headers=AUTH).json()] == ["s"]


def test_test_endpoint_delivers_a_signed_webhook(app_client: TestClient, webhook: WebhookReceiver) -> None:  # noqa: F811
    created = app_client.post("/api/subscriptions", headers=AUTH,
                              json={"name": "hook", "channel": f"webhook+{webhook.url}/h"}).json()
    webhook.secrets["/h"] = created["secret"]
    answer = app_client.post(f"/api/subscriptions/{created['id']}/test", headers=AUTH)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"delivered": True, "detail": "webhook HTTP 200"}
    (got,) = webhook.received
    assert got["verified"] is True and got["status"] == 200
    assert got["payload"]["type"] == "test" and got["payload"]["subscription"]["id"] == created["id"]
    webhook.fail_next = 1
    failed = app_client.post(f"/api/subscriptions/{created['id']}/test", headers=AUTH)
    assert failed.status_code == 502 and "webhook answered HTTP 500" in failed.json()["detail"]
    feed = app_client.post("/api/subscriptions", headers=AUTH, json={"name": "f", "channel": "feed:"}).json()
    quiet = app_client.post(f"/api/subscriptions/{feed['id']}/test", headers=AUTH)
    assert quiet.status_code == 200 and quiet.json()["delivered"] is False
    assert len(webhook.received) == 2


def test_subscriptions_need_the_token(tmp_path: Path, app_client: TestClient) -> None:
    with TestClient(create_app(make_settings(tmp_path / "ro"))) as read_only:
        assert read_only.get("/api/subscriptions").status_code == 403
    for method, path in (("get", "/api/subscriptions"), ("get", "/api/subscriptions/1"),
                         ("post", "/api/subscriptions"), ("delete", "/api/subscriptions/1"),
                         ("post", "/api/subscriptions/1/test")):
        answer = app_client.request(method, path)
        assert answer.status_code == 401, (method, path)
        assert answer.headers["www-authenticate"] == "Bearer"


def test_openapi_documents_the_admin_routes(app_client: TestClient) -> None:
    doc = app_client.get("/openapi.json").json()
    paths, schemas = doc["paths"], doc["components"]["schemas"]
    assert {"post"} <= set(paths["/api/sites"]) and "post" in paths["/api/sites/check"]
    assert {"get", "post"} <= set(paths["/api/subscriptions"])
    assert {"get", "delete"} <= set(paths["/api/subscriptions/{subscription_id}"])
    assert "post" in paths["/api/subscriptions/{subscription_id}/test"]
    for name in ("NewSite", "AddedSite", "DetectionOut", "ColumnCheckRequest", "ColumnCheckOut",
                 "NewSubscription", "SubscriptionOut", "SubscriptionDetail", "TestResult"):
        assert name in schemas, name
    assert set(schemas["NewSubscription"]["properties"]) >= {"name", "channel", "all", "any", "none", "kinds"}
    created = paths["/api/subscriptions"]["post"]["responses"]["201"]["content"]["application/json"]["schema"]
    assert created["$ref"].endswith("/SubscriptionOut")
