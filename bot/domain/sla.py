"""SLA clocks as pure functions: which clocks run for an incident, when each notice is due, how each ended.

Clocks (per severity policy): ``ack`` from declare to the first acknowledgement; ``resolve`` from declare
(or the last reopen) to resolve, minus paused time; ``update`` from the last status update (or declare, or
reopen) to the next one. A severity change recomputes the running clocks from their original start.

The record is true to what happened: a run that has stopped keeps the target, due time and outcome it stopped
with (a later severity change never rewrites it); an update run is stopped by the next status update (met if that
update came by its due time, breached if after); resolving stops every run. See ``settle``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from bot.domain.clocktime import BusinessHours, Pause, counted, due_at

BREACH = 1.0


class SlaClock(StrEnum):
    ACK = "ack"
    RESOLVE = "resolve"
    UPDATE = "update"

    @property
    def label(self) -> str:
        return {SlaClock.ACK: "time to acknowledge", SlaClock.RESOLVE: "time to resolve",
                SlaClock.UPDATE: "status update"}[self]


@dataclass(frozen=True)
class Policy:
    ack: timedelta
    resolve: timedelta
    update_every: timedelta
    hours: BusinessHours | None = None

    def window(self, clock: SlaClock) -> timedelta:
        return {SlaClock.ACK: self.ack, SlaClock.RESOLVE: self.resolve, SlaClock.UPDATE: self.update_every}[clock]


@dataclass(frozen=True)
class Facts:
    """What the clocks depend on, read off an incident."""

    declared_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    reopened_at: datetime | None
    last_update_at: datetime | None
    pauses: tuple[Pause, ...] = ()


@dataclass(frozen=True)
class ClockRun:
    """One run of an SLA clock: its target, due time (None while paused) and when it stopped. Planned runs carry the
    business hours and pauses they count with; runs read back from the database carry what was recorded."""

    clock: SlaClock
    started_at: datetime
    target: timedelta
    due_at: datetime | None  # None while paused
    stopped_at: datetime | None
    hours: BusinessHours | None = None
    pauses: tuple[Pause, ...] = ()
    recorded: tuple[str, timedelta] | None = None  # the outcome it stopped with ("met" | "breached", by how much)

    @property
    def running(self) -> bool:
        return self.stopped_at is None

    @property
    def key(self) -> tuple[SlaClock, datetime]:
        return self.clock, self.started_at

    def left(self, now: datetime) -> timedelta:
        return self.target - counted(self.started_at, now, self.hours, self.pauses)

    def verdict(self) -> tuple[str, timedelta] | None:
        """As recorded: ("met" | "breached", by how much) once stopped; None while running."""
        if self.stopped_at is None:
            return None
        if self.recorded is not None:
            return self.recorded
        if self.due_at is None:  # stopped while paused: what was counted against the target
            outcome, by = self.outcome(self.stopped_at)
            return outcome, by
        if self.stopped_at <= self.due_at:
            return "met", self.due_at - self.stopped_at
        return "breached", self.stopped_at - self.due_at

    def stop(self, at: datetime) -> ClockRun:
        """This run stopped at ``at``, with its outcome recorded."""
        stopped = replace(self, stopped_at=at, recorded=None)
        return replace(stopped, recorded=stopped.verdict())

    def outcome(self, now: datetime) -> tuple[str, timedelta]:
        """("met" | "breached" | "running", by how much: margin left when met, overrun when breached)."""
        end = self.stopped_at or now
        left = self.target - counted(self.started_at, end, self.hours, self.pauses)
        if left < timedelta(0):
            return "breached", -left
        return ("met" if self.stopped_at else "running"), left


@dataclass(frozen=True)
class Notice:
    clock: SlaClock
    started_at: datetime
    fraction: float
    due_at: datetime

    @property
    def key(self) -> str:
        return f"sla:{self.clock.value}:{self.started_at.isoformat()}:{self.fraction:g}"

    @property
    def is_breach(self) -> bool:
        return self.fraction >= BREACH


def runs(facts: Facts, policy: Policy) -> list[ClockRun]:
    """The current run of each clock (stopped ones included, so their outcome can be recorded)."""
    restart = facts.reopened_at or facts.declared_at
    resolve_pauses = tuple(p for p in facts.pauses if p[1] is None or p[1] > restart)
    resolved = facts.resolved_at if facts.resolved_at and facts.resolved_at >= restart else None
    last_update = max((t for t in (facts.last_update_at, restart) if t is not None), default=restart)
    starts = {
        SlaClock.ACK: (facts.declared_at, facts.acknowledged_at or facts.resolved_at, ()),
        SlaClock.RESOLVE: (restart, resolved, resolve_pauses),
        SlaClock.UPDATE: (last_update, resolved, ()),
    }
    result = []
    for clock, (start, stopped, pauses) in starts.items():
        target = policy.window(clock)
        result.append(ClockRun(clock=clock, started_at=start, target=target,
                               due_at=due_at(start, target, policy.hours, pauses), stopped_at=stopped,
                               hours=policy.hours, pauses=tuple(pauses)))
    return result


def settle(recorded: Sequence[ClockRun], planned: Sequence[ClockRun]) -> tuple[list[ClockRun], list[ClockRun]]:
    """What the record of an incident's clocks becomes, given what was recorded and the runs planned now:
    (every run to record, the current run of each clock).

    - A recorded run that has stopped stays exactly as recorded: a severity change re-plans only running clocks.
    - A planned run that stops now is recorded with its outcome (counted with its business hours and pauses).
    - A recorded run still running that is no longer planned was superseded by a newer run of the same clock (the
      next status update restarts the update cadence): it stops where the newer run starts.
    """
    kept = {run.key: run for run in recorded if not run.running}
    current = [kept.get(run.key) or (run.stop(run.stopped_at) if run.stopped_at else run) for run in planned]
    starts = {run.clock: run.started_at for run in current}
    planned_keys = {run.key for run in current}
    superseded = [run.stop(max(starts.get(run.clock, run.started_at), run.started_at)) for run in recorded
                  if run.running and run.key not in planned_keys]
    return [*superseded, *current], current


def notices(clock_runs: Sequence[ClockRun], fractions: Sequence[float]) -> list[Notice]:
    """Every notice the running clocks call for: a reminder at each fraction, the breach at 100%."""
    planned = []
    for run in clock_runs:
        if not run.running:
            continue
        for fraction in (*fractions, BREACH):
            due = due_at(run.started_at, run.target * fraction, run.hours, run.pauses)
            if due is not None:
                planned.append(Notice(run.clock, run.started_at, fraction, due))
    return planned


def nearest(clock_runs: Sequence[ClockRun]) -> ClockRun | None:
    running = [r for r in clock_runs if r.running and r.due_at is not None]
    return min(running, key=lambda r: r.due_at) if running else None  # type: ignore[arg-type, return-value]
