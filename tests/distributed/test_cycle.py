"""Cycle membership in Redis: seeding once, dead workers dropping out, the last one out clearing up."""

from __future__ import annotations

import redis

from crawler.cycle import CycleMembership, cycle_keys
from tests.distributed.conftest import REDIS_URL


def _members(prefix: str, *names: str) -> list[CycleMembership]:
    server = redis.Redis.from_url(REDIS_URL)
    return [CycleMembership(server, prefix, name) for name in names]


def _kill(worker: CycleMembership) -> None:
    """What SIGKILL leaves behind: the entry stays until its heartbeat runs out. Make it run out."""
    worker.server.zadd(worker.keys["alive"], {worker.me: 1})


def test_one_seeds_all_share_the_cycle_and_the_last_out_clears_it(redis_prefix: str) -> None:
    a, b = _members(redis_prefix, "a", "b")
    joined_a, joined_b = a.join(), b.join()
    assert joined_a.seeding and not joined_b.seeding
    assert joined_a.cycle == joined_b.cycle and not joined_a.cleared_stale
    assert a.live_workers() == {"a", "b"}
    a.mark_idle()
    assert not a.everyone_idle()  # b still has work in flight
    b.mark_idle()
    assert a.everyone_idle()
    b.server.zadd(b.keys["queue"], {b"request": 0})
    assert not a.everyone_idle()  # work waiting in the queue
    b.server.delete(b.keys["queue"])
    assert a.leave() is False  # b is still there
    assert b.leave() is True
    assert list(a.server.scan_iter(f"{redis_prefix}:*")) == []


def test_a_dead_worker_does_not_hold_up_the_others(redis_prefix: str) -> None:
    a, b = _members(redis_prefix, "a", "b")
    a.join()
    b.join()
    _kill(b)
    a.mark_idle()
    assert a.live_workers() == {"a"}
    assert a.everyone_idle()  # b died busy: it is not waited for
    assert a.leave() is True  # and the cycle is cleared without it
    assert list(a.server.scan_iter(f"{redis_prefix}:*")) == []


def test_a_cycle_whose_workers_all_died_is_cleared_by_the_next_worker(redis_prefix: str) -> None:
    old, new = _members(redis_prefix, "old", "new")
    first = old.join()
    old.server.sadd(old.keys["dupefilter"], b"fingerprint")
    _kill(old)
    joined = new.join()
    assert joined.cleared_stale and joined.seeding  # else nobody would seed for 6 hours
    assert joined.cycle != first.cycle
    assert not new.server.exists(new.keys["dupefilter"])  # a fresh cycle re-fetches everything


def test_a_dead_cycle_with_work_left_is_resumed_not_cleared(redis_prefix: str) -> None:
    old, new = _members(redis_prefix, "old", "new")
    first = old.join()
    old.server.zadd(old.keys["queue"], {b"request": 0})
    _kill(old)
    joined = new.join()
    assert not joined.cleared_stale and not joined.seeding
    assert joined.cycle == first.cycle and new.queue_length() == 1


def test_heartbeats_keep_a_worker_alive(redis_prefix: str) -> None:
    (a,) = _members(redis_prefix, "a")
    a.join()
    _kill(a)
    assert a.live_workers() == set()
    a.heartbeat()
    assert a.live_workers() == {"a"}
    assert set(cycle_keys(redis_prefix)) == {"queue", "dupefilter", "seeded", "alive", "cycle", "idle"}
