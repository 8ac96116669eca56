"""The health rules on their own, and their bookkeeping in the store (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from storage import health, repository, runs
from storage.clock import as_utc, utcnow
from storage.models import Notice, NoticeColumn, Site

COLUMN_A = "http://www.s1.gov.cn/a/"
COLUMN_B = "http://www.s1.gov.cn/b/"
SITE_ROW = {"key": "s1", "name": "测试区", "base_url": "http://www.s1.gov.cn/", "family": "trs_wcm",
            "columns": [{"url": COLUMN_A, "name": "A"}, {"url": COLUMN_B, "name": "B"}]}


def _figures(**counts: int) -> dict:
    tally = health.SiteFigures()
    for key, n in counts.items():
        tally.add("s1", key, n)
    return tally.as_dict()["s1"]


def _with_lists(*pages: tuple[str, int]) -> dict:
    tally = health.SiteFigures()
    for column, entries in pages:
        if entries < 0:
            tally.list_page("s1", column, 0, not_modified=True)
        else:
            tally.list_page("s1", column, entries)
    return tally.as_dict()["s1"]


def test_new_notices_are_ok_and_nothing_new_is_quiet() -> None:
    figures = _with_lists((COLUMN_A, 15), (COLUMN_B, 10))
    figures["new"] = 20
    assert health.classify(figures, {}).status == "ok"
    quiet = health.classify(_with_lists((COLUMN_A, -1), (COLUMN_B, -1)), {}, columns_with_history=[COLUMN_A])
    assert quiet.status == "quiet" and "2 unchanged" in quiet.detail


def test_an_empty_list_is_a_layout_change_only_with_history() -> None:
    figures = _with_lists((COLUMN_A, 0), (COLUMN_B, -1))
    changed = health.classify(figures, {}, columns_with_history=[COLUMN_A, COLUMN_B])
    assert changed.status == "layout_changed" and COLUMN_A in changed.detail
    # A column nobody ever saw a notice in: nothing to compare with.
    assert health.classify(figures, {}, columns_with_history=[COLUMN_B]).status == "quiet"
    # Entries on a later page of the column: the column is not empty.
    assert health.classify(_with_lists((COLUMN_A, 0), (COLUMN_A, 5)), {},
                           columns_with_history=[COLUMN_A]).status == "quiet"


def test_notices_failing_to_parse_are_a_layout_change() -> None:
    figures = _with_lists((COLUMN_A, 15))
    figures["new"] = 3
    assert health.classify(figures, {"parse": 12}).status == "layout_changed"
    assert health.classify(figures, {"parse": 1}).status == "ok"  # one odd page is not a redesign
    missing = dict(figures, missing_body=4)
    assert health.classify(missing, {}).status == "layout_changed"


def test_blocks_and_outages() -> None:
    blocked = health.classify({}, {"blocked": 3})
    assert blocked.status == "blocked" and "3 requests" in blocked.detail
    down = health.classify({}, {"robots_unavailable": 2, "timeout": 1})
    assert down.status == "down" and "robots_unavailable 2" in down.detail
    assert health.classify({}, {"parse": 2}).status == "layout_changed"  # lists unreadable
    assert health.classify({}, {}).status == "unknown"
    # A few blocked notices on a site whose lists read fine: not blocked.
    figures = _with_lists((COLUMN_A, 15), (COLUMN_B, 10))
    figures["new"] = 20
    assert health.classify(figures, {"blocked": 2}).status == "ok"


def test_figures_of_workers_add_up() -> None:
    one = {"s1": _with_lists((COLUMN_A, 5)) | {"new": 5, "errors": {"timeout": 1}}}
    two = {"s1": _with_lists((COLUMN_A, 0)) | {"new": 2, "errors": {"timeout": 2, "parse": 1}},
           "s2": {"new": 1}}
    merged = health.merge_site_figures(one, two)
    assert merged["s1"]["new"] == 7 and merged["s1"]["lists_parsed"] == 2
    assert merged["s1"]["columns"][COLUMN_A] == {"pages": 2, "entries": 5, "not_modified": 0}
    assert merged["s1"]["errors"] == {"timeout": 3, "parse": 1}
    assert merged["s2"]["new"] == 1
    assert one["s1"]["new"] == 5  # inputs are left alone


def test_assessment_is_stored_and_a_blocked_site_backs_off(session: Session) -> None:
    repository.sync_sites(session, [SITE_ROW])
    site = repository.get_site(session, "s1")
    earlier = utcnow() - timedelta(days=2)
    notice = Notice(site_id=site.id, canonical_url="http://www.s1.gov.cn/a/1.html", url="http://www.s1.gov.cn/a/1.html",
                    status="active", first_seen_at=earlier, last_seen_at=earlier, last_changed_at=earlier)
    session.add(notice)
    session.flush()
    column_a = next(c for c in site.columns if c.url == COLUMN_A)
    session.add(NoticeColumn(notice_id=notice.id, column_id=column_a.id, first_seen_at=earlier, last_listed_at=earlier))

    blocked_run = repository.start_run(session, site_key="s1", trigger="manual")
    for n in range(3):
        repository.record_fetch_error(session, run_id=blocked_run.id, site_key="s1", url=f"{COLUMN_A}?{n}",
                                      kind="blocked", detail="HTTP 412 $_ts challenge")
    verdict = health.assess_site_health(session, site_key="s1", run_id=blocked_run.id, backoff_hours=6)
    assert verdict.status == "blocked"
    assert site.health == "blocked" and site.blocked_until is not None
    assert as_utc(site.blocked_until) > utcnow() + timedelta(hours=5)
    assert blocked_run.stats["health"]["s1"]["status"] == "blocked"
    assert set(health.backed_off_sites(session, ["s1"])) == {"s1"}
    assert health.backed_off_sites(session, ["s1"], now=utcnow() + timedelta(hours=7)) == {}

    # The list that used to hold a notice now parses to nothing: layout changed, back-off lifted.
    changed_run = repository.start_run(session, site_key="s1", trigger="manual")
    changed_run.stats = {"sites": {"s1": _with_lists((COLUMN_A, 0), (COLUMN_B, 0))}}
    session.flush()
    verdict = health.assess_site_health(session, site_key="s1", run_id=changed_run.id)
    assert verdict.status == "layout_changed" and COLUMN_A in verdict.detail and COLUMN_B not in verdict.detail
    assert site.health == "layout_changed" and site.blocked_until is None

    # A run that recorded nothing for the site leaves its health alone.
    empty_run = repository.start_run(session, site_key="s1", trigger="manual")
    assert health.assess_site_health(session, site_key="s1", run_id=empty_run.id).status == "unknown"
    assert session.get(Site, site.id).health == "layout_changed"


def test_a_distributed_cycle_is_judged_once_from_all_its_runs(session: Session) -> None:
    repository.sync_sites(session, [SITE_ROW])
    first = repository.start_run(session, site_key=None, trigger="worker")
    second = repository.start_run(session, site_key=None, trigger="worker")
    other = repository.start_run(session, site_key=None, trigger="worker")
    # Worker one read column A and found nothing new; worker two read column B and found notices.
    first.stats = {"distributed/cycle": "c1", "sites": {"s1": _with_lists((COLUMN_A, 4))}}
    second.stats = {"distributed/cycle": "c1", "sites": {"s1": _with_lists((COLUMN_B, 3)) | {"new": 3}}}
    other.stats = {"distributed/cycle": "c2", "sites": {}}
    session.flush()
    assert health.assess_sites_health(session, site_keys=["s1"], run_id=first.id)["s1"].status == "quiet"

    cycle = runs.runs_of_cycle(session, cycle="c1", since=utcnow() - timedelta(hours=1))
    assert [run.id for run in cycle] == [first.id, second.id]
    verdicts = health.assess_sites_health(session, site_keys=["s1"], run_id=second.id,
                                          sibling_run_ids=[run.id for run in cycle])
    assert verdicts["s1"].status == "ok"  # judged from both shares, not "quiet" from one
    assert first.stats["health"]["s1"]["status"] == second.stats["health"]["s1"]["status"] == "ok"
    assert "health" not in other.stats
    assert runs.runs_of_cycle(session, cycle="c1", since=utcnow() + timedelta(hours=1)) == []


def test_held_leases_by_holder_and_prefix(session: Session) -> None:
    held = runs.acquire_locks(session, names=["site:a", "site:b", "run:1"], holder="distributed:x",
                              ttl=timedelta(hours=1))
    runs.acquire_locks(session, names=["site:c"], holder="someone-else", ttl=timedelta(hours=1))
    runs.acquire_locks(session, names=["site:old"], holder="distributed:x", ttl=timedelta(hours=1),
                       now=utcnow() - timedelta(hours=2))  # expired
    assert held == {"site:a", "site:b", "run:1"}
    assert runs.held_leases(session, holder="distributed:x", prefix="site:") == ["site:a", "site:b"]
    assert runs.held_leases(session, holder="distributed:x", prefix="run:") == ["run:1"]
    assert runs.held_leases(session, holder="distributed:x") == ["run:1", "site:a", "site:b"]
