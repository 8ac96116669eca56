"""Fan-out benchmark: 10,000 outbox events × 1,000 keyword subscriptions on SQLite.

    .venv/bin/python benchmarks/alerts_bench.py [--events 10000] [--subscriptions 1000]

Prints the seconds ``storage.alerts.fan_out`` takes (load event texts, match, insert
deliveries, commit); the target is under 10 s on one core. Set-up rows are written
with bulk Core inserts and are not timed.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, insert, select

from storage import alerts, migrate
from storage.db import make_engine, make_session_factory
from storage.models import AlertEvent, Delivery, Notice, NoticeVersion, Site, Subscription

NOW = datetime(2024, 5, 6, tzinfo=UTC)
# Words of the kind subscribers watch for, and filler text around them.
TOPICS = ("土地", "征收", "拆迁", "补偿", "招标", "采购", "招聘", "环评", "规划", "预算", "决算", "医保",
          "社保", "低保", "学校", "招生", "消防", "安全生产", "食品安全", "疫苗", "防汛", "地质灾害",
          "交通管制", "道路", "供水", "停电", "燃气", "垃圾分类", "养老", "残疾人", "退役军人", "就业",
          "创业", "补贴", "税收", "营商环境", "行政处罚", "行政许可", "信访", "扶贫", "乡村振兴", "农业",
          "林业", "渔业", "水利", "住房", "公积金", "棚户区", "物业", "房屋征收")
FILLER = "为进一步加强管理工作根据有关规定结合本区实际现将有关事项通知如下请各单位认真贯彻落实"


def _words(rng: random.Random, n: int) -> list[str]:
    # A vocabulary of ~600: topics plus topic+suffix compounds, as real saved searches are.
    base = [*TOPICS, *(t + s for t in TOPICS for s in ("公告", "通知", "公示", "办法", "方案", "项目", "名单",
                                                        "结果", "计划", "标准"))]
    return rng.sample(base, n)


def setup(url: str, *, events: int, subscriptions: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    migrate.upgrade(url)
    engine = make_engine(url)
    with make_session_factory(engine).begin() as session:
        site_ids = []
        for i in range(20):
            site = Site(key=f"site{i}", name=f"区{i}", domain=f"www.s{i}.gov.cn", base_url=f"http://www.s{i}.gov.cn/",
                        family="generic", created_at=NOW, baseline_at=NOW)
            session.add(site)
            session.flush()
            site_ids.append(site.id)
        vocabulary = _words(rng, 400)
        notice_rows, version_rows, event_rows = [], [], []
        for n in range(1, events + 1):
            topic = rng.sample(vocabulary, 3)
            body = "".join(rng.choice((FILLER[rng.randrange(30):], *topic)) for _ in range(40))[:1200]
            title = f"关于{topic[0]}的{rng.choice(('通知', '公告', '公示'))}"
            site_id = rng.choice(site_ids)
            notice_rows.append({"id": n, "site_id": site_id, "canonical_url": f"http://x/{n}", "url": f"http://x/{n}",
                                "title": title, "version_count": 1, "status": "active", "first_seen_at": NOW,
                                "last_seen_at": NOW, "last_changed_at": NOW})
            version_rows.append({"id": n, "notice_id": n, "version": 1, "title": title, "body_text": body,
                                 "body_html": "", "content_fingerprint": "x", "fetched_at": NOW,
                                 "issuing_org": f"{rng.choice(TOPICS)}局"})
            event_rows.append({"id": n, "kind": rng.choice(("new", "new", "changed", "withdrawn")), "notice_id": n,
                               "version_id": n, "site_id": site_id, "created_at": NOW, "fanned_out": False,
                               "baseline": False})
        session.execute(insert(Notice), notice_rows)
        session.execute(insert(NoticeVersion), version_rows)
        session.execute(insert(AlertEvent), event_rows)
        for s in range(1, subscriptions + 1):
            filters: dict[str, object] = {"any": rng.sample(vocabulary, rng.randint(1, 3))}
            if rng.random() < 0.3:
                filters["all"] = rng.sample(vocabulary, 1)
            if rng.random() < 0.3:
                filters["none"] = rng.sample(vocabulary, 2)
            if rng.random() < 0.3:
                filters["sites"] = [f"site{rng.randrange(20)}" for _ in range(3)]
            if rng.random() < 0.2:
                filters["kinds"] = ["new"]
            alerts.create_subscription(session, name=f"sub{s}", channel_url="mailto:x@example.cn",
                                       filters=filters, now=NOW)
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--subscriptions", type=int, default=1_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        setup(url, events=args.events, subscriptions=args.subscriptions)
        engine = make_engine(url)
        factory = make_session_factory(engine)
        started, cpu_started = time.perf_counter(), time.process_time()
        with factory.begin() as session:
            created = alerts.fan_out(session, now=NOW)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        with factory() as session:
            assert session.scalar(select(func.count()).select_from(Delivery)) == created
            subs = session.scalar(select(func.count()).select_from(Subscription))
        engine.dispose()
    print(f"fan_out: {args.events} events x {subs} subscriptions -> {created} deliveries "
          f"in {elapsed:.2f} s wall, {cpu:.2f} s CPU (target < 10 s)")


if __name__ == "__main__":
    main()
