"""Record types of the demo world: sites, columns, notices and attachments."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

CST = timezone(timedelta(hours=8))


@dataclass
class Attachment:
    key: str
    kind: str  # pdf, docx, xlsx, doc (really a DOCX), zip, ofd
    name: str  # the human name, as the link text shows it
    link: str  # absolute URL the page links to
    file_path: str  # path the bytes are served at (differs from link for redirects)
    title: str  # text written inside the generated file
    disposition: str = "none"  # Content-Disposition style: "utf8", "gbk" or "none"
    appendix: bool = False  # newer TRS editors mark links appendix="true"
    scripted: bool = False  # link written by document.write in a <script>
    version: int = 1


@dataclass
class Column:
    path: str  # the folder detail pages live under
    name: str
    code: str  # channel id / column id / category id, depending on the family
    entry: str  # path of the column URL given to the crawler
    policy: bool = False  # shows the disclosure block
    per_page: int = 15
    trap: bool = False  # pagination never ends
    hostile: bool = False
    missing_tail: str = ""  # "404" or "stub": one extra, broken list page at the end


@dataclass
class Site:
    key: str
    name: str
    short: str  # 马尾区: used in doc numbers and sources
    host: str
    family: str
    area_code: str
    columns: list[Column]
    date_fmt: str = "ymd_hm"  # ymd, ymd_hm, ymd_hms, cn
    date_prefix: str = "发布时间："
    list_date: str = "ymd"  # ymd, bracket, cn, split
    gzip: str = "off"  # off, accept (when the client asks), force
    charset: str = "utf-8"  # utf-8, gb2312 (bytes in GB18030), none (header without charset)
    body_variant: str = ""  # per-family choice of body container
    ext: str = "html"  # detail/list page suffix where the family allows a choice
    site_id_code: str = ""
    hostile: bool = False
    fault_rate: float = 0.0
    blocked: str | None = None  # "412", "521", "403"
    down: bool = False
    misspelt_description: bool = False

    @property
    def base_url(self) -> str:
        return f"http://{self.host}/"

    def url(self, path: str) -> str:
        return f"http://{self.host}{path}"

    def column(self, path: str) -> Column:
        for col in self.columns:
            if col.path == path or col.entry == path or col.code == path:
                return col
        raise KeyError(f"{self.key}: no column {path!r}")


@dataclass
class Notice:
    id: str
    doc: int  # the numeric id that appears in URLs
    site_key: str
    home: str  # path of the column the notice belongs to (its category)
    columns: list[str]  # every column path it is listed in, home first
    path: str
    title: str
    published: datetime
    paragraphs: list[str]
    source: str | None = None
    index_no: str | None = None
    doc_no: str | None = None
    issuing_org: str | None = None
    written_date: date | None = None
    validity: str | None = None
    subject: str | None = None
    attachments: list[Attachment] = field(default_factory=list)
    style: dict[str, Any] = field(default_factory=dict)
    version: int = 1
    modified: datetime | None = None
    withdrawn: str | None = None  # "404", "410", "refresh", "redirect"
    repost_of: str | None = None
    repost_kind: str | None = None  # "verbatim" or "edited"

    @property
    def live(self) -> bool:
        return self.withdrawn is None

    @property
    def last_modified(self) -> datetime:
        return self.modified or self.published
