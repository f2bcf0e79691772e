"""Incidents and timeline events written with plain SQL, the way any writer would (a script, a restore): the search
index must follow them through its triggers, not through Firebell's code."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import DateTime, bindparam, text
from sqlalchemy.orm import Session

START = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)


def _utc(at: datetime, session: Session) -> datetime:
    at = at.astimezone(UTC)
    return at.replace(tzinfo=None) if session.get_bind().dialect.name == "sqlite" else at


def add_incident(session: Session, number: int, title: str, *, description: str = "", team_id: str = "T1",
                 status: str = "declared", root_cause: str | None = None, resolution: str | None = None,
                 category: str | None = None, declared_at: datetime | None = None) -> int:
    declared_at = declared_at or START + timedelta(hours=number)
    resolved_at = declared_at + timedelta(hours=1) if status == "resolved" else None
    statement = text(
        "INSERT INTO incidents (team_id, number, title, description, severity, status, channel_id, declared_by, "
        "commander, declared_at, resolved_at, root_cause_category, root_cause, resolution) VALUES (:team, :number, "
        ":title, :description, 'sev2', :status, :channel, 'U1', 'U1', :declared_at, :resolved_at, :category, "
        ":root_cause, :resolution) RETURNING id"
    ).bindparams(bindparam("declared_at", type_=DateTime()), bindparam("resolved_at", type_=DateTime()))
    return session.execute(statement, {
        "team": team_id, "number": number, "title": title, "description": description, "status": status,
        "channel": f"C{team_id}{number:05d}", "declared_at": _utc(declared_at, session),
        "resolved_at": None if resolved_at is None else _utc(resolved_at, session), "category": category,
        "root_cause": root_cause, "resolution": resolution,
    }).scalar_one()


def add_event(session: Session, incident_id: int, kind: str, body: str, *, at: datetime | None = None) -> int:
    statement = text("INSERT INTO timeline_events (incident_id, at, kind, actor, text) "
                     "VALUES (:incident, :at, :kind, 'U1', :body) RETURNING id").bindparams(
        bindparam("at", type_=DateTime()))
    return session.execute(statement, {"incident": incident_id, "at": _utc(at or START, session), "kind": kind,
                                       "body": body}).scalar_one()


def update_incident(session: Session, incident_id: int, **values: str | None) -> None:
    assignments = ", ".join(f"{column} = :{column}" for column in values)
    session.execute(text(f"UPDATE incidents SET {assignments} WHERE id = :id"), {**values, "id": incident_id})
