"""Problem records and which incidents they link. Every function takes the caller's Session."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from bot.domain.problems import LinkedIncident, Problem, ProblemCount, ProblemStatus, ProblemSummary, ref
from storage.dialect import insert_for
from storage.models import IncidentRow, ProblemCounter, ProblemLinkRow, ProblemRow
from storage.types import as_utc

UNRESOLVED = (ProblemStatus.OPEN.value, ProblemStatus.KNOWN_ERROR.value)



def take_number(session: Session, team_id: str) -> int:
    """The team's next problem number, in one upsert; its counter row stays locked until the transaction ends."""
    upsert = insert_for(session)(ProblemCounter).values(team_id=team_id, last_number=1).on_conflict_do_update(
        index_elements=[ProblemCounter.team_id], set_={"last_number": ProblemCounter.last_number + 1})
    return session.execute(upsert.returning(ProblemCounter.last_number)).scalar_one()


def add(session: Session, *, team_id: str, number: int, title: str, by: str, at: datetime) -> ProblemRow:
    row = ProblemRow(team_id=team_id, number=number, title=title, status=ProblemStatus.OPEN.value, created_by=by,
                     created_at=at, updated_at=at)
    session.add(row)
    session.flush()
    return row


def row_by_number(session: Session, team_id: str, number: int, *, lock: bool = False) -> ProblemRow | None:
    query = select(ProblemRow).where(ProblemRow.team_id == team_id, ProblemRow.number == number)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return session.execute(query).scalar_one_or_none()


def link(session: Session, incident_id: int, problem_id: int, *, by: str, at: datetime) -> int | None:
    """Link the incident to the problem (it leaves the one it was linked to); the id of that earlier one."""
    before = linked_problem_id(session, incident_id)
    statement = insert_for(session)(ProblemLinkRow).values(
        incident_id=incident_id, problem_id=problem_id, linked_by=by, linked_at=at)
    statement = statement.on_conflict_do_update(index_elements=[ProblemLinkRow.incident_id], set_={
        "problem_id": problem_id, "linked_by": by, "linked_at": at})
    session.execute(statement)
    return before


def unlink(session: Session, incident_id: int) -> int | None:
    """Unlink the incident; the id of the problem it was linked to, None when there was none."""
    return session.execute(delete(ProblemLinkRow).where(ProblemLinkRow.incident_id == incident_id)
                           .returning(ProblemLinkRow.problem_id)).scalar_one_or_none()


def linked_problem_id(session: Session, incident_id: int) -> int | None:
    return session.execute(select(ProblemLinkRow.problem_id).where(ProblemLinkRow.incident_id == incident_id)
                           ).scalar_one_or_none()


def to_domain(session: Session, row: ProblemRow) -> Problem:
    linked = session.execute(
        select(IncidentRow).join(ProblemLinkRow, ProblemLinkRow.incident_id == IncidentRow.id)
        .where(ProblemLinkRow.problem_id == row.id).order_by(IncidentRow.declared_at, IncidentRow.id)).scalars()
    return Problem(
        id=row.id, team_id=row.team_id, number=row.number, title=row.title, status=ProblemStatus(row.status),
        workaround=row.workaround, root_cause=row.root_cause, created_by=row.created_by, created_at=row.created_at,
        updated_at=row.updated_at, resolved_at=row.resolved_at,
        incidents=tuple(LinkedIncident(incident_id=i.id, number=i.number, title=i.title, status=i.status,
                                       declared_at=i.declared_at, commander=i.commander, channel_id=i.channel_id,
                                       private=i.private)
                        for i in linked))


def _summary(row: ProblemRow) -> ProblemSummary:
    return ProblemSummary(row.number, row.title, ProblemStatus(row.status), row.workaround)


def summaries_of(session: Session, incident_ids: Sequence[int]) -> dict[int, ProblemSummary]:
    """The problem each of these incidents belongs to, by incident id (incidents without one are left out)."""
    if not incident_ids:
        return {}
    rows = session.execute(select(ProblemLinkRow.incident_id, ProblemRow).join(
        ProblemRow, ProblemRow.id == ProblemLinkRow.problem_id).where(ProblemLinkRow.incident_id.in_(incident_ids)))
    return {incident_id: _summary(problem) for incident_id, problem in rows}


def unresolved_with_counts(session: Session, team_id: str) -> list[ProblemCount]:
    """Open and known-error problems with how many incidents each links, most incidents first (then the one whose
    last incident is the most recent)."""
    count = func.count(ProblemLinkRow.incident_id)
    last = func.max(IncidentRow.declared_at)
    rows = session.execute(
        select(ProblemRow, count, last)
        .outerjoin(ProblemLinkRow, ProblemLinkRow.problem_id == ProblemRow.id)
        .outerjoin(IncidentRow, IncidentRow.id == ProblemLinkRow.incident_id)
        .where(ProblemRow.team_id == team_id, ProblemRow.status.in_(UNRESOLVED))
        .group_by(ProblemRow.id).order_by(count.desc(), last.desc(), ProblemRow.number.desc()))
    return [ProblemCount(_summary(row), incidents, None if latest is None else as_utc(latest))
            for row, incidents, latest in rows]


def all_problems(session: Session, team_id: str | None = None) -> list[Problem]:
    query = select(ProblemRow).order_by(ProblemRow.team_id, ProblemRow.number)
    if team_id is not None:
        query = query.where(ProblemRow.team_id == team_id)
    return [to_domain(session, row) for row in session.execute(query).scalars()]


def refs_of(session: Session, incident_ids: Sequence[int] | None = None) -> dict[int, str]:
    """``PRB-N`` of each linked incident, by incident id (all of them when ``incident_ids`` is None)."""
    query = select(ProblemLinkRow.incident_id, ProblemRow.number).join(
        ProblemRow, ProblemRow.id == ProblemLinkRow.problem_id)
    if incident_ids is not None:
        query = query.where(ProblemLinkRow.incident_id.in_(incident_ids))
    return {incident_id: ref(number) for incident_id, number in session.execute(query)}
