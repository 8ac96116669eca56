"""A small Chinese archive shared by the search and web tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from storage import repository as repo
from storage.records import AttachmentRecord, NoticeGone, NoticeRecord, StoredBlob

T0 = datetime(2024, 6, 1, 2, 0, tzinfo=UTC)
SITES = [
    {"key": "mawei", "name": "马尾区人民政府", "base_url": "http://www.mawei.gov.cn/", "family": "trs",
     "area_code": "350105", "verified": True, "overrides": {},
     "columns": [{"url": "http://www.mawei.gov.cn/tzgg/", "name": "通知公告", "hints": {}},
                 {"url": "http://www.mawei.gov.cn/zcwj/", "name": "政策文件", "hints": {}}]},
    {"key": "gulou", "name": "鼓楼区人民政府", "base_url": "http://www.gl.gov.cn/", "family": "trs",
     "area_code": "350102", "verified": True, "overrides": {},
     "columns": [{"url": "http://www.gl.gov.cn/tzgg/", "name": "通知公告", "hints": {}}]},
]
MAWEI_TZGG, MAWEI_ZCWJ = "http://www.mawei.gov.cn/tzgg/", "http://www.mawei.gov.cn/zcwj/"
GULOU_TZGG = "http://www.gl.gov.cn/tzgg/"
ATTACHMENT_BYTES = b"%PDF-1.4 fake attachment bytes \x00\x01\x02"


def _blob(sha_char: str, text: str | None) -> StoredBlob:
    sha = sha_char * 64
    return StoredBlob(sha256=sha, size=len(ATTACHMENT_BYTES), media_type="application/pdf",
                      path=f"blobs/{sha[:2]}/{sha[2:4]}/{sha}", text=text)


# (key, site, column, title, body, published_at, issuing_org, doc_no, attachments)
NOTICES: list[dict] = [
    dict(key="garbage", site="mawei", column=MAWEI_TZGG, title="关于做好生活垃圾分类工作的通知",
         body="各街道、各有关单位：为推进生活垃圾分类，现将有关事项通知如下。一、提高认识。二、加强宣传。",
         published_at="2024-03-05T09:00:00+08:00", issuing_org="马尾区城市管理局", doc_no="马城管〔2024〕12号"),
    dict(key="exam", site="mawei", column=MAWEI_ZCWJ, title="马尾区教育局关于2024年中考报名的公告",
         body="根据省市有关规定，现就我区2024年初中毕业升学考试报名工作公告如下。报名时间为4月10日至4月20日。",
         published_at="2024-04-10T10:00:00+08:00", issuing_org="马尾区教育局", doc_no="马教〔2024〕3号",
         attachments=[("报名登记表.pdf", "a", "考生须如实填写家庭住址与垃圾清运无关的信息")]),
    dict(key="environment", site="gulou", column=GULOU_TZGG, title="鼓楼区环境保护工作方案",
         body="为改善人居环境，开展垃圾 分类 宣传，加强 PM2.5 监测，提升市民环保意识和教育水平。",
         published_at="2023-11-01T08:00:00+08:00", issuing_org="鼓楼区生态环境局", doc_no="鼓环〔2023〕7号"),
    dict(key="consult", site="gulou", column=GULOU_TZGG, title="关于征求意见的公告",
         body="现将《鼓楼区生活垃圾分类管理办法（征求意见稿）》公开征求意见，欢迎社会各界提出意见建议。",
         published_at="2024-06-01T09:00:00+08:00", issuing_org="鼓楼区城市管理局", doc_no=None),
    dict(key="marathon", site="mawei", column=MAWEI_TZGG, title="关于举办2024年滨海半程赛事的通告",
         body="赛事当日部分道路实行临时交通管制，请市民合理安排出行。",
         published_at="2024-05-20T15:00:00+08:00", issuing_org="马尾区文体旅局", doc_no=None,
         attachments=[("马拉松线路图.pdf", "b", "起点：马尾船政文化广场；终点：琅岐")]),
    dict(key="fullwidth", site="mawei", column=MAWEI_TZGG, title="空气质量ＰＭ２．５日报",
         body="今日ＰＭ２．５浓度为三十五微克每立方米，空气质量良。",
         published_at="2024-05-21T08:00:00+08:00", issuing_org="马尾区生态环境局", doc_no=None),
]


def record(spec: dict, *, fetched_at: datetime = T0, **changes: object) -> NoticeRecord:
    spec = {**spec, **changes}
    attachments = [AttachmentRecord(url=f"http://www.example.gov.cn/files/{sha}.pdf", name=name,
                                    blob=_blob(sha, text))
                   for name, sha, text in spec.get("attachments", [])]
    base = "http://www.mawei.gov.cn" if spec["site"] == "mawei" else "http://www.gl.gov.cn"
    url = f"{base}/art/{spec['key']}.html"
    return NoticeRecord(site_key=spec["site"], column_urls=[spec["column"]], url=url, canonical_url=url,
                        title=spec["title"], published_at=spec["published_at"], body_text=spec["body"],
                        body_html="<p>" + spec["body"] + "</p>", issuing_org=spec["issuing_org"],
                        doc_no=spec["doc_no"], attachments=attachments, fetched_at=fetched_at)


def fill(factory: object) -> dict[str, int]:
    """Load the corpus (one transaction per notice, as the pipeline does); key -> notice id.

    "consult" ends withdrawn; "garbage" gets a second version.
    """
    ids: dict[str, int] = {}
    with factory.begin() as session:  # type: ignore[attr-defined]
        repo.sync_sites(session, SITES)
    for index, spec in enumerate(NOTICES):
        with factory.begin() as session:  # type: ignore[attr-defined]
            ids[spec["key"]] = repo.apply_notice(
                session, record(spec, fetched_at=T0 + timedelta(minutes=index))).notice_id
    with factory.begin() as session:  # type: ignore[attr-defined]
        changed = dict(NOTICES[0], body=NOTICES[0]["body"] + "三、严格考核。")
        repo.apply_notice(session, record(changed, fetched_at=T0 + timedelta(days=1)))
    with factory.begin() as session:  # type: ignore[attr-defined]
        repo.mark_gone(session, NoticeGone(site_key="gulou", canonical_url="http://www.gl.gov.cn/art/consult.html",
                                           reason="404", seen_at=T0 + timedelta(days=2)))
    return ids


def session_dialect(session: Session) -> str:
    return session.get_bind().dialect.name
