"""Deadlines as a mechanism: rows with a due time in the database (SLA notices, escalations, …), claimed when due by
one process and handed to the handler registered for their kind; and APScheduler as a thin trigger of that tick.

No job store is shared between processes (APScheduler 3 forbids it): every replica runs the same tick and the claims
in the database decide who does what (FOR UPDATE SKIP LOCKED on PostgreSQL). A claim whose work failed is released
and retried; a claim whose process died is taken again when its lease runs out. Tests call `Deadlines.run_due` with
an explicit `now`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy.orm import Session

from bot.slack.gateway import SlackCallFailed
from storage import claims, schedule
from storage.db import Database

log = logging.getLogger(__name__)

TICK_SECONDS = 0.5
JOB_ID = "firebell-tick"
LEASE = timedelta(seconds=60)
BATCH = 200


@dataclass(frozen=True)
class Claimed:
    """A due deadline this process holds. Its handler marks it done with ``complete`` in the transaction that does
    (or queues) its work, so the work happens once."""

    id: int
    kind: str
    page_id: int | None
    owner: str

    def complete(self, session: Session, now: datetime) -> bool:
        """Mark done; False when the claim was lost (its lease ran out and another replica took it)."""
        return schedule.complete(session, self.id, self.owner, now)


Handler = Callable[..., None]  # handler(deps, claimed: Claimed, now: datetime)


class Deadlines:
    """Which handler does each kind of deadline, and the tick that claims what is due and hands it over."""

    def __init__(self, deps: object, db: Database) -> None:
        self._deps = deps
        self._db = db
        self._handlers: dict[str, Handler] = {}

    def register(self, kind: str, handler: Handler) -> None:
        if kind in self._handlers:
            raise ValueError(f"deadline kind {kind!r} is registered twice")
        self._handlers[kind] = handler

    def run_due(self, owner: str, now: datetime) -> int:
        """Do everything due at ``now``; returns how many deadlines were handled."""
        with self._db.transaction() as session:
            due = [Claimed(d.id, d.kind, d.page_id, owner)
                   for d in schedule.claim_due(session, now, owner, lease=LEASE, limit=BATCH)]
        for claimed in due:
            handler = self._handlers.get(claimed.kind)
            try:
                if handler is None:
                    raise LookupError(f"no handler for deadlines of kind {claimed.kind!r}")
                handler(self._deps, claimed, now)
            except (SlackCallFailed, OSError, LookupError) as exc:
                log.warning("deadline %s failed, will retry: %s", claimed.id, exc)
                with self._db.transaction() as session:
                    schedule.release(session, claimed.id, owner, str(exc))
        return len(due)


class Scheduler:
    """One interval job per process runs the tick."""

    def __init__(self, deadlines: Deadlines, clock: Callable[[], datetime], *, interval: float = TICK_SECONDS,
                 ticked: Callable[[], None] = lambda: None) -> None:
        self.deadlines = deadlines
        self.ticked = ticked  # told after each tick (the metrics count them: a scheduler that stopped shows)
        self.clock = clock
        self.owner = claims.new_owner()
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
            self.deadlines.run_due(self.owner, self.clock())
        except Exception:  # the next tick tries again; a failing database must not kill the scheduler
            log.exception("tick failed")
        self.ticked()

    def shutdown(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=True)
