"""The SLA clock use cases: pause the resolve clock (waiting on a vendor…) and resume it. Commander and admins only;
paused time is not counted. Planning the clocks themselves happens inside every change (clock_plan.py)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from bot.deps import Deps
from bot.domain import humanize, permissions
from bot.domain.errors import InvalidInput
from bot.domain.incident import Incident, Status
from bot.domain.permissions import Restricted
from bot.domain.transitions import InvalidTransition
from bot.services.change import Target, incident_change
from bot.services.slack_effects import publish
from bot.slack import text as t
from storage import repositories as repo
from storage import schedule
from storage.models import IncidentRow


def pause_clock(deps: Deps, target: Target, actor: str, reason: str) -> Incident:
    with incident_change(deps, target) as (session, row):
        _check(deps, row, actor)
        _pause(deps, session, row, actor, reason)
        repo.add_timeline_event(session, row, at=deps.clock(), kind="sla paused", actor=actor, text=reason.strip())
        incident = repo.to_domain(row, with_timeline=False)
        publish(deps, session, incident,
                say=f"⏸ <@{actor}> paused the resolve clock of {incident.ref}: {t.escape(reason.strip())}")
    return incident


def resume_clock(deps: Deps, target: Target, actor: str) -> Incident:
    with incident_change(deps, target) as (session, row):
        _check(deps, row, actor)
        paused_for = _resume(deps, session, row, actor)
        repo.add_timeline_event(session, row, at=deps.clock(), kind="sla resumed", actor=actor,
                                text=f"Resumed after {humanize.duration(paused_for)}")
        incident = repo.to_domain(row, with_timeline=False)
        publish(deps, session, incident, say=f"▶️ <@{actor}> resumed the resolve clock of {incident.ref} "
                                             f"(paused {humanize.duration(paused_for)}, not counted).")
    return incident


def _pause(deps: Deps, session: Session, row: IncidentRow, actor: str, reason: str) -> None:
    if Status(row.status) is Status.RESOLVED:
        raise InvalidTransition(f"{row.ref} is resolved; its clocks are stopped.")
    if not reason.strip():
        raise InvalidInput("reason", "Say why the clock is paused, e.g. `/incident sla pause waiting on the vendor`.")
    if any(p.ended_at is None for p in schedule.pauses(session, row.id)):
        raise InvalidTransition(f"{row.ref}'s resolve clock is already paused; `/incident sla resume` first.")
    schedule.add_pause(session, row.id, at=deps.clock(), by=actor, reason=reason.strip())


def _resume(deps: Deps, session: Session, row: IncidentRow, actor: str) -> timedelta:
    open_pause = next((p for p in schedule.pauses(session, row.id) if p.ended_at is None), None)
    if open_pause is None:
        raise InvalidTransition(f"{row.ref}'s resolve clock is not paused.")
    open_pause.ended_at, open_pause.ended_by = deps.clock(), actor
    session.flush()
    return open_pause.ended_at - open_pause.started_at


def _check(deps: Deps, row: IncidentRow, actor: str) -> None:
    permissions.check_allowed(Restricted.SLA, actor, ref=row.ref, commander=row.commander, on_call=(),
                              admins=deps.config.admins)
