"""Follow-up rows: listed across incidents, marked done, matched to their owner; their reminders are deadline rows."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session

from bot.domain.followups import FollowUp
from storage import wakeups
from storage.models import DeadlineRow, FollowUpRow, IncidentRow
from storage.repositories import follow_up

REMINDER = "followup"  # the kind of deadline row written here


def open_follow_ups(session: Session, team_id: str, owner: str | None = None, limit: int = 100) -> list[FollowUp]:
    """Open follow-ups of the team's incidents (only ``owner``'s when given): those due soonest first, then undated
    ones, oldest first."""
    query = _with_incident().where(IncidentRow.team_id == team_id, FollowUpRow.done_at.is_(None))
    if owner is not None:
        query = query.where(FollowUpRow.owner == owner)
    query = query.order_by(FollowUpRow.due_on.is_(None), FollowUpRow.due_on, FollowUpRow.id).limit(limit)
    return [follow_up(row, incident) for row, incident in session.execute(query)]


def _with_incident() -> Select[FollowUpRow, IncidentRow]:
    return select(FollowUpRow, IncidentRow).join(IncidentRow, IncidentRow.id == FollowUpRow.incident_id)


def locked(session: Session, team_id: str, follow_up_id: int) -> tuple[FollowUpRow, IncidentRow] | None:
    """The team's follow-up and its incident, its row locked (two people closing it at once queue)."""
    found = session.execute(_with_incident().where(FollowUpRow.id == follow_up_id, IncidentRow.team_id == team_id)
                            .with_for_update(of=FollowUpRow).execution_options(populate_existing=True)).first()
    return None if found is None else (found[0], found[1])


def get(session: Session, follow_up_id: int) -> tuple[FollowUpRow, IncidentRow] | None:
    found = session.execute(_with_incident().where(FollowUpRow.id == follow_up_id)).first()
    return None if found is None else (found[0], found[1])


def schedule_reminder(session: Session, row: FollowUpRow, due: datetime) -> None:
    session.add(DeadlineRow(incident_id=row.incident_id, key=f"followup:{row.id}", kind=REMINDER,
                            follow_up_id=row.id, due_at=due, attempts=0))
    session.flush()
    wakeups.deadline_written(session, due)


def cancel_reminder(session: Session, follow_up_id: int, now: datetime) -> None:
    session.execute(update(DeadlineRow).where(
        DeadlineRow.follow_up_id == follow_up_id, DeadlineRow.sent_at.is_(None), DeadlineRow.cancelled_at.is_(None)
    ).values(cancelled_at=now))
