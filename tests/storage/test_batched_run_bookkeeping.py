"""The per-run bookkeeping `noticewatch crawl` does for many sites at once: leases, baselines, health."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from storage import health, repository, runs, sites
from tests.storage.factories import COL_A, SITE_ROWS


def test_many_leases_in_one_statement_keep_per_site_semantics(session: Session) -> None:
    ttl = timedelta(minutes=10)
    now = datetime(2024, 5, 1, 2, 0, tzinfo=UTC)
    assert repository.acquire_lock(session, name="site:b", holder="other:1", ttl=ttl, now=now)
    names = [f"site:{key}" for key in ("a", "b", "c")]
    # b is another holder's live lease: skipped; a and c are ours.
    assert runs.acquire_locks(session, names=names, holder="me:1", ttl=ttl, now=now) == {"site:a", "site:c"}
    # Renewing our own leases works; b still belongs to the other holder until it expires.
    later = now + timedelta(minutes=5)
    assert runs.acquire_locks(session, names=names, holder="me:1", ttl=ttl, now=later) == {"site:a", "site:c"}
    assert not repository.acquire_lock(session, name="site:c", holder="other:1", ttl=ttl, now=later)
    after_expiry = now + timedelta(minutes=11)
    assert runs.acquire_locks(session, names=["site:b"], holder="me:1", ttl=ttl, now=after_expiry) == {"site:b"}
    # Releasing drops only what we hold.
    assert repository.acquire_lock(session, name="site:d", holder="other:1", ttl=ttl, now=after_expiry)
    assert runs.release_locks(session, names=[*names, "site:d"], holder="me:1") == 3
    assert not repository.release_lock(session, name="site:a", holder="me:1")
    assert repository.release_lock(session, name="site:d", holder="other:1")
    assert runs.acquire_locks(session, names=[], holder="me:1", ttl=ttl) == set()


def test_health_and_baselines_of_a_whole_run_at_once(session: Session) -> None:
    sites.sync_sites(session, SITE_ROWS)
    run = repository.start_run(session, site_key=None, trigger="manual")
    run.stats = {"sites": {"mawei": {"columns": {COL_A: {"pages": 1, "entries": 3, "not_modified": 0}},
                                     "lists_parsed": 1, "list_entries": 3, "new": 3}}}
    for n in range(2):
        repository.record_fetch_error(session, run_id=run.id, site_key="gulou", url=f"http://www.gl.gov.cn/{n}",
                                      kind="blocked", detail="HTTP 412")
    session.flush()
    verdicts = health.assess_sites_health(session, site_keys=["mawei", "gulou"], run_id=run.id, backoff_hours=6)
    assert {key: v.status for key, v in verdicts.items()} == {"mawei": "ok", "gulou": "blocked"}
    assert set(run.stats["health"]) == {"mawei", "gulou"}
    assert repository.get_site(session, "gulou").blocked_until is not None
    # One site alone gives the same verdict as the batch.
    assert health.assess_site_health(session, site_key="mawei", run_id=run.id).status == "ok"
    assert sites.mark_baselines(session, ["mawei", "gulou"]) == 2
    assert sites.mark_baselines(session, ["mawei", "gulou"]) == 0  # never moved
    session.expire_all()
    assert repository.get_site(session, "mawei").baseline_at is not None
