"""Records and registry rows for storage tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from storage.records import AttachmentRecord, NoticeRecord, StoredBlob

T0 = datetime(2024, 5, 1, 2, 0, tzinfo=UTC)  # 10:00 in Beijing
SITE_ROWS = [
    {
        "key": "mawei", "name": "马尾区人民政府", "base_url": "http://www.mawei.gov.cn/",
        "family": "trs", "area_code": "350105", "verified": True, "overrides": {},
        "columns": [
            {"url": "http://www.mawei.gov.cn/xxgk/tzgg/", "name": "通知公告", "hints": {}},
            {"url": "http://www.mawei.gov.cn/xxgk/zfxxgk/", "name": "政府信息公开", "hints": {}},
        ],
    },
    {
        "key": "gulou", "name": "鼓楼区人民政府", "base_url": "http://www.gl.gov.cn/",
        "family": "trs", "area_code": "350102", "verified": True, "overrides": {},
        "columns": [{"url": "http://www.gl.gov.cn/tzgg/", "name": "通知公告", "hints": {}}],
    },
]
COL_A = "http://www.mawei.gov.cn/xxgk/tzgg/"
COL_B = "http://www.mawei.gov.cn/xxgk/zfxxgk/"

BODY = (
    "各镇街、各有关单位：为做好2024年度城乡居民基本医疗保险参保缴费工作，现将有关事项通知如下。"
    "一、参保范围：本区户籍居民及在本区居住的常住人口。二、缴费标准：个人缴费每人每年380元。"
    "三、缴费时间：2023年9月1日至12月31日。四、缴费方式：可通过银行网点、手机银行等渠道缴纳。"
)


def blob(sha: str, *, text: str | None = "附件正文") -> StoredBlob:
    """A stored blob; a one-letter ``sha`` is repeated to a full 64-char digest."""
    digest = sha * 64 if len(sha) == 1 else sha
    return StoredBlob(sha256=digest, size=1234, media_type="application/pdf",
                      path=f"blobs/{digest[:2]}/{digest}", text=text)


def make_record(
    url: str = "http://www.mawei.gov.cn/xxgk/tzgg/202405/t20240501_1.htm",
    *,
    site_key: str = "mawei",
    columns: list[str] | None = None,
    title: str = "关于开展2024年度城乡居民医保参保缴费工作的通知",
    body: str = BODY,
    published_at: str | None = "2024-05-01T09:30:00+08:00",
    attachments: list[AttachmentRecord] | None = None,
    fetched_at: datetime = T0,
    **extra: Any,
) -> NoticeRecord:
    return NoticeRecord(
        site_key=site_key,
        column_urls=[COL_A] if columns is None else columns,
        url=url,
        canonical_url=url,
        title=title,
        published_at=published_at,
        source="区医保局",
        body_text=body,
        attachments=attachments or [],
        fetched_at=fetched_at,
        **extra,
    )
