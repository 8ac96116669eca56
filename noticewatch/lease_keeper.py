"""Keeping a crawl's leases alive while its ``scrapy crawl`` process runs.

A lease (``run_lock``: one per site, one per run) keeps other crawls off the sites,
on this machine and on others. Taken once with a long TTL, a crawl that died with
its machine blocked its sites for that long (it was 6 hours). Instead the leases
are short (``LEASE_TTL``) and the command renews them while its crawl process runs,
so a dead machine's sites are free again within minutes. Renewal stops after
``MAX_RUN``: a crawl hung that long gives its sites up, as before.
"""

from __future__ import annotations

import logging
import subprocess
import time
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING

from storage import runs

if TYPE_CHECKING:
    from noticewatch.store import Store

logger = logging.getLogger(__name__)

LEASE_TTL = timedelta(minutes=10)
RENEW_EVERY = 120.0  # seconds: five renewals fit in one TTL, so one failed renewal costs nothing
MAX_RUN = timedelta(hours=6)


class LeaseKeeper:
    def __init__(self, store: Store, *, names: Sequence[str], holder: str, ttl: timedelta = LEASE_TTL,
                 every: float = RENEW_EVERY, max_run: timedelta = MAX_RUN) -> None:
        self.store = store
        self.names = list(names)
        self.holder = holder
        self.ttl = ttl
        self.every = every
        self.started = time.monotonic()
        self.deadline = self.started + max_run.total_seconds()
        self.next_renewal = self.started + every
        self.renewals = 0

    def tick(self) -> None:
        """Renew the leases if a renewal is due (cheap to call often)."""
        now = time.monotonic()
        if now < self.next_renewal or now >= self.deadline:
            return
        self.next_renewal = now + self.every
        try:
            with self.store.factory.begin() as session:
                held = runs.acquire_locks(session, names=self.names, holder=self.holder, ttl=self.ttl)
        except Exception as exc:  # noqa: BLE001 - a database hiccup must not kill the crawl
            logger.warning("could not renew the crawl's leases (%s); retrying in %.0f s", exc, self.every)
            return
        self.renewals += 1
        lost = sorted(set(self.names) - held)
        if lost:
            # Expired and taken by another crawl while renewal failed: they overlap now.
            logger.error("leases lost to another crawl: %s", ", ".join(lost))

    def wait(self, proc: subprocess.Popen[bytes]) -> int:
        """Wait for ``proc`` to exit, renewing the leases meanwhile."""
        while True:
            try:
                return proc.wait(timeout=max(0.1, min(self.every, self.next_renewal - time.monotonic())))
            except subprocess.TimeoutExpired:
                self.tick()
