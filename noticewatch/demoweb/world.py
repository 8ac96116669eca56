"""The demo world: deterministic sites, columns and notices, plus mutations.

``World(seed)`` always builds the same content for the same seed. Mutations
(add/edit/withdraw/restore) advance a private clock so Last-Modified/ETag change the
way an incremental crawler expects. ``ground_truth()`` is what a perfect crawl of the
live notices should produce, in the field names of ``ParsedNotice``.
"""

from __future__ import annotations

import hashlib
import random
import threading
from datetime import datetime, timedelta
from typing import Any, Literal

from . import content
from .model import CST, Attachment, Column, Notice, Site
from .sites import site_specs

_KINDS = ("pdf", "docx", "xlsx", "pdf", "doc", "zip", "ofd", "pdf")
_NAME_BY_KIND = {"pdf": ("实施方案", "政策解读", "公示名单"), "docx": ("申请表", "报名表"),
                 "doc": ("申请表", "承诺书"), "xlsx": ("统计表", "名单"), "zip": ("材料汇编",),
                 "ofd": ("正式文件",)}
WITHDRAW_MODES = ("404", "410", "refresh", "redirect")


def _hex(*parts: object, n: int = 32) -> str:
    return hashlib.sha1("|".join(map(str, parts)).encode()).hexdigest()[:n]


def published_iso(site: Site, when: datetime) -> str:
    """The published_at the page shows: a bare date when no time is printed."""
    if site.date_fmt in ("ymd", "cn"):
        return when.date().isoformat()
    if site.date_fmt == "ymd_hm":
        when = when.replace(second=0)
    return when.isoformat()


class World:
    """All demo sites and their notices. Thread-safe: servers hold ``lock`` to read."""

    def __init__(self, seed: int = 2024) -> None:
        self.seed = seed
        self.lock = threading.RLock()
        self.sites: dict[str, Site] = {}
        self.notices: dict[str, Notice] = {}
        self.files: dict[tuple[str, str], Attachment] = {}
        self._by_path: dict[tuple[str, str], str] = {}
        self._kind_i = 0
        self._disp_i = 0
        self.clock = datetime(2026, 4, 1, 10, 0, tzinfo=CST)
        self._build()

    # ---------------------------------------------------------------- lookups
    def site(self, key: str) -> Site:
        return self.sites[key]

    def site_by_host(self, host: str) -> Site | None:
        for site in self.sites.values():
            if site.host == host:
                return site
        return None

    def notice_at(self, host: str, path: str) -> Notice | None:
        nid = self._by_path.get((host, path))
        return self.notices.get(nid) if nid else None

    def column_notices(self, site: Site, col: Column) -> list[Notice]:
        """Live notices listed in a column, newest first (a trap column repeats the first column's head)."""
        with self.lock:
            if col.trap:
                first = next(c for c in site.columns if not c.hostile)
                return self.column_notices(site, first)[: col.per_page]
            items = [n for n in self.notices.values()
                     if n.site_key == site.key and n.live and col.path in n.columns]
            return sorted(items, key=lambda n: (n.published, n.doc), reverse=True)

    def column_last_modified(self, site: Site, col: Column) -> datetime | None:
        """Newest change among everything ever listed in a column, withdrawn ones included,
        so removing a notice moves a list page's Last-Modified forward, never back."""
        with self.lock:
            if col.trap:
                return None
            return max((n.last_modified for n in self.notices.values()
                        if n.site_key == site.key and col.path in n.columns), default=None)

    def notice_url(self, notice: Notice) -> str:
        return self.sites[notice.site_key].url(notice.path)

    # ---------------------------------------------------------------- building
    def _build(self) -> None:
        for site, counts, newest in site_specs():
            self.sites[site.key] = site
            rng = random.Random(f"{self.seed}:{site.key}")
            doc = {"huangpu": 10000, "mawei": 5340000}.get(site.key, rng.randint(1_000_000, 9_000_000))
            for col, count in zip(site.columns, counts, strict=True):
                when = newest - timedelta(days=rng.randint(0, 3))
                for _ in range(count):
                    doc += rng.randint(1, 40)
                    self._make_notice(rng, site, col, doc, when)
                    when -= timedelta(days=rng.randint(1, 9), minutes=rng.randint(0, 600))
                    when = when.replace(hour=rng.randint(8, 17), minute=rng.randint(0, 59),
                                        second=rng.randint(0, 59))
        self._add_mawei_sample()
        self._add_specials()

    def _make_notice(self, rng: random.Random, site: Site, col: Column, doc: int,
                     when: datetime, title: str | None = None,
                     paragraphs: list[str] | None = None, n_att: int | None = None) -> Notice:
        topic = rng.choice(content.TOPICS)
        org = rng.choice(content.ORGS)
        year = when.year
        if title is None:
            title = content.make_title(rng, site.short, year, topic)
            taken = {n.title for n in self.notices.values() if n.site_key == site.key}
            k = 2
            base = title
            while title in taken:  # titles are unique per site so tests can find them
                title = f"{base}（第{k}批）"
                k += 1
        written = (when - timedelta(days=rng.randint(0, 6))).date()
        if paragraphs is None:
            paragraphs = content.make_paragraphs(
                rng, site.short, org, topic, f"{written.year}年{written.month}月{written.day}日")
        n = Notice(
            id=f"{site.key}-{doc}", doc=doc, site_key=site.key, home=col.path, columns=[col.path],
            path=self._detail_path(site, col, doc, when, rng), title=title, published=when,
            paragraphs=paragraphs,
            source=rng.choice((site.short, site.short + org.removeprefix("区"), None, site.short)),
        )
        if col.policy:
            n.index_no = content.make_index_no(rng, len(site.key) % 4, year, doc % 100000)
            n.doc_no = rng.choice((content.make_doc_no(rng, site.short[0], year), None))
            n.issuing_org = site.short + org.removeprefix("区")
            n.written_date = written
            n.validity = rng.choice(("有效", "现行有效", None, "有效", "废止"))
            n.subject = rng.choice((*content.SUBJECTS, None))
        n.style["word_paste"] = rng.random() < 0.3
        n.style["zoomcon"] = rng.random() < 0.5
        n.style["t_date_shift"] = rng.random() < 0.2
        if n_att is None:
            n_att = rng.choice((0, 0, 0, 1, 1, 2))
        for i in range(n_att):
            self._attach(rng, site, n, i + 1, topic, numbered=n_att > 1 or rng.random() < 0.5)
        self._register(n)
        return n

    def _register(self, n: Notice) -> None:
        self.notices[n.id] = n
        self._by_path[(self.sites[n.site_key].host, n.path)] = n.id

    def _detail_path(self, site: Site, col: Column, doc: int, when: datetime,
                     rng: random.Random) -> str:
        ym, ymd = when.strftime("%Y%m"), when.strftime("%Y%m%d")
        if site.family in ("trs_wcm", "fujian"):
            # The t-date in TRS URLs is not always the publication date.
            tday = (when - timedelta(days=1)).strftime("%Y%m%d") if rng.random() < 0.2 else ymd
            ext = "htm" if site.family == "fujian" else site.ext
            return f"{col.path}{ym}/t{tday}_{doc}.{ext}"
        if site.family == "hanweb":
            return f"/art/{when.year}/{when.month}/{when.day}/art_{col.code}_{doc}.html"
        if site.family == "kaipu":
            return f"{col.path}{ym}/{_hex(site.key, doc)}.shtml"
        if site.family == "gkmlpt":
            return f"/gkmlpt/content/{doc // 1_000_000}/{doc // 1000 % 1000}/post_{doc}.html"
        return f"{col.path}{ymd}/{_hex(site.key, doc, n=8)}-{_hex(doc, n=4)}-{_hex(site.host, doc, n=12)}.html"

    def _attach(self, rng: random.Random, site: Site, n: Notice, i: int, topic: str,
                numbered: bool) -> None:
        kind = _KINDS[self._kind_i % len(_KINDS)]
        self._kind_i += 1
        stem = topic + rng.choice(_NAME_BY_KIND[kind])
        name = f"附件{i}：{stem}.{kind}" if numbered else f"{stem}.{kind}"
        ymd = n.published.strftime("%Y%m%d")
        folder = n.path.rsplit("/", 1)[0]
        disp = "none"
        if site.family == "hanweb":
            h = _hex(site.key, n.doc, i)
            link = site.url(f"/module/download/downfile.jsp?classid=0&filename={h}.{kind}")
            file_path = f"/picture/0/{h}.{kind}"
            disp = ("utf8", "gbk", "none")[self._disp_i % 3]
            self._disp_i += 1
        elif site.family == "gkmlpt":
            file_path = f"/attachment/0/{n.doc // 1000}/{n.doc}/{n.doc * 10 + i}.{kind}"
            link = site.url(file_path)
        elif site.family == "epoint":
            file_path = f"/ewebeditor/uploadfile/{ymd}/{_hex(n.doc, i, n=20)}.{kind}"
            link = site.url(file_path)
        else:
            file_path = f"{folder}/P0{ymd}{rng.randint(10**11, 10**12 - 1)}.{kind}"
            link = site.url(file_path)
        att = Attachment(key=f"{n.id}-a{i}", kind=kind, name=name, link=link, file_path=file_path,
                         title=f"{n.title} {stem}", disposition=disp,
                         appendix=rng.random() < 0.5)
        n.attachments.append(att)
        self.files[(site.host, file_path)] = att

    def _add_mawei_sample(self) -> None:
        site = self.sites["mawei"]
        col = site.column("/xjwz/zwgk/zcwjk/")
        when = datetime(2022, 1, 4, 9, 40, tzinfo=CST)
        rng = random.Random(f"{self.seed}:sample")
        n = self._make_notice(rng, site, col, 5362718, when, title=content.MAWEI_SAMPLE_TITLE,
                              paragraphs=list(content.MAWEI_SAMPLE_PARAGRAPHS), n_att=0)
        n.source = "马尾区"
        n.style.update(word_paste=False, sample=True)
        # The real page lists no disclosure values here; keep them blank (无).
        n.index_no = n.doc_no = n.validity = n.subject = None
        n.issuing_org = None
        n.written_date = None
        n.path = "/xjwz/zwgk/zcwjk/202201/t20220104_5362718.htm"
        self._by_path = {k: v for k, v in self._by_path.items() if v != n.id}
        self._register(n)

    def _add_specials(self) -> None:
        """Cross-listed notices, reposts, the GB18030-only characters, scripted attachments."""
        mawei = self.sites["mawei"]
        policy = self.column_notices(mawei, mawei.column("/xjwz/zwgk/zcwjk/"))
        for n in policy[1:3]:  # listed under 通知公告 too, linked there with ../../
            n.columns.append("/xjwz/zwgk/tzgg/")
        gulou = self.sites["gulou"]
        gpol = self.column_notices(gulou, gulou.column("/zwgk/zcwj/"))
        gpol[0].columns.append("/zwgk/tzgg/")
        # Attachment links written by document.write on one gulou page.
        gt = self.column_notices(gulou, gulou.column("/zwgk/tzgg/"))
        with_att = [n for n in gt if n.attachments]
        for att in with_att[0].attachments:
            att.scripted = True
        # One gulou page has neither a charset header nor a meta charset.
        gt[1].style["no_meta_charset"] = True
        # Characters outside GB2312 on the gb2312-declared site.
        jn = self.sites["jiangning"]
        jl = self.column_notices(jn, jn.column("/zwgk/tzgg/"))
        jl[0].title = "关于朱镕同志等三人任职前公示的公告"
        jl[0].paragraphs.insert(1, "联系人：王堃，联系电话：025-52180000。")
        jl[2].paragraphs.insert(0, "经研究，现将堃镕小区周边道路施工有关事项通告如下。")
        # Reposts: one verbatim on another site, one lightly edited.
        src = [n for n in self.column_notices(mawei, mawei.column("/xjwz/zwgk/tzgg/"))
               if not n.attachments and n.home == "/xjwz/zwgk/tzgg/"]
        self._repost(src[3], "cangshan", "/xjwz/zwgk/tzgg/", "verbatim")
        self._repost(src[5], "gulou", "/zwgk/tzgg/", "edited")

    def _repost(self, orig: Notice, site_key: str, col_path: str, kind: str) -> Notice:
        site = self.sites[site_key]
        rng = random.Random(f"{self.seed}:repost:{orig.id}")
        paragraphs = list(orig.paragraphs)
        title = orig.title
        if kind == "edited":
            paragraphs[0] = paragraphs[0].replace("，", "，并", 1)
            paragraphs.insert(-2, "请各单位结合实际，认真贯彻执行。")
            title = title + "（转载）"
        when = orig.published + timedelta(days=1, hours=1)
        n = self._make_notice(rng, site, site.column(col_path), orig.doc + 700000, when,
                              title=title, paragraphs=paragraphs, n_att=0)
        n.source = orig.source or self.sites[orig.site_key].short
        n.repost_of, n.repost_kind = orig.id, kind
        return n

    # ---------------------------------------------------------------- mutations
    def _tick(self) -> datetime:
        self.clock += timedelta(minutes=7)
        return self.clock

    def add_notice(self, site_key: str, column_path: str, title: str | None = None,
                   paragraphs: list[str] | None = None, attachments: int = 0,
                   published: datetime | None = None, **fields: Any) -> Notice:
        """Publish a new notice (newest in its column); returns it."""
        with self.lock:
            site = self.sites[site_key]
            col = site.column(column_path)
            rng = random.Random(f"{self.seed}:add:{len(self.notices)}")
            doc = max(n.doc for n in self.notices.values() if n.site_key == site_key) + 11
            when = published or self._tick()
            n = self._make_notice(rng, site, col, doc, when, title=title,
                                  paragraphs=paragraphs, n_att=attachments)
            for k, v in fields.items():
                setattr(n, k, v)
            return n

    def edit_notice(self, notice_id: str, **fields: Any) -> Notice:
        """Change fields (``body_text`` is split on blank lines); bumps version and Last-Modified."""
        with self.lock:
            n = self.notices[notice_id]
            if "body_text" in fields:
                fields["paragraphs"] = fields.pop("body_text").split("\n\n")
            for k, v in fields.items():
                if not hasattr(n, k):
                    raise AttributeError(f"notice has no field {k!r}")
                setattr(n, k, v)
            return self._changed(n)

    def withdraw_notice(self, notice_id: str, how: str = "404") -> Notice:
        if how not in WITHDRAW_MODES:
            raise ValueError(f"how must be one of {WITHDRAW_MODES}")
        with self.lock:
            n = self.notices[notice_id]
            n.withdrawn = how
            return self._changed(n)

    def restore_notice(self, notice_id: str) -> Notice:
        with self.lock:
            n = self.notices[notice_id]
            n.withdrawn = None
            return self._changed(n)

    def _changed(self, n: Notice) -> Notice:
        """A new version: bumps the ETag basis and Last-Modified."""
        n.version += 1
        n.modified = self._tick()
        return n

    def set_behaviour(self, site_key: str, *, fault_rate: float | None = None,
                      blocked: str | None | Literal[False] = False, down: bool | None = None) -> None:
        """Per-site robustness switches; ``blocked=None`` unblocks, ``False`` leaves it."""
        with self.lock:
            site = self.sites[site_key]
            if fault_rate is not None:
                site.fault_rate = max(0.0, min(1.0, fault_rate))
            if blocked is not False:
                site.blocked = blocked
            if down is not None:
                site.down = down

    # ---------------------------------------------------------------- ground truth
    def ground_truth(self, include_hostile: bool = False) -> list[dict[str, Any]]:
        with self.lock:
            out = []
            for n in sorted(self.notices.values(), key=lambda n: n.id):
                site = self.sites[n.site_key]
                if not n.live or (site.hostile and not include_hostile):
                    continue
                entries = []
                for p in n.columns:
                    url = site.url(site.column(p).entry)
                    if url not in entries:
                        entries.append(url)
                out.append({
                    "id": n.id, "site": site.key, "family": site.family,
                    "url": site.url(n.path), "columns": entries,
                    "title": n.title, "published_at": published_iso(site, n.published),
                    "source": n.source, "category": site.column(n.home).name,
                    "index_no": n.index_no, "doc_no": n.doc_no, "issuing_org": n.issuing_org,
                    "written_date": n.written_date.isoformat() if n.written_date else None,
                    "validity": n.validity, "subject": n.subject,
                    "body_text": "\n\n".join(n.paragraphs),
                    "attachments": [{"url": a.link, "name": a.name} for a in n.attachments],
                    "repost_of": n.repost_of, "repost_kind": n.repost_kind,
                    "version": n.version,
                })
            return out
