"""Incidents created in the current transaction whose SLA rows (clock runs, notices, pauses) were never written:
the first SLA re-plan of a new incident knows they are none and need not read them back. The mark lives in the
session's ``info``, so it ends with the session."""

from __future__ import annotations

from sqlalchemy.orm import Session

_KEY = "firebell.incidents_without_sla_rows"


def mark_new(session: Session, incident_id: int) -> None:
    session.info.setdefault(_KEY, set()).add(incident_id)


def is_new(session: Session, incident_id: int) -> bool:
    """True for an incident added in this session whose SLA rows have not been recorded yet."""
    return incident_id in session.info.get(_KEY, ())


def sla_rows_written(session: Session, incident_id: int) -> None:
    session.info.get(_KEY, set()).discard(incident_id)
