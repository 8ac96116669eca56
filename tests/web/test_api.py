"""JSON API, downloads, admin token, OpenAPI, metrics."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.search.corpus import ATTACHMENT_BYTES
from tests.web.conftest import ADMIN_TOKEN, Archive, make_settings


def test_notices_filter_and_paginate(client: TestClient) -> None:
    first = client.get("/api/notices", params={"site": "mawei", "limit": 2}).json()
    assert first["total"] == 5 and len(first["items"]) == 2 and first["next_offset"] == 2
    rest = client.get("/api/notices", params={"site": "mawei", "limit": 10, "offset": 2}).json()
    ids = [n["id"] for n in first["items"] + rest["items"]]
    assert len(set(ids)) == 5 and rest["next_offset"] is None
    withdrawn = client.get("/api/notices", params={"status": "withdrawn"}).json()
    assert [n["title"] for n in withdrawn["items"]] == ["关于征求意见的公告"]
    dated = client.get("/api/notices", params={"from": "2024-05-01", "to": "2024-05-31"}).json()
    assert dated["total"] == 3


def test_notice_and_versions(client: TestClient, archive: Archive) -> None:
    notice = client.get(f"/api/notices/{archive.ids['garbage']}").json()
    assert notice["doc_no"] == "马城管〔2024〕12号" and notice["version"] == 2
    assert [v["version"] for v in notice["versions"]] == [1, 2]
    versions = client.get(f"/api/notices/{archive.ids['garbage']}/versions").json()
    assert "严格考核" not in versions[0]["body_text"] and "严格考核" in versions[1]["body_text"]
    assert client.get("/api/notices/987654").status_code == 404


def test_search_api(client: TestClient, archive: Archive) -> None:
    body = client.get("/api/search", params={"q": "通知"}).json()
    assert {h["notice_id"] for h in body["hits"]} == {archive.ids["garbage"], archive.ids["xss"]}
    garbage = next(h for h in body["hits"] if h["notice_id"] == archive.ids["garbage"])
    assert "<mark>通知</mark>" in garbage["snippet_html"]
    one = client.get("/api/search", params={"q": "马", "org": "教育局"}).json()
    assert [h["notice_id"] for h in one["hits"]] == [archive.ids["exam"]]
    bad = client.get("/api/search", params={"q": "通知 OR"})
    assert bad.status_code == 400 and "OR needs a word" in bad.json()["detail"]


def test_sites_and_runs(client: TestClient, archive: Archive) -> None:
    sites = client.get("/api/sites").json()
    assert {s["key"] for s in sites} == {"mawei", "gulou"}
    site = client.get("/api/sites/mawei").json()
    assert len(site["columns"]) == 2 and site["runs"][0]["counts"]["new"] == 7
    run = client.get(f"/api/runs/{archive.ids['run']}").json()
    assert run["errors"][0]["detail"] == "HTTP 500"
    assert client.get("/api/runs").json()[0]["id"] == archive.ids["run"]


def test_attachment_download(client: TestClient, archive: Archive) -> None:
    got = client.get(f"/api/attachments/{'a' * 64}")
    assert got.status_code == 200 and got.content == ATTACHMENT_BYTES
    disposition = got.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''%E6%8A%A5%E5%90%8D%E7%99%BB%E8%AE%B0%E8%A1%A8.pdf" in disposition
    assert disposition.split(";")[1].strip().isascii()
    assert got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["content-security-policy"].startswith("sandbox")
    hostile = client.get(f"/api/attachments/{archive.ids['xss_sha']}")
    assert hostile.headers["content-type"] == "application/octet-stream"  # stored as text/html
    ascii_part = hostile.headers["content-disposition"].split(";")[1]
    assert "<" not in ascii_part and '"' not in ascii_part.split("=", 1)[1].strip('"')
    assert client.get("/api/attachments/" + "c" * 64).status_code == 404
    assert client.get("/api/attachments/../../etc/passwd").status_code == 404


def test_write_endpoints_need_the_admin_token(client: TestClient, admin_client: TestClient) -> None:
    # Adding for real (fetching through the demo web) is in tests/web/test_write_api.py;
    # here nothing may reach the network: the token and validation refuse first.
    body = {"url": "http://www.example.gov.cn/tzgg/", "name": "示例区人民政府"}
    assert client.post("/api/sites", json=body).status_code == 403  # read-only app
    assert admin_client.post("/api/sites", json=body).status_code == 401
    wrong = admin_client.post("/api/sites", json=body, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and wrong.headers["www-authenticate"] == "Bearer"
    bad = admin_client.post("/api/sites", json={"url": "ftp://x/"},
                            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    assert bad.status_code == 422


def test_openapi_lists_the_endpoints(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/api/notices", "/api/notices/{notice_id}", "/api/notices/{notice_id}/versions",
                 "/api/search", "/api/sites", "/api/runs", "/api/attachments/{sha256}"):
        assert path in paths, path
    assert "post" in paths["/api/sites"]


def test_metrics(client: TestClient) -> None:
    text = client.get("/metrics").text
    assert 'noticewatch_runs_total{status="finished"} 1.0' in text
    assert 'noticewatch_items_total{kind="new"} 7.0' in text
    assert 'noticewatch_fetch_errors_total{kind="http"} 1.0' in text
    assert "noticewatch_sites_blocked 0.0" in text
    assert 'noticewatch_alert_backlog{stage="events_not_fanned_out"}' in text
    assert 'noticewatch_notices{status="withdrawn"} 1.0' in text


def test_create_app_opens_its_own_store(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from noticewatch.web import create_app

    with TestClient(create_app(make_settings(tmp_path))) as fresh:
        assert fresh.get("/api/sites").json() == []
        assert "最新公告" in fresh.get("/").text
