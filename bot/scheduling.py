"""APScheduler as a thin trigger: one interval job per process runs the tick; the database holds the deadlines.

No job store is shared between processes (APScheduler 3 forbids it); every replica runs the same tick and the
claims in the database decide who does what.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler

from bot.deps import Deps
from bot.services import ticks

log = logging.getLogger(__name__)

TICK_SECONDS = 0.5
JOB_ID = "firebell-tick"


class Scheduler:
    def __init__(self, deps: Deps, *, interval: float = TICK_SECONDS) -> None:
        self.deps = deps
        self.owner = ticks.owner_id()
        self.interval = interval
        self._scheduler = BackgroundScheduler(timezone=UTC)

    def start(self) -> None:
        """Start ticking now: deadlines that passed while the bot was down are handled at once (and say so)."""
        self._scheduler.add_job(self.tick, "interval", seconds=self.interval, id=JOB_ID, replace_existing=True,
                                max_instances=1, coalesce=True, misfire_grace_time=None,
                                next_run_time=datetime.now(UTC))
        self._scheduler.start()
        log.info("scheduler started (tick every %ss, owner %s)", self.interval, self.owner)

    def tick(self) -> None:
        try:
            ticks.run_due(self.deps, self.owner)
        except Exception:  # the next tick tries again; a failing database must not kill the scheduler
            log.exception("tick failed")

    def shutdown(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=True)
