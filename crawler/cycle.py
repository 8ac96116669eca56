"""Membership of one distributed crawl cycle in Redis: who is alive, who is idle, who seeds.

The workers of a cycle (``noticewatch worker``) share a request queue and duplicate
filter (scrapy-redis) under a key prefix. This module keeps the rest:

* ``<prefix>:alive`` — a sorted set of worker ids scored by when their heartbeat
  expires. A worker refreshes its entry every ``HEARTBEAT_SECONDS``; one killed with
  SIGKILL (or on a machine that died) drops out after ``ALIVE_SECONDS`` instead of
  being counted for ever, as the plain counter it replaces was.
* ``<prefix>:seeded`` — set by the worker that seeds the cycle's start requests.
* ``<prefix>:cycle`` — the cycle id every run of the cycle records (site health is
  judged once over all of them).
* ``<prefix>:idle`` — the workers with nothing in flight.

Joining and leaving are Lua scripts, so they are atomic against each other and use
Redis's clock: a worker joining a prefix whose workers are all dead, with nothing left
in the queue, clears the stale cycle and seeds a new one (before, the stale ``seeded``
flag kept every later worker from seeding until it expired after 6 hours); the last
worker to leave clears every key of the cycle.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

CYCLE_TTL = 6 * 3600  # seconds; no key of a cycle outlives this, whatever happens
HEARTBEAT_SECONDS = 10.0
ALIVE_SECONDS = 60  # a worker not heard of for this long is taken for dead

# KEYS: alive, seeded, cycle, idle, dupefilter, queue
# ARGV: worker id, alive seconds, cycle ttl, new cycle id
# Returns {seeding (0/1), cycle id, stale cycle cleared (0/1)}.
JOIN = """
local now = tonumber(redis.call('TIME')[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local function queued()
  local kind = redis.call('TYPE', KEYS[6])['ok']
  if kind == 'zset' then return redis.call('ZCARD', KEYS[6]) end
  if kind == 'list' then return redis.call('LLEN', KEYS[6]) end
  return 0
end
local cleared = 0
if redis.call('ZCARD', KEYS[1]) == 0 and redis.call('EXISTS', KEYS[2]) == 1 and queued() == 0 then
  redis.call('DEL', KEYS[2], KEYS[3], KEYS[4], KEYS[5])
  cleared = 1
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
local seeding = 0
if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'EX', tonumber(ARGV[3])) then seeding = 1 end
redis.call('SET', KEYS[3], ARGV[4], 'NX', 'EX', tonumber(ARGV[3]))
return {seeding, redis.call('GET', KEYS[3]), cleared}
"""

# KEYS: alive, idle, queue, then every key of the cycle; ARGV: worker id.
# Returns 1 when this was the last live worker and the cycle's keys were cleared.
LEAVE = """
local now = tonumber(redis.call('TIME')[1])
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('SREM', KEYS[2], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local kind = redis.call('TYPE', KEYS[3])['ok']
local queued = 0
if kind == 'zset' then queued = redis.call('ZCARD', KEYS[3]) elseif kind == 'list' then queued = redis.call('LLEN', KEYS[3]) end
if redis.call('ZCARD', KEYS[1]) == 0 and queued == 0 then
  for i = 4, #KEYS do redis.call('DEL', KEYS[i]) end
  return 1
end
return 0
"""

# KEYS: alive; ARGV: worker id, alive seconds, cycle ttl
HEARTBEAT = """
local now = tonumber(redis.call('TIME')[1])
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
return redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
"""


def cycle_keys(prefix: str) -> dict[str, str]:
    """The Redis keys of one crawl cycle under ``prefix``."""
    return {
        "queue": f"{prefix}:requests",
        "dupefilter": f"{prefix}:dupefilter",
        "seeded": f"{prefix}:seeded",
        "alive": f"{prefix}:alive",
        "cycle": f"{prefix}:cycle",
        "idle": f"{prefix}:idle",
    }


@dataclass(frozen=True)
class Joined:
    seeding: bool  # this worker seeds the start requests
    cycle: str  # the id all runs of the cycle share
    cleared_stale: bool  # the prefix held a dead cycle, now cleared


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class CycleMembership:
    """One worker's view of its cycle (a blocking redis-py client: calls take ~0.1 ms)."""

    def __init__(self, server: Any, prefix: str, worker_id: str) -> None:
        self.server = server
        self.keys = cycle_keys(prefix)
        self.me = worker_id

    def join(self) -> Joined:
        k = self.keys
        seeding, cycle, cleared = self.server.eval(
            JOIN, 6, k["alive"], k["seeded"], k["cycle"], k["idle"], k["dupefilter"], k["queue"],
            self.me, ALIVE_SECONDS, CYCLE_TTL, uuid.uuid4().hex)
        return Joined(seeding=bool(seeding), cycle=_text(cycle), cleared_stale=bool(cleared))

    def heartbeat(self) -> None:
        self.server.eval(HEARTBEAT, 1, self.keys["alive"], self.me, ALIVE_SECONDS, CYCLE_TTL)

    def leave(self) -> bool:
        """Leave the cycle; True when this was the last live worker (the cycle is cleared)."""
        k = self.keys
        rest = [k["seeded"], k["cycle"], k["dupefilter"], k["queue"], k["alive"], k["idle"]]
        return bool(self.server.eval(LEAVE, 3 + len(rest), k["alive"], k["idle"], k["queue"], *rest, self.me))

    def live_workers(self) -> set[str]:
        now = int(self.server.time()[0])
        return {_text(m) for m in self.server.zrangebyscore(self.keys["alive"], now, "+inf")}

    def mark_idle(self) -> None:
        self.server.sadd(self.keys["idle"], self.me)
        self.server.expire(self.keys["idle"], CYCLE_TTL)

    def mark_busy(self) -> None:
        self.server.srem(self.keys["idle"], self.me)

    def queue_length(self) -> int:
        key = self.keys["queue"]
        kind = _text(self.server.type(key))
        if kind == "zset":  # scrapy-redis PriorityQueue
            return int(self.server.zcard(key))
        if kind == "list":
            return int(self.server.llen(key))
        return 0

    def everyone_idle(self) -> bool:
        """Is the queue empty and every live worker of the cycle idle (nothing in flight)?"""
        if self.queue_length() > 0:
            return False
        idle = {_text(m) for m in self.server.smembers(self.keys["idle"])}
        return self.live_workers() <= idle
