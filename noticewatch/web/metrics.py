"""Prometheus metrics read from the database at scrape time (so every process agrees)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from storage.models import AlertEvent, CrawlRun, Delivery, FetchError, Notice, Site


class ArchiveCollector(Collector):
    def __init__(self, factory: sessionmaker[Session]) -> None:
        self.factory = factory

    def collect(self) -> Iterator[Metric]:
        with self.factory() as session:
            yield from self._collect(session)

    def _collect(self, session: Session) -> Iterator[Metric]:
        runs = CounterMetricFamily("noticewatch_runs", "Crawl runs by final status.", labels=["status"])
        for status, n in session.execute(select(CrawlRun.status, func.count()).group_by(CrawlRun.status)):
            runs.add_metric([status], n)
        yield runs

        items = CounterMetricFamily("noticewatch_items", "Notices handled by runs, by outcome "
                                    "(new, changed, unchanged, withdrawn, duplicate, failed, blocked).",
                                    labels=["kind"])
        totals: dict[str, float] = {}
        for (counts,) in session.execute(select(CrawlRun.counts)):
            for key, value in (counts or {}).items():
                if isinstance(value, int | float):
                    totals[key] = totals.get(key, 0) + value
        for key, value in sorted(totals.items()):
            items.add_metric([key], value)
        yield items

        errors = CounterMetricFamily("noticewatch_fetch_errors", "Recorded fetch errors by kind.",
                                     labels=["kind"])
        for kind, n in session.execute(select(FetchError.kind, func.count()).group_by(FetchError.kind)):
            errors.add_metric([kind], n)
        yield errors

        notices = GaugeMetricFamily("noticewatch_notices", "Archived notices by status.", labels=["status"])
        for status, n in session.execute(select(Notice.status, func.count()).group_by(Notice.status)):
            notices.add_metric([status], n)
        yield notices

        health: dict[str, int] = dict(
            session.execute(select(Site.health, func.count()).group_by(Site.health)).tuples().all())
        sites = GaugeMetricFamily("noticewatch_sites", "Sites by health.", labels=["health"])
        for state, n in sorted(health.items()):
            sites.add_metric([state], n)
        yield sites
        yield GaugeMetricFamily("noticewatch_sites_blocked", "Sites currently blocking us.",
                                value=health.get("blocked", 0))

        unfanned = session.scalar(select(func.count()).select_from(AlertEvent).where(
            AlertEvent.fanned_out.is_(False), AlertEvent.baseline.is_(False))) or 0
        pending = session.scalar(select(func.count()).select_from(Delivery).where(
            Delivery.status.in_(("pending", "sending", "failed")))) or 0
        backlog = GaugeMetricFamily("noticewatch_alert_backlog", "Alerts not yet delivered.", labels=["stage"])
        backlog.add_metric(["events_not_fanned_out"], unfanned)
        backlog.add_metric(["deliveries_pending"], pending)
        yield backlog

        last = session.scalar(select(func.max(CrawlRun.finished_at)))
        if last is not None:
            yield GaugeMetricFamily("noticewatch_last_run_finished_timestamp_seconds",
                                    "When the last crawl run finished (Unix time).", value=last.timestamp())


def make_registry(factory: sessionmaker[Session]) -> Any:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ArchiveCollector(factory))
    return registry
