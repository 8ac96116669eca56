"""Schedules from the registry become APScheduler triggers and jobs."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from crawler.registry import registry_from_data
from noticewatch.scheduler import CrawlJob, ScheduleError, make_trigger, plan_jobs

TZ = ZoneInfo("Asia/Shanghai")


def _next(expression: str, after: datetime) -> datetime:
    fire = make_trigger(expression, timezone=TZ).get_next_fire_time(None, after)
    assert fire is not None
    return fire


def test_cron_weekdays_follow_crontab_not_apscheduler_numbering() -> None:
    # 2026-11-25 is a Wednesday. Crontab "1" is Monday (APScheduler 3 would read Tuesday).
    after = datetime(2026, 11, 25, 12, 0, tzinfo=TZ)
    assert _next("0 3 * * 1", after) == datetime(2026, 11, 30, 3, 0, tzinfo=TZ)
    assert _next("0 3 * * 0", after).weekday() == 6  # Sunday
    assert _next("0 3 * * 7", after).weekday() == 6  # 7 is Sunday too
    assert _next("0 3 * * 1-5", after) == datetime(2026, 11, 26, 3, 0, tzinfo=TZ)
    assert _next("0 3 * * sat", after).weekday() == 5


def test_interval_and_jitter() -> None:
    trigger = make_trigger("every 2h", jitter=120, timezone=TZ)
    assert isinstance(trigger, IntervalTrigger)
    assert trigger.interval.total_seconds() == 7200
    assert trigger.jitter == 120
    cron = make_trigger("17 * * * *", jitter=300, timezone=TZ)
    assert isinstance(cron, CronTrigger) and cron.jitter == 300
    assert make_trigger("every 30m").interval.total_seconds() == 1800  # type: ignore[attr-defined]


@pytest.mark.parametrize("bad", ["* * *", "every 2w", "61 * * * *", "0 3 * * 9"])
def test_bad_expressions_are_rejected(bad: str) -> None:
    with pytest.raises(ValueError):
        make_trigger(bad)


def _site(key: str, columns: list[dict[str, str]], **extra: str) -> dict[str, object]:
    return {"key": key, "name": key, "base_url": f"http://www.{key}.gov.cn/", "family": "trs_wcm",
            "columns": columns, **extra}


def test_jobs_per_site_and_per_column_schedule() -> None:
    registry = registry_from_data({"sites": [
        _site("a", [{"url": "http://www.a.gov.cn/x/", "name": "x"}]),
        _site("b", [{"url": "http://www.b.gov.cn/x/", "name": "x"}], schedule="every 6h"),
        _site("c", [{"url": "http://www.c.gov.cn/x/", "name": "x"},
                    {"url": "http://www.c.gov.cn/y/", "name": "y", "schedule": "*/10 * * * *"},
                    {"url": "http://www.c.gov.cn/z/", "name": "z", "schedule": "*/10 * * * *"}]),
    ]})
    jobs = plan_jobs(registry, "17 * * * *")
    assert jobs[:2] == [CrawlJob("site:a", "a", "17 * * * *"), CrawlJob("site:b", "b", "every 6h")]
    # Columns sharing a schedule share a job; the rest of the site keeps the default.
    assert jobs[2:] == [
        CrawlJob("site:c:0", "c", "17 * * * *", ("http://www.c.gov.cn/x/",)),
        CrawlJob("site:c:1", "c", "*/10 * * * *", ("http://www.c.gov.cn/y/", "http://www.c.gov.cn/z/")),
    ]


def test_bad_registry_schedule_names_the_site() -> None:
    registry = registry_from_data({"sites": [_site("d", [{"url": "http://www.d.gov.cn/x/", "name": "x"}],
                                                   schedule="sometimes")]})
    with pytest.raises(ScheduleError, match="site 'd'"):
        plan_jobs(registry, "17 * * * *")
