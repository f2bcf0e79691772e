"""Deadlines as a mechanism: rows with a due time in the database (SLA notices, escalations, follow-up reminders,
handoffs), claimed when due by one process and handed to the handler registered for their kind; and the scheduler
thread that runs them when they are due.

The scheduler sleeps until the earliest pending deadline. A commit in this process that writes an earlier one wakes
it at once (storage/wakeups.py); other replicas hear of it by PostgreSQL ``NOTIFY``, and a slow safety poll finds
whatever a lost notification (or another process on SQLite) left. Every replica runs the same loop and the claims in
the database decide who does what (FOR UPDATE SKIP LOCKED on PostgreSQL). A claim whose work failed is released and
retried; a claim whose process died is taken again when its lease runs out. Tests call `Deadlines.run_due` with an
explicit `now`, or run the real scheduler on a clock they move.

APScheduler is not used here: it would hold one job (a tick) whose next run time we move by hand, and its store,
misfire rules and executor add nothing to a loop that waits on a condition with a timeout.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from bot.slack.gateway import SlackCallFailed
from storage import claims, schedule
from storage.db import Database

log = logging.getLogger(__name__)

SAFETY_POLL_SECONDS = 10.0  # the longest the scheduler sleeps without looking at the database
RETRY_SECONDS = 1.0  # after a deadline failed, the earliest it is tried again
LEASE = timedelta(seconds=15)  # renewed every quarter while held: a dead replica's claims are free within it
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
        self._held: dict[int, str] = {}  # claims whose handlers have not finished: deadline id -> owner
        self._held_lock = threading.Lock()

    def register(self, kind: str, handler: Handler) -> None:
        if kind in self._handlers:
            raise ValueError(f"deadline kind {kind!r} is registered twice")
        self._handlers[kind] = handler

    def run_due(self, owner: str, now: datetime) -> int:
        """Do everything due at ``now`` (up to one batch); returns how many deadlines were handled."""
        return self.run_batch(owner, now)[0]

    def run_batch(self, owner: str, now: datetime) -> tuple[int, int, datetime | None]:
        """Claim up to one batch of what is due and do it; returns (claimed, failed, when the next deadline nobody
        holds is due), the claim and that read in one transaction."""
        with self._db.transaction() as session:
            due = [Claimed(d.id, d.kind, d.page_id, owner)
                   for d in schedule.claim_due(session, now, owner, lease=LEASE, limit=BATCH)]
            after = schedule.next_due(session, now, lease=LEASE)
        failed = 0
        with self._held_lock:
            self._held.update((claimed.id, owner) for claimed in due)
        try:
            for claimed in due:
                failed += self._handle(claimed, owner, now)
        finally:
            with self._held_lock:
                for claimed in due:
                    self._held.pop(claimed.id, None)
        return len(due), failed, after

    def renew_held(self, now: datetime) -> None:
        """Renew the claims still in hand (the scheduler's heartbeat calls this every quarter of the lease)."""
        with self._held_lock:
            by_owner: dict[str, list[int]] = {}
            for deadline_id, owner in self._held.items():
                by_owner.setdefault(owner, []).append(deadline_id)
        for owner, ids in by_owner.items():
            with self._db.transaction() as session:
                schedule.renew(session, ids, now, owner)

    def _handle(self, claimed: Claimed, owner: str, now: datetime) -> int:
        """Run one claimed deadline's handler; 1 when it failed (its claim given back for a retry)."""
        handler = self._handlers.get(claimed.kind)
        try:
            if handler is None:
                raise LookupError(f"no handler for deadlines of kind {claimed.kind!r}")
            handler(self._deps, claimed, now)
        except (SlackCallFailed, OSError, LookupError) as exc:
            log.warning("deadline %s failed, will retry: %s", claimed.id, exc)
            with self._db.transaction() as session:
                schedule.release(session, claimed.id, owner, str(exc))
            return 1
        finally:
            with self._held_lock:
                self._held.pop(claimed.id, None)
        return 0

    def next_due(self, now: datetime) -> datetime | None:
        """When the earliest deadline nobody holds is due."""
        with self._db.read() as session:
            return schedule.next_due(session, now, lease=LEASE)


class Scheduler:
    """A thread that runs the deadlines when they are due: it sleeps until the earliest one (at most a safety poll),
    and `due_at` wakes it sooner when a new deadline is earlier. ``clock`` is Firebell's clock; a test that moves it
    calls `clock_moved` so that the sleeper looks at it again."""

    def __init__(self, deadlines: Deadlines, clock: Callable[[], datetime], *,
                 safety_poll: float = SAFETY_POLL_SECONDS, ticked: Callable[[], None] = lambda: None,
                 look: Callable[[datetime], datetime | None] | None = None) -> None:
        self.deadlines = deadlines
        self.look = look or deadlines.next_due  # a pass that does not know what is due reads this
        self.ticked = ticked  # told after each pass (the metrics count them: a scheduler that stopped shows)
        self.clock = clock
        self.owner = claims.new_owner()
        self.safety_poll = safety_poll
        self._cond = threading.Condition()
        self._wake_at: datetime | None = None  # when the sleeper gets up (Firebell's clock)
        self._look = False  # get up now and read the database: something may have changed
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._heartbeat: threading.Thread | None = None
        self._stopped = threading.Event()

    def _renew(self) -> None:
        """While handlers run, renew their claims every quarter of the lease (no query when none is held)."""
        while not self._stopped.wait(LEASE.total_seconds() / 4):
            try:
                self.deadlines.renew_held(self.clock())
            except Exception:  # the database may be away: the next beat tries again
                log.exception("could not renew the deadline claims")

    def start(self) -> None:
        """Start now: deadlines that passed while the bot was down are handled at once (and say so)."""
        self._thread = threading.Thread(target=self._run, name="firebell-scheduler", daemon=True)
        self._thread.start()
        self._heartbeat = threading.Thread(target=self._renew, name="firebell-scheduler-heartbeat", daemon=True)
        self._heartbeat.start()
        log.info("scheduler started (safety poll every %ss, owner %s)", self.safety_poll, self.owner)

    def due_at(self, when: datetime | None) -> None:
        """A deadline due at ``when`` was written (None: something may have changed; look)."""
        with self._cond:
            if when is None:
                self._look = True
            elif self._wake_at is None or when < self._wake_at:
                self._wake_at = when
            else:
                return
            self._cond.notify_all()

    def clock_moved(self) -> None:
        with self._cond:
            self._cond.notify_all()

    @property
    def sleeping_until(self) -> datetime | None:
        """When the scheduler gets up next, by Firebell's clock (None: at the next safety poll)."""
        with self._cond:
            return self._wake_at

    def shutdown(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        self._stopped.set()
        if self._thread is not None:
            self._thread.join(timeout=60)

    def _run(self) -> None:
        woke_for: datetime | None = None  # the first pass looks: what came due while nothing ran
        while True:
            with self._cond:
                if self._stopping:
                    return
                self._look = False
            try:
                wake_at = self._pass(woke_for)
            except Exception:  # a failing database must not kill the scheduler: try again shortly
                log.exception("scheduler pass failed")
                wake_at = self.clock() + timedelta(seconds=RETRY_SECONDS)
            self.ticked()
            woke_for = self._sleep(wake_at)

    def _pass(self, due: datetime | None) -> datetime | None:
        """Do what is due; returns when the next deadline is (None: nothing pending that nobody holds). ``due`` is
        when the sleeper meant to get up (None: it was told to look, or the safety poll came): a pass that knows
        something is due claims at once; one that does not, reads first (an idle pass is that one read)."""
        now = self.clock()
        if due is None or due > now:
            due = self.look(now)
        while due is not None and due <= now:
            claimed, failed, due = self.deadlines.run_batch(self.owner, now)
            if failed:  # a failure waits before its retry
                return now + timedelta(seconds=RETRY_SECONDS)
            if not claimed:  # another replica got there first (or holds a lock on it a moment longer)
                return due if due is None or due > now else now + timedelta(seconds=0.05)
            now = self.clock()
        return due

    def _sleep(self, wake_at: datetime | None) -> datetime | None:
        """Until ``wake_at`` (or an earlier deadline written meanwhile) is due, or until told to look, or the safety
        poll; returns the due time it got up for (None: told to look, or the poll)."""
        woke_for = None
        give_up = time.monotonic() + self.safety_poll  # real time: the safety poll is not the test clock's
        with self._cond:
            if wake_at is not None and (self._wake_at is None or wake_at < self._wake_at):
                self._wake_at = wake_at  # unless a deadline written during the pass is earlier
            while not self._stopping and not self._look:
                left = give_up - time.monotonic()
                if self._wake_at is not None:
                    until_due = (self._wake_at - self.clock()).total_seconds()
                    if until_due <= 0:
                        woke_for = self._wake_at
                        break
                    left = min(left, until_due)
                if left <= 0:
                    break
                self._cond.wait(left)
            self._wake_at = None
            return None if self._look else woke_for
