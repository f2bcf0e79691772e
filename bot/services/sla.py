"""SLA clocks of incidents: re-planned inside every change, paused and resumed, and their notices sent."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from bot.deps import Deps
from bot.domain import permissions, sla
from bot.domain.errors import InvalidInput
from bot.domain.lifecycle import InvalidTransition
from bot.domain.model import Incident, Severity, Status
from bot.domain.permissions import Restricted
from bot.domain.report import human
from bot.services.effects import publish
from bot.services.incidents import Target, changing
from bot.slack import text as t
from storage import repositories as repo
from storage import schedule
from storage.models import IncidentRow

LATE_AFTER = timedelta(seconds=5)  # later than this (the tick runs every 0.5 s), a notice says it is late


def facts(session: Session, row: IncidentRow) -> sla.Facts:
    pauses = schedule.pauses(session, row.id) if schedule.has_sla_rows(session, row.id) else []
    return sla.Facts(
        declared_at=row.declared_at, acknowledged_at=row.acknowledged_at, resolved_at=row.resolved_at,
        reopened_at=row.reopened_at, last_update_at=row.last_update_at,
        pauses=tuple((p.started_at, p.ended_at) for p in pauses),
    )


def policy(deps: Deps, severity: str) -> sla.Policy:
    return deps.config.severities[Severity(severity)].sla()


def refresh(deps: Deps, session: Session, row: IncidentRow) -> list[sla.ClockRun]:
    """Recompute the incident's clocks from their original starts and make its pending notices match."""
    runs = sla.runs(facts(session, row), policy(deps, row.severity))
    schedule.record_clock_runs(session, row, runs)
    wanted = sla.notices(runs, deps.config.reminders_at) if Status(row.status) is not Status.RESOLVED else []
    schedule.plan_sla_notices(session, row, wanted, deps.clock())
    schedule.sla_rows_recorded(session, row.id)
    return runs


def pause(deps: Deps, session: Session, row: IncidentRow, actor: str, reason: str) -> None:
    if Status(row.status) is Status.RESOLVED:
        raise InvalidTransition(f"INC-{row.number} is resolved; its clocks are stopped.")
    if not reason.strip():
        raise InvalidInput("reason", "Say why the clock is paused, e.g. `/incident sla pause waiting on the vendor`.")
    if any(p.ended_at is None for p in schedule.pauses(session, row.id)):
        raise InvalidTransition(f"INC-{row.number}'s resolve clock is already paused; `/incident sla resume` first.")
    schedule.add_pause(session, row.id, at=deps.clock(), by=actor, reason=reason.strip())


def resume(deps: Deps, session: Session, row: IncidentRow, actor: str) -> timedelta:
    open_pause = next((p for p in schedule.pauses(session, row.id) if p.ended_at is None), None)
    if open_pause is None:
        raise InvalidTransition(f"INC-{row.number}'s resolve clock is not paused.")
    open_pause.ended_at, open_pause.ended_by = deps.clock(), actor
    session.flush()
    return open_pause.ended_at - open_pause.started_at


def notice_text(incident: Incident, clock: sla.Clock, fraction: float, due: datetime, run: sla.ClockRun | None,
                act: list[str], now: datetime) -> tuple[str, bool]:
    """The message of an SLA notice, and whether it is a breach (which also goes to the broadcast channel)."""
    target = human(run.target) if run else "?"
    who = " ".join(t.user(u) for u in act)
    if fraction >= sla.BREACH:
        what = ("no status update was posted" if clock is sla.Clock.UPDATE else f"the *{clock.label}* SLA is breached")
        message = (f"🚨 *{incident.ref}*: {what} ({target}, due {t.date_token(due)}). {who}")
    else:
        left = run.left(now) if run else timedelta(0)
        verb = {sla.Clock.ACK: "acknowledge with `/incident ack`", sla.Clock.RESOLVE: "resolve it or "
                "`/incident sla pause <why>`", sla.Clock.UPDATE: "post an update with `/incident update`"}[clock]
        message = (f"⏳ *{incident.ref}*: {fraction:.0%} of the *{clock.label}* ({target}) has passed; "
                   f"{human(max(left, timedelta(0)))} left, due {t.date_token(due)}. "
                   f"{who}: {verb}.")
    late = now - due
    if late > LATE_AFTER:
        message += f"\n_Sent {human(late)} late: Firebell was not running when it was due._"
    return message, fraction >= sla.BREACH


def pause_clock(deps: Deps, target: Target, actor: str, reason: str) -> Incident:
    """Pause the resolve clock (waiting on a vendor…): commander and admins only; paused time is excluded."""
    with changing(deps, target) as (session, row):
        _check(deps, row, actor)
        pause(deps, session, row, actor, reason)
        repo.add_timeline_event(session, row, at=deps.clock(), kind="sla paused", actor=actor, text=reason.strip())
        incident = repo.to_domain(row, with_timeline=False)
        publish(deps, session, incident,
                say=f"⏸ <@{actor}> paused the resolve clock of {incident.ref}: {t.escape(reason.strip())}")
    return incident


def resume_clock(deps: Deps, target: Target, actor: str) -> Incident:
    with changing(deps, target) as (session, row):
        _check(deps, row, actor)
        paused_for = resume(deps, session, row, actor)
        repo.add_timeline_event(session, row, at=deps.clock(), kind="sla resumed", actor=actor,
                                text=f"Resumed after {human(paused_for)}")
        incident = repo.to_domain(row, with_timeline=False)
        publish(deps, session, incident, say=f"▶️ <@{actor}> resumed the resolve clock of {incident.ref} "
                                             f"(paused {human(paused_for)}, not counted).")
    return incident


def _check(deps: Deps, row: IncidentRow, actor: str) -> None:
    permissions.check_allowed(Restricted.SLA, actor, ref=f"INC-{row.number}", commander=row.commander, on_call=(),
                              admins=deps.config.admins)
