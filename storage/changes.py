"""Change events and the incidents they caused. Every function takes the caller's Session."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.domain.changes import Change
from storage.dialect import insert_for
from storage.models import ChangeEventRow, IncidentChangeRow


def _domain(row: ChangeEventRow) -> Change:
    return Change(service=row.service, summary=row.summary, at=row.at, url=row.url, author=row.author,
                  key=row.external_id, id=row.id, recorded_by=row.recorded_by)


def add(session: Session, team_id: str, change: Change, now: datetime) -> tuple[Change, bool]:
    """Store the change; with a key already stored, nothing new (returns the stored one, False)."""
    values = {"team_id": team_id, "service": change.service, "summary": change.summary, "url": change.url,
              "author": change.author, "at": change.at, "external_id": change.key, "recorded_at": now,
              "recorded_by": change.recorded_by}
    insert = insert_for(session)
    new_id = session.execute(insert(ChangeEventRow).values(**values).on_conflict_do_nothing()
                             .returning(ChangeEventRow.id)).scalar()
    if new_id is not None:
        return _domain(session.get_one(ChangeEventRow, new_id)), True
    existing = session.execute(select(ChangeEventRow).where(ChangeEventRow.team_id == team_id,
                                                            ChangeEventRow.external_id == change.key)).scalar_one()
    return _domain(existing), False


def between(session: Session, team_id: str | None, since: datetime | None, until: datetime | None,
            limit: int = 100) -> list[Change]:
    """The team's changes in (since, until], newest first."""
    query = select(ChangeEventRow).order_by(ChangeEventRow.at.desc(), ChangeEventRow.id.desc()).limit(limit)
    if team_id is not None:
        query = query.where(ChangeEventRow.team_id == team_id)
    if since is not None:
        query = query.where(ChangeEventRow.at > since)
    if until is not None:
        query = query.where(ChangeEventRow.at <= until)
    return [_domain(row) for row in session.execute(query).scalars()]


def find(session: Session, team_id: str, change_id: int) -> Change | None:
    row = session.get(ChangeEventRow, change_id)
    return _domain(row) if row is not None and row.team_id == team_id else None


def link(session: Session, incident_id: int, change_id: int, by: str, at: datetime) -> None:
    insert = insert_for(session)
    session.execute(insert(IncidentChangeRow).values(incident_id=incident_id, change_id=change_id, linked_by=by,
                                                     linked_at=at).on_conflict_do_update(
        index_elements=[IncidentChangeRow.incident_id], set_={"change_id": change_id, "linked_by": by,
                                                              "linked_at": at}))


def caused_by(session: Session, incident_ids: list[int]) -> dict[int, Change]:
    if not incident_ids:
        return {}
    rows = session.execute(select(IncidentChangeRow.incident_id, ChangeEventRow).join(
        ChangeEventRow, ChangeEventRow.id == IncidentChangeRow.change_id).where(
        IncidentChangeRow.incident_id.in_(incident_ids)))
    return {incident_id: _domain(row) for incident_id, row in rows}


def counts(session: Session, since: datetime | None, until: datetime | None) -> tuple[int, int]:
    """(changes in the period, of which linked to an incident)."""
    query = select(func.count(func.distinct(ChangeEventRow.id)),
                   func.count(func.distinct(IncidentChangeRow.change_id))).outerjoin(
        IncidentChangeRow, IncidentChangeRow.change_id == ChangeEventRow.id)
    if since is not None:
        query = query.where(ChangeEventRow.at >= since)
    if until is not None:
        query = query.where(ChangeEventRow.at < until)
    total, linked = session.execute(query).one()
    return int(total), int(linked)
