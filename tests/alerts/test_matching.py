"""Filters: keywords in title/body/attachments, sites, columns, org, doc number, kinds,
baseline — through fan_out on a real store, and the index against a brute-force check."""

from __future__ import annotations

import random

import pytest
from sqlalchemy import select

from noticewatch.store import Store
from storage import alerts
from storage.alert_match import EventText, SubscriptionIndex, compile_filter, normalise_filters
from storage.models import Delivery
from tests.alerts.conftest import COLUMN, NOW, add_site, publish, withdraw


def _subscribe(store: Store, name: str, **filters: object) -> int:
    with store.factory.begin() as session:
        return alerts.create_subscription(session, name=name, channel_url="feed:", filters=filters,
                                          now=NOW).id


def _matched(store: Store) -> dict[int, set[int]]:
    with store.factory.begin() as session:
        alerts.fan_out(session, now=NOW)
    with store.factory() as session:
        out: dict[int, set[int]] = {}
        for d in session.scalars(select(Delivery)):
            out.setdefault(d.subscription_id, set()).add(d.event_id)
        return out


def test_filters_select_the_right_events(store: Store) -> None:
    land = _subscribe(store, "land", any=["土地", "征收"], none=["招聘"])
    both = _subscribe(store, "both", all=["ＰＭ２.５", "空气"])  # full-width, normalised
    org = _subscribe(store, "org", issuing_org="自然资源局")
    docno = _subscribe(store, "docno", doc_no=r"马政〔2024〕\d+号")
    column = _subscribe(store, "column", columns=[COLUMN + "index.html"])  # canonical match
    other_site = _subscribe(store, "other", sites=["gulou"])
    gone = _subscribe(store, "gone", kinds=["withdrawn"])

    e1 = publish(store, "a", "关于土地 征收的公告", issuing_org="马尾区自然资源局", doc_no="马政〔2024〕12号")
    e2 = publish(store, "b", "招聘公告", body="土地管理员招聘")
    e3 = publish(store, "c", "空气质量", attachment_text="本周pm2.5 浓度下降")
    e4 = withdraw(store, "b")

    got = _matched(store)
    assert got[land] == {e1}
    assert got[both] == {e3}  # "空气" in the title, "pm2.5" only in the attachment
    assert got[org] == {e1}
    assert got[docno] == {e1}
    assert got[column] == {e1, e2, e3, e4}
    assert other_site not in got
    assert got[gone] == {e4}


def test_baseline_events_only_reach_backfill_subscriptions(store: Store) -> None:
    add_site(store, key="gulou", baseline=False)  # its first crawl is still running
    plain = _subscribe(store, "plain")
    backfill = _subscribe(store, "backfill", backfill=True)
    baseline_event = publish(store, "x", "首次抓取的旧公告", site="gulou")
    live_event = publish(store, "y", "新公告")
    got = _matched(store)
    assert got[plain] == {live_event}
    assert got[backfill] == {baseline_event, live_event}


def test_fan_out_is_idempotent_and_keys_are_stable(store: Store) -> None:
    sub = _subscribe(store, "all")
    event = publish(store, "a", "公告")
    assert _matched(store) == {sub: {event}}
    with store.factory.begin() as session:
        assert alerts.fan_out(session, now=NOW) == 0
        key = session.scalar(select(Delivery.idempotency_key))
    assert key == alerts.idempotency_key(event, sub)


def test_bad_filters_are_rejected() -> None:
    with pytest.raises(ValueError, match="doc_no"):
        normalise_filters({"doc_no": "(unclosed"})
    with pytest.raises(ValueError, match="kinds"):
        normalise_filters({"kinds": ["deleted"]})
    with pytest.raises(ValueError, match="unknown"):
        normalise_filters({"keywords": ["x"]})
    assert normalise_filters({"any": ["", " 土地 "], "backfill": False}) == {"any": ["土地"]}


def test_index_agrees_with_checking_every_filter() -> None:
    rng = random.Random(7)
    words = ["土地", "征收", "拆迁", "招聘", "环境", "空气", "学校", "医保", "交通", "规划"]
    filters = []
    for sid in range(1, 200):
        f: dict[str, object] = {}
        for key in ("all", "any", "none"):
            if rng.random() < 0.4:
                f[key] = rng.sample(words, rng.randint(1, 2))
        if rng.random() < 0.2:
            f["sites"] = [rng.choice(["a", "b"])]
        if rng.random() < 0.2:
            f["kinds"] = [rng.choice(["new", "changed"])]
        filters.append(compile_filter(sid, f))
    index = SubscriptionIndex(filters)
    for eid in range(300):
        text = "".join(rng.sample(words, 3)) + "通知"
        event = EventText.build(event_id=eid, kind=rng.choice(["new", "changed"]), site_key=rng.choice("ab"),
                                baseline=False, title=text, body="")
        every_word = {w for w in words if w in event.text}
        brute = sorted(f.subscription_id for f in filters if f.matches(event, every_word))
        assert index.match(event) == brute
